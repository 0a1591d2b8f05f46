import assert from "node:assert/strict";
import fc from "fast-check";
import type { GbnfJsonSchema } from "node-llama-cpp";
import { triageJsonSchema, validateTriage, type TriageResult } from "../../../../src/core/llm/triageRules.js";

const categories = ["billing", "technical", "shipping", "other"];
const good = {
  priority: "high",
  category: "billing",
  sentiment: "negative",
  language: "en",
  summary: "Customer was charged twice for order 4711.",
  confidence: 0.82,
  flags: ["refund-request"],
};

describe("validateTriage", () => {
  it("accepts well-formed output and returns a clean copy", () => {
    const checked = validateTriage(good, categories);
    assert.deepEqual(checked, { ok: true, value: good });
    assert.ok(checked.ok && checked.value !== (good as unknown));
  });

  it("maps an unknown category to 'other' when the list has it", () => {
    const checked = validateTriage({ ...good, category: "legal" }, categories);
    assert.ok(checked.ok);
    assert.equal(checked.value.category, "other");
  });

  it("rejects an unknown category when the list has no 'other'", () => {
    const checked = validateTriage({ ...good, category: "legal" }, ["billing", "technical"]);
    assert.equal(checked.ok, false);
  });

  it("matches a category case-insensitively to the configured spelling", () => {
    const checked = validateTriage({ ...good, category: " Billing " }, categories);
    assert.ok(checked.ok);
    assert.equal(checked.value.category, "billing");
  });

  it("lower-cases the language and accepts region subtags", () => {
    for (const [input, out] of [["EN", "en"], ["pt-BR", "pt-br"], ["zh_TW", "zh-tw"], ["und", "und"], [" de ", "de"]] as const) {
      const checked = validateTriage({ ...good, language: input }, categories);
      assert.ok(checked.ok, input);
      assert.equal(checked.value.language, out);
    }
  });

  it("trims the summary to one line and removes hidden characters from it and from flags", () => {
    const checked = validateTriage({ ...good, summary: "  Charged\u200b twice\n for\torder.  ", flags: [" a\u202e ", "a", ""] }, categories);
    assert.ok(checked.ok);
    assert.equal(checked.value.summary, "Charged twice for order.");
    assert.deepEqual(checked.value.flags, ["a"]);
  });

  it("ignores keys outside the shape", () => {
    const checked = validateTriage({ ...good, to: "attacker@evil.example", subject: "pwned" }, categories);
    assert.ok(checked.ok);
    assert.deepEqual(Object.keys(checked.value).sort(), Object.keys(good).sort());
  });

  it("accepts the edges: confidence 0 and 1, 200-character summary, 10 flags of 40 characters", () => {
    for (const patch of [{ confidence: 0 }, { confidence: 1 }, { summary: "s".repeat(200) }, { flags: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(40, "f")) }]) {
      assert.equal(validateTriage({ ...good, ...patch }, categories).ok, true, JSON.stringify(patch));
    }
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ["an unknown priority", { priority: "critical" }, /priority/u],
    ["a priority in the wrong case", { priority: "High" }, /priority/u],
    ["an unknown sentiment", { sentiment: "angry" }, /sentiment/u],
    ["a non-string category", { category: 3 }, /category/u],
    ["a language name instead of a code", { language: "english" }, /language/u],
    ["a one-letter language", { language: "e" }, /language/u],
    ["a language with digits", { language: "e1" }, /language/u],
    ["a missing summary", { summary: undefined }, /summary/u],
    ["a confidence above 1", { confidence: 1.01 }, /confidence/u],
    ["a negative confidence", { confidence: -0.1 }, /confidence/u],
    ["a NaN confidence", { confidence: Number.NaN }, /confidence/u],
    ["a confidence given as a string", { confidence: "0.9" }, /confidence/u],
    ["flags that are not an array", { flags: "urgent" }, /flags/u],
    ["more than 10 flags", { flags: Array.from({ length: 11 }, (_, i) => `f${i}`) }, /flags/u],
    ["a non-string flag", { flags: [1] }, /flags/u],
  ];
  for (const [name, patch, error] of bad) {
    it(`rejects ${name}`, () => {
      const checked = validateTriage({ ...good, ...patch }, categories);
      assert.equal(checked.ok, false);
      assert.ok(!checked.ok && checked.errors.some((e) => error.test(e)), JSON.stringify(checked));
    });
  }

  it("reports every problem at once", () => {
    const checked = validateTriage({ priority: "x", sentiment: "y", confidence: 7 }, categories);
    assert.ok(!checked.ok);
    assert.ok(checked.errors.length >= 6, JSON.stringify(checked.errors));
  });

  it("rejects non-objects", () => {
    for (const raw of [null, undefined, "text", 42, [good], true]) {
      assert.equal(validateTriage(raw, categories).ok, false, JSON.stringify(raw));
    }
  });

  it("reads only own properties, not inherited ones", () => {
    const inherited = Object.create(good) as unknown;
    assert.equal(validateTriage(inherited, categories).ok, false);
  });

  it("survives a hostile object whose getters throw", () => {
    const hostile = new Proxy({}, { get: () => { throw new Error("boom"); }, getOwnPropertyDescriptor: () => { throw new Error("boom"); } });
    assert.deepEqual(validateTriage(hostile, categories), { ok: false, errors: ["triage output could not be read"] });
  });

  it("never throws on arbitrary values and returns a valid result when it says ok", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), fc.record({ ...Object.fromEntries(Object.keys(good).map((k) => [k, fc.anything()])) })), (raw) => {
        const checked = validateTriage(raw, categories);
        if (checked.ok) assertValid(checked.value);
        else assert.ok(checked.errors.length > 0);
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts every value the schema describes", () => {
    const triage = fc.record({
      priority: fc.constantFrom("urgent", "high", "normal", "low"),
      category: fc.constantFrom(...categories),
      sentiment: fc.constantFrom("positive", "neutral", "negative"),
      language: fc.constantFrom("en", "de", "pt-br", "und"),
      summary: fc.string({ maxLength: 200 }),
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
      flags: fc.array(fc.string({ maxLength: 40 }), { maxLength: 10 }),
    });
    fc.assert(
      fc.property(triage, (raw) => {
        const checked = validateTriage(raw, categories);
        assert.ok(checked.ok, JSON.stringify(checked));
        assertValid(checked.value);
      }),
    );
  });
});

function assertValid(t: TriageResult): void {
  assert.ok(["urgent", "high", "normal", "low"].includes(t.priority));
  assert.ok(categories.includes(t.category));
  assert.ok(["positive", "neutral", "negative"].includes(t.sentiment));
  assert.match(t.language, /^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$/u);
  assert.ok([...t.summary].length <= 200 && !t.summary.includes("\n"));
  assert.ok(t.confidence >= 0 && t.confidence <= 1);
  assert.ok(t.flags.length <= 10 && t.flags.every((f) => typeof f === "string" && [...f].length <= 40));
}

describe("triageJsonSchema", () => {
  const schema = triageJsonSchema(categories);

  it("is an object schema whose required keys are all its properties", () => {
    assert.equal(schema.type, "object");
    assert.deepEqual([...schema.required].sort(), Object.keys(schema.properties).sort());
    assert.equal(schema.additionalProperties, false);
  });

  it("uses enums for priority, sentiment and category", () => {
    assert.deepEqual(schema.properties.priority.enum, ["urgent", "high", "normal", "low"]);
    assert.deepEqual(schema.properties.sentiment.enum, ["positive", "neutral", "negative"]);
    assert.deepEqual(schema.properties.category.enum, categories);
  });

  it("bounds strings and the flag list, and closes language and confidence to valid values", () => {
    assert.equal(schema.properties.summary.maxLength, 200);
    assert.ok(schema.properties.language.enum.includes("en") && schema.properties.language.enum.includes("und"));
    assert.equal(schema.properties.flags.items.maxLength, 40);
    assert.equal(schema.properties.flags.maxItems, 10);
    assert.deepEqual([Math.min(...schema.properties.confidence.enum), Math.max(...schema.properties.confidence.enum)], [0, 1]);
  });

  it("cuts an over-long summary and flags instead of rejecting them (a grammar counts length its own way)", () => {
    const r = validateTriage({ ...good, summary: "s".repeat(300), flags: ["f".repeat(60)] }, ["billing", "other"]);
    assert.ok(r.ok);
    assert.equal([...r.value.summary].length, 200);
    assert.equal(r.value.flags[0]!.length, 40);
  });

  it("asks for the summary before the classification", () => {
    const keys = Object.keys(schema.properties);
    assert.ok(keys.indexOf("summary") < keys.indexOf("category"));
    assert.ok(keys.indexOf("summary") < keys.indexOf("priority"));
  });

  it("de-duplicates categories and refuses an empty list", () => {
    assert.deepEqual(triageJsonSchema(["a", "a", "b"]).properties.category.enum, ["a", "b"]);
    assert.throws(() => triageJsonSchema([]), RangeError);
  });

  it("is a plain JSON value", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
  });

  // node-llama-cpp (pinned) turns the schema into a GBNF grammar; its generator is a pure function we
  // can load without a model. The type annotation checks the schema against the library's own type.
  it("is accepted by node-llama-cpp's JSON-schema grammar generator and validator", async () => {
    const typed: GbnfJsonSchema = schema;
    const lib = new URL("../../../../node_modules/node-llama-cpp/dist/utils/gbnfJson/", import.meta.url);
    const { getGbnfGrammarForGbnfJsonSchema } = (await import(new URL("getGbnfGrammarForGbnfJsonSchema.js", lib).href)) as {
      getGbnfGrammarForGbnfJsonSchema: (s: GbnfJsonSchema) => string;
    };
    const { validateObjectAgainstGbnfSchema } = (await import(new URL("utils/validateObjectAgainstGbnfSchema.js", lib).href)) as {
      validateObjectAgainstGbnfSchema: (o: unknown, s: GbnfJsonSchema) => boolean;
    };
    const grammar = getGbnfGrammarForGbnfJsonSchema(typed);
    assert.match(grammar, /^root ::= /mu);
    for (const value of ["urgent", "billing", "negative"]) assert.ok(grammar.includes(`\\"${value}\\"`), value);
    assert.match(grammar, /\{0,200\}/u);
    assert.equal(validateObjectAgainstGbnfSchema({ ...good, confidence: 0.8 }, typed), true);
  });
});
