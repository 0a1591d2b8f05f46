import assert from "node:assert/strict";
import fc from "fast-check";
import { parseDuration, slaDueAt } from "../../../../src/core/llm/sla.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe("parseDuration", () => {
  const cases: Array<[string, number]> = [
    ["1h", HOUR],
    ["30m", 30 * MIN],
    ["4h", 4 * HOUR],
    ["2d", 2 * DAY],
    ["1d12h", DAY + 12 * HOUR],
    ["1d 12h 30m", DAY + 12 * HOUR + 30 * MIN],
    ["1w", 7 * DAY],
    ["45s", 45_000],
    ["1.5h", 90 * MIN],
    ["0m", 0],
    [" 2h ", 2 * HOUR],
    ["12h1d", DAY + 12 * HOUR],
  ];
  for (const [text, ms] of cases) {
    it(`reads ${JSON.stringify(text)}`, () => assert.equal(parseDuration(text), ms));
  }

  const bad = ["", "  ", "1", "h", "1x", "1H", "1 hour", "-1h", "1h30", "1h1h", "1d-2h", "P1D", "1e3m", "1ms", "99999999999999999999d"];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)} with a message naming it`, () => {
      assert.throws(() => parseDuration(text), (err: Error) => err.message.includes(`"${text}"`) && /invalid duration/u.test(err.message));
    });
  }

  it("adds up its parts in any combination", () => {
    const units = { d: DAY, h: HOUR, m: MIN, s: 1000 } as const;
    fc.assert(
      fc.property(fc.subarray(["d", "h", "m", "s"] as const, { minLength: 1 }), fc.array(fc.nat(500), { minLength: 4, maxLength: 4 }), (chosen, amounts) => {
        const text = chosen.map((u, i) => `${amounts[i]}${u}`).join("");
        const expected = chosen.reduce((sum, u, i) => sum + amounts[i]! * units[u], 0);
        assert.equal(parseDuration(text), expected);
      }),
    );
  });
});

describe("slaDueAt", () => {
  const sla = { urgent: "1h", high: "4h", normal: "1d", low: "3d" };
  const from = new Date("2024-05-01T10:00:00Z");

  it("adds the priority's duration to the start time", () => {
    assert.equal(slaDueAt("urgent", from, sla).toISOString(), "2024-05-01T11:00:00.000Z");
    assert.equal(slaDueAt("high", from, sla).toISOString(), "2024-05-01T14:00:00.000Z");
    assert.equal(slaDueAt("normal", from, sla).toISOString(), "2024-05-02T10:00:00.000Z");
    assert.equal(slaDueAt("low", from, sla).toISOString(), "2024-05-04T10:00:00.000Z");
  });

  it("does not modify the start date", () => {
    slaDueAt("urgent", from, sla);
    assert.equal(from.toISOString(), "2024-05-01T10:00:00.000Z");
  });

  it("throws on a malformed configured duration, naming it", () => {
    assert.throws(() => slaDueAt("high", from, { ...sla, high: "4 hours" }), /invalid duration "4 hours"/u);
  });

  it("throws on an invalid start date and on a missing priority", () => {
    assert.throws(() => slaDueAt("high", new Date(Number.NaN), sla), RangeError);
    assert.throws(() => slaDueAt("high", from, { urgent: "1h" } as never), /no SLA duration configured for priority "high"/u);
  });

  it("throws when the due time is beyond the range of dates", () => {
    assert.throws(() => slaDueAt("low", new Date(8.64e15 - 1000), sla), RangeError);
  });
});
