import type { EntityManager } from "typeorm";
import { classifyAutomated } from "../core/automation.js";
import type { NormalizedMessage } from "../core/message.js";
import { referenceIds } from "../core/references.js";
import { extractTicketTag, normalizeSubject } from "../core/subject.js";
import { chooseConversation, type ThreadOptions } from "../core/threading.js";
import { normalizeMime, UnparseableMessageError } from "../ingest/normalize.js";
import { enqueueJob } from "../queue/enqueue.js";
import { putBlob, readBlob, sha256 } from "../store/blobs.js";
import type { AttachmentRow, ConversationRow, MailboxRow, MessageRefRow, MessageRow, QuarantineRow } from "../store/entities/mail.js";
import type { OutboxRow } from "../store/entities/review.js";
import { appendEvent } from "../store/events.js";
import type { Store } from "../store/store.js";
import { lookupThread } from "./threadLookup.js";

/** One message as it arrived, before anything is known about it. */
export interface RawInput {
  raw: Buffer;
  /** "import" | "imap" | "webhook:<name>" … */
  source: string;
  /** Where it came from (file path and offset, folder/UID), for people reading quarantine. */
  sourceRef: string | null;
  receivedAt?: Date;
}

export type IntakeOutcome =
  | { kind: "stored"; messageRowId: number; conversationId: number; automated: boolean; threadRule: string }
  | { kind: "duplicate"; messageRowId: number | null }
  | { kind: "quarantined"; quarantineId: number; reason: string };

export interface IntakeOptions {
  maxMessageBytes: number;
  messageIdDomain: string;
  thread: ThreadOptions;
  jobMaxAttempts: number;
}

export interface MailboxRef {
  id: number;
  address: string | null;
}

type Prepared =
  | { input: RawInput; kind: "message"; msg: NormalizedMessage }
  | { input: RawInput; kind: "reject"; code: string; reason: string };

/** Jobs for a stored inbound message that a person should answer. */
const TRIAGE_PRIORITY = 50;

/**
 * The intake transaction: normalize → classify → thread → store (message, raw bytes, attachments,
 * references, conversation, jobs, event) — all or nothing per message. A batch commits together;
 * if the batch fails, each message is retried alone, and one that still fails is quarantined, so one
 * bad message never costs the others. Re-ingesting anything stored or quarantined changes nothing.
 */
export class Intake {
  constructor(
    private readonly store: Store,
    private readonly options: IntakeOptions,
    /** Called once per input after its transaction committed (metrics, wake-ups). */
    private readonly onCommitted?: (outcome: IntakeOutcome, input: RawInput) => void,
  ) {}

  /** Ingests inputs in one transaction (falling back to one each); returns one outcome per input, in order. */
  async ingest(mailbox: MailboxRef, inputs: RawInput[]): Promise<IntakeOutcome[]> {
    const prepared: Prepared[] = [];
    for (const input of inputs) prepared.push(await this.prepare(input));
    let outcomes: IntakeOutcome[];
    try {
      outcomes = await this.store.tx(async (em) => {
        const out: IntakeOutcome[] = [];
        for (const p of prepared) out.push(await this.persist(em, mailbox, p));
        return out;
      });
    } catch (batchError) {
      outcomes = [];
      for (const p of prepared) outcomes.push(await this.persistAloneOrQuarantine(mailbox, p, batchError));
    }
    if (this.onCommitted) outcomes.forEach((o, i) => this.onCommitted!(o, inputs[i]!));
    return outcomes;
  }

  /**
   * Runs a quarantined message through intake again (after a fix or a raised limit). Stored: the
   * quarantine entry is closed as "retried" in the same transaction. Rejected again: it stays open with
   * the new reason.
   */
  async retryQuarantined(quarantineId: number): Promise<IntakeOutcome> {
    const found = await this.store.read(async (em) => {
      const row = await em.getRepository<QuarantineRow>("Quarantine").findOneBy({ id: quarantineId });
      if (!row) return null;
      const mailbox = await em.getRepository<MailboxRow>("Mailbox").findOneByOrFail({ id: row.mailboxId });
      return { row, mailbox, raw: await readBlob(em, row.blobId) };
    });
    if (!found) throw new Error(`no quarantined message ${quarantineId}`);
    const { row, mailbox, raw } = found;
    if (row.status !== "open") throw new Error(`quarantined message ${quarantineId} is already ${row.status}`);
    const input: RawInput = { raw, source: row.source, sourceRef: row.sourceRef };
    const p = await this.prepare(input);
    return this.store.tx(async (em) => {
      const repo = em.getRepository<QuarantineRow>("Quarantine");
      if (p.kind === "reject") {
        await repo.update({ id: row.id }, { reason: p.reason.slice(0, 1000), errorCode: p.code });
        return { kind: "quarantined" as const, quarantineId: row.id, reason: p.reason };
      }
      const outcome = await this.storeMessage(em, { id: mailbox.id, address: mailbox.address }, input, p.msg);
      await repo.update({ id: row.id }, { status: "retried", resolvedAt: new Date() });
      await appendEvent(em, "quarantine.retried", outcome.kind === "stored" ? outcome.conversationId : null, { quarantineId: row.id });
      return outcome;
    });
  }

  private async persistAloneOrQuarantine(mailbox: MailboxRef, p: Prepared, firstError: unknown): Promise<IntakeOutcome> {
    try {
      return await this.store.tx((em) => this.persist(em, mailbox, p));
    } catch (err) {
      const reason = `could not be stored: ${(err as Error).message ?? String(firstError)}`.slice(0, 1000);
      return this.store.tx((em) => this.persist(em, mailbox, { input: p.input, kind: "reject", code: "ESTORE", reason }));
    }
  }

  private async prepare(input: RawInput): Promise<Prepared> {
    if (input.raw.length > this.options.maxMessageBytes) {
      return {
        input,
        kind: "reject",
        code: "ETOOBIG",
        reason: `message is ${input.raw.length} bytes, over ingest.maxMessageBytes (${this.options.maxMessageBytes})`,
      };
    }
    try {
      return { input, kind: "message", msg: await normalizeMime(input.raw) };
    } catch (err) {
      const code = err instanceof UnparseableMessageError ? err.code : "EPARSE";
      return { input, kind: "reject", code, reason: String((err as Error).message ?? err).slice(0, 1000) };
    }
  }

  private async persist(em: EntityManager, mailbox: MailboxRef, p: Prepared): Promise<IntakeOutcome> {
    return p.kind === "reject" ? quarantine(em, mailbox, p.input, p.code, p.reason) : this.storeMessage(em, mailbox, p.input, p.msg);
  }

  private async storeMessage(em: EntityManager, mailbox: MailboxRef, input: RawInput, msg: NormalizedMessage): Promise<IntakeOutcome> {
    const messages = em.getRepository<MessageRow>("Message");
    const key = await dedupeKey(em, mailbox.id, msg);
    if (key.duplicateOf !== null) return { kind: "duplicate", messageRowId: key.duplicateOf };

    const isOwnMessageId = msg.messageId
      ? (await em.getRepository<OutboxRow>("Outbox").count({ where: { messageId: msg.messageId } })) > 0
      : false;
    const verdict = classifyAutomated(msg, { messageIdDomains: [this.options.messageIdDomain], isOwnMessageId });
    const direction = mailbox.address && msg.from?.address === mailbox.address.toLowerCase() ? "outbound" : "inbound";

    const subject = normalizeSubject(msg.subject);
    const refs = referenceIds({ inReplyTo: msg.inReplyTo, references: msg.references, ownId: msg.messageId });
    const when = msg.date ?? input.receivedAt ?? new Date();
    const lookup = await lookupThread(em, {
      mailboxId: mailbox.id,
      ownId: msg.messageId,
      referenceIds: refs,
      ticketTag: extractTicketTag(msg.subject),
      subjectKey: subject.key,
    });
    const decision = chooseConversation(
      {
        from: msg.from?.address || null,
        referenceIds: refs,
        ticketTag: extractTicketTag(msg.subject),
        subjectKey: subject.key,
        isReply: subject.isReply,
        date: when,
      },
      lookup,
      this.options.thread,
    );

    const participants = [msg.from, ...msg.to, ...msg.cc].map((a) => a?.address).filter((a): a is string => !!a);
    const conversationId = await upsertConversation(em, mailbox.id, decision.conversationId, decision.merge, {
      subject: subject.base || msg.subject,
      subjectKey: subject.key.slice(0, 255),
      participants,
      when,
      automated: verdict.automated,
      reopen: direction === "inbound" && !verdict.automated,
    });

    const rawBlobId = await putBlob(em, input.raw);
    const inserted = await messages.insert({
      mailboxId: mailbox.id,
      conversationId,
      dedupeKey: key.key,
      messageId: msg.messageId,
      inReplyTo: msg.inReplyTo,
      references: msg.references.slice(0, 200),
      subject: msg.subject,
      fromAddress: msg.from?.address || null,
      fromName: msg.from?.name || null,
      to: msg.to,
      cc: msg.cc,
      replyTo: msg.replyTo,
      date: msg.date,
      receivedAt: input.receivedAt ?? new Date(),
      direction,
      automated: verdict.automated,
      automatedReason: verdict.reason,
      text: msg.text,
      newText: msg.newText,
      html: msg.html,
      headers: msg.headers,
      contentType: msg.contentType,
      contentHash: msg.contentHash,
      size: msg.size,
      rawBlobId,
      source: input.source,
      sourceRef: input.sourceRef?.slice(0, 1024) ?? null,
      threadRule: decision.rule,
    });
    const messageRowId = Number(inserted.identifiers[0]!.id);

    if (refs.length > 0) {
      await em
        .getRepository<MessageRefRow>("MessageRef")
        .insert(refs.map((refId) => ({ mailboxId: mailbox.id, messageRowId, refId })));
    }
    for (const a of msg.attachments) {
      const blobId = await putBlob(em, a.content, a.sha256);
      await em.getRepository<AttachmentRow>("Attachment").insert({
        messageRowId,
        filename: a.filename,
        contentType: a.contentType,
        size: a.size,
        contentId: a.contentId,
        disposition: a.disposition,
        sha256: a.sha256,
        blobId,
      });
    }

    if (direction === "inbound" && !verdict.automated) {
      await enqueueJob(em, {
        type: "triage",
        payload: { messageRowId, conversationId },
        priority: TRIAGE_PRIORITY,
        maxAttempts: this.options.jobMaxAttempts,
        uniqueKey: `triage:message:${messageRowId}`,
      });
    }
    await appendEvent(em, "message.stored", conversationId, { messageRowId, automated: verdict.automated, direction });
    return { kind: "stored", messageRowId, conversationId, automated: verdict.automated, threadRule: decision.rule };
  }
}

/**
 * Identity for deduplication: the Message-ID, or the content when there is none. Two different messages
 * that share a Message-ID (broken mailers, bounce templates) are both kept: the second gets a key that
 * includes its content, so the same bytes seen again are still a duplicate.
 */
async function dedupeKey(em: EntityManager, mailboxId: number, msg: NormalizedMessage): Promise<{ key: string; duplicateOf: number | null }> {
  const messages = em.getRepository<MessageRow>("Message");
  const find = (key: string) => messages.findOne({ where: { mailboxId, dedupeKey: key }, select: { id: true, contentHash: true } });
  if (!msg.messageId) {
    const key = sha256(`content\0${msg.contentHash}`);
    const hit = await find(key);
    return { key, duplicateOf: hit ? hit.id : null };
  }
  const key = sha256(`mid\0${msg.messageId}`);
  const hit = await find(key);
  if (!hit) return { key, duplicateOf: null };
  if (hit.contentHash === msg.contentHash) return { key, duplicateOf: hit.id };
  const variant = sha256(`mid\0${msg.messageId}\0${msg.contentHash}`);
  const again = await find(variant);
  return { key: variant, duplicateOf: again ? again.id : null };
}

async function upsertConversation(
  em: EntityManager,
  mailboxId: number,
  existingId: number | null,
  merge: number[],
  m: { subject: string; subjectKey: string; participants: string[]; when: Date; automated: boolean; reopen: boolean },
): Promise<number> {
  const conversations = em.getRepository<ConversationRow>("Conversation");
  if (existingId === null) {
    const res = await conversations.insert({
      mailboxId,
      subject: m.subject.slice(0, 998),
      subjectKey: m.subjectKey,
      status: "open",
      priority: null,
      automated: m.automated,
      participants: [...new Set(m.participants)],
      lastMessageAt: m.when,
    });
    return Number(res.identifiers[0]!.id);
  }
  const conv = await conversations.findOneByOrFail({ id: existingId });
  let participants = new Set([...(conv.participants ?? []), ...m.participants]);
  let automated = conv.automated && m.automated;
  let last = conv.lastMessageAt > m.when ? conv.lastMessageAt : m.when;
  for (const otherId of merge) {
    const other = await conversations.findOneBy({ id: otherId });
    if (!other) continue;
    other.participants?.forEach((p) => participants.add(p));
    automated = automated && other.automated;
    if (other.lastMessageAt > last) last = other.lastMessageAt;
    for (const table of ["Message", "Draft", "Outbox", "Event"]) {
      await em.getRepository(table).update({ conversationId: otherId }, { conversationId: existingId });
    }
    await conversations.delete({ id: otherId });
    await appendEvent(em, "conversation.merged", existingId, { from: otherId });
  }
  await conversations.update(
    { id: existingId },
    {
      participants: [...participants].slice(0, 500),
      automated,
      lastMessageAt: last,
      ...(m.reopen && conv.status === "closed" ? { status: "open" as const } : {}),
    },
  );
  return existingId;
}

async function quarantine(em: EntityManager, mailbox: MailboxRef, input: RawInput, code: string, reason: string): Promise<IntakeOutcome> {
  const repo = em.getRepository<QuarantineRow>("Quarantine");
  const digest = sha256(input.raw);
  const existing = await repo.findOne({ where: { mailboxId: mailbox.id, sha256: digest }, select: { id: true } });
  if (existing) return { kind: "duplicate", messageRowId: null };
  const blobId = await putBlob(em, input.raw, digest);
  const res = await repo.insert({
    mailboxId: mailbox.id,
    source: input.source,
    sourceRef: input.sourceRef?.slice(0, 1024) ?? null,
    reason: reason.slice(0, 1000),
    errorCode: code,
    sha256: digest,
    size: input.raw.length,
    blobId,
    status: "open",
  });
  const quarantineId = Number(res.identifiers[0]!.id);
  await appendEvent(em, "message.quarantined", null, { quarantineId, code });
  return { kind: "quarantined", quarantineId, reason };
}
