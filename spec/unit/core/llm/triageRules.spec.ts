import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyTriageRules,
  firstSentence,
  guessLanguage,
  keywordMatcher,
  keywordPatternError,
  type Priority,
  type TriageResult,
  type TriageRules,
} from "../../../../src/core/llm/triageRules.js";

const noRules: TriageRules = { vipSenders: [], keywords: [], mailboxDefaults: {} };
const input = { from: "Ann <ann@customer.example>", mailbox: "support", subject: "Order 4711", text: "My parcel has not arrived. Please help!" };
const model: TriageResult = {
  priority: "normal",
  category: "shipping",
  sentiment: "negative",
  language: "en",
  summary: "Parcel for order 4711 has not arrived.",
  confidence: 0.9,
  flags: ["late-delivery"],
};

describe("applyTriageRules", () => {
  it("takes the model's triage unchanged when no rule applies", () => {
    assert.deepEqual(applyTriageRules(input, model, noRules), { result: model, decidedBy: "model", matched: [] });
  });

  it("does not share the flags array with the model's result", () => {
    const out = applyTriageRules(input, model, noRules);
    out.result.flags.push("x");
    assert.deepEqual(model.flags, ["late-delivery"]);
  });

  it("decides alone without a model: normal priority, 'other', neutral, guessed language, first sentence, 0.3", () => {
    const out = applyTriageRules(input, null, noRules);
    assert.deepEqual(out, {
      result: {
        priority: "normal",
        category: "other",
        sentiment: "neutral",
        language: "en",
        summary: "My parcel has not arrived.",
        confidence: 0.3,
        flags: [],
      },
      decidedBy: "rules",
      matched: [],
    });
  });

  it("lets a keyword rule set priority and category over the model", () => {
    const rules: TriageRules = { ...noRules, keywords: [{ pattern: "not arrived", priority: "high", category: "delivery" }] };
    const out = applyTriageRules(input, model, rules);
    assert.equal(out.result.priority, "high");
    assert.equal(out.result.category, "delivery");
    assert.equal(out.decidedBy, "model+rules");
    assert.deepEqual(out.matched, ["keyword not arrived"]);
    assert.equal(out.result.summary, model.summary);
  });

  it("lets a keyword rule lower the model's priority (the operator knows best)", () => {
    const rules: TriageRules = { ...noRules, keywords: [{ pattern: "parcel", priority: "low" }] };
    const out = applyTriageRules(input, { ...model, priority: "urgent" }, rules);
    assert.equal(out.result.priority, "low");
    assert.equal(out.decidedBy, "model+rules");
  });

  it("says 'model' when a matching rule agrees with the model", () => {
    const rules: TriageRules = { ...noRules, keywords: [{ pattern: "parcel", priority: "normal", category: "shipping" }] };
    const out = applyTriageRules(input, model, rules);
    assert.equal(out.decidedBy, "model");
    assert.deepEqual(out.matched, ["keyword parcel"]);
  });

  it("uses the most urgent priority of all matching keyword rules and the first category", () => {
    const rules: TriageRules = {
      ...noRules,
      keywords: [
        { pattern: "parcel", priority: "low", category: "shipping" },
        { pattern: "/HELP!?$/i", priority: "urgent", category: "escalation" },
        { pattern: "order", priority: "high" },
        { pattern: "refund", priority: "urgent" },
      ],
    };
    const out = applyTriageRules(input, null, rules);
    assert.equal(out.result.priority, "urgent");
    assert.equal(out.result.category, "shipping");
    assert.deepEqual(out.matched, ["keyword parcel", "keyword /HELP!?$/i", "keyword order"]);
  });

  it("matches keywords in the subject too, case-insensitively", () => {
    const rules: TriageRules = { ...noRules, keywords: [{ pattern: "ORDER 4711", category: "vip-order" }] };
    assert.equal(applyTriageRules(input, null, rules).result.category, "vip-order");
  });

  it("matches keywords through zero-width characters the sender inserted", () => {
    const rules: TriageRules = { ...noRules, keywords: [{ pattern: "outage", priority: "urgent" }] };
    assert.equal(applyTriageRules({ ...input, text: "total out\u200bage here" }, null, rules).result.priority, "urgent");
  });

  it("ignores an invalid regular expression instead of throwing", () => {
    const rules: TriageRules = { ...noRules, keywords: [{ pattern: "/([/", priority: "urgent" }] };
    assert.equal(applyTriageRules(input, null, rules).result.priority, "normal");
  });

  it("raises a VIP sender to at least high, but never lowers", () => {
    const rules: TriageRules = { ...noRules, vipSenders: ["ANN@customer.example"] };
    const raised = applyTriageRules(input, { ...model, priority: "low" }, rules);
    assert.equal(raised.result.priority, "high");
    assert.equal(raised.decidedBy, "model+rules");
    assert.deepEqual(raised.matched, ["vip ANN@customer.example"]);
    assert.equal(applyTriageRules(input, { ...model, priority: "urgent" }, rules).result.priority, "urgent");
  });

  it("matches VIP domains written with or without '@', but not look-alike domains", () => {
    const at = { ...noRules, vipSenders: ["@customer.example"] };
    const bare = { ...noRules, vipSenders: ["customer.example"] };
    assert.equal(applyTriageRules(input, null, at).result.priority, "high");
    assert.equal(applyTriageRules(input, null, bare).result.priority, "high");
    for (const from of ["x@evilcustomer.example", "x@customer.example.evil", "customer.example <x@evil.example>"]) {
      assert.equal(applyTriageRules({ ...input, from }, null, at).result.priority, "normal", from);
    }
  });

  it("applies a mailbox default only when neither the model nor a keyword decided", () => {
    const rules: TriageRules = { ...noRules, mailboxDefaults: { support: { priority: "low", category: "general" } } };
    const alone = applyTriageRules(input, null, rules);
    assert.equal(alone.result.priority, "low");
    assert.equal(alone.result.category, "general");
    assert.deepEqual(alone.matched, ["mailbox default support"]);

    const withModel = applyTriageRules(input, model, rules);
    assert.equal(withModel.result.priority, "normal");
    assert.equal(withModel.result.category, "shipping");
    assert.deepEqual(withModel.matched, []);

    const withKeyword = applyTriageRules(input, null, { ...rules, keywords: [{ pattern: "parcel", priority: "high" }] });
    assert.equal(withKeyword.result.priority, "high");
    assert.equal(withKeyword.result.category, "general", "the default still fills the field no keyword set");
  });

  it("does not take a mailbox default from the object prototype", () => {
    const out = applyTriageRules({ ...input, mailbox: "constructor" }, null, noRules);
    assert.equal(out.result.priority, "normal");
  });

  it("falls back to the subject for the summary when the text is empty", () => {
    assert.equal(applyTriageRules({ ...input, text: "" }, null, noRules).result.summary, "Order 4711");
  });

  it("always produces a valid priority, and VIP mail is never below high", () => {
    const priority = fc.constantFrom<Priority>("urgent", "high", "normal", "low");
    fc.assert(
      fc.property(
        fc.option(priority, { nil: null }),
        fc.array(fc.record({ pattern: fc.constantFrom("parcel", "nothing-matches", "/help/i"), priority: fc.option(priority, { nil: undefined }) }), { maxLength: 4 }),
        fc.boolean(),
        (modelPriority, keywords, vip) => {
          const rules: TriageRules = { vipSenders: vip ? ["@customer.example"] : [], keywords, mailboxDefaults: {} };
          const out = applyTriageRules(input, modelPriority ? { ...model, priority: modelPriority } : null, rules);
          assert.ok(["urgent", "high", "normal", "low"].includes(out.result.priority));
          if (vip) assert.ok(out.result.priority === "urgent" || out.result.priority === "high");
          assert.equal(out.decidedBy === "rules", modelPriority === null);
        },
      ),
    );
  });
});

describe("keyword patterns", () => {
  it("treats plain text as a case-insensitive substring", () => {
    assert.equal(keywordMatcher("Refund")!("please REFUND me"), true);
    assert.equal(keywordMatcher("a.b")!("axb"), false);
  });

  it("reads /regex/flags, ignoring the stateful g and y flags", () => {
    const m = keywordMatcher("/refund|chargeback/gi")!;
    assert.equal(m("CHARGEBACK"), true);
    assert.equal(m("CHARGEBACK"), true);
  });

  it("explains an invalid pattern for config validation", () => {
    assert.match(keywordPatternError("/([/") ?? "", /invalid regular expression/u);
    assert.equal(keywordPatternError("/ok/i"), null);
    assert.equal(keywordPatternError("plain words"), null);
    assert.equal(keywordMatcher("/([/"), null);
  });
});

describe("guessLanguage", () => {
  const cases: Array<[string, string]> = [
    ["en", "Hello, my order has not arrived yet. Can you please check it for me? Thanks"],
    ["de", "Hallo, meine Bestellung ist noch nicht angekommen. Können Sie bitte nachsehen? Vielen Dank"],
    ["fr", "Bonjour, ma commande n'est pas arrivée. Pouvez-vous vérifier pour moi ? Merci"],
    ["es", "Hola, mi pedido no ha llegado todavía. ¿Pueden revisarlo por favor? Gracias"],
    ["it", "Buongiorno, il mio ordine non è ancora arrivato. Potete controllare? Grazie"],
    ["nl", "Hallo, mijn bestelling is nog niet aangekomen. Kunt u het voor mij controleren? Bedankt"],
    ["pt", "Olá, o meu pedido ainda não chegou. Podem verificar para mim? Obrigado"],
    ["ja", "注文した商品がまだ届いていません。確認していただけますか？"],
    ["zh", "我的订单还没有到，请帮我查一下，谢谢。"],
    ["ru", "Здравствуйте, мой заказ ещё не пришёл. Проверьте, пожалуйста."],
  ];
  for (const [lang, text] of cases) {
    it(`recognizes ${lang}`, () => assert.equal(guessLanguage(text), lang));
  }

  it("says 'und' when unsure", () => {
    for (const text of ["", "4711", "OK", "asdf qwer", "שלום, ההזמנה שלי לא הגיעה", "ok 👍"]) {
      assert.equal(guessLanguage(text), "und", text);
    }
  });

  it("always answers with a known code", () => {
    const known = new Set(["en", "de", "fr", "es", "it", "nl", "pt", "ja", "zh", "ru", "und"]);
    fc.assert(fc.property(fc.string(), (text) => assert.ok(known.has(guessLanguage(text)))));
  });
});

describe("firstSentence", () => {
  it("cuts at the first sentence end, on one line", () => {
    assert.equal(firstSentence("My parcel\nis late. Where is it?"), "My parcel is late.");
    assert.equal(firstSentence("荷物が届きません。確認してください。"), "荷物が届きません。");
    assert.equal(firstSentence("no end mark"), "no end mark");
    assert.equal(firstSentence("version 1.2 broke it. help"), "version 1.2 broke it.");
  });

  it("never exceeds 200 characters", () => {
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (text) => assert.ok([...firstSentence(text)].length <= 200)));
  });
});
