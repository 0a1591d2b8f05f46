/**
 * SLA due times follow from priority (DESIGN.md, triage). Durations are written the way operators
 * write them in YAML ("30m", "4h", "1d12h"); a malformed one is a configuration error and is reported
 * with the offending text rather than silently read as zero.
 */
import type { Priority } from "./triage.js";

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
const PART = /(\d+(?:\.\d+)?)\s*([wdhms])/uy;

/** Milliseconds in a duration such as "1h", "30m", "2d", "1d12h" or "1w 2d" (units w, d, h, m, s; each once). */
export function parseDuration(s: string): number {
  const text = s.trim();
  const fail = (why: string): never => {
    throw new Error(`invalid duration "${s}": ${why} (write e.g. "30m", "4h", "1d12h"; units w, d, h, m, s)`);
  };
  if (!text) fail("it is empty");
  let ms = 0;
  let at = 0;
  const seen = new Set<string>();
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) fail(`unexpected "${text.slice(at)}"`);
    const [whole, amount, unit] = m!;
    if (seen.has(unit!)) fail(`the unit "${unit}" appears twice`);
    seen.add(unit!);
    ms += Number(amount) * UNIT_MS[unit!]!;
    at += whole.length;
    while (text[at] === " ") at++;
  }
  if (!Number.isSafeInteger(Math.round(ms))) fail("it is too long");
  return Math.round(ms);
}

/** When a conversation of this priority must be answered: `from` plus that priority's SLA duration. */
export function slaDueAt(priority: Priority, from: Date, sla: Record<Priority, string>): Date {
  if (Number.isNaN(from.getTime())) throw new RangeError("slaDueAt needs a valid start date");
  const duration = Object.hasOwn(sla, priority) ? sla[priority] : undefined;
  if (typeof duration !== "string") throw new Error(`no SLA duration configured for priority "${priority}"`);
  const due = new Date(from.getTime() + parseDuration(duration));
  if (Number.isNaN(due.getTime())) throw new RangeError(`the SLA due time for "${priority}" is out of range`);
  return due;
}
