import assert from "node:assert/strict";
import fc from "fast-check";
import {
  chooseConversation,
  defaultThreadOptions,
  type ConversationFacts,
  type ThreadInput,
  type ThreadLookup,
} from "../../../src/core/threading.js";

const now = new Date("2024-06-01T12:00:00Z");
const day = 24 * 3600 * 1000;
const daysAgo = (n: number) => new Date(now.getTime() - n * day);

function input(overrides: Partial<ThreadInput> = {}): ThreadInput {
  return {
    from: "jane@customer.example",
    referenceIds: [],
    ticketTag: null,
    subjectKey: "where is my order?",
    isReply: true,
    date: now,
    ...overrides,
  };
}

function lookup(overrides: Partial<ThreadLookup> = {}): ThreadLookup {
  return { references: [], tagged: null, sameSubject: [], ...overrides };
}

function conversation(conversationId: number, participants: string[], lastMessageAt: Date): ConversationFacts {
  return { conversationId, participants, lastMessageAt };
}

const janeConversation = (id: number, last = daysAgo(1)) => conversation(id, ["jane@customer.example", "support@shop.example"], last);

describe("chooseConversation", () => {
  describe("references", () => {
    it("joins the conversation of a referenced message", () => {
      const decision = chooseConversation(input({ referenceIds: ["a@x"] }), lookup({ references: [{ conversationId: 7, refIndex: 0 }] }));
      assert.deepEqual(decision, { conversationId: 7, rule: "reference", merge: [] });
    });

    it("wins over a tag and a subject match", () => {
      const decision = chooseConversation(
        input({ referenceIds: ["a@x"], ticketTag: 3 }),
        lookup({
          references: [{ conversationId: 7, refIndex: 0 }],
          tagged: janeConversation(3),
          sameSubject: [janeConversation(4)],
        }),
      );
      assert.equal(decision.conversationId, 7);
      assert.equal(decision.rule, "reference");
    });

    it("wins even for a sender who is not a participant (references prove the thread)", () => {
      const decision = chooseConversation(
        input({ from: "stranger@other.example" }),
        lookup({ references: [{ conversationId: 7, refIndex: 2 }] }),
      );
      assert.equal(decision.conversationId, 7);
    });

    it("merges split conversations into the lowest id", () => {
      const decision = chooseConversation(
        input(),
        lookup({
          references: [
            { conversationId: 12, refIndex: 0 },
            { conversationId: 5, refIndex: 3 },
            { conversationId: 9, refIndex: 1 },
            { conversationId: 12, refIndex: 2 },
          ],
        }),
      );
      assert.equal(decision.conversationId, 5);
      assert.equal(decision.rule, "reference");
      assert.deepEqual([...decision.merge].sort((a, b) => a - b), [9, 12]);
    });

    it("adopts the conversation of a child that arrived first (refIndex -1)", () => {
      const decision = chooseConversation(input({ referenceIds: [] }), lookup({ references: [{ conversationId: 8, refIndex: -1 }] }));
      assert.deepEqual(decision, { conversationId: 8, rule: "reference", merge: [] });
    });

    it("merges a child's conversation with the one our references name, keeping the lowest id", () => {
      const decision = chooseConversation(
        input({ referenceIds: ["root@x"] }),
        lookup({
          references: [
            { conversationId: 20, refIndex: -1 },
            { conversationId: 4, refIndex: 0 },
          ],
        }),
      );
      assert.deepEqual(decision, { conversationId: 4, rule: "reference", merge: [20] });
    });

    it("never merges the target into itself and never lists a conversation twice", () => {
      const hit = fc.record({ conversationId: fc.integer({ min: 1, max: 10 }), refIndex: fc.integer({ min: -1, max: 5 }) });
      fc.assert(
        fc.property(fc.array(hit, { minLength: 1, maxLength: 12 }), (references) => {
          const decision = chooseConversation(input(), lookup({ references }));
          const ids = new Set(references.map((r) => r.conversationId));
          assert.equal(decision.conversationId, Math.min(...ids));
          assert.ok(!decision.merge.includes(decision.conversationId));
          assert.equal(new Set(decision.merge).size, decision.merge.length);
          assert.equal(decision.merge.length, ids.size - 1);
        }),
      );
    });
  });

  describe("ticket tag", () => {
    it("joins the tagged conversation when the sender is a participant", () => {
      const decision = chooseConversation(input({ ticketTag: 3, isReply: false }), lookup({ tagged: janeConversation(3) }));
      assert.deepEqual(decision, { conversationId: 3, rule: "tag", merge: [] });
    });

    it("ignores the tag when the sender is not a participant (a forwarded or guessed tag)", () => {
      const decision = chooseConversation(
        input({ ticketTag: 3, from: "stranger@other.example" }),
        lookup({ tagged: janeConversation(3) }),
      );
      assert.deepEqual(decision, { conversationId: null, rule: "new", merge: [] });
    });

    it("ignores the tag when the message has no sender", () => {
      const decision = chooseConversation(input({ ticketTag: 3, from: null }), lookup({ tagged: janeConversation(3) }));
      assert.equal(decision.rule, "new");
    });

    it("ignores a tagged conversation when the message carries no tag", () => {
      const decision = chooseConversation(input({ ticketTag: null, isReply: false }), lookup({ tagged: janeConversation(3) }));
      assert.equal(decision.rule, "new");
    });

    it("falls back to the subject when the tag names a conversation that does not exist", () => {
      const decision = chooseConversation(input({ ticketTag: 99 }), lookup({ tagged: null, sameSubject: [janeConversation(4)] }));
      assert.deepEqual(decision, { conversationId: 4, rule: "subject", merge: [] });
    });
  });

  describe("subject fallback", () => {
    it("joins a recent conversation with the same subject key and the sender as participant", () => {
      const decision = chooseConversation(input(), lookup({ sameSubject: [janeConversation(4)] }));
      assert.deepEqual(decision, { conversationId: 4, rule: "subject", merge: [] });
    });

    it("applies only to replies", () => {
      const decision = chooseConversation(input({ isReply: false }), lookup({ sameSubject: [janeConversation(4)] }));
      assert.equal(decision.rule, "new");
    });

    it("applies only within the window", () => {
      const window = defaultThreadOptions.subjectWindowMs;
      const inside = conversation(4, ["jane@customer.example"], new Date(now.getTime() - window));
      const outside = conversation(5, ["jane@customer.example"], new Date(now.getTime() - window - 1));
      assert.equal(chooseConversation(input(), lookup({ sameSubject: [inside] })).conversationId, 4);
      assert.equal(chooseConversation(input(), lookup({ sameSubject: [outside] })).rule, "new");
    });

    it("honours a custom window", () => {
      const options = { ...defaultThreadOptions, subjectWindowMs: day };
      assert.equal(chooseConversation(input(), lookup({ sameSubject: [janeConversation(4, daysAgo(2))] }), options).rule, "new");
    });

    it("applies only when the sender is a participant", () => {
      const others = conversation(4, ["bob@customer.example", "support@shop.example"], daysAgo(1));
      assert.equal(chooseConversation(input(), lookup({ sameSubject: [others] })).rule, "new");
    });

    it("applies only when the message has a sender", () => {
      assert.equal(chooseConversation(input({ from: null }), lookup({ sameSubject: [janeConversation(4)] })).rule, "new");
    });

    it("never threads by a subject key shorter than the minimum", () => {
      const short = input({ subjectKey: "hi" });
      assert.equal(chooseConversation(short, lookup({ sameSubject: [janeConversation(4)] })).rule, "new");
      const exact = input({ subjectKey: "x".repeat(defaultThreadOptions.minSubjectKeyLength) });
      assert.equal(chooseConversation(exact, lookup({ sameSubject: [janeConversation(4)] })).rule, "subject");
    });

    it("never threads an empty subject key", () => {
      assert.equal(chooseConversation(input({ subjectKey: "" }), lookup({ sameSubject: [janeConversation(4)] })).rule, "new");
    });

    it("picks the most recently active of several matches", () => {
      const decision = chooseConversation(
        input(),
        lookup({ sameSubject: [janeConversation(4, daysAgo(5)), janeConversation(6, daysAgo(1)), janeConversation(5, daysAgo(3))] }),
      );
      assert.equal(decision.conversationId, 6);
    });

    it("skips matches outside the window or without the sender and takes the next one", () => {
      const decision = chooseConversation(
        input(),
        lookup({
          sameSubject: [
            conversation(7, ["bob@customer.example"], daysAgo(0)),
            janeConversation(8, daysAgo(30)),
            janeConversation(9, daysAgo(10)),
          ],
        }),
      );
      assert.equal(decision.conversationId, 9);
    });
  });

  it("opens a new conversation when nothing matches", () => {
    assert.deepEqual(chooseConversation(input(), lookup()), { conversationId: null, rule: "new", merge: [] });
  });

  it("opens a new conversation for a message with an invalid date rather than guessing by subject", () => {
    const decision = chooseConversation(input({ date: new Date(Number.NaN) }), lookup({ sameSubject: [janeConversation(4)] }));
    assert.equal(decision.rule, "new");
  });
});
