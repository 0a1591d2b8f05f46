/**
 * Per-recipient cap (`outbound.maxPerRecipientPerHour`): the last line of defence against ping-pong
 * with another robot that the loop rules did not recognize. Each reply that robot sends gets a draft;
 * if drafts were auto-sent, or a reviewer approved in a hurry, the two systems could mail each other
 * forever. At most N sends to one address in any sliding hour stops that within the hour.
 *
 * A capped send is deferred, not failed: the outbox entry waits until `nextAllowedAt`.
 */

export const HOUR_MS = 60 * 60 * 1000;

export interface RateCapDecision {
  allowed: boolean;
  /** Sends to this recipient counted in the window ending now. */
  sentInWindow: number;
  /** `now` when allowed; otherwise the first moment a send is allowed again (given no other sends meanwhile). */
  nextAllowedAt: Date;
}

/** The key the store counts sends under: one per address, whatever its case. */
export function recipientKey(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * May we send to a recipient now? `sentAt` holds the times of earlier sends to it (any order; times
 * older than the window are ignored, so the caller may pass more than the last hour). `maxPerHour`
 * 0 turns the cap off, as 0 means "no limit" elsewhere in the config.
 *
 * Times after `now` count as inside the window: with several nodes a clock a little behind another
 * must not let a burst through.
 */
export function checkRecipientRate(
  sentAt: readonly (Date | number)[],
  now: Date | number,
  maxPerHour: number,
  windowMs: number = HOUR_MS,
): RateCapDecision {
  if (!Number.isInteger(maxPerHour) || maxPerHour < 0) throw new RangeError(`maxPerHour must be a non-negative integer, got ${maxPerHour}`);
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new RangeError(`windowMs must be a positive finite number, got ${windowMs}`);
  const t = +now;
  if (Number.isNaN(t)) throw new RangeError("now is not a valid time");
  const start = t - windowMs;
  // A send at exactly start is one hour old: out of the window, so N sends per hour means N, not N-1.
  const inWindow = sentAt
    .map((s) => +s)
    .filter((s) => !Number.isNaN(s) && s > start)
    .sort((a, b) => a - b);
  if (maxPerHour === 0 || inWindow.length < maxPerHour) {
    return { allowed: true, sentInWindow: inWindow.length, nextAllowedAt: new Date(t) };
  }
  // Allowed again once all but maxPerHour - 1 of them have left the window: when the send at index
  // (count - maxPerHour) is exactly one window old.
  const next = inWindow[inWindow.length - maxPerHour]! + windowMs;
  return { allowed: false, sentInWindow: inWindow.length, nextAllowedAt: new Date(Math.max(next, t)) };
}
