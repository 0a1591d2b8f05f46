import { In, LessThanOrEqual, type EntityManager } from "typeorm";
import { tryOutboxTransition, type OutboxEvent } from "../core/outbound/outboxState.js";
import { recipientKey } from "../core/outbound/rateCap.js";
import type { MailboxRow } from "./entities/mail.js";
import type { OutboxRow, OutboxState } from "./entities/review.js";
import { writeBlob } from "./blobs.js";
import { appendEvent } from "./events.js";
import { enqueueJob } from "./jobs.js";
import { dbDate, fromDbDate, placeholders, runChanges, select, type SqlValue } from "./sql.js";
import type { Store } from "./store.js";

/**
 * The outbox after approval: reading entries, moving them along the state machine
 * (src/core/outbound/outboxState.ts) and queueing their sends. Entries are created only by the approval
 * use case (src/store/approvals.ts); nothing here inserts one. Functions taking an EntityManager run
 * inside the caller's transaction (store.tx), so a state change commits with whatever goes with it.
 */

/** The job that sends one outbox entry: payload { outboxId }. */
export const SEND_JOB = "send";

const isMysql = (em: EntityManager) => {
  const type = em.connection.driver.options.type;
  return type === "mysql" || type === "mariadb";
};

const OUTBOX_COLUMNS = [
  "id",
  "conversationId",
  "draftId",
  "mailboxId",
  "answeredMessageRowId",
  "state",
  "messageId",
  "fromAddress",
  "to",
  "cc",
  "subject",
  "inReplyTo",
  "references",
  "body",
  "bodyHash",
  "approvedBy",
  "approvedAt",
  "attempts",
  "lastError",
  "nextAttemptAt",
  "sentAt",
  "rawBlobId",
  "resolvedBy",
  "resolution",
  "resolvedAt",
  "createdAt",
  "updatedAt",
] as const satisfies readonly (keyof OutboxRow)[];

/** The entry's columns for a plain SELECT, prefixed with a table alias (`o.`). */
export const outboxSelect = (alias: string): string => OUTBOX_COLUMNS.map((c) => `${alias}.\`${c}\` AS \`${c}\``).join(", ");

const json = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : fromDbDate(v));

/** An outbox row read with plain SQL (outboxSelect): JSON text on SQLite, datetimes as Dates. */
export function toOutbox(r: Record<string, unknown>): OutboxRow {
  const row = Object.fromEntries(OUTBOX_COLUMNS.map((c) => [c, r[c]])) as unknown as OutboxRow;
  const int = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    ...row,
    id: Number(r.id),
    conversationId: Number(r.conversationId),
    draftId: int(r.draftId),
    mailboxId: Number(r.mailboxId),
    answeredMessageRowId: int(r.answeredMessageRowId),
    attempts: Number(r.attempts),
    rawBlobId: int(r.rawBlobId),
    to: json(r.to) as OutboxRow["to"],
    cc: json(r.cc) as OutboxRow["cc"],
    references: json(r.references) as string[],
    approvedAt: date(r.approvedAt)!,
    nextAttemptAt: date(r.nextAttemptAt),
    sentAt: date(r.sentAt),
    resolvedAt: date(r.resolvedAt),
    createdAt: date(r.createdAt)!,
    updatedAt: date(r.updatedAt)!,
  };
}

async function selectOutbox(em: EntityManager, where: string, params: SqlValue[], lock = false): Promise<OutboxRow | null> {
  const rows = await select<Record<string, unknown>>(
    em,
    `SELECT ${outboxSelect("o")} FROM \`outbox\` o WHERE ${where}${lock && isMysql(em) ? " FOR UPDATE" : ""}`,
    params,
  );
  return rows[0] ? toOutbox(rows[0]) : null;
}

export async function findOutbox(em: EntityManager, id: number): Promise<OutboxRow | null> {
  return selectOutbox(em, "o.`id` = ?", [id]);
}

/** The entry that carries a Message-ID of ours (without brackets), or null. */
export async function findOutboxByMessageId(em: EntityManager, messageId: string): Promise<OutboxRow | null> {
  return selectOutbox(em, "o.`messageId` = ?", [messageId]);
}

/** The entry, locked until the transaction ends on MySQL (SQLite transactions are serialized anyway). */
export async function lockOutbox(em: EntityManager, id: number): Promise<OutboxRow | null> {
  return selectOutbox(em, "o.`id` = ?", [id], true);
}

/** The SET list and values of an UPDATE from a patch of columns (Dates as datetimes; undefined left out). */
function setClause(patch: Record<string, unknown>): { sql: string; params: SqlValue[] } {
  const cols = Object.entries(patch).filter(([, v]) => v !== undefined);
  return {
    sql: cols.map(([c]) => `\`${c}\` = ?`).join(", "),
    params: cols.map(([, v]) => (v instanceof Date ? dbDate(v) : (v as SqlValue))),
  };
}

/** The columns a state change may set besides the state. */
export type OutboxPatch = Partial<
  Pick<OutboxRow, "attempts" | "lastError" | "nextAttemptAt" | "sentAt" | "rawBlobId" | "resolvedBy" | "resolution" | "resolvedAt">
>;

export type OutboxMove =
  | { ok: true; from: OutboxState; row: OutboxRow }
  /** `state` is where the entry is (null: no such entry); `event` is not allowed from there. */
  | { ok: false; state: OutboxState | null };

/**
 * Moves an entry along one edge of the state machine, as a compare-and-set on the state it read (and
 * on MySQL with the row locked): two workers can never both take `claim`, and a move the machine does
 * not allow (an `uncertain` entry to `sending`, anything out of `sent`) changes nothing. Appends the
 * event `outbox.<new state>` { outboxId, from, event } in the same transaction.
 */
export async function moveOutbox(
  em: EntityManager,
  id: number,
  event: OutboxEvent,
  patch: OutboxPatch = {},
  /** The entry as this transaction locked it already (lockOutbox): not read again. */
  locked?: OutboxRow,
): Promise<OutboxMove> {
  const row = locked ?? (await lockOutbox(em, id));
  if (!row) return { ok: false, state: null };
  const next = tryOutboxTransition(row.state, event);
  if (next === null) return { ok: false, state: row.state };
  const set = setClause({ ...patch, state: next, updatedAt: new Date() });
  const changed = await runChanges(em, `UPDATE \`outbox\` SET ${set.sql} WHERE \`id\` = ? AND \`state\` = ?`, [
    ...set.params,
    id,
    row.state,
  ]);
  if (changed === 0) {
    const now = await findOutbox(em, id);
    return { ok: false, state: now?.state ?? null };
  }
  await appendEvent(em, `outbox.${next}`, row.conversationId, { outboxId: id, from: row.state, event });
  return { ok: true, from: row.state, row: { ...row, ...patch, state: next } };
}

/**
 * Takes a `queued` or `retrying` entry whose time has come to send it now (`sending`, attempts + 1).
 * Null when it is not claimable (another worker has it, it is final, uncertain or cancelled) or not due yet.
 * With `raw`, an entry without stored bytes gets them (a blob) in the same transaction and the same
 * update as the claim: stored before a byte goes out, and nothing is written for an entry not claimed.
 */
export async function claimOutboxForSend(em: EntityManager, id: number, now: Date = new Date(), raw?: Buffer): Promise<OutboxRow | null> {
  const row = await lockOutbox(em, id);
  if (!row || tryOutboxTransition(row.state, "claim") === null) return null;
  if (row.nextAttemptAt && row.nextAttemptAt.getTime() > now.getTime()) return null;
  const patch: OutboxPatch = { attempts: row.attempts + 1, nextAttemptAt: null };
  if (raw && row.rawBlobId === null) patch.rawBlobId = await writeBlob(em, raw);
  const moved = await moveOutbox(em, id, "claim", patch, row);
  return moved.ok ? moved.row : null;
}

/** Records the exact bytes handed to the server (a blob id) on an entry being sent; false when it is not `sending`. */
export async function setOutboxRaw(em: EntityManager, id: number, rawBlobId: number): Promise<boolean> {
  const sql = "UPDATE `outbox` SET `rawBlobId` = ?, `updatedAt` = ? WHERE `id` = ? AND `state` = 'sending'";
  return (await runChanges(em, sql, [rawBlobId, dbDate(new Date()), id])) > 0;
}

/**
 * Queues the send job of an entry (type "send", payload { outboxId }). The entry's state decides
 * whether a run sends anything (claimOutboxForSend), so a second job for one entry sends nothing twice.
 * Returns the job id, or null when a job with `uniqueKey` exists already.
 */
export async function enqueueSend(
  em: EntityManager,
  outboxId: number,
  options: { maxAttempts: number; runAt?: Date; uniqueKey?: string },
): Promise<number | null> {
  return enqueueJob(em, {
    type: SEND_JOB,
    payload: { outboxId },
    // Replies a person approved go before background work (drafts queue at 20+).
    priority: 5,
    maxAttempts: options.maxAttempts,
    ...(options.runAt ? { runAt: options.runAt } : {}),
    ...(options.uniqueKey ? { uniqueKey: options.uniqueKey } : {}),
  });
}

/** Ids of entries left `sending` (at start: their process died mid-send; see stateAtStartup). */
export async function sendingOutboxIds(em: EntityManager): Promise<number[]> {
  const rows = await em.getRepository<OutboxRow>("Outbox").find({ where: { state: "sending" }, select: { id: true } });
  return rows.map((r) => r.id);
}

/** Ids of `queued` / `retrying` entries due by `now`, oldest first (a sweep for entries whose job was lost). */
export async function dueOutboxIds(em: EntityManager, now: Date, limit = 500): Promise<number[]> {
  const rows = await em.getRepository<OutboxRow>("Outbox").find({
    where: { state: In(["queued", "retrying"]), nextAttemptAt: LessThanOrEqual(now) },
    select: { id: true },
    order: { id: "ASC" },
    take: limit,
  });
  return rows.map((r) => r.id);
}

/**
 * Entries waiting to be sent (queued, retrying) that no send job will pick up any more: their job was
 * dead-lettered (its handler failed on every attempt, e.g. while the database or the disk was failing).
 * Every send job's unique key is `send:outbox:<id>` or `send:outbox:<id>:…`, and an entry is always moved
 * to queued/retrying in the same transaction that queues its job, so an entry with no queued or running
 * job under such a key is orphaned. Two indexed reads in one transaction (one snapshot) and a set
 * difference here: matching each entry against the jobs' keys in SQL (= or LIKE on a computed key)
 * could use no index and read every job once per entry.
 */
export async function orphanedOutboxIds(em: EntityManager, limit = 500): Promise<number[]> {
  const waiting = await select<{ id: number }>(em, "SELECT `id` FROM `outbox` WHERE `state` IN ('queued', 'retrying') ORDER BY `id`", []);
  if (waiting.length === 0) return [];
  const live = new Set<number>();
  const jobs = await select<{ uniqueKey: string | null }>(
    em,
    "SELECT `uniqueKey` FROM `jobs` WHERE `state` IN ('queued', 'running') AND `type` = ?",
    [SEND_JOB],
  );
  for (const j of jobs) {
    const m = /^send:outbox:(\d+)(?::|$)/u.exec(j.uniqueKey ?? "");
    if (m) live.add(Number(m[1]));
  }
  return waiting
    .map((r) => Number(r.id))
    .filter((id) => !live.has(id))
    .slice(0, limit);
}

/**
 * When each recipient (to and cc, keyed by recipientKey) was sent a reply since `since`: entries sent
 * after it, and entries being sent right now (counted at their last change), for the per-recipient cap
 * (src/core/outbound/rateCap.ts). `recipients` limits it to those keys (one indexed query over
 * outbox_recipients; omitted: every recipient); `except` leaves out the entry being decided on.
 */
export async function sendTimesByRecipient(
  em: EntityManager,
  since: Date,
  options: { recipients?: readonly string[]; except?: number } = {},
): Promise<Map<string, Date[]>> {
  const out = new Map<string, Date[]>();
  const keys = options.recipients ? [...new Set(options.recipients.map(recipientKey))] : null;
  if (keys && keys.length === 0) return out;
  const params: SqlValue[] = [dbDate(since)];
  let where = "((o.`state` = 'sent' AND o.`sentAt` > ?) OR o.`state` = 'sending')";
  if (keys) {
    where += ` AND r.\`recipientKey\` IN ${placeholders(keys.length)}`;
    params.push(...keys);
  }
  if (options.except !== undefined) {
    where += " AND r.`outboxId` <> ?";
    params.push(options.except);
  }
  const rows = await select<{ k: string; sentAt: unknown; updatedAt: unknown }>(
    em,
    `SELECT r.\`recipientKey\` AS k, o.\`sentAt\` AS sentAt, o.\`updatedAt\` AS updatedAt FROM \`outbox_recipients\` r JOIN \`outbox\` o ON o.\`id\` = r.\`outboxId\` WHERE ${where}`,
    params,
  );
  for (const r of rows) {
    const at = fromDbDate(r.sentAt ?? r.updatedAt);
    (out.get(r.k) ?? out.set(r.k, []).get(r.k)!).push(at);
  }
  return out;
}

/** An entry as listed by `draftgate outbox`, with its mailbox's name. */
export interface OutboxListing extends OutboxRow {
  mailboxName: string;
}

/** Outbox entries, oldest first: all, or those in `states`. */
export async function listOutbox(store: Store, options: { states?: OutboxState[] } = {}): Promise<OutboxListing[]> {
  return store.read(async (em) => {
    const rows = await em
      .getRepository<OutboxRow>("Outbox")
      .find({ where: options.states ? { state: In(options.states) } : {}, order: { id: "ASC" } });
    const names = new Map((await em.getRepository<MailboxRow>("Mailbox").find()).map((m) => [m.id, m.name]));
    return rows.map((r) => ({ ...r, mailboxName: names.get(r.mailboxId) ?? String(r.mailboxId) }));
  });
}

/** How many entries are in each state (states with none are absent). */
export async function outboxCounts(store: Store): Promise<Partial<Record<OutboxState, number>>> {
  return store.read(async (em) => {
    const rows = await em
      .getRepository<OutboxRow>("Outbox")
      .createQueryBuilder("o")
      .select("o.state", "state")
      .addSelect("COUNT(*)", "n")
      .groupBy("o.state")
      .getRawMany<{ state: OutboxState; n: number | string }>();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  });
}
