import { In, LessThan, type EntityManager } from "typeorm";
import type { ConversationRow, MailboxRow, MessageRow } from "./entities/mail.js";
import type { OutboxRow } from "./entities/review.js";
import { appendEvent } from "./events.js";
import { enqueueJob } from "./jobs.js";
import { outboxSelect, toOutbox } from "./outbox.js";
import { dbDate, fromDbDate, runChanges, select } from "./sql.js";
import type { Store } from "./store.js";

/**
 * The sender's side of the outbox (src/outbound): the raw bytes of a reply, deferring an entry, the
 * jobs that follow an accepted send, recovery at start, and the conversation's state after a reply.
 * State changes themselves go through moveOutbox / claimOutboxForSend (src/store/outbox.ts).
 */

/** Jobs that run after the server accepted a reply; none of them ever sends anything. */
export const AFTER_SEND_JOBS = {
  /** APPEND the exact bytes sent to the mailbox's Sent folder. */
  fileSent: "outbox-file-sent",
  /** Set \Answered on the customer's message when it came over IMAP. */
  markAnswered: "outbox-mark-answered",
  /** Store the reply in the conversation (intake, direction outbound) and wait on the customer. */
  record: "outbox-record",
} as const;

/**
 * Queues the after-send jobs of an entry that is now `sent`, in the caller's transaction (the one that
 * moved it to `sent`): `record` always, `fileSent` / `markAnswered` only when they have work
 * (src/core/outbound/afterSend.ts decides). Each job exists at most once per entry.
 */
export async function enqueueAfterSend(
  em: EntityManager,
  outboxId: number,
  options: { fileSent: boolean; markAnswered: boolean; maxAttempts: number },
): Promise<void> {
  const types = [
    ...(options.fileSent ? [AFTER_SEND_JOBS.fileSent] : []),
    ...(options.markAnswered ? [AFTER_SEND_JOBS.markAnswered] : []),
    AFTER_SEND_JOBS.record,
  ];
  for (const type of types) {
    await enqueueJob(em, { type, payload: { outboxId }, priority: 50, maxAttempts: options.maxAttempts, uniqueKey: `${type}:${outboxId}` });
  }
}

/**
 * Puts off a `queued` / `retrying` entry until `at` without counting an attempt (the per-recipient cap,
 * a mailbox without SMTP settings), saying why in lastError. False when the entry is in another state.
 */
export async function deferOutbox(em: EntityManager, id: number, at: Date, reason: string): Promise<boolean> {
  const sql =
    "UPDATE `outbox` SET `nextAttemptAt` = ?, `lastError` = ?, `updatedAt` = ? WHERE `id` = ? AND `state` IN ('queued', 'retrying')";
  return (await runChanges(em, sql, [dbDate(at), reason.slice(0, 4000), dbDate(new Date()), id])) > 0;
}

/** What the sender needs of the message a reply answers: loop rules, quoted history, \Answered. */
export type AnsweredMessage = Pick<
  MessageRow,
  "id" | "messageId" | "inReplyTo" | "references" | "fromAddress" | "fromName" | "date" | "text" | "automated" | "sourceRef"
>;

/** An entry with its mailbox and the message it answers, as the send job reads them. */
export interface SendContext {
  entry: OutboxRow;
  mailbox: MailboxRow;
  answered: AnsweredMessage | null;
}

/**
 * The entry, its mailbox and the message it answers in one statement (the send job reads this once
 * per reply; three look-ups were three round trips on MySQL). Null when there is no such entry.
 */
export async function sendContext(em: EntityManager, id: number): Promise<SendContext | null> {
  const rows = await select<Record<string, unknown>>(
    em,
    `SELECT ${outboxSelect("o")}, mb.\`name\` AS mbName, mb.\`address\` AS mbAddress, mb.\`createdAt\` AS mbCreatedAt, ` +
      "m.`id` AS aId, m.`messageId` AS aMessageId, m.`inReplyTo` AS aInReplyTo, m.`references` AS aReferences, " +
      "m.`fromAddress` AS aFromAddress, m.`fromName` AS aFromName, m.`date` AS aDate, m.`text` AS aText, " +
      "m.`automated` AS aAutomated, m.`sourceRef` AS aSourceRef " +
      "FROM `outbox` o JOIN `mailboxes` mb ON mb.`id` = o.`mailboxId` LEFT JOIN `messages` m ON m.`id` = o.`answeredMessageRowId` " +
      "WHERE o.`id` = ?",
    [id],
  );
  const r = rows[0];
  if (!r) return null;
  const entry = toOutbox(r);
  const mailbox: MailboxRow = {
    id: entry.mailboxId,
    name: r.mbName as string,
    address: (r.mbAddress as string | null) ?? null,
    createdAt: fromDbDate(r.mbCreatedAt),
  };
  const answered: AnsweredMessage | null =
    r.aId === null || r.aId === undefined
      ? null
      : {
          id: Number(r.aId),
          messageId: (r.aMessageId as string | null) ?? null,
          inReplyTo: (r.aInReplyTo as string | null) ?? null,
          references: (typeof r.aReferences === "string" ? JSON.parse(r.aReferences) : r.aReferences) as string[],
          fromAddress: (r.aFromAddress as string | null) ?? null,
          fromName: (r.aFromName as string | null) ?? null,
          date: r.aDate === null ? null : fromDbDate(r.aDate),
          text: (r.aText as string | null) ?? "",
          automated: Number(r.aAutomated) === 1,
          sourceRef: (r.aSourceRef as string | null) ?? null,
        };
  return { entry, mailbox, answered };
}

/** The message a reply answers (for the loop rules, the quoted history and \Answered). */
export async function answeredMessage(em: EntityManager, messageRowId: number | null): Promise<MessageRow | null> {
  return messageRowId === null ? null : em.getRepository<MessageRow>("Message").findOneBy({ id: messageRowId });
}

/**
 * Entries left `sending` that no live sender holds: all of them on SQLite (one process), and on MySQL
 * those untouched since `staleBefore` (a live node's send finishes or fails within its SMTP timeouts).
 */
export async function interruptedSends(em: EntityManager, staleBefore: Date | null): Promise<number[]> {
  const rows = await em.getRepository<OutboxRow>("Outbox").find({
    where: staleBefore ? { state: "sending", updatedAt: LessThan(staleBefore) } : { state: "sending" },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

/** `uncertain` entries of a mailbox: what the Sent-folder check looks for. */
export async function uncertainEntries(
  store: Store,
): Promise<Pick<OutboxRow, "id" | "mailboxId" | "messageId" | "conversationId" | "answeredMessageRowId">[]> {
  return store.read((em) =>
    em.getRepository<OutboxRow>("Outbox").find({
      where: { state: "uncertain" },
      select: { id: true, mailboxId: true, messageId: true, conversationId: true, answeredMessageRowId: true },
      order: { id: "ASC" },
    }),
  );
}

/**
 * After a reply went out: the conversation waits on the customer (`pending`), unless it is closed or
 * a newer customer message arrived after the one answered (then it stays open for that one).
 */
export async function markWaitingOnCustomer(
  em: EntityManager,
  conversationId: number,
  answeredMessageRowId: number | null,
): Promise<boolean> {
  const conv = await em.getRepository<ConversationRow>("Conversation").findOneBy({ id: conversationId });
  if (!conv || conv.status !== "open") return false;
  if (answeredMessageRowId !== null) {
    const newer = await select<{ id: number }>(
      em,
      "SELECT `id` FROM `messages` WHERE `conversationId` = ? AND `direction` = 'inbound' AND `automated` = 0 AND `id` > ? LIMIT 1",
      [conversationId, answeredMessageRowId],
    );
    if (newer.length > 0) return false;
  }
  const res = await em.getRepository<ConversationRow>("Conversation").update({ id: conversationId, status: "open" }, { status: "pending" });
  if ((res.affected ?? 0) === 0) return false;
  await appendEvent(em, "conversation.waiting", conversationId, { status: "pending" });
  return true;
}

/** The conversation a stored message is in now (null when gone). */
export async function conversationOfStoredMessage(em: EntityManager, messageRowId: number): Promise<number | null> {
  const m = await em
    .getRepository<MessageRow>("Message")
    .findOne({ where: { id: messageRowId }, select: { id: true, conversationId: true } });
  return m ? m.conversationId : null;
}

/** Send attempts that ended in each outcome, for `doctor`: the entries that need a person, newest first. */
export async function attentionEntries(store: Store, limit = 20): Promise<Pick<OutboxRow, "id" | "state" | "lastError" | "updatedAt">[]> {
  return store.read((em) =>
    em.getRepository<OutboxRow>("Outbox").find({
      where: { state: In(["failed", "uncertain"]) },
      select: { id: true, state: true, lastError: true, updatedAt: true },
      order: { id: "DESC" },
      take: limit,
    }),
  );
}
