import assert from "node:assert/strict";
import fc from "fast-check";
import {
  attribution,
  composeReply,
  containsApprovedBody,
  formatUtc,
  quote,
  type ComposeReplyInput,
  type ReplyTarget,
} from "../../../../src/core/outbound/composeReply.js";

const answered: ReplyTarget = {
  messageId: "CAF=abc123@mail.gmail.com",
  inReplyTo: "root@dg.example",
  references: ["root@dg.example"],
  from: { address: "jane@customer.example", name: "Jane Doe" },
  date: new Date(Date.UTC(2025, 2, 3, 14, 5, 9)),
  text: "Where is my order?\r\n\r\n> earlier\nThanks\n\n\n",
};

function input(overrides: Partial<ComposeReplyInput> = {}): ComposeReplyInput {
  return {
    mailbox: { address: "support@example.com", displayName: "Acme Support", signature: "Acme Support\nhttps://acme.example\n" },
    to: [{ address: "jane@customer.example", name: "Jane Doe" }],
    cc: [],
    subject: "Where is my order?",
    answered,
    messageId: "dg.01HXYZ@dg.example",
    body: "Hello Jane,\n\nit ships today.",
    ...overrides,
  };
}

describe("composeReply", () => {
  it("builds the whole reply", () => {
    assert.deepEqual(composeReply(input({ quoteHistory: true })), {
      from: { address: "support@example.com", name: "Acme Support" },
      to: [{ address: "jane@customer.example", name: "Jane Doe" }],
      cc: [],
      subject: "Re: Where is my order?",
      messageId: "dg.01HXYZ@dg.example",
      inReplyTo: "CAF=abc123@mail.gmail.com",
      references: ["root@dg.example", "CAF=abc123@mail.gmail.com"],
      headers: {
        messageId: "<dg.01HXYZ@dg.example>",
        inReplyTo: "<CAF=abc123@mail.gmail.com>",
        references: "<root@dg.example> <CAF=abc123@mail.gmail.com>",
      },
      text:
        "Hello Jane,\n\nit ships today.\n" +
        "\n-- \nAcme Support\nhttps://acme.example\n" +
        "\nOn Mon, 3 Mar 2025 at 14:05 UTC, Jane Doe <jane@customer.example> wrote:\n" +
        "> Where is my order?\n>\n> > earlier\n> Thanks\n",
    });
  });

  const texts: Array<[string, Partial<ComposeReplyInput>, string]> = [
    ["no signature, no quote", { mailbox: { address: "support@example.com" } }, "Hello Jane,\n\nit ships today.\n"],
    ["a blank signature is none", { mailbox: { address: "support@example.com", signature: " \n" } }, "Hello Jane,\n\nit ships today.\n"],
    ["a body ending in a newline gets no second one", { mailbox: { address: "support@example.com" }, body: "Hi\n" }, "Hi\n"],
    [
      "a CRLF body is kept as it is",
      { mailbox: { address: "support@example.com", signature: "S\r\n" }, body: "a\r\nb" },
      "a\r\nb\n\n-- \nS\n",
    ],
    [
      "quoting an empty text adds nothing",
      { mailbox: { address: "support@example.com" }, quoteHistory: true, answered: { ...answered, text: " \n\n" } },
      "Hello Jane,\n\nit ships today.\n",
    ],
    [
      "an undated message from a bare address",
      {
        mailbox: { address: "support@example.com" },
        quoteHistory: true,
        answered: { ...answered, date: null, from: { address: "jane@customer.example", name: "" }, text: "hi" },
      },
      "Hello Jane,\n\nit ships today.\n\njane@customer.example wrote:\n> hi\n",
    ],
  ];
  for (const [name, overrides, text] of texts) {
    it(`text: ${name}`, () => assert.equal(composeReply(input(overrides)).text, text));
  }

  const subjects: Array<[string, Partial<ComposeReplyInput>, string]> = [
    ["one Re: on a reply", { subject: "RE: AW: Where is my order?" }, "Re: Where is my order?"],
    ["our ticket tag kept", { subject: "Re: Where is my order? [#42]" }, "Re: Where is my order? [#42]"],
    ["the tag written when enabled", { subject: "Where is my order?", ticketTag: 7 }, "Re: Where is my order? [#7]"],
    ["another ticket's tag replaced", { subject: "Re: [#3] Where is my order?", ticketTag: 7 }, "Re: Where is my order? [#7]"],
    ["an empty subject", { subject: "" }, "Re: (no subject)"],
    ["a folded subject", { subject: "Where\r\n is my order?" }, "Re: Where is my order?"],
  ];
  for (const [name, overrides, subject] of subjects) {
    it(`subject: ${name}`, () => assert.equal(composeReply(input(overrides)).subject, subject));
  }

  it("writes no In-Reply-To when the message answered has no Message-ID", () => {
    const r = composeReply(input({ answered: { ...answered, messageId: null } }));
    assert.equal(r.inReplyTo, null);
    assert.equal(r.headers.inReplyTo, null);
    assert.deepEqual(r.references, ["root@dg.example"]);
  });

  it("writes no References when there is nothing to refer to", () => {
    const r = composeReply(input({ answered: { ...answered, messageId: null, inReplyTo: null, references: [] } }));
    assert.equal(r.headers.references, null);
  });

  it("cleans display names of line breaks", () => {
    const r = composeReply(
      input({
        mailbox: { address: "support@example.com", displayName: "Acme\r\nBcc: x@evil.example" },
        cc: [{ address: "bob@c.example", name: "Bob\n" }],
      }),
    );
    assert.equal(r.from.name, "Acme Bcc: x@evil.example");
    assert.equal(r.cc[0]!.name, "Bob");
  });

  const refused: Array<[string, Partial<ComposeReplyInput>, RegExp]> = [
    ["an empty body", { body: "  \n" }, /approved body is empty/u],
    ["no To", { to: [] }, /at least one To/u],
    ["an unusable Message-ID", { messageId: "a b@x" }, /not a usable Message-ID/u],
    ["a To with a line break", { to: [{ address: "jane@x.example\r\nBcc: v@y.example", name: "" }] }, /not a sendable address/u],
    ["a bad Cc", { cc: [{ address: "bob", name: "" }] }, /not a sendable address/u],
    ["a bad mailbox address", { mailbox: { address: "support" } }, /not a sendable address/u],
  ];
  for (const [name, overrides, message] of refused) {
    it(`throws on ${name}`, () => assert.throws(() => composeReply(input(overrides)), message));
  }

  describe("quote and attribution", () => {
    it("prefixes each line, marks empty lines with a bare >, drops trailing blank lines", () => {
      assert.equal(quote("a\r\n\r\nb\rc  \n\n"), "> a\n>\n> b\n> c\n");
    });
    it("cuts a long text at a line and says so", () => {
      assert.equal(quote("aaaa\nbbbb\ncccc", 10), "> aaaa\n> bbbb\n> [...]\n");
      assert.equal(quote("x".repeat(30), 10), `> ${"x".repeat(10)}\n> [...]\n`);
    });
    it("formats the date in UTC whatever the host's zone", () => {
      assert.equal(formatUtc(new Date(Date.UTC(2024, 11, 31, 23, 59))), "Tue, 31 Dec 2024 at 23:59 UTC");
    });
    it("says who wrote, leaving out what is unknown", () => {
      assert.equal(attribution({ from: null, date: null }), "someone wrote:");
      assert.equal(attribution({ from: { address: "", name: "Jane" }, date: new Date(Number.NaN) }), "Jane wrote:");
      assert.equal(
        attribution({ from: { address: "j@x", name: "" }, date: new Date(0) }, () => "yesterday"),
        "On yesterday, j@x wrote:",
      );
    });
  });

  describe("containsApprovedBody", () => {
    const cases: Array<[string, string, string, boolean]> = [
      ["the text as composed", "Hi\n\nthanks\n\n-- \nS\n", "Hi\n\nthanks", true],
      ["CRLF on the wire", "Hi\r\n\r\nthanks\r\n-- \r\nS\r\n", "Hi\n\nthanks", true],
      ["a CRLF body read back as LF", "Hi\n\nthanks\n", "Hi\r\n\r\nthanks", true],
      ["a changed word", "Hi\n\nthank you\n", "Hi\n\nthanks", false],
      ["trimmed trailing spaces", "Hi\nthanks\n", "Hi  \nthanks", false],
      ["lost leading indentation", "Hi\n", "  Hi", false],
      ["lost trailing blank lines", "Hi\n-- \nS\n", "Hi\n\n\n", false],
      ["re-wrapped lines", "Hi thanks\n", "Hi\nthanks", false],
      ["an empty body", "anything", "", false],
    ];
    for (const [name, text, body, expected] of cases) {
      it(`${name}: ${expected}`, () => assert.equal(containsApprovedBody(text, body), expected));
    }
  });

  describe("properties", () => {
    const id = fc.stringMatching(/^[a-z0-9.=_-]{1,12}@[a-z]{1,6}\.example$/u);
    const prefix = fc.constantFrom("Re: ", "RE: ", "re:", "AW: ", "Antw: ", "SV: ", "Fwd: ", "Re[2]: ", "回复：", "");
    const words = fc.stringMatching(/^[A-Za-z0-9?!,. ]{0,30}$/u);

    it("a reply to a reply keeps exactly one Re: and the same subject all the way down", () => {
      fc.assert(
        fc.property(
          words,
          fc.array(prefix, { minLength: 1, maxLength: 8 }),
          fc.option(fc.integer({ min: 1, max: 99999 }), { nil: null }),
          (start, clientPrefixes, tag) => {
            let subject = start;
            let first: string | null = null;
            for (const p of clientPrefixes) {
              const ours = composeReply(input({ subject, ticketTag: tag })).subject;
              assert.match(ours, /^Re: /u);
              assert.doesNotMatch(ours.slice(4), /^\s*(?:re|aw|sv|antw|fwd)\s*(?:\[\d+\])?\s*[:：]/iu, ours);
              assert.equal((ours.match(/\[#\d+\]/gu) ?? []).length, tag === null ? 0 : 1);
              first ??= ours;
              assert.equal(ours, first, "the subject drifted along the thread");
              subject = p + ours; // the customer's client answers our reply
            }
          },
        ),
        { numRuns: 1000 },
      );
    });

    it("In-Reply-To is the parent's Message-ID; References are bounded, ordered, root first, parent last", () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(id, { minLength: 1, maxLength: 40 }),
          fc.integer({ min: 2, max: 25 }),
          fc.nat({ max: 40 }),
          (thread, max, keepOfParent) => {
            // The parent is the last message; its client kept the first id and some newest ones (clients truncate too).
            const parent = thread[thread.length - 1]!;
            const earlier = thread.slice(0, -1);
            const refs = earlier.length <= keepOfParent + 1 ? earlier : [earlier[0]!, ...earlier.slice(earlier.length - keepOfParent)];
            const r = composeReply(
              input({
                answered: { ...answered, messageId: parent, inReplyTo: earlier.at(-1) ?? null, references: refs },
                maxReferences: max,
              }),
            );
            assert.equal(r.inReplyTo, parent);
            assert.equal(r.headers.inReplyTo, `<${parent}>`);
            const chain = [...refs, parent];
            assert.ok(r.references.length <= max);
            assert.equal(r.references.at(-1), parent, "parent last");
            assert.equal(r.references[0], chain[0], "root first");
            assert.equal(new Set(r.references).size, r.references.length);
            // Oldest to newest, as in the thread.
            const positions = r.references.map((x) => chain.indexOf(x));
            assert.ok(
              positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!)),
              "order",
            );
            // The root plus the newest: nothing dropped in between them.
            const expected = chain.length <= max ? chain : [chain[0]!, ...chain.slice(chain.length - (max - 1))];
            assert.deepEqual(r.references, expected);
            assert.equal(r.headers.references, r.references.map((x) => `<${x}>`).join(" "));
          },
        ),
        { numRuns: 1500 },
      );
    });

    it("the approved body is the start of the text, unchanged, and found again after line-ending changes", () => {
      const body = fc
        .array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 20 }), fc.constantFrom("\n", "\r\n", "\r\n\r\n", "-- ", "> ", " ")), {
          maxLength: 12,
        })
        .map((parts) => parts.join(""))
        .filter((b) => b.trim() !== "" && !b.includes("\r\r"));
      fc.assert(
        fc.property(body, fc.boolean(), fc.option(fc.string({ maxLength: 40 }), { nil: null }), (b, quoteHistory, signature) => {
          const r = composeReply(input({ body: b, quoteHistory, mailbox: { address: "support@example.com", signature } }));
          assert.ok(r.text.startsWith(b));
          assert.ok(containsApprovedBody(r.text, b));
          assert.ok(containsApprovedBody(r.text.replace(/\r?\n/gu, "\r\n"), b), "after CRLF conversion");
          assert.ok(containsApprovedBody(r.text.replace(/\r\n/gu, "\n"), b), "after LF conversion");
        }),
        { numRuns: 1000 },
      );
    });
  });
});
