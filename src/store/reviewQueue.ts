import type { ConversationStatus, Priority } from "./entities/mail.js";
import type { DraftStatus } from "./entities/review.js";
import { dbDate, fromDbDate, placeholders, select, type SqlValue } from "./sql.js";
import type { Store } from "./store.js";

/**
 * The review queue (`/` and `GET /api/queue`): conversations of the mailboxes a user may see, most
 * urgent first (priority, then SLA due time, then oldest), with the triage summary and the draft state.
 */

export interface QueueFilter {
  /** Mailbox ids the viewer may see; null: all (an admin). */
  visible: number[] | null;
  status?: ConversationStatus;
  mailbox?: string;
  priority?: Priority;
  category?: string;
  /** "me": assigned to `userId`; "none": unassigned. */
  assigned?: "me" | "none";
  userId?: number;
  overdue?: boolean;
  hasDraft?: boolean;
  /** Subject or address contains this. */
  q?: string;
}

export interface QueueRow {
  id: number;
  mailbox: string;
  subject: string;
  status: ConversationStatus;
  priority: Priority | null;
  slaDueAt: Date | null;
  lastMessageAt: Date;
  createdAt: Date;
  assignee: string | null;
  customer: string | null;
  summary: string | null;
  category: string | null;
  draftStatus: DraftStatus | null;
}

export const PRIORITY_RANK = "CASE c.`priority` WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'low' THEN 3 ELSE 2 END";

function where(f: QueueFilter, now: Date): { sql: string; params: SqlValue[] } | null {
  const parts = ["c.`automated` = 0", "c.`status` = ?"];
  const params: SqlValue[] = [f.status ?? "open"];
  if (f.visible) {
    if (f.visible.length === 0) return null;
    parts.push(`c.\`mailboxId\` IN ${placeholders(f.visible.length)}`);
    params.push(...f.visible);
  }
  if (f.mailbox) {
    parts.push("mb.`name` = ?");
    params.push(f.mailbox);
  }
  if (f.priority) {
    parts.push(f.priority === "normal" ? "(c.`priority` = 'normal' OR c.`priority` IS NULL)" : "c.`priority` = ?");
    if (f.priority !== "normal") params.push(f.priority);
  }
  if (f.assigned === "me") {
    parts.push("c.`assigneeId` = ?");
    params.push(f.userId ?? -1);
  } else if (f.assigned === "none") parts.push("c.`assigneeId` IS NULL");
  if (f.overdue) {
    parts.push("c.`slaDueAt` < ?");
    params.push(dbDate(now));
  }
  if (f.hasDraft)
    parts.push("EXISTS (SELECT 1 FROM `drafts` d WHERE d.`conversationId` = c.`id` AND d.`status` IN ('pending', 'generating'))");
  if (f.category) {
    parts.push("(SELECT t.`category` FROM `triages` t WHERE t.`conversationId` = c.`id` ORDER BY t.`id` DESC LIMIT 1) = ?");
    params.push(f.category);
  }
  if (f.q) {
    // "!" escapes LIKE's wildcards: a backslash means one character in MySQL's string literals and two in SQLite's.
    const like = `%${f.q.replace(/[!%_]/gu, (ch) => `!${ch}`)}%`;
    parts.push("(c.`subject` LIKE ? ESCAPE '!' OR c.`participants` LIKE ? ESCAPE '!')");
    params.push(like, like);
  }
  return { sql: parts.join(" AND "), params };
}

/** One page of the queue and whether there is more. */
export async function queuePage(
  store: Store,
  f: QueueFilter,
  page: { offset: number; limit: number },
  now = new Date(),
): Promise<{ rows: QueueRow[]; more: boolean }> {
  const w = where(f, now);
  if (!w) return { rows: [], more: false };
  return store.read(async (em) => {
    // The page of ids first (sorted, limited), then the per-row look-ups for those rows only: run over
    // every open conversation before the LIMIT, they took 300 ms on MariaDB at 10,000 open.
    const rows = await select<Record<string, unknown>>(
      em,
      "SELECT c.`id` AS id, mb.`name` AS mailbox, c.`subject` AS subject, c.`status` AS status, c.`priority` AS priority, " +
        "c.`slaDueAt` AS slaDueAt, c.`lastMessageAt` AS lastMessageAt, c.`createdAt` AS createdAt, u.`email` AS assignee, " +
        "(SELECT COALESCE(m.`fromName`, m.`fromAddress`) FROM `messages` m WHERE m.`conversationId` = c.`id` AND m.`direction` = 'inbound' ORDER BY m.`id` DESC LIMIT 1) AS customer, " +
        "(SELECT t.`summary` FROM `triages` t WHERE t.`conversationId` = c.`id` ORDER BY t.`id` DESC LIMIT 1) AS summary, " +
        "(SELECT t.`category` FROM `triages` t WHERE t.`conversationId` = c.`id` ORDER BY t.`id` DESC LIMIT 1) AS category, " +
        "(SELECT d.`status` FROM `drafts` d WHERE d.`conversationId` = c.`id` ORDER BY d.`id` DESC LIMIT 1) AS draftStatus " +
        `FROM (SELECT c.\`id\` AS pid, ${PRIORITY_RANK} AS prank FROM \`conversations\` c JOIN \`mailboxes\` mb ON mb.\`id\` = c.\`mailboxId\` ` +
        `WHERE ${w.sql} ORDER BY prank, c.\`slaDueAt\` IS NULL, c.\`slaDueAt\`, c.\`lastMessageAt\`, c.\`id\` LIMIT ? OFFSET ?) p ` +
        "JOIN `conversations` c ON c.`id` = p.pid JOIN `mailboxes` mb ON mb.`id` = c.`mailboxId` LEFT JOIN `users` u ON u.`id` = c.`assigneeId` " +
        `ORDER BY p.prank, c.\`slaDueAt\` IS NULL, c.\`slaDueAt\`, c.\`lastMessageAt\`, c.\`id\``,
      [...w.params, page.limit + 1, page.offset],
    );
    return {
      more: rows.length > page.limit,
      rows: rows.slice(0, page.limit).map((r) => ({
        id: Number(r.id),
        mailbox: r.mailbox as string,
        subject: r.subject as string,
        status: r.status as ConversationStatus,
        priority: (r.priority as Priority | null) ?? null,
        slaDueAt: r.slaDueAt === null ? null : fromDbDate(r.slaDueAt),
        lastMessageAt: fromDbDate(r.lastMessageAt),
        createdAt: fromDbDate(r.createdAt),
        assignee: (r.assignee as string | null) ?? null,
        customer: (r.customer as string | null) ?? null,
        summary: (r.summary as string | null) ?? null,
        category: (r.category as string | null) ?? null,
        draftStatus: (r.draftStatus as DraftStatus | null) ?? null,
      })),
    };
  });
}

export interface QueueCounts {
  status: Record<ConversationStatus, number>;
  mine: number;
  unassigned: number;
  overdue: number;
  withDraft: number;
}

/**
 * Counts for the filter list: per status, and within the filter's status the quick filters. One grouped
 * pass over the visible conversations (seven separate COUNTs took 70–175 ms on MariaDB at 10,000 open),
 * plus one for "has a draft".
 */
export async function queueCounts(store: Store, f: QueueFilter, now = new Date()): Promise<QueueCounts> {
  const status = f.status ?? "open";
  const empty: QueueCounts = { status: { open: 0, pending: 0, closed: 0 }, mine: 0, unassigned: 0, overdue: 0, withDraft: 0 };
  if (f.visible && f.visible.length === 0) return empty;
  const scope = f.visible ? ` AND c.\`mailboxId\` IN ${placeholders(f.visible.length)}` : "";
  const rows = await store.read((em) =>
    select<{
      status: ConversationStatus;
      n: number | string;
      mine: number | string | null;
      unassigned: number | string | null;
      overdue: number | string | null;
    }>(
      em,
      "SELECT c.`status` AS status, COUNT(*) AS n, SUM(CASE WHEN c.`assigneeId` = ? THEN 1 ELSE 0 END) AS mine, " +
        "SUM(CASE WHEN c.`assigneeId` IS NULL THEN 1 ELSE 0 END) AS unassigned, SUM(CASE WHEN c.`slaDueAt` < ? THEN 1 ELSE 0 END) AS overdue " +
        `FROM \`conversations\` c WHERE c.\`automated\` = 0${scope} GROUP BY c.\`status\``,
      [f.userId ?? -1, dbDate(now), ...(f.visible ?? [])],
    ),
  );
  const out = { ...empty, status: { ...empty.status } };
  for (const r of rows) {
    if (r.status in out.status) out.status[r.status] = Number(r.n);
    if (r.status !== status) continue;
    out.mine = Number(r.mine ?? 0);
    out.unassigned = Number(r.unassigned ?? 0);
    out.overdue = Number(r.overdue ?? 0);
  }
  const w = where({ visible: f.visible, status, hasDraft: true }, now);
  if (w) {
    const d = await store.read((em) =>
      select<{ n: number | string }>(
        em,
        `SELECT COUNT(*) AS n FROM \`conversations\` c JOIN \`mailboxes\` mb ON mb.\`id\` = c.\`mailboxId\` WHERE ${w.sql}`,
        w.params,
      ),
    );
    out.withDraft = Number(d[0]?.n ?? 0);
  }
  return out;
}
