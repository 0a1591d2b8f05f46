import assert from "node:assert/strict";
import fc from "fast-check";
import { extractTicketTag, normalizeSubject, tagSubject } from "../../../src/core/subject.js";

// [subject, base, isReply, isForward]
const prefixCases: Array<[string, string, boolean, boolean]> = [
  ["Re: Order 1234 missing", "Order 1234 missing", true, false],
  ["RE: Order 1234 missing", "Order 1234 missing", true, false],
  ["re: order", "order", true, false],
  ["Re:Order", "Order", true, false],
  ["Re: Re: Re: Order", "Order", true, false],
  ["Re: AW: Fwd: Order", "Order", true, true],
  ["AW: Rechnung", "Rechnung", true, false],
  ["Aw: Rechnung", "Rechnung", true, false],
  ["WG: Rechnung", "Rechnung", false, true],
  ["Antwort: Rechnung", "Rechnung", true, false],
  ["SV: Faktura", "Faktura", true, false],
  ["VS: Faktura", "Faktura", false, true],
  ["VB: Faktura", "Faktura", false, true],
  ["Antw: Factuur", "Factuur", true, false],
  ["Doorst: Factuur", "Factuur", false, true],
  ["RV: Factura", "Factura", false, true],
  ["RES: Fatura", "Fatura", true, false],
  ["Enc: Fatura", "Fatura", false, true],
  ["Odp: Faktura", "Faktura", true, false],
  ["PD: Faktura", "Faktura", false, true],
  ["TR: Facture", "Facture", false, true],
  ["RE : TR : Facture", "Facture", true, true],
  ["Réf. : Facture", "Facture", true, false],
  ["Ref: Facture", "Facture", true, false],
  ["R: Fattura", "Fattura", true, false],
  ["Rif: Fattura", "Fattura", true, false],
  ["Ynt: Fatura", "Fatura", true, false],
  ["İLT: Fatura", "Fatura", false, true],
  ["Vá: Számla", "Számla", true, false],
  ["Va\u0301: Számla", "Számla", true, false],
  ["Továbbítás: Számla", "Számla", false, true],
  ["ΑΠ: Τιμολόγιο", "Τιμολόγιο", true, false],
  ["ΣΧΕΤ: Τιμολόγιο", "Τιμολόγιο", true, false],
  ["回复：退款问题", "退款问题", true, false],
  ["回复: 退款问题", "退款问题", true, false],
  ["回覆：退款問題", "退款問題", true, false],
  ["答复: 退款问题", "退款问题", true, false],
  ["转发: 退款问题", "退款问题", false, true],
  ["轉寄：退款問題", "退款問題", false, true],
  ["Ｒｅ：退款", "退款", true, false],
  ["Fw: Invoice", "Invoice", false, true],
  ["FW: Invoice", "Invoice", false, true],
  ["Fwd: Invoice", "Invoice", false, true],
  ["FWD: Invoice", "Invoice", false, true],
  ["Re[2]: Invoice", "Invoice", true, false],
  ["RE[12]: Invoice", "Invoice", true, false],
  ["Re(3): Invoice", "Invoice", true, false],
  ["Re^2: Invoice", "Invoice", true, false],
  ["Re [2]: Invoice", "Invoice", true, false],
  ["AW[2]: Invoice", "Invoice", true, false],
  ["[Fwd: Invoice]", "Invoice", false, true],
  ["Re:", "", true, false],
  ["", "", false, false],
  ["  Re:   lots \t of\r\n  space  ", "lots of space", true, false],
];

// Subjects that only look like they start with a prefix.
const notPrefixes = [
  "Review: quarterly numbers",
  "Reply needed",
  "RE-Invoice 2024-118",
  "Re-opened ticket",
  "Refund request",
  "Fwd to accounting please",
  "Antwortzeit zu lang",
  "R&D budget",
  "I: love the product",
  "FS: bike for sale",
  "Test: a subject with a colon",
  "Warning: could not send message for past 8 hours",
  "Are: you there",
  "[URGENT] refund not received",
  "[Debug:1] test",
];

describe("normalizeSubject", () => {
  for (const [subject, base, isReply, isForward] of prefixCases) {
    it(`strips the prefixes of ${JSON.stringify(subject)}`, () => {
      const result = normalizeSubject(subject);
      assert.equal(result.base, base);
      assert.equal(result.isReply, isReply, "isReply");
      assert.equal(result.isForward, isForward, "isForward");
    });
  }

  for (const subject of notPrefixes) {
    it(`leaves ${JSON.stringify(subject)} alone`, () => {
      const result = normalizeSubject(subject);
      assert.equal(result.base, subject);
      assert.equal(result.isReply, false);
      assert.equal(result.isForward, false);
    });
  }

  // RFC 5256 / JWZ: a list tag is part of what threads, wherever the list put the reply prefix.
  const listCases: Array<[string, string, boolean, boolean]> = [
    ["[users] Re: Crash on start", "[users] Crash on start", true, false],
    ["Re: [users] Re: Crash on start", "[users] Crash on start", true, false],
    ["[users] Re: [users] Crash on start", "[users] Crash on start", true, false],
    ["[users] Re: Re: Crash on start", "[users] Crash on start", true, false],
    ["[Users] RE: [users] AW: Crash on start", "[Users] Crash on start", true, false],
    ["[users] [dev] Re: Crash on start", "[users] [dev] Crash on start", true, false],
    ["[users] Re: [dev] Re: Crash on start", "[users] [dev] Crash on start", true, false],
    ["[users]Re:Crash on start", "[users] Crash on start", true, false],
    ["[users] Fwd: Crash on start", "[users] Crash on start", false, true],
    ["[users] Re:", "", true, false],
    ["[#12] [users] Re: Crash on start", "[users] Crash on start", true, false],
  ];
  for (const [subject, base, isReply, isForward] of listCases) {
    it(`keeps the list tag of ${JSON.stringify(subject)} and drops the prefix`, () => {
      const result = normalizeSubject(subject);
      assert.equal(result.base, base);
      assert.equal(result.isReply, isReply, "isReply");
      assert.equal(result.isForward, isForward, "isForward");
    });
  }

  it("gives [list] Re: Topic, Re: [list] Topic and [list] Topic one key", () => {
    const keys = ["[users] Re: Crash on start", "Re: [users] Crash on start", "[users] Crash on start", "Re: [users] Re: Crash on start", "[USERS] Re: crash on start"].map(
      (s) => normalizeSubject(s).key,
    );
    assert.deepEqual(new Set(keys), new Set(["[users] crash on start"]));
  });

  it("gives a list tag before, after or on both sides of reply prefixes the key of the tagged subject (property)", () => {
    const tag = fc.stringMatching(/^\[[a-z][a-z0-9._-]{0,15}\]$/u);
    const topic = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ?!,.-]{3,30}$/u).filter((t) => normalizeSubject(t).base === t.replace(/\s+/gu, " ").trim());
    const prefixes = fc.array(fc.constantFrom("Re: ", "RE:", "AW: ", "Re[2]: ", "SV: "), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(tag, topic, prefixes, fc.constantFrom("before", "after", "both"), (t, s, ps, where) => {
        const p = ps.join("");
        const subject = where === "before" ? `${t} ${p}${s}` : where === "after" ? `${p}${t} ${s}` : `${t} ${p}${t} ${s}`;
        const result = normalizeSubject(subject);
        assert.equal(result.key, normalizeSubject(`${t} ${s}`).key, subject);
        assert.equal(result.isReply, true);
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps a bracketed tag that is part of the subject proper", () => {
    assert.equal(normalizeSubject("Re: [users] Crash on start").base, "[users] Crash on start");
    assert.equal(normalizeSubject("[users] Crash on start").base, "[users] Crash on start");
  });

  it("removes our ticket tag wherever it sits", () => {
    assert.equal(normalizeSubject("Re: Refund [#123]").base, "Refund");
    assert.equal(normalizeSubject("[#123] Re: Refund").base, "Refund");
    assert.equal(normalizeSubject("Refund [#123] for order").base, "Refund for order");
    assert.equal(normalizeSubject("Re[#1]: x").base, "x");
  });

  it("keeps the customer's case in base and lower-cases the key", () => {
    const result = normalizeSubject("RE: Where Is My ORDER?");
    assert.equal(result.base, "Where Is My ORDER?");
    assert.equal(result.key, "where is my order?");
  });

  it("NFKC-normalizes the key so full-width and half-width text compare equal", () => {
    assert.equal(normalizeSubject("Ｏｒｄｅｒ　１２").key, normalizeSubject("Order 12").key);
  });

  it("gives the placeholder '(no subject)' an empty key so it never threads by subject", () => {
    assert.equal(normalizeSubject("Re: (no subject)").key, "");
    assert.equal(normalizeSubject("Re: (no subject)").base, "(no subject)");
  });

  describe("properties", () => {
    const subjects = fc.oneof(
      fc.string(),
      fc.string({ unit: "grapheme" }),
      fc.string({ unit: fc.constantFrom("R", "e", ":", "：", " ", "[", "]", "#", "1", "a", "W", "F", "w", "d", "(", ")", "^") }),
    );
    const replyPrefix = fc.constantFrom(
      "Re: ", "RE:", "re : ", "Re[2]: ", "Re(3):", "Re^2: ", "AW: ", "Aw:", "SV: ", "Antw: ", "Antwort: ",
      "Odp: ", "Ynt: ", "Rif: ", "R: ", "RES: ", "Réf. : ", "Vá: ", "ΑΠ: ", "回复：", "回覆: ", "答复：", "Ｒｅ：",
    );

    it("is idempotent: normalizing the base gives the same base and key", () => {
      fc.assert(
        fc.property(subjects, (s) => {
          const once = normalizeSubject(s);
          const twice = normalizeSubject(once.base);
          assert.equal(twice.base, once.base);
          assert.equal(twice.key, once.key);
        }),
        { numRuns: 2000 },
      );
    });

    it("gives the same key however many reply prefixes are added", () => {
      fc.assert(
        fc.property(subjects, fc.array(replyPrefix, { minLength: 1, maxLength: 6 }), (s, prefixes) => {
          const prefixed = normalizeSubject(prefixes.join("") + s);
          assert.equal(prefixed.key, normalizeSubject(s).key);
          assert.equal(prefixed.isReply, true);
        }),
        { numRuns: 2000 },
      );
    });

    it("never leaves a ticket tag or line break in base", () => {
      fc.assert(
        fc.property(subjects, (s) => {
          const { base } = normalizeSubject(s);
          assert.equal(extractTicketTag(base), null);
          assert.doesNotMatch(base, /[\r\n]/u);
        }),
      );
    });
  });
});

describe("extractTicketTag", () => {
  const cases: Array<[string, number | null]> = [
    ["Refund [#123]", 123],
    ["[#7] Re: Refund", 7],
    ["Re: Refund [#0042]", 42],
    ["Refund [#5] and [#6]", 5],
    ["Refund #123", null],
    ["Refund [# 123]", null],
    ["Refund [#abc]", null],
    ["Refund [#]", null],
    ["Refund [#1234567890123456]", null],
    ["", null],
  ];
  for (const [subject, expected] of cases) {
    it(`reads ${JSON.stringify(expected)} from ${JSON.stringify(subject)}`, () => {
      assert.equal(extractTicketTag(subject), expected);
    });
  }
});

describe("tagSubject", () => {
  it("appends the tag after the subject", () => {
    assert.equal(tagSubject("Refund", 12), "Refund [#12]");
    assert.equal(tagSubject("Re: Refund  ", 12), "Re: Refund [#12]");
  });

  it("leaves a subject that already carries the tag unchanged", () => {
    assert.equal(tagSubject("Refund [#12]", 12), "Refund [#12]");
    assert.equal(tagSubject("[#12] Refund", 12), "[#12] Refund");
  });

  it("replaces a different tag of ours so the first tag names the new ticket", () => {
    assert.equal(tagSubject("Refund [#3]", 12), "Refund [#12]");
    assert.equal(extractTicketTag(tagSubject("[#3] Refund", 12)), 12);
  });

  it("tags an empty subject", () => {
    assert.equal(tagSubject("", 1), "[#1]");
  });

  it("rejects ticket numbers that are not positive integers", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER]) {
      assert.throws(() => tagSubject("x", bad), RangeError);
    }
  });

  it("is idempotent and always readable back with extractTicketTag", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 999_999_999 }), (s, ticket) => {
        const once = tagSubject(s, ticket);
        assert.equal(tagSubject(once, ticket), once);
        assert.equal(extractTicketTag(once), ticket);
      }),
    );
  });
});
