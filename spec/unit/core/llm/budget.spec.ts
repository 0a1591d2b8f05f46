import assert from "node:assert/strict";
import fc from "fast-check";
import { fitThreadToBudget, renderThreadMessage, TRUNCATION_MARK, type ThreadMessage } from "../../../../src/core/llm/budget.js";

const count = (s: string) => Math.ceil(s.length / 4);
const cost = (m: ThreadMessage) => count(renderThreadMessage(m));
const total = (ms: ThreadMessage[]) => ms.reduce((sum, m) => sum + cost(m), 0);

function msg(i: number, text: string, direction: ThreadMessage["direction"] = i % 2 ? "outbound" : "inbound"): ThreadMessage {
  return { from: direction === "inbound" ? "ann@example.com" : "support@example.com", date: `2024-05-0${(i % 9) + 1}`, text, direction };
}

describe("fitThreadToBudget", () => {
  const thread = [msg(0, "First question ".repeat(10)), msg(1, "Our answer ".repeat(10)), msg(2, "Follow-up ".repeat(10)), msg(3, "Newest: still broken")];

  it("keeps the whole thread oldest first when it fits", () => {
    const fitted = fitThreadToBudget(thread, 10_000, count);
    assert.deepEqual(fitted.included, thread);
    assert.equal(fitted.omitted, 0);
    assert.equal(fitted.truncatedFirst, false);
  });

  it("drops the oldest messages first and keeps the rest in order", () => {
    const budget = cost(thread[3]!) + cost(thread[2]!) + cost(thread[1]!) + 1;
    const fitted = fitThreadToBudget(thread, budget, count);
    assert.deepEqual(fitted.included, thread.slice(1));
    assert.equal(fitted.omitted, 1);
  });

  it("stops at the first older message that does not fit, leaving no gap", () => {
    const long = msg(1, "x".repeat(2000));
    const messages = [msg(0, "tiny"), long, msg(2, "newest")];
    const budget = cost(messages[2]!) + cost(messages[0]!) + 5;
    const fitted = fitThreadToBudget(messages, budget, count);
    assert.deepEqual(fitted.included, [messages[2]]);
    assert.equal(fitted.omitted, 2);
  });

  it("keeps only the newest message when nothing else fits", () => {
    const fitted = fitThreadToBudget(thread, cost(thread[3]!), count);
    assert.deepEqual(fitted.included, [thread[3]]);
    assert.equal(fitted.omitted, 3);
    assert.equal(fitted.truncatedFirst, false);
  });

  it("cuts an over-long newest message at its end, keeping its beginning and marking the cut", () => {
    const newest = msg(4, `I need a refund for order 1234. ${"Long story. ".repeat(500)}Legal footer.`);
    const fitted = fitThreadToBudget([...thread, newest], 200, count);
    assert.equal(fitted.included.length, 1);
    assert.equal(fitted.omitted, 4);
    assert.equal(fitted.truncatedFirst, true);
    const kept = fitted.included[0]!;
    assert.ok(kept.text.startsWith("I need a refund for order 1234."));
    assert.ok(kept.text.endsWith(` ${TRUNCATION_MARK}`));
    assert.ok(!kept.text.includes("Legal footer"));
    assert.equal(kept.from, newest.from);
    assert.ok(cost(kept) <= 200);
    assert.ok(cost(kept) > 190, "uses the budget rather than cutting far too much");
  });

  it("does not split an emoji sequence when cutting", () => {
    const newest = msg(0, "👨‍👩‍👧".repeat(200));
    const kept = fitThreadToBudget([newest], 60, count).included[0]!;
    const body = kept.text.slice(0, -TRUNCATION_MARK.length - 1);
    assert.equal(body.replaceAll("👨‍👩‍👧", ""), "");
  });

  it("returns nothing for an empty thread", () => {
    assert.deepEqual(fitThreadToBudget([], 100, count), { included: [], omitted: 0, truncatedFirst: false });
  });

  it("throws a RangeError when not even the newest message's header fits", () => {
    assert.throws(() => fitThreadToBudget(thread, 3, count), RangeError);
  });

  it("counts exactly the rendered message, so the prompt builder can reuse it", () => {
    const rendered = renderThreadMessage(msg(0, "hello"));
    assert.equal(rendered, "From: ann@example.com (customer)\nDate: 2024-05-01\n\nhello");
    assert.match(renderThreadMessage(msg(1, "x")), /\(us \(support\)\)/u);
  });

  it("keeps extra fields of the caller's message objects", () => {
    const withId = { ...msg(0, "hi"), id: 7 };
    assert.equal(fitThreadToBudget([withId], 100, count).included[0]!.id, 7);
  });

  it("never exceeds the budget, keeps order oldest first and always includes the newest message", () => {
    const text = fc.string({ unit: fc.constantFrom("a", " ", "é", "😀", "\n", "word "), maxLength: 400 });
    const message = fc.record({
      from: fc.constantFrom("a@x.example", "support@x.example"),
      date: fc.constantFrom("2024-01-01", "Mon, 1 Jan 2024"),
      text,
      direction: fc.constantFrom("inbound" as const, "outbound" as const),
    });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.integer({ min: 20, max: 600 }), (messages, budget) => {
        const fitted = fitThreadToBudget(messages, budget, count);
        assert.ok(total(fitted.included) <= budget, `${total(fitted.included)} > ${budget}`);
        assert.equal(fitted.included.length + fitted.omitted, messages.length);
        const newest = messages[messages.length - 1]!;
        const last = fitted.included[fitted.included.length - 1]!;
        if (fitted.truncatedFirst) {
          assert.ok(last.text.endsWith(TRUNCATION_MARK));
          const kept = last.text.slice(0, -TRUNCATION_MARK.length).trimEnd();
          assert.ok(newest.text.startsWith(kept));
        } else {
          assert.equal(last, newest);
        }
        // Everything before the newest is the unbroken run of messages just before it, in order.
        const older = fitted.included.slice(0, -1);
        assert.deepEqual(older, messages.slice(messages.length - 1 - older.length, messages.length - 1));
      }),
      { numRuns: 1500 },
    );
  });

  it("holds the budget with a tokenizer that is not proportional to length", () => {
    // Counts words and punctuation, as real tokenizers roughly do.
    const words = (s: string) => (s.match(/\w+|[^\w\s]/gu) ?? []).length;
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 25, max: 300 }), (texts, budget) => {
        const messages = texts.map((t, i) => msg(i, t));
        const fitted = fitThreadToBudget(messages, budget, words);
        const used = fitted.included.reduce((sum, m) => sum + words(renderThreadMessage(m)), 0);
        assert.ok(used <= budget);
      }),
    );
  });
});
