/**
 * The outbox state machine (DESIGN.md promise 4, "nothing is sent twice"). Every outbox entry moves
 * only along these edges, and the store applies a move as a compare-and-set on the state it read
 * (`UPDATE … SET state = next WHERE id = ? AND state = from`), so two workers never both send.
 *
 *   queued ──claim──> sending ──accepted──────────> sent
 *     │  ^              │  ├──transient-failure──> retrying ──claim──> sending
 *     │  │              │  ├──permanent-failure──> failed      (also when attempts run out)
 *     │  │              │  └──outcome-unknown────> uncertain   (also crash-recovery at start)
 *     │  │              │
 *     │  └─resolve-resend── uncertain ──found-in-sent / resolve-sent──> sent
 *     └──cancel──> cancelled <──cancel── retrying
 *
 * The one rule everything else serves: `uncertain` (the message may have gone out) never leads back
 * to `sending` by itself. Only a person's `outbox resolve ID --resend` puts it back in the queue; the
 * Sent-folder check by Message-ID or `--sent` close it as sent.
 */
import type { DeliveryOutcome } from "./deliveryError.js";

export const OUTBOX_STATES = ["queued", "sending", "sent", "retrying", "failed", "uncertain", "cancelled"] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

export const OUTBOX_EVENTS = [
  /** A worker takes the entry to send it now. */
  "claim",
  /** The server accepted the message (a 2xx reply to the final dot). */
  "accepted",
  /** A transient failure with attempts left (see failureEvent). */
  "transient-failure",
  /** A permanent failure, or a transient one with no attempts left. */
  "permanent-failure",
  /** The outcome is unknown: the connection died after the final dot (classifyDeliveryError says `uncertain`). */
  "outcome-unknown",
  /** The process found the entry `sending` at start: it died mid-send. */
  "crash-recovery",
  /** The Sent-folder check found our Message-ID. */
  "found-in-sent",
  /** An admin: `outbox resolve ID --sent` (the customer got it). */
  "resolve-sent",
  /** An admin: `outbox resolve ID --resend` (it did not go out; send it again, same Message-ID). */
  "resolve-resend",
  /** A person withdraws an entry that has not gone out (or is waiting to retry). */
  "cancel",
] as const;
export type OutboxEvent = (typeof OUTBOX_EVENTS)[number];

const TRANSITIONS: Readonly<Record<OutboxState, Partial<Record<OutboxEvent, OutboxState>>>> = {
  queued: { claim: "sending", cancel: "cancelled" },
  sending: {
    accepted: "sent",
    "transient-failure": "retrying",
    "permanent-failure": "failed",
    "outcome-unknown": "uncertain",
    "crash-recovery": "uncertain",
  },
  retrying: { claim: "sending", cancel: "cancelled" },
  // Not cancellable: it may already be in the customer's inbox; resolving says which.
  uncertain: { "found-in-sent": "sent", "resolve-sent": "sent", "resolve-resend": "queued" },
  sent: {},
  failed: {},
  cancelled: {},
};

/** A move the state machine does not allow; `from` and `event` say which. */
export class OutboxTransitionError extends Error {
  constructor(
    readonly from: OutboxState,
    readonly event: OutboxEvent,
  ) {
    const allowed = Object.keys(TRANSITIONS[from]);
    super(
      `outbox entry in state '${from}' cannot take '${event}'` +
        (allowed.length === 0 ? ` ('${from}' is final)` : ` (allowed: ${allowed.join(", ")})`),
    );
    this.name = "OutboxTransitionError";
  }
}

export function isOutboxState(value: unknown): value is OutboxState {
  return typeof value === "string" && (OUTBOX_STATES as readonly string[]).includes(value);
}

/** The state after `event`, or null when the move is not allowed. */
export function tryOutboxTransition(from: OutboxState, event: OutboxEvent): OutboxState | null {
  return TRANSITIONS[from]?.[event] ?? null;
}

/** The state after `event`; throws OutboxTransitionError when the move is not allowed. */
export function nextOutboxState(from: OutboxState, event: OutboxEvent): OutboxState {
  const next = tryOutboxTransition(from, event);
  if (next === null) throw new OutboxTransitionError(from, event);
  return next;
}

/** Whether some event moves `from` to `to`. */
export function canMoveTo(from: OutboxState, to: OutboxState): boolean {
  return Object.values(TRANSITIONS[from]).includes(to);
}

/** The events `state` accepts (for the page's buttons and for error messages). */
export function outboxEventsFrom(state: OutboxState): OutboxEvent[] {
  return Object.keys(TRANSITIONS[state]) as OutboxEvent[];
}

/**
 * Final: nothing ever moves out. `uncertain` is not final (a person or the Sent check resolves it)
 * but nothing moves it automatically either; see needsPerson.
 */
export function isFinalOutboxState(state: OutboxState): boolean {
  return Object.keys(TRANSITIONS[state]).length === 0;
}

/** States a person must look at: `uncertain` (resolve it) and `failed` (the reply never went out). */
export function needsPerson(state: OutboxState): boolean {
  return state === "uncertain" || state === "failed";
}

/** States a worker may claim to send now (subject to the retry time and the recipient cap). */
export function isClaimable(state: OutboxState): boolean {
  return tryOutboxTransition(state, "claim") !== null;
}

/**
 * At process start, before any worker claims: an entry still `sending` belonged to a process that
 * died mid-send. Whether the server got it is unknown, so it becomes `uncertain` (then the Sent-folder
 * check runs). On MySQL with several outbound nodes, apply this only to entries whose sender's lease
 * has expired, not to a live node's sends. Every other state is left as it is.
 */
export function stateAtStartup(state: OutboxState): OutboxState {
  return state === "sending" ? nextOutboxState(state, "crash-recovery") : state;
}

/**
 * The event for a failed attempt: `attempt` is this attempt's number (1-based) and `maxAttempts` is
 * `outbound.maxAttempts`. A transient failure on the last attempt becomes a permanent one.
 */
export function failureEvent(outcome: DeliveryOutcome, attempt: number, maxAttempts: number): OutboxEvent {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  switch (outcome) {
    case "uncertain":
      return "outcome-unknown";
    case "permanent":
      return "permanent-failure";
    case "transient":
      return attempt >= maxAttempts ? "permanent-failure" : "transient-failure";
  }
}
