import assert from "node:assert/strict";
import fc from "fast-check";
import {
  OUTBOX_EVENTS,
  OUTBOX_STATES,
  OutboxTransitionError,
  canMoveTo,
  failureEvent,
  isClaimable,
  isFinalOutboxState,
  isOutboxState,
  needsPerson,
  nextOutboxState,
  outboxEventsFrom,
  stateAtStartup,
  tryOutboxTransition,
  type OutboxEvent,
  type OutboxState,
} from "../../../../src/core/outbound/outboxState.js";

// Every allowed move; everything else must be refused.
const allowed: Array<[OutboxState, OutboxEvent, OutboxState]> = [
  ["queued", "claim", "sending"],
  ["queued", "cancel", "cancelled"],
  ["sending", "accepted", "sent"],
  ["sending", "transient-failure", "retrying"],
  ["sending", "permanent-failure", "failed"],
  ["sending", "outcome-unknown", "uncertain"],
  ["sending", "crash-recovery", "uncertain"],
  ["retrying", "claim", "sending"],
  ["retrying", "cancel", "cancelled"],
  ["uncertain", "found-in-sent", "sent"],
  ["uncertain", "resolve-sent", "sent"],
  ["uncertain", "resolve-resend", "queued"],
];

describe("outbox state machine", () => {
  for (const [from, event, to] of allowed) {
    it(`${from} --${event}--> ${to}`, () => assert.equal(nextOutboxState(from, event), to));
  }

  it("refuses every other move with an error naming the state, the event and what is allowed", () => {
    let refused = 0;
    for (const from of OUTBOX_STATES) {
      for (const event of OUTBOX_EVENTS) {
        if (allowed.some(([f, e]) => f === from && e === event)) continue;
        refused++;
        assert.equal(tryOutboxTransition(from, event), null);
        assert.throws(
          () => nextOutboxState(from, event),
          (err: unknown) =>
            err instanceof OutboxTransitionError &&
            err.from === from &&
            err.event === event &&
            err.message.includes(`'${from}'`) &&
            err.message.includes(`'${event}'`),
        );
      }
    }
    assert.equal(refused, OUTBOX_STATES.length * OUTBOX_EVENTS.length - allowed.length);
  });

  const refusals: Array<[OutboxState, OutboxEvent, RegExp]> = [
    ["sent", "claim", /outbox entry in state 'sent' cannot take 'claim' \('sent' is final\)/u],
    ["uncertain", "claim", /cannot take 'claim' \(allowed: found-in-sent, resolve-sent, resolve-resend\)/u],
    ["uncertain", "cancel", /allowed: found-in-sent/u],
    ["sending", "cancel", /allowed: accepted/u],
    ["failed", "resolve-resend", /'failed' is final/u],
  ];
  for (const [from, event, message] of refusals) {
    it(`explains why ${from} cannot take ${event}`, () => assert.throws(() => nextOutboxState(from, event), message));
  }

  it("knows which states are final, need a person, or can be claimed", () => {
    assert.deepEqual(OUTBOX_STATES.filter(isFinalOutboxState), ["sent", "failed", "cancelled"]);
    assert.deepEqual(OUTBOX_STATES.filter(needsPerson), ["failed", "uncertain"]);
    assert.deepEqual(OUTBOX_STATES.filter(isClaimable), ["queued", "retrying"]);
    assert.deepEqual(outboxEventsFrom("sending"), [
      "accepted",
      "transient-failure",
      "permanent-failure",
      "outcome-unknown",
      "crash-recovery",
    ]);
    assert.ok(canMoveTo("uncertain", "queued"));
    assert.ok(!canMoveTo("uncertain", "sending"));
    assert.ok(isOutboxState("retrying"));
    assert.ok(!isOutboxState("done"));
    assert.ok(!isOutboxState(undefined));
  });

  it("turns a `sending` entry found at start into `uncertain` and leaves the rest alone", () => {
    assert.deepEqual(
      OUTBOX_STATES.map((s) => [s, stateAtStartup(s)]),
      [
        ["queued", "queued"],
        ["sending", "uncertain"],
        ["sent", "sent"],
        ["retrying", "retrying"],
        ["failed", "failed"],
        ["uncertain", "uncertain"],
        ["cancelled", "cancelled"],
      ],
    );
  });

  describe("failureEvent", () => {
    const cases: Array<[Parameters<typeof failureEvent>, OutboxEvent]> = [
      [["transient", 1, 8], "transient-failure"],
      [["transient", 7, 8], "transient-failure"],
      [["transient", 8, 8], "permanent-failure"],
      [["transient", 9, 8], "permanent-failure"],
      [["permanent", 1, 8], "permanent-failure"],
      [["uncertain", 1, 8], "outcome-unknown"],
      [["uncertain", 8, 8], "outcome-unknown"],
      [["transient", 1, 1], "permanent-failure"],
    ];
    for (const [args, event] of cases) {
      it(`${args.join(", ")} → ${event}`, () => assert.equal(failureEvent(...args), event));
    }
    it("refuses nonsense counts", () => {
      assert.throws(() => failureEvent("transient", 0, 8), RangeError);
      assert.throws(() => failureEvent("transient", 1, 0), RangeError);
      assert.throws(() => failureEvent("transient", 1.5, 8), RangeError);
    });
  });

  describe("properties", () => {
    const event = fc.constantFrom(...OUTBOX_EVENTS);
    // Applies the events that are allowed, skipping refused ones, and records the path.
    const walk = (events: OutboxEvent[], start: OutboxState = "queued") => {
      const path: Array<[OutboxEvent, OutboxState]> = [];
      let state = start;
      for (const e of events) {
        const next = tryOutboxTransition(state, e);
        if (next === null) continue;
        path.push([e, next]);
        state = next;
      }
      return path;
    };

    it("an entry that became uncertain is sent again only after a person's resolve --resend", () => {
      fc.assert(
        fc.property(fc.array(event, { maxLength: 60 }), (events) => {
          let uncertain = false;
          for (const [e, state] of walk(events)) {
            if (e === "resolve-resend") uncertain = false;
            if (state === "sending") assert.ok(!uncertain, "sending again after uncertain without resolve-resend");
            if (state === "uncertain") uncertain = true;
          }
        }),
        { numRuns: 3000 },
      );
    });

    it("nothing leaves a final state, and every reachable state is a known one", () => {
      fc.assert(
        fc.property(fc.constantFrom(...OUTBOX_STATES), fc.array(event, { maxLength: 30 }), (start, events) => {
          const path = walk(events, start);
          for (const [, s] of path) assert.ok(isOutboxState(s));
          const finalAt = isFinalOutboxState(start) ? -1 : path.findIndex(([, s]) => isFinalOutboxState(s));
          if (isFinalOutboxState(start)) assert.equal(path.length, 0);
          else if (finalAt >= 0) assert.equal(finalAt, path.length - 1, "moved on from a final state");
        }),
        { numRuns: 2000 },
      );
    });

    it("sent is reached only from sending (accepted) or uncertain (proof or a person)", () => {
      fc.assert(
        fc.property(fc.array(event, { maxLength: 40 }), (events) => {
          let prev: OutboxState = "queued";
          for (const [e, s] of walk(events)) {
            if (s === "sent")
              assert.ok(
                (prev === "sending" && e === "accepted") || (prev === "uncertain" && ["found-in-sent", "resolve-sent"].includes(e)),
              );
            prev = s;
          }
        }),
      );
    });
  });
});
