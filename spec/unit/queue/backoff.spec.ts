import assert from "node:assert/strict";
import fc from "fast-check";
import { retryDelayMs } from "../../../src/core/backoff.js";

/** Largest value Math.random() can return. */
const ALMOST_ONE = 1 - 2 ** -53;

const attemptArb = fc.integer({ min: 1, max: 80 });
const baseArb = fc.integer({ min: 1, max: 600_000 });
/** [base, cap] with the cap at or above the base, as configured in practice. */
const baseCapArb = baseArb.chain((base) => fc.tuple(fc.constant(base), fc.integer({ min: base, max: 86_400_000 })));
const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** The upper bound the rule promises for an attempt: base · 2^(attempt−1), capped. */
const bound = (attempt: number, base: number, cap: number) => Math.min(cap, base * 2 ** (attempt - 1));

describe("retryDelayMs (exponential backoff with full jitter)", () => {
  it("stays within [min(base, cap)/10, cap] for any attempt, base, cap and random draw", () => {
    fc.assert(
      fc.property(attemptArb, baseArb, fc.integer({ min: 1, max: 86_400_000 }), randomArb, (attempt, base, cap, r) => {
        const d = retryDelayMs(attempt, base, cap, () => r);
        assert.ok(Number.isFinite(d), `finite (got ${d})`);
        assert.ok(d >= Math.min(base, cap) / 10, `at least min(base, cap)/10 (got ${d})`);
        assert.ok(d <= cap, `at most the cap ${cap} (got ${d})`);
      }),
    );
  });

  it("is never 0, even when the random draw is 0", () => {
    fc.assert(
      fc.property(attemptArb, baseCapArb, fc.constantFrom(0, Number.MIN_VALUE, 1e-12, 1e-6), (attempt, [base, cap], r) => {
        assert.ok(retryDelayMs(attempt, base, cap, () => r) > 0);
      }),
    );
  });

  it("never exceeds base · 2^(attempt−1) (capped)", () => {
    fc.assert(
      fc.property(attemptArb, baseCapArb, randomArb, (attempt, [base, cap], r) => {
        const d = retryDelayMs(attempt, base, cap, () => r);
        assert.ok(d <= bound(attempt, base, cap), `attempt ${attempt}: ${d} > ${bound(attempt, base, cap)}`);
      }),
    );
  });

  it("reaches its upper bound with the largest draw, so the bound doubles per attempt until the cap", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), baseCapArb, (attempt, [base, cap]) => {
        const top = (a: number) => retryDelayMs(a, base, cap, () => ALMOST_ONE);
        // The largest delay is the bound itself (to within the floor to whole milliseconds).
        assert.ok(top(attempt) >= bound(attempt, base, cap) - 1, `attempt ${attempt}: ${top(attempt)}`);
        assert.ok(top(attempt) <= bound(attempt, base, cap));
        if (base * 2 ** attempt <= cap) {
          // Below the cap the next attempt's bound is twice this one's.
          assert.equal(bound(attempt + 1, base, cap), 2 * bound(attempt, base, cap));
          assert.ok(top(attempt + 1) >= 2 * top(attempt), `attempt ${attempt + 1}: ${top(attempt + 1)} < 2 × ${top(attempt)}`);
        } else {
          // Once capped it stays at the cap.
          assert.ok(top(attempt + 1) >= cap - 1 && top(attempt + 1) <= cap);
        }
      }),
    );
  });

  it("grows with the attempt for the same draw (never shrinks before the cap)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), baseCapArb, randomArb, (attempt, [base, cap], r) => {
        const now = retryDelayMs(attempt, base, cap, () => r);
        const next = retryDelayMs(attempt + 1, base, cap, () => r);
        assert.ok(next >= now, `attempt ${attempt + 1}: ${next} < ${now}`);
      }),
    );
  });

  it("spreads retries across the whole range (full jitter): the draw maps linearly onto [0, bound)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), baseCapArb, randomArb, (attempt, [base, cap], r) => {
        const d = retryDelayMs(attempt, base, cap, () => r);
        const expected = Math.max(Math.min(base, cap) / 10, r * bound(attempt, base, cap));
        assert.ok(Math.abs(d - expected) <= 1, `draw ${r}: ${d} vs ${expected}`);
      }),
    );
  });

  it("treats attempt 0 or below like the first attempt and copes with huge attempt numbers", () => {
    for (const attempt of [0, -1, -100]) {
      assert.ok(retryDelayMs(attempt, 1000, 60_000, () => ALMOST_ONE) <= 1000);
    }
    for (const attempt of [100, 1_000, 1e9, Number.MAX_SAFE_INTEGER]) {
      const d = retryDelayMs(attempt, 1000, 60_000, () => ALMOST_ONE);
      assert.ok(d >= 59_999 && d <= 60_000, `attempt ${attempt}: ${d}`);
    }
  });

  it("keeps a positive floor when the cap is below the base", () => {
    const d = retryDelayMs(5, 10_000, 1_000, () => 0);
    assert.ok(d > 0 && d <= 1_000);
  });

  it("uses Math.random when no draw is injected and stays in range", () => {
    for (let i = 0; i < 1000; i++) {
      const d = retryDelayMs(3, 100, 10_000);
      assert.ok(d >= 10 && d <= 400, `got ${d}`);
    }
  });
});
