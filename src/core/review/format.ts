/** Plain-words time and priority labels for the review page (pure). */

/** "4 min", "3 h", "2 d": a duration in its largest sensible unit. */
export function span(ms: number): string {
  const m = Math.round(Math.abs(ms) / 60_000);
  if (m < 1) return "under a minute";
  if (m < 60) return `${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} d`;
}

/** How long ago, e.g. "3 h ago". */
export const ago = (at: Date, now: Date): string => `${span(now.getTime() - at.getTime())} ago`;

/** The SLA as a reviewer reads it: "due in 2 h" or "overdue 35 min"; empty without an SLA. */
export function slaText(due: Date | null, now: Date): { text: string; overdue: boolean } {
  if (!due) return { text: "", overdue: false };
  const left = due.getTime() - now.getTime();
  return left < 0 ? { text: `overdue ${span(left)}`, overdue: true } : { text: `due in ${span(left)}`, overdue: false };
}

export const PRIORITIES = ["urgent", "high", "normal", "low"] as const;

/** "Urgent", "High", …; a conversation not triaged yet reads as normal. */
export function priorityLabel(p: string | null): string {
  const v = p ?? "normal";
  return v.charAt(0).toUpperCase() + v.slice(1);
}

/** What the queue says about a conversation's draft. */
export function draftLabel(status: string | null): string {
  switch (status) {
    case "generating":
      return "writing…";
    case "pending":
      return "draft ready";
    case "approved":
      return "approved";
    case "rejected":
      return "rejected";
    case "failed":
      return "draft failed";
    default:
      return "";
  }
}

export const STATUS_LABEL: Record<string, string> = { open: "Open", pending: "Waiting on customer", closed: "Solved" };
