import { createHash, randomBytes } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { Config } from "../config/schema.js";
import { DraftgateError } from "../core/errors.js";
import { composeReply } from "../core/outbound/composeReply.js";
import { resolveRecipients, type AnsweredMessage } from "../core/outbound/recipients.js";
import { newMessageId } from "../core/replyHeaders.js";
import {
  closePendingDraft,
  insertHandWrittenReply,
  insertOutboxEntry,
  latestCustomerMessage,
  lockConversation,
  lockDraft,
  markDraftApproved,
  newerDraftOf,
  supersedeOpenDrafts,
} from "../store/approvals.js";
import { appendAudit } from "../store/audit.js";
import { conversationNow, getMessage, mailboxOf } from "../store/conversations.js";
import type { ConversationRow, MailboxRow, MessageRow } from "../store/entities/mail.js";
import type { DraftRow } from "../store/entities/review.js";
import { appendEvent } from "../store/events.js";
import { enqueueJob } from "../store/jobs.js";
import { enqueueSend } from "../store/outbox.js";
import { transientDbError } from "../store/sql.js";
import type { Store } from "../store/store.js";
import { findUserByEmail } from "../store/users.js";

/**
 * The one approval path (issue "Outbound", DESIGN.md promises 3 and 4): a reviewer approves a pending
 * draft (optionally edited), writes a reply by hand, rejects a draft or asks for a new one. The CLI
 * uses it now, the review page and webhooks later. Approval checks the draft is pending, still the
 * latest of its conversation and not superseded, that the reviewer is a user, and (when the caller
 * says which) that it is the conversation's and mailbox's the caller acted on. In ONE transaction it
 * records who approved and when, the exact text approved and its sha256, and creates the outbox entry:
 * a Message-ID assigned now, recipients, subject and threading headers decided by code from the
 * message answered (src/core/outbound), never from model output; and it queues the `send` job.
 * Nothing else creates outbox entries (src/store/approvals.ts may be imported from here only).
 */

/** Why an action was refused; the error's code is always EAPPROVAL. */
export type ApprovalRefusal =
  | "not-found"
  | "unknown-user"
  | "already-approved"
  | "superseded"
  | "not-pending"
  | "not-latest"
  | "wrong-conversation"
  | "wrong-mailbox"
  | "no-recipient"
  | "empty-body"
  | "body-too-long"
  | "no-address"
  | "nothing-to-answer"
  | "no-reason"
  /** Another reviewer is editing the draft (the page's presence); approving needs an explicit take-over. */
  | "being-edited";

export class ApprovalError extends DraftgateError {
  constructor(
    readonly refusal: ApprovalRefusal,
    message: string,
  ) {
    super("EAPPROVAL", message);
  }
}

export interface ReviewDeps {
  store: Store;
  config: Config;
  /** The clock (tests). */
  now?: () => Date;
}

/** What the caller acted on, when it knows: a page shows one conversation of one mailbox. */
export interface Expected {
  conversationId?: number;
  /** Mailbox name. */
  mailbox?: string;
}

/** The actor of the operator at the shell, for actions that do not send mail (reject, resolve). */
export const OPERATOR = "cli";

/** Longest reply text accepted (characters). */
export const MAX_BODY_CHARS = 1_000_000;

export interface ApprovalResult {
  draftId: number;
  conversationId: number;
  outboxId: number;
  messageId: string;
  to: string[];
  cc: string[];
  subject: string;
  bodyHash: string;
  /** Drafts a hand-written reply superseded. */
  superseded: number[];
}

/** Approves a pending draft, with `body` as edited by the reviewer (the draft's text when absent). */
export async function approveDraft(
  deps: ReviewDeps,
  input: { draftId: number; actor: string; body?: string; expected?: Expected },
): Promise<ApprovalResult> {
  const now = (deps.now ?? (() => new Date()))();
  return inTransaction(deps.store, async (em) => {
    const draft = await lockDraft(em, input.draftId);
    if (!draft) throw new ApprovalError("not-found", `draft ${input.draftId} does not exist`);
    checkConversation(draft, input.expected);
    const user = await reviewer(em, input.actor);
    checkPending(draft, "approved");
    const conversation = await lockConversation(em, draft.conversationId);
    if (!conversation) throw new ApprovalError("not-found", `the conversation of draft ${draft.id} no longer exists`);
    const mailbox = await mailboxOf(em, conversation);
    checkMailbox(mailbox, input.expected);
    await checkLatest(em, draft);

    const body = input.body ?? draft.body;
    checkBody(body);
    const answered = await getMessage(em, draft.messageRowId);
    const messageId = ourMessageId(deps.config);
    const reply = planReply(deps.config, mailbox, conversation, answered, body, messageId);
    const bodyHash = sha256(body);
    const edited = input.body !== undefined && input.body !== draft.body;

    const approved = await markDraftApproved(em, draft.id, {
      body,
      bodyHash,
      originalBody: edited ? draft.body : null,
      reviewerId: user.id,
      decidedBy: user.email,
      decidedAt: now,
    });
    // The row is locked (MySQL) or the transaction serialized (SQLite): only a bug reaches this.
    if (!approved) throw new ApprovalError("not-pending", `draft ${draft.id} is no longer pending`);
    const outboxId = await queueReply(em, deps.config, {
      draftId: draft.id,
      conversation,
      answered,
      reply,
      body,
      bodyHash,
      actor: user.email,
      now,
    });
    await appendAudit(em, {
      actor: user.email,
      action: "draft.approve",
      subjectType: "draft",
      subjectId: String(draft.id),
      detail: { conversationId: conversation.id, outboxId, messageId, bodyHash, edited, origin: draft.origin },
    });
    await appendEvent(em, "draft.approved", conversation.id, { draftId: draft.id, outboxId, by: user.email, edited });
    return result(draft.id, conversation.id, outboxId, messageId, reply, bodyHash, []);
  });
}

/**
 * A reply written by hand to the conversation's newest customer message: stored as an approved draft
 * of origin "human" (its open drafts are superseded) and queued like an approved one.
 */
export async function writeReply(
  deps: ReviewDeps,
  input: { conversationId: number; actor: string; body: string; expected?: Pick<Expected, "mailbox"> },
): Promise<ApprovalResult> {
  const now = (deps.now ?? (() => new Date()))();
  return inTransaction(deps.store, async (em) => {
    const conversation = await lockConversation(em, input.conversationId);
    if (!conversation) throw new ApprovalError("not-found", `conversation ${input.conversationId} does not exist`);
    const user = await reviewer(em, input.actor);
    const mailbox = await mailboxOf(em, conversation);
    checkMailbox(mailbox, input.expected);
    checkBody(input.body);
    const answered = await latestCustomerMessage(em, conversation.id);
    if (!answered) {
      throw new ApprovalError(
        "nothing-to-answer",
        `conversation ${conversation.id} has no customer message to answer (every inbound message in it is automated)`,
      );
    }
    const messageId = ourMessageId(deps.config);
    const reply = planReply(deps.config, mailbox, conversation, answered, input.body, messageId);
    const bodyHash = sha256(input.body);

    const superseded = await supersedeOpenDrafts(em, conversation.id);
    const draftId = await insertHandWrittenReply(em, {
      conversationId: conversation.id,
      messageRowId: answered.id,
      body: input.body,
      bodyHash,
      reviewerId: user.id,
      decidedBy: user.email,
      decidedAt: now,
    });
    const outboxId = await queueReply(em, deps.config, {
      draftId,
      conversation,
      answered,
      reply,
      body: input.body,
      bodyHash,
      actor: user.email,
      now,
    });
    await appendAudit(em, {
      actor: user.email,
      action: "reply.write",
      subjectType: "conversation",
      subjectId: String(conversation.id),
      detail: { draftId, outboxId, messageId, bodyHash, answeredMessageRowId: answered.id, superseded },
    });
    for (const id of superseded) await appendEvent(em, "draft.superseded", conversation.id, { draftId: id, by: "reply" });
    await appendEvent(em, "draft.approved", conversation.id, { draftId, outboxId, by: user.email, origin: "human" });
    return result(draftId, conversation.id, outboxId, messageId, reply, bodyHash, superseded);
  });
}

/** Rejects a pending draft with a reason; nothing is sent. */
export async function rejectDraft(
  deps: ReviewDeps,
  input: { draftId: number; actor: string; reason: string; expected?: Expected },
): Promise<{ draftId: number; conversationId: number }> {
  const now = (deps.now ?? (() => new Date()))();
  const reason = input.reason.trim();
  if (!reason) throw new ApprovalError("no-reason", "a rejection needs a reason (--reason TEXT)");
  return inTransaction(deps.store, async (em) => {
    const draft = await lockDraft(em, input.draftId);
    if (!draft) throw new ApprovalError("not-found", `draft ${input.draftId} does not exist`);
    checkConversation(draft, input.expected);
    const user = await actorOf(em, input.actor);
    checkPending(draft, "rejected");
    if (input.expected?.mailbox !== undefined) checkMailbox(await mailboxOf(em, await conversationOf(em, draft)), input.expected);
    if (!(await closePendingDraft(em, draft.id, "rejected", { reason, reviewerId: user.id, decidedBy: user.email, decidedAt: now }))) {
      throw new ApprovalError("not-pending", `draft ${draft.id} is no longer pending`);
    }
    await appendAudit(em, {
      actor: user.email,
      action: "draft.reject",
      subjectType: "draft",
      subjectId: String(draft.id),
      detail: { conversationId: draft.conversationId, reason },
    });
    await appendEvent(em, "draft.rejected", draft.conversationId, { draftId: draft.id, by: user.email, reason });
    return { draftId: draft.id, conversationId: draft.conversationId };
  });
}

/**
 * Asks for a new draft of the same message with the reviewer's instruction (the draft job shows it to
 * the model): the pending draft is superseded and a draft job queued, in one transaction.
 */
export async function regenerateDraft(
  deps: ReviewDeps,
  input: { draftId: number; actor: string; instruction: string; expected?: Expected },
): Promise<{ draftId: number; conversationId: number; jobId: number | null }> {
  const now = (deps.now ?? (() => new Date()))();
  const instruction = input.instruction.trim();
  return inTransaction(deps.store, async (em) => {
    const draft = await lockDraft(em, input.draftId);
    if (!draft) throw new ApprovalError("not-found", `draft ${input.draftId} does not exist`);
    checkConversation(draft, input.expected);
    const user = await actorOf(em, input.actor);
    checkPending(draft, "regenerated");
    if (input.expected?.mailbox !== undefined) checkMailbox(await mailboxOf(em, await conversationOf(em, draft)), input.expected);
    if (
      !(await closePendingDraft(em, draft.id, "superseded", {
        reason: instruction,
        reviewerId: user.id,
        decidedBy: user.email,
        decidedAt: now,
      }))
    ) {
      throw new ApprovalError("not-pending", `draft ${draft.id} is no longer pending`);
    }
    const jobId = await enqueueJob(em, {
      type: "draft",
      payload: { messageRowId: draft.messageRowId, conversationId: draft.conversationId, instruction, regenerates: draft.id },
      // A person is waiting for it: ahead of drafts for new mail (20+).
      priority: 15,
      maxAttempts: deps.config.jobs.maxAttempts,
      uniqueKey: `draft:regenerate:${draft.id}`,
    });
    await appendAudit(em, {
      actor: user.email,
      action: "draft.regenerate",
      subjectType: "draft",
      subjectId: String(draft.id),
      detail: { conversationId: draft.conversationId, instruction, jobId },
    });
    await appendEvent(em, "draft.superseded", draft.conversationId, { draftId: draft.id, by: "regenerate", jobId });
    return { draftId: draft.id, conversationId: draft.conversationId, jobId };
  });
}

// ---------------------------------------------------------------------------------------------------

/** Runs one decision in a transaction, again when it lost a lock race (deadlock, busy database); a refusal is final. */
async function inTransaction<T>(store: Store, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.tx(fn);
    } catch (err) {
      if (attempt >= 3 || transientDbError(err) !== "contention") throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30));
    }
  }
}

/** The reviewer a reply is sent in the name of: a user (`draftgate user add`), never the anonymous operator. */
async function reviewer(em: EntityManager, actor: string): Promise<{ id: number; email: string }> {
  if (actor === OPERATOR) {
    throw new ApprovalError(
      "unknown-user",
      "a reply is sent only with a reviewer's name on it: give --as EMAIL of a user (draftgate user add)",
    );
  }
  const user = await findUserByEmail(em, actor);
  if (!user) throw new ApprovalError("unknown-user", `${actor} is not a user (add one with: draftgate user add EMAIL --role reviewer)`);
  return { id: user.id, email: user.email };
}

/** Who decides an action that sends nothing: a user, or the operator at the shell ("cli"). */
async function actorOf(em: EntityManager, actor: string): Promise<{ id: number | null; email: string }> {
  return actor === OPERATOR ? { id: null, email: OPERATOR } : reviewer(em, actor);
}

function checkConversation(draft: DraftRow, expected: Expected | undefined): void {
  if (expected?.conversationId !== undefined && expected.conversationId !== draft.conversationId) {
    throw new ApprovalError(
      "wrong-conversation",
      `draft ${draft.id} belongs to conversation ${draft.conversationId}, not to conversation ${expected.conversationId}`,
    );
  }
}

function checkMailbox(mailbox: MailboxRow, expected: Pick<Expected, "mailbox"> | undefined): void {
  if (expected?.mailbox !== undefined && expected.mailbox !== mailbox.name) {
    throw new ApprovalError("wrong-mailbox", `it belongs to mailbox ${mailbox.name}, not to mailbox ${expected.mailbox}`);
  }
}

function checkPending(draft: DraftRow, verb: string): void {
  if (draft.status === "pending") return;
  const who = draft.decidedBy ? ` by ${draft.decidedBy}` : "";
  const when = draft.decidedAt ? ` at ${draft.decidedAt.toISOString()}` : "";
  switch (draft.status) {
    case "approved":
      throw new ApprovalError("already-approved", `draft ${draft.id} was already approved${who}${when}; it can no longer be ${verb}`);
    case "superseded":
      throw new ApprovalError(
        "superseded",
        `draft ${draft.id} is superseded (a newer customer message, a regeneration or a hand-written reply replaced it)`,
      );
    case "rejected":
      throw new ApprovalError("not-pending", `draft ${draft.id} was rejected${who}${when}`);
    case "generating":
      throw new ApprovalError("not-pending", `draft ${draft.id} is still being written`);
    case "failed":
      throw new ApprovalError("not-pending", `draft ${draft.id} failed; write the reply by hand (draftgate reply ${draft.conversationId})`);
  }
}

/** Still the latest: no newer customer message in the conversation, no newer draft. */
async function checkLatest(em: EntityManager, draft: DraftRow): Promise<void> {
  const now = await conversationNow(em, draft.messageRowId);
  if (!now) throw new ApprovalError("not-found", `the message draft ${draft.id} answers no longer exists`);
  if (now.newer !== null) {
    throw new ApprovalError(
      "superseded",
      `draft ${draft.id} is superseded: the customer wrote again (message ${now.newer}) after the message it answers`,
    );
  }
  const newer = await newerDraftOf(em, draft.conversationId, draft.id);
  if (newer)
    throw new ApprovalError(
      "not-latest",
      `draft ${draft.id} is not the latest of conversation ${draft.conversationId} (draft ${newer.id} is ${newer.status})`,
    );
}

function checkBody(body: string): void {
  if (body.trim() === "") throw new ApprovalError("empty-body", "the reply text is empty");
  if (body.length > MAX_BODY_CHARS) throw new ApprovalError("body-too-long", `the reply text is longer than ${MAX_BODY_CHARS} characters`);
}

async function conversationOf(em: EntityManager, draft: DraftRow): Promise<ConversationRow> {
  const conversation = await lockConversation(em, draft.conversationId);
  if (!conversation) throw new ApprovalError("not-found", `the conversation of draft ${draft.id} no longer exists`);
  return conversation;
}

function ourMessageId(config: Config): string {
  return newMessageId(config.mail.messageIdDomain, `${Date.now().toString(36)}.${randomBytes(12).toString("hex")}`);
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

type PlannedReply = ReturnType<typeof composeReply>;

/** Recipients, subject and threading headers of the reply, by code from the message answered and the mailbox's settings. */
function planReply(
  config: Config,
  mailbox: MailboxRow,
  conversation: ConversationRow,
  answered: MessageRow,
  body: string,
  messageId: string,
): PlannedReply {
  const settings = config.mailboxes.find((m) => m.name === mailbox.name);
  const address = settings?.address ?? mailbox.address;
  if (!address) {
    throw new ApprovalError(
      "no-address",
      `mailbox ${mailbox.name} has no address to send from: configure it under mailboxes (name, address, smtp)`,
    );
  }
  const message: AnsweredMessage = {
    from: answered.fromAddress ? { address: answered.fromAddress, name: answered.fromName ?? "" } : null,
    replyTo: answered.replyTo,
    to: answered.to,
    cc: answered.cc,
    automated: answered.automated,
  };
  const decision = resolveRecipients(message, { address, aliases: settings?.aliases ?? [], ccPolicy: settings?.reply.cc ?? "none" });
  if (!decision.ok) throw new ApprovalError("no-recipient", `this reply may not be sent: ${decision.detail}`);
  return composeReply({
    mailbox: { address, displayName: settings?.reply.displayName, signature: settings?.reply.signature },
    to: decision.to,
    cc: decision.cc,
    subject: conversation.subject,
    ticketTag: settings?.reply.subjectTag ? conversation.id : null,
    answered: {
      messageId: answered.messageId,
      inReplyTo: answered.inReplyTo,
      references: answered.references,
      from: message.from,
      date: answered.date,
      text: answered.text,
    },
    messageId,
    body,
    quoteHistory: settings?.reply.quoteHistory ?? false,
    maxReferences: config.threading.maxReferences,
  });
}

/** The outbox entry, its send job and the embedding of the approved text (for retrieval), in the caller's transaction. */
async function queueReply(
  em: EntityManager,
  config: Config,
  r: {
    draftId: number;
    conversation: ConversationRow;
    answered: MessageRow;
    reply: PlannedReply;
    body: string;
    bodyHash: string;
    actor: string;
    now: Date;
  },
): Promise<number> {
  const outboxId = await insertOutboxEntry(em, {
    conversationId: r.conversation.id,
    draftId: r.draftId,
    mailboxId: r.conversation.mailboxId,
    answeredMessageRowId: r.answered.id,
    messageId: r.reply.messageId,
    fromAddress: r.reply.from.address,
    to: r.reply.to,
    cc: r.reply.cc,
    subject: r.reply.subject,
    inReplyTo: r.reply.inReplyTo,
    references: r.reply.references,
    body: r.body,
    bodyHash: r.bodyHash,
    approvedBy: r.actor,
    approvedAt: r.now,
  });
  await enqueueSend(em, outboxId, { maxAttempts: config.outbound.maxAttempts, uniqueKey: `send:outbox:${outboxId}` });
  await enqueueJob(em, {
    type: "embed-reply",
    payload: { draftId: r.draftId },
    priority: 200,
    maxAttempts: config.jobs.maxAttempts,
    uniqueKey: `embed-reply:draft:${r.draftId}`,
  });
  await appendEvent(em, "outbox.queued", r.conversation.id, { outboxId, draftId: r.draftId, messageId: r.reply.messageId });
  return outboxId;
}

function result(
  draftId: number,
  conversationId: number,
  outboxId: number,
  messageId: string,
  reply: PlannedReply,
  bodyHash: string,
  superseded: number[],
): ApprovalResult {
  return {
    draftId,
    conversationId,
    outboxId,
    messageId,
    to: reply.to.map((a) => a.address),
    cc: reply.cc.map((a) => a.address),
    subject: reply.subject,
    bodyHash,
    superseded,
  };
}
