import assert from "node:assert/strict";
import fc from "fast-check";
import { cleanMessageId, isUsableMessageId, parseMessageIds, referenceIds } from "../../../src/core/references.js";

describe("parseMessageIds", () => {
  const cases: Array<[string, string | string[] | null | undefined, string[]]> = [
    ["a single bracketed id", "<abc@example.com>", ["abc@example.com"]],
    ["ids in header order", "<a@x> <b@x>\t<c@x>", ["a@x", "b@x", "c@x"]],
    ["ids separated by commas (Outlook Express)", "<a@x>, <b@x>", ["a@x", "b@x"]],
    ["ids with no separator", "<a@x><b@x>", ["a@x", "b@x"]],
    ["duplicates once, first position kept", "<a@x> <b@x> <a@x>", ["a@x", "b@x"]],
    ["whitespace inside the brackets trimmed", "< a@x >", ["a@x"]],
    ["an empty pair dropped", "<> <a@x>", ["a@x"]],
    ["an id broken by folding dropped", "<baz@bar.net>, <invalid.    something@bar.net>", ["baz@bar.net"]],
    ["a bracketed GUID without '@' kept", "<ff000000-2202-2222-b020-00002000ffee>", ["ff000000-2202-2222-b020-00002000ffee"]],
    ["comments and phrases around bracketed ids ignored", 'Your message of "Mon, 1 Jan" <a@x> (Jane)', ["a@x"]],
    ["a doubly bracketed id unwrapped", "<<a@x>>", ["a@x"]],
    ["an unclosed bracket ignored", "<a@x", []],
    ["bare ids accepted when no bracket appears", "a@x b@x", ["a@x", "b@x"]],
    ["bare ids separated by commas", "a@x,b@x", ["a@x", "b@x"]],
    ["bare words without '@' ignored", "20140913142357", []],
    ["phrases without '@' ignored", "Your message of Monday", []],
    ["several header occurrences joined", ["<a@x>", "<b@x> <a@x>"], ["a@x", "b@x"]],
    ["null", null, []],
    ["undefined", undefined, []],
    ["an empty string", "", []],
    ["an id of 500 characters kept", `<${"a".repeat(498)}@x>`, [`${"a".repeat(498)}@x`]],
    ["an id over 500 characters dropped", `<${"a".repeat(499)}@x> <b@x>`, ["b@x"]],
    ["a control character dropped", "<a\u0000b@x> <c@x>", ["c@x"]],
  ];
  for (const [name, value, expected] of cases) {
    it(`reads ${name}`, () => {
      assert.deepEqual(parseMessageIds(value), expected);
    });
  }

  it("never returns ids with brackets, whitespace, empties or duplicates", () => {
    const headerText = fc.string({
      unit: fc.constantFrom("<", ">", "@", " ", "\t", "\r\n", ",", "a", "b", "x", ".", "-", "\u00a0", "(", ")"),
      maxLength: 80,
    });
    fc.assert(
      fc.property(fc.oneof(headerText, fc.string()), (text) => {
        const ids = parseMessageIds(text);
        for (const id of ids) {
          assert.doesNotMatch(id, /[<>\s]/u);
          assert.ok(id.length > 0 && id.length <= 500);
        }
        assert.equal(new Set(ids).size, ids.length);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("isUsableMessageId / cleanMessageId", () => {
  it("accepts ordinary ids and rejects anything that could break a header", () => {
    assert.equal(isUsableMessageId("a@x"), true);
    for (const bad of ["", "a b@x", "a@x\r\nBcc: victim@y", "<a@x>", "a\u0007@x", "x".repeat(501)]) {
      assert.equal(isUsableMessageId(bad), false, JSON.stringify(bad));
    }
  });

  it("trims an id and drops one pair of brackets", () => {
    assert.equal(cleanMessageId("  <a@x>  "), "a@x");
    assert.equal(cleanMessageId("a@x"), "a@x");
    assert.equal(cleanMessageId("<a@x> <b@x>"), null);
    assert.equal(cleanMessageId(null), null);
  });
});

describe("referenceIds", () => {
  it("puts In-Reply-To first, then References newest first", () => {
    assert.deepEqual(referenceIds({ inReplyTo: "c@x", references: ["a@x", "b@x", "c@x"], ownId: "d@x" }), [
      "c@x",
      "b@x",
      "a@x",
    ]);
  });

  it("uses References alone when there is no In-Reply-To", () => {
    assert.deepEqual(referenceIds({ inReplyTo: null, references: ["a@x", "b@x"], ownId: null }), ["b@x", "a@x"]);
  });

  // RFC 5256 (REFERENCES): the References header decides; In-Reply-To counts only without usable References.
  const disagreeing: Array<[string, { inReplyTo: string | null; references: string[]; ownId: string | null }, string[]]> = [
    ["an In-Reply-To missing from References is left out", { inReplyTo: "z@x", references: ["a@x", "b@x"], ownId: null }, ["b@x", "a@x"]],
    ["an In-Reply-To that is not the last reference does not jump ahead", { inReplyTo: "a@x", references: ["a@x", "b@x"], ownId: null }, ["b@x", "a@x"]],
    ["In-Reply-To counts when References is empty", { inReplyTo: "z@x", references: [], ownId: null }, ["z@x"]],
    ["In-Reply-To counts when no reference is usable", { inReplyTo: "z@x", references: ["", "a b@x"], ownId: null }, ["z@x"]],
    ["In-Reply-To counts when References names only the message itself", { inReplyTo: "z@x", references: ["me@x"], ownId: "me@x" }, ["z@x"]],
  ];
  for (const [name, input, expected] of disagreeing) {
    it(`lets References decide: ${name}`, () => {
      assert.deepEqual(referenceIds(input), expected);
    });
  }

  it("never lets an In-Reply-To outside usable References in (property)", () => {
    const id = fc.constantFrom("a@x", "b@x", "c@x", "d@x");
    fc.assert(
      fc.property(id, fc.array(id, { minLength: 1, maxLength: 8 }), (inReplyTo, references) => {
        const ids = referenceIds({ inReplyTo, references, ownId: null });
        assert.deepEqual(ids, [...new Set([...references].reverse())]);
      }),
    );
  });

  it("drops the message's own id (self-references and loops)", () => {
    assert.deepEqual(referenceIds({ inReplyTo: "me@x", references: ["a@x", "me@x"], ownId: "me@x" }), ["a@x"]);
    assert.deepEqual(referenceIds({ inReplyTo: "<me@x>", references: [], ownId: "me@x" }), []);
  });

  it("drops empty and unusable ids", () => {
    assert.deepEqual(referenceIds({ inReplyTo: "  ", references: ["", "a b@x", "a@x"], ownId: null }), ["a@x"]);
  });

  it("keeps the most relevant ids when bounded", () => {
    const references = Array.from({ length: 100 }, (_, i) => `r${i}@x`);
    const ids = referenceIds({ inReplyTo: "r99@x", references, ownId: null }, 3);
    assert.deepEqual(ids, ["r99@x", "r98@x", "r97@x"]);
    assert.equal(referenceIds({ inReplyTo: null, references, ownId: null }).length, 50);
  });

  it("returns nothing for a bound below one", () => {
    assert.deepEqual(referenceIds({ inReplyTo: "a@x", references: [], ownId: null }, 0), []);
    assert.deepEqual(referenceIds({ inReplyTo: "a@x", references: [], ownId: null }, -5), []);
  });

  it("never contains its own id, never repeats, always respects max", () => {
    const id = fc.constantFrom("a@x", "b@x", "c@x", "d@x", "e@x", "own@x", "<own@x>", " own@x ", "");
    fc.assert(
      fc.property(
        fc.option(id, { nil: null }),
        fc.array(id, { maxLength: 30 }),
        fc.option(fc.constantFrom("own@x", "a@x"), { nil: null }),
        fc.integer({ min: -2, max: 60 }),
        (inReplyTo, references, ownId, max) => {
          const ids = referenceIds({ inReplyTo, references, ownId }, max);
          if (ownId !== null) assert.ok(!ids.includes(ownId));
          assert.equal(new Set(ids).size, ids.length);
          assert.ok(ids.length <= Math.max(0, max));
          for (const i of ids) assert.ok(isUsableMessageId(i));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
