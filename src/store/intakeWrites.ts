import type { EntityManager } from "typeorm";
import { PRIORITIES, type Priority } from "../core/llm/triage.js";
import type { MessageRow } from "./entities/mail.js";
import { dbBool, dbDate, dbJson, fromDbDate, insertReturningId, placeholders, run, select } from "./sql.js";

/** The statements of the intake transaction (plain SQL, see sql.ts for why and how it stays portable). */

/** A message row before the database gives it an id. */
export type NewMessage = Omit<MessageRow, "id" | "createdAt">;

const MESSAGE_COLUMNS = [
  "mailboxId", "conversationId", "dedupeKey", "messageId", "inReplyTo", "references", "subject", "fromAddress", "fromName",
  "to", "cc", "replyTo", "date", "receivedAt", "direction", "automated", "automatedReason", "text", "newText", "html",
  "headers", "contentType", "contentHash", "size", "rawBlobId", "source", "sourceRef", "threadRule", "createdAt",
] as const;
const INSERT_MESSAGE = `INSERT INTO \`messages\` (${MESSAGE_COLUMNS.map((c) => `\`${c}\``).join(", ")}) VALUES ${placeholders(MESSAGE_COLUMNS.length)}`;

export function insertMessage(em: EntityManager, m: NewMessage): Promise<number> {
  return insertReturningId(em, INSERT_MESSAGE, [
    m.mailboxId, m.conversationId, m.dedupeKey, m.messageId, m.inReplyTo, dbJson(m.references), m.subject, m.fromAddress, m.fromName,
    dbJson(m.to), dbJson(m.cc), dbJson(m.replyTo), m.date ? dbDate(m.date) : null, dbDate(m.receivedAt), m.direction,
    dbBool(m.automated), m.automatedReason, m.text, m.newText, m.html, dbJson(m.headers), m.contentType, m.contentHash, m.size,
    m.rawBlobId, m.source, m.sourceRef, m.threadRule, dbDate(new Date()),
  ]);
}

export interface ConversationState {
  id: number;
  participants: string[];
  automated: boolean;
  lastMessageAt: Date;
  status: string;
}

export async function insertConversation(
  em: EntityManager,
  c: { mailboxId: number; subject: string; subjectKey: string; automated: boolean; participants: string[]; lastMessageAt: Date },
): Promise<number> {
  const now = dbDate(new Date());
  return insertReturningId(
    em,
    "INSERT INTO `conversations` (`mailboxId`, `subject`, `subjectKey`, `status`, `priority`, `automated`, `participants`, `lastMessageAt`, `createdAt`, `updatedAt`) " +
      "VALUES (?, ?, ?, 'open', NULL, ?, ?, ?, ?, ?)",
    [c.mailboxId, c.subject, c.subjectKey, dbBool(c.automated), dbJson(c.participants), dbDate(c.lastMessageAt), now, now],
  );
}

/** Columns of a conversation that intake reads, as a select list for alias `c`. */
export const CONVERSATION_STATE_COLUMNS = "c.`id` AS `cid`, c.`participants` AS `cparticipants`, c.`automated` AS `cautomated`, c.`lastMessageAt` AS `clast`, c.`status` AS `cstatus`";

export interface ConversationStateRow {
  cid: number;
  cparticipants: string | null;
  cautomated: number | boolean;
  clast: unknown;
  cstatus: string;
}

export function conversationState(r: ConversationStateRow): ConversationState {
  return {
    id: Number(r.cid),
    participants: r.cparticipants ? (JSON.parse(r.cparticipants) as string[]) : [],
    automated: Boolean(Number(r.cautomated)),
    lastMessageAt: fromDbDate(r.clast),
    status: r.cstatus,
  };
}

export async function loadConversation(em: EntityManager, id: number): Promise<ConversationState | null> {
  const rows = await select<ConversationStateRow>(em, `SELECT ${CONVERSATION_STATE_COLUMNS} FROM \`conversations\` c WHERE c.\`id\` = ?`, [id]);
  return rows[0] ? conversationState(rows[0]) : null;
}

export async function updateConversation(
  em: EntityManager,
  id: number,
  c: { participants: string[]; automated: boolean; lastMessageAt: Date; status: string },
): Promise<void> {
  await run(em, "UPDATE `conversations` SET `participants` = ?, `automated` = ?, `lastMessageAt` = ?, `status` = ?, `updatedAt` = ? WHERE `id` = ?", [
    dbJson(c.participants),
    dbBool(c.automated),
    dbDate(c.lastMessageAt),
    c.status,
    dbDate(new Date()),
    id,
  ]);
}

/** Tables whose rows belong to one conversation (by a `conversationId` column). */
const CONVERSATION_TABLES = ["messages", "triages", "drafts", "outbox", "events"] as const;

/** Job states whose payload may still be read (a dead job can be retried by a person). */
const LIVE_JOB_STATES = ["queued", "running", "dead"] as const;

/**
 * Moves everything of conversation `from` into `into` and deletes `from` (a split thread rejoined):
 * its rows, the conversation id in waiting jobs' payloads, and its urgency: `into` keeps the more urgent
 * priority and the earlier SLA due time of the two, so a merge never makes a conversation less urgent.
 */
export async function mergeConversationInto(em: EntityManager, from: number, into: number): Promise<void> {
  for (const table of CONVERSATION_TABLES) {
    await run(em, `UPDATE \`${table}\` SET \`conversationId\` = ? WHERE \`conversationId\` = ?`, [into, from]);
  }
  await moveJobPayloads(em, from, into);
  const rows = await select<{ id: number; priority: string | null; slaDueAt: unknown }>(
    em,
    "SELECT `id`, `priority`, `slaDueAt` FROM `conversations` WHERE `id` IN (?, ?)",
    [from, into],
  );
  const urgency = mergedUrgency(rows.map((r) => ({ priority: r.priority, slaDueAt: r.slaDueAt === null ? null : fromDbDate(r.slaDueAt) })));
  await run(em, "UPDATE `conversations` SET `priority` = ?, `slaDueAt` = ? WHERE `id` = ?", [
    urgency.priority,
    urgency.slaDueAt ? dbDate(urgency.slaDueAt) : null,
    into,
  ]);
  await run(em, "DELETE FROM `conversations` WHERE `id` = ?", [from]);
}

/** The more urgent priority and the earlier due time of merged conversations (a missing one loses). */
function mergedUrgency(rows: { priority: string | null; slaDueAt: Date | null }[]): { priority: string | null; slaDueAt: Date | null } {
  const rank = (p: string | null) => {
    const i = PRIORITIES.indexOf(p as Priority);
    return i < 0 ? PRIORITIES.length : i; // none (not triaged yet) is the least urgent
  };
  let priority: string | null = null;
  let slaDueAt: Date | null = null;
  for (const r of rows) {
    if (rank(r.priority) < rank(priority)) priority = r.priority;
    if (r.slaDueAt && (!slaDueAt || r.slaDueAt < slaDueAt)) slaDueAt = r.slaDueAt;
  }
  return { priority, slaDueAt };
}

/**
 * Rewrites `conversationId` in the payload of jobs that may still run. Payloads are JSON text written
 * by dbJson (no spaces), so a LIKE narrows the scan to candidates and the parsed payload decides.
 */
async function moveJobPayloads(em: EntityManager, from: number, into: number): Promise<void> {
  const candidates = await select<{ id: number; payload: string }>(
    em,
    `SELECT \`id\`, \`payload\` FROM \`jobs\` WHERE \`state\` IN ${placeholders(LIVE_JOB_STATES.length)} AND \`payload\` LIKE ?`,
    [...LIVE_JOB_STATES, `%"conversationId":${from}%`],
  );
  for (const job of candidates) {
    const payload = JSON.parse(job.payload) as Record<string, unknown>;
    if (payload.conversationId !== from) continue;
    await run(em, "UPDATE `jobs` SET `payload` = ?, `updatedAt` = ? WHERE `id` = ?", [dbJson({ ...payload, conversationId: into }), dbDate(new Date()), job.id]);
  }
}
