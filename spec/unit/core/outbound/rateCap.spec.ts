import assert from "node:assert/strict";
import fc from "fast-check";
import { HOUR_MS, checkRecipientRate, recipientKey } from "../../../../src/core/outbound/rateCap.js";

const T = Date.UTC(2025, 2, 3, 12, 0, 0);
const min = 60_000;

describe("checkRecipientRate", () => {
  const cases: Array<[string, number[], number, boolean, number, number]> = [
    // [name, sends (minutes before now), max, allowed, sentInWindow, next allowed (minutes after now)]
    ["nothing sent", [], 5, true, 0, 0],
    ["below the cap", [1, 2, 3, 4], 5, true, 4, 0],
    ["at the cap: wait for the oldest to age out", [5, 10, 20, 30, 50], 5, false, 5, 10],
    ["over the cap: wait until only max - 1 are left", [1, 2, 3, 4, 5, 6, 7], 5, false, 7, 55],
    ["sends older than an hour do not count", [61, 90, 600], 1, true, 0, 0],
    ["a send exactly an hour ago is out of the window", [60], 1, true, 0, 0],
    ["a send just under an hour ago still counts", [59.99], 1, false, 1, 0.01],
    ["cap 1", [10], 1, false, 1, 50],
    ["a send in the future (clock skew) counts", [-2], 1, false, 1, 62],
    ["cap 0 is no cap", [1, 2, 3, 4, 5, 6], 0, true, 6, 0],
  ];
  for (const [name, ago, max, allowed, count, after] of cases) {
    it(name, () => {
      const d = checkRecipientRate(
        ago.map((m) => new Date(T - m * min)),
        new Date(T),
        max,
      );
      assert.deepEqual(d, { allowed, sentInWindow: count, nextAllowedAt: new Date(T + after * min) });
    });
  }

  it("takes numbers as well as dates, in any order", () => {
    assert.deepEqual(checkRecipientRate([T - 30 * min, T - 50 * min], T, 2).nextAllowedAt, new Date(T + 10 * min));
  });

  it("refuses nonsense limits", () => {
    assert.throws(() => checkRecipientRate([], T, -1), RangeError);
    assert.throws(() => checkRecipientRate([], T, 1.5), RangeError);
    assert.throws(() => checkRecipientRate([], T, 1, 0), RangeError);
    assert.throws(() => checkRecipientRate([], Number.NaN, 1), RangeError);
  });

  it("counts one recipient under one key whatever its case", () => {
    assert.equal(recipientKey(" Jane@Customer.Example "), "jane@customer.example");
  });

  describe("properties", () => {
    it("a sender that obeys it never sends more than max to one recipient in any hour", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.integer({ min: 0, max: 4 * HOUR_MS }), { maxLength: 60 }),
          (max, attempts) => {
            const sent: number[] = [];
            for (const t of [...attempts].sort((a, b) => a - b)) {
              if (checkRecipientRate(sent, t, max).allowed) sent.push(t);
            }
            for (const s of sent) assert.ok(sent.filter((x) => x >= s && x < s + HOUR_MS).length <= max);
          },
        ),
        { numRuns: 500 },
      );
    });

    it("nextAllowedAt is exactly the first moment a send is allowed", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.integer({ min: -5 * min, max: 2 * HOUR_MS }), { maxLength: 20 }),
          (max, ago) => {
            const sent = ago.map((a) => T - a);
            const d = checkRecipientRate(sent, T, max);
            if (d.allowed) return assert.equal(+d.nextAllowedAt, T);
            const next = +d.nextAllowedAt;
            assert.ok(next > T);
            assert.equal(checkRecipientRate(sent, next, max).allowed, true);
            assert.equal(checkRecipientRate(sent, next - 1, max).allowed, false);
          },
        ),
        { numRuns: 1000 },
      );
    });
  });
});
