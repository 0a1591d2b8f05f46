/**
 * Delay before retry `attempt` (1-based): exponential with full jitter, capped (AWS architecture blog's
 * "full jitter"): many workers failing together spread out instead of retrying in lockstep.
 * `random` is injected so the rule stays pure and testable.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  // Never 0: a failing job always yields to others at least a little.
  return Math.max(Math.min(baseMs, maxMs) / 10, Math.floor(random() * exp));
}
