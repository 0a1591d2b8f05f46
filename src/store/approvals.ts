import { In, MoreThan, Not, type EntityManager } from "typeorm";
import type { ConversationRow, MessageRow } from "./entities/mail.js";
import { recipientKey } from "../core/outbound/rateCap.js";
import type { DraftRow, DraftStatus, OutboxRecipientRow, OutboxRow } from "./entities/review.js";

/**
 * The writes of the approval use case (src/review/approveDraft.ts), and the only code that inserts
 * outbox rows. `.dependency-cruiser.cjs` (rule `outbox-only-through-approval`) lets nothing else in
 * src/ import this module: an outbox entry exists only because a person approved a reply, in the same
 * transaction that records the approval. Every function runs inside the caller's transaction.
 */

const isMysql = (em: EntityManager) => {
  const type = em.connection.driver.options.type;
  return type === "mysql" || type === "mariadb";
};

/** The draft, locked until the transaction ends on MySQL (SQLite transactions are serialized anyway). */
export async function lockDraft(em: EntityManager, id: number): Promise<DraftRow | null> {
  const qb = em.getRepository<DraftRow>("Draft").createQueryBuilder("d").where("d.id = :id", { id });
  if (isMysql(em)) qb.setLock("pessimistic_write");
  return qb.getOne();
}

/**
 * The conversation, locked until the transaction ends on MySQL: decisions on one conversation (two
 * reviewers, a reviewer and a hand-written reply) run one after the other and see each other's result.
 */
export async function lockConversation(em: EntityManager, id: number): Promise<ConversationRow | null> {
  const qb = em.getRepository<ConversationRow>("Conversation").createQueryBuilder("c").where("c.id = :id", { id });
  if (isMysql(em)) qb.setLock("pessimistic_write");
  return qb.getOne();
}

/** A draft of the conversation made after `draftId` (a failed one does not count), or null. */
export async function newerDraftOf(
  em: EntityManager,
  conversationId: number,
  draftId: number,
): Promise<Pick<DraftRow, "id" | "status"> | null> {
  return em.getRepository<DraftRow>("Draft").findOne({
    where: { conversationId, id: MoreThan(draftId), status: Not("failed") },
    select: { id: true, status: true },
    order: { id: "ASC" },
  });
}

/** The newest customer message of a conversation (inbound, not automated): what a hand-written reply answers. */
export async function latestCustomerMessage(em: EntityManager, conversationId: number): Promise<MessageRow | null> {
  return em
    .getRepository<MessageRow>("Message")
    .findOne({ where: { conversationId, direction: "inbound", automated: false }, order: { id: "DESC" } });
}

/** What an approval records on the draft. */
export interface DraftApproval {
  /** The exact text approved. */
  body: string;
  bodyHash: string;
  /** The drafted text when the reviewer edited it, else null. */
  originalBody: string | null;
  reviewerId: number;
  decidedBy: string;
  decidedAt: Date;
}

/** Marks a pending draft approved with the text approved; false when it is no longer pending. */
export async function markDraftApproved(em: EntityManager, id: number, approval: DraftApproval): Promise<boolean> {
  const res = await em.getRepository<DraftRow>("Draft").update({ id, status: "pending" }, { status: "approved", ...approval });
  return (res.affected ?? 0) > 0;
}

/** Stores a reply a person wrote by hand as an approved draft (origin "human") answering `messageRowId`. */
export async function insertHandWrittenReply(
  em: EntityManager,
  reply: { conversationId: number; messageRowId: number } & Omit<DraftApproval, "originalBody">,
): Promise<number> {
  const res = await em.getRepository<DraftRow>("Draft").insert({
    conversationId: reply.conversationId,
    messageRowId: reply.messageRowId,
    status: "approved",
    body: reply.body,
    bodyHash: reply.bodyHash,
    origin: "human",
    flags: [],
    model: null,
    tokens: null,
    durationMs: null,
    reviewerId: reply.reviewerId,
    decidedBy: reply.decidedBy,
    decidedAt: reply.decidedAt,
    originalBody: null,
    reason: null,
    embedding: null,
    jobId: null,
  });
  return Number(res.identifiers[0]!.id);
}

/** Supersedes the conversation's open drafts (pending or generating): a person answered by hand. Returns their ids. */
export async function supersedeOpenDrafts(em: EntityManager, conversationId: number): Promise<number[]> {
  const repo = em.getRepository<DraftRow>("Draft");
  const open = await repo.find({ where: { conversationId, status: In(["pending", "generating"]) }, select: { id: true } });
  if (open.length === 0) return [];
  const ids = open.map((d) => d.id);
  await repo.update({ id: In(ids), status: In(["pending", "generating"]) }, { status: "superseded" });
  return ids;
}

/** Ends a pending draft without sending it (rejected, or superseded by a regeneration); false when it is no longer pending. */
export async function closePendingDraft(
  em: EntityManager,
  id: number,
  status: Extract<DraftStatus, "rejected" | "superseded">,
  decision: { reason: string; reviewerId: number | null; decidedBy: string; decidedAt: Date },
): Promise<boolean> {
  const res = await em.getRepository<DraftRow>("Draft").update({ id, status: "pending" }, { status, ...decision });
  return (res.affected ?? 0) > 0;
}

/** A new outbox entry: everything but what the sender fills in later. */
export type NewOutboxEntry = Pick<
  OutboxRow,
  | "conversationId"
  | "draftId"
  | "mailboxId"
  | "answeredMessageRowId"
  | "messageId"
  | "fromAddress"
  | "to"
  | "cc"
  | "subject"
  | "inReplyTo"
  | "references"
  | "body"
  | "bodyHash"
  | "approvedBy"
  | "approvedAt"
>;

/**
 * Inserts a `queued` outbox entry, due now, with its recipients as the per-recipient cap counts them
 * (outbox_recipients); returns its id. The draft and the Message-ID are unique.
 */
export async function insertOutboxEntry(em: EntityManager, entry: NewOutboxEntry): Promise<number> {
  const res = await em.getRepository<OutboxRow>("Outbox").insert({
    ...entry,
    state: "queued",
    attempts: 0,
    lastError: null,
    nextAttemptAt: entry.approvedAt,
    sentAt: null,
    rawBlobId: null,
    resolvedBy: null,
    resolution: null,
    resolvedAt: null,
  });
  const id = Number(res.identifiers[0]!.id);
  const keys = [...new Set([...entry.to, ...entry.cc].map((a) => recipientKey(a.address)))];
  if (keys.length > 0)
    await em.getRepository<OutboxRecipientRow>("OutboxRecipient").insert(keys.map((recipientKey) => ({ outboxId: id, recipientKey })));
  return id;
}
