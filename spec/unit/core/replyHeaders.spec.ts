import assert from "node:assert/strict";
import fc from "fast-check";
import {
  buildReplyHeaders,
  formatMessageId,
  formatReferences,
  newMessageId,
  replySubject,
} from "../../../src/core/replyHeaders.js";

describe("replySubject", () => {
  const cases: Array<[string, string]> = [
    ["Where is my order?", "Re: Where is my order?"],
    ["Re: Where is my order?", "Re: Where is my order?"],
    ["RE: RE: Where is my order?", "Re: Where is my order?"],
    ["AW: Re: SV: Where is my order?", "Re: Where is my order?"],
    ["Re[3]: Where is my order?", "Re: Where is my order?"],
    ["Fwd: Where is my order?", "Re: Where is my order?"],
    ["回复：我的订单在哪里", "Re: 我的订单在哪里"],
    ["Re: Where is my order? [#42]", "Re: Where is my order? [#42]"],
    ["[#42] AW: Where is my order?", "Re: Where is my order? [#42]"],
    ["WHERE IS MY ORDER", "Re: WHERE IS MY ORDER"],
    ["Review: contract", "Re: Review: contract"],
    ["  Where   is\r\n my order? ", "Re: Where is my order?"],
    ["", "Re: (no subject)"],
    ["Re:", "Re: (no subject)"],
    ["[#42]", "Re: (no subject) [#42]"],
  ];
  for (const [subject, expected] of cases) {
    it(`answers ${JSON.stringify(subject)} with ${JSON.stringify(expected)}`, () => {
      assert.equal(replySubject(subject), expected);
    });
  }

  it("is idempotent and starts with exactly one 'Re: '", () => {
    const prefix = fc.constantFrom("", "Re: ", "RE:", "AW: ", "Fwd: ", "SV: ", "回复：", "Re[2]: ", "[list] Re: ", "[#9] ");
    fc.assert(
      fc.property(fc.array(prefix, { maxLength: 4 }), fc.oneof(fc.string(), fc.string({ unit: "grapheme" })), (prefixes, s) => {
        const once = replySubject(prefixes.join("") + s);
        assert.equal(replySubject(once), once);
        assert.ok(once.startsWith("Re: "));
        assert.ok(!/^re\s*[:：]/iu.test(once.slice(4)), `second prefix in ${JSON.stringify(once)}`);
        assert.doesNotMatch(once, /[\r\n]/u);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("buildReplyHeaders", () => {
  it("answers the parent's Message-ID and appends it to the parent's References", () => {
    assert.deepEqual(buildReplyHeaders({ messageId: "c@x", inReplyTo: "b@x", references: ["a@x", "b@x"] }), {
      inReplyTo: "c@x",
      references: ["a@x", "b@x", "c@x"],
    });
  });

  it("starts References from the parent's In-Reply-To when the parent has no References", () => {
    assert.deepEqual(buildReplyHeaders({ messageId: "b@x", inReplyTo: "a@x", references: [] }), {
      inReplyTo: "b@x",
      references: ["a@x", "b@x"],
    });
  });

  it("ignores a parent In-Reply-To that names several messages", () => {
    assert.deepEqual(buildReplyHeaders({ messageId: "c@x", inReplyTo: "<a@x> <b@x>", references: [] }).references, ["c@x"]);
  });

  it("gives a first reply just the parent's id", () => {
    assert.deepEqual(buildReplyHeaders({ messageId: "a@x", inReplyTo: null, references: [] }), {
      inReplyTo: "a@x",
      references: ["a@x"],
    });
  });

  it("writes no In-Reply-To when the parent has no Message-ID, but keeps its References", () => {
    assert.deepEqual(buildReplyHeaders({ messageId: null, inReplyTo: null, references: ["a@x"] }), {
      inReplyTo: null,
      references: ["a@x"],
    });
  });

  it("removes duplicates and moves a repeated parent id to the end", () => {
    assert.deepEqual(buildReplyHeaders({ messageId: "b@x", inReplyTo: null, references: ["a@x", "b@x", "a@x", "c@x"] }).references, [
      "a@x",
      "c@x",
      "b@x",
    ]);
  });

  it("drops ids that could break the header", () => {
    assert.deepEqual(
      buildReplyHeaders({ messageId: "c@x", inReplyTo: null, references: ["a@x\r\nBcc: v@y", "b@x"] }).references,
      ["b@x", "c@x"],
    );
  });

  it("keeps the root and the newest ids when References is too long", () => {
    const references = Array.from({ length: 30 }, (_, i) => `r${i}@x`);
    const result = buildReplyHeaders({ messageId: "p@x", inReplyTo: "r29@x", references }, { maxReferences: 5 });
    assert.deepEqual(result.references, ["r0@x", "r27@x", "r28@x", "r29@x", "p@x"]);
    assert.equal(buildReplyHeaders({ messageId: "p@x", inReplyTo: null, references }).references.length, 20);
  });

  it("keeps only the parent when the bound is one", () => {
    assert.deepEqual(buildReplyHeaders({ messageId: "p@x", inReplyTo: null, references: ["a@x"] }, { maxReferences: 1 }).references, [
      "p@x",
    ]);
  });

  it("rejects a bound that is not a positive integer", () => {
    for (const bad of [0, -1, 2.5]) {
      assert.throws(() => buildReplyHeaders({ messageId: "p@x", inReplyTo: null, references: [] }, { maxReferences: bad }), RangeError);
    }
  });

  it("never exceeds the bound, ends with the parent, keeps the root first, has no duplicates", () => {
    const id = fc.integer({ min: 0, max: 40 }).map((n) => `m${n}@x`);
    fc.assert(
      fc.property(
        id,
        fc.option(id, { nil: null }),
        fc.array(id, { maxLength: 60 }),
        fc.integer({ min: 1, max: 30 }),
        (messageId, inReplyTo, references, maxReferences) => {
          const result = buildReplyHeaders({ messageId, inReplyTo, references }, { maxReferences });
          const refs = result.references;
          assert.equal(result.inReplyTo, messageId);
          assert.ok(refs.length <= maxReferences);
          assert.equal(refs.at(-1), messageId);
          assert.equal(new Set(refs).size, refs.length);
          const root = references.find((r) => r !== messageId) ?? (references.length === 0 ? inReplyTo : null);
          if (maxReferences >= 2 && root !== null && root !== messageId) assert.equal(refs[0], root);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("formatMessageId / formatReferences / newMessageId", () => {
  it("brackets ids and separates them with single spaces", () => {
    assert.equal(formatMessageId("a@x"), "<a@x>");
    assert.equal(formatReferences(["a@x", "b@x"]), "<a@x> <b@x>");
    assert.equal(formatReferences([]), "");
  });

  it("refuses ids that could inject header text", () => {
    assert.throws(() => formatMessageId("a@x>\r\nBcc: victim@y"), RangeError);
    assert.throws(() => formatReferences(["a@x", "b c@x"]), RangeError);
    assert.throws(() => formatMessageId(""), RangeError);
  });

  it("builds our Message-ID from the caller's randomness and our domain", () => {
    assert.equal(newMessageId("mail.example.com", "0f1e2d3c"), "0f1e2d3c@mail.example.com");
    assert.throws(() => newMessageId("", "abc"), RangeError);
    assert.throws(() => newMessageId("example.com", ""), RangeError);
    assert.throws(() => newMessageId("example.com", "a b"), RangeError);
    assert.throws(() => newMessageId("example.com", "a@b"), RangeError);
  });
});
