import { setTimeout as sleep } from "node:timers/promises";
import type { EntityManager } from "typeorm";
import { classifyAutomated } from "../core/automation.js";
import { retryDelayMs } from "../core/backoff.js";
import type { NormalizedMessage } from "../core/message.js";
import { referenceIds } from "../core/references.js";
import { extractTicketTag, normalizeSubject } from "../core/subject.js";
import { chooseConversation, type ThreadOptions } from "../core/threading.js";
import { errorCodeOf, type ErrorCode } from "../core/errors.js";
import { normalizeMime } from "./normalize.js";
import type { Normalizer } from "./normalizePool.js";
import { sha256 } from "../store/blobs.js";
import type { QuarantineRow } from "../store/entities/mail.js";
import { IntakeBatch, type BatchKeys } from "../store/intakeBatch.js";
import { insertConversation, insertMessage, loadConversation, type ConversationState, mergeConversationInto, updateConversation } from "../store/intakeWrites.js";
import { insertQuarantine, markQuarantineRetried, readQuarantined, updateQuarantineReason } from "../store/quarantine.js";
import { transientDbError } from "../store/sql.js";
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
  /**
   * The size the source reported, when `raw` holds only the first part of a message too large to load
   * (IMAP fetches oversized mail partially); such a message is quarantined with what was read.
   */
  declaredSize?: number;
}

export interface RetryOptions {
  /**
   * Fetches the whole message of a partial quarantine entry (declaredSize) from its source again. The
   * pipeline knows no sources: the caller composes it (the CLI with the IMAP fetch).
   */
  refetch?: (entry: { row: QuarantineRow; mailboxName: string }) => Promise<Buffer>;
}

/** Extra work in the same transaction as the messages it follows (e.g. advancing an IMAP checkpoint). */
export type InTransaction = (em: EntityManager, committed: readonly RawInput[]) => Promise<void>;

export type IntakeOutcome =
  | { kind: "stored"; messageRowId: number; conversationId: number; automated: boolean; threadRule: string }
  | { kind: "duplicate"; messageRowId: number | null }
  | { kind: "quarantined"; quarantineId: number; reason: string };

export interface IntakeOptions {
  maxMessageBytes: number;
  messageIdDomain: string;
  thread: ThreadOptions;
  jobMaxAttempts: number;
  /** How often and how patiently a transaction that failed for concurrent work is run again (default TRANSIENT_RETRY). */
  transientRetry?: TransientRetry;
}

export interface TransientRetry {
  /** Runs in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * Deadlocks and duplicate-key races resolve at once; a busy SQLite database (another process writing)
 * already waited its busy timeout in each attempt. Past these attempts the error goes to the caller:
 * the IMAP poller fetches the batch again later, an import stops (run it again; nothing is stored twice).
 */
export const TRANSIENT_RETRY: TransientRetry = { attempts: 8, baseMs: 100, maxMs: 5000 };

export interface MailboxRef {
  id: number;
  address: string | null;
}

type Prepared =
  | { input: RawInput; rawSha: string; kind: "message"; msg: NormalizedMessage; keys: DedupeKeys }
  | { input: RawInput; rawSha: string; kind: "reject"; code: ErrorCode; reason: string };

/** Inputs after the database-free half of intake, handed back to commit(). */
export type PreparedBatch = readonly Prepared[];

/**
 * Identity for deduplication: the Message-ID, or the content when there is none. Two different messages
 * that share a Message-ID (broken mailers, bounce templates) are both kept: the second gets the key that
 * includes its content, so the same bytes seen again are still a duplicate.
 */
interface DedupeKeys {
  primary: string;
  variant: string | null;
}

function dedupeKeys(msg: NormalizedMessage): DedupeKeys {
  if (!msg.messageId) return { primary: sha256(`content\0${msg.contentHash}`), variant: null };
  return { primary: sha256(`mid\0${msg.messageId}`), variant: sha256(`mid\0${msg.messageId}\0${msg.contentHash}`) };
}

/** Triage runs before any draft (drafts queue at 20+ by urgency). */
const TRIAGE_PRIORITY = 10;

/**
 * The intake transaction: normalize → classify → thread → store (message, raw bytes, attachments,
 * references, conversation, jobs, event) — all or nothing per message. A batch commits together;
 * if the batch fails, each message is retried alone, and one that still fails is quarantined, so one
 * bad message never costs the others. Only faults of a message quarantine it: a transaction that failed
 * for concurrent work (deadlock, busy database, a duplicate-key race) is run again, and an error of the
 * caller's in-transaction callback goes to the caller. Re-ingesting anything stored or quarantined changes nothing.
 */
export class Intake {
  constructor(
    private readonly store: Store,
    private readonly options: IntakeOptions,
    /** Called once per input after its transaction committed (metrics, wake-ups). */
    private readonly onCommitted?: (outcome: IntakeOutcome, input: RawInput) => void,
    /** MIME parsing; a NormalizePool moves it off the main thread for bulk work. */
    private readonly normalize: Normalizer = normalizeMime,
  ) {}

  /** Ingests inputs in one transaction (falling back to one each); returns one outcome per input, in order. */
  async ingest(mailbox: MailboxRef, inputs: RawInput[], inTransaction?: InTransaction): Promise<IntakeOutcome[]> {
    return this.commit(mailbox, await this.prepare(inputs), inTransaction);
  }

  /**
   * The part of intake that needs no database: size limit and MIME parsing. Bulk callers prepare the
   * next batch while the previous one commits.
   */
  prepare(inputs: RawInput[]): Promise<PreparedBatch> {
    return Promise.all(inputs.map((input) => this.prepareOne(input)));
  }

  /** Stores a prepared batch in one transaction (falling back to one each). */
  async commit(mailbox: MailboxRef, prepared: PreparedBatch, inTransaction?: InTransaction): Promise<IntakeOutcome[]> {
    let outcomes: IntakeOutcome[];
    try {
      outcomes = await this.persistRetrying(mailbox, prepared, inTransaction);
    } catch (batchError) {
      if (!messageFault(batchError)) throw callerError(batchError);
      outcomes = [];
      for (const p of prepared) outcomes.push(await this.persistAloneOrQuarantine(mailbox, p, inTransaction));
    }
    if (this.onCommitted) outcomes.forEach((o, i) => this.onCommitted!(o, prepared[i]!.input));
    return outcomes;
  }

  /**
   * Runs a quarantined message through intake again (after a fix or a raised limit). Stored: the
   * quarantine entry is closed as "retried" in the same transaction. Rejected again: it stays open with
   * the new reason.
   *
   * An entry that holds only the head of an oversized message (declaredSize) is never run through
   * intake as it is: once the limit allows the whole message, `options.refetch` must fetch it from its
   * source again (the caller that can reach the source supplies it), else the retry is refused.
   */
  async retryQuarantined(quarantineId: number, options: RetryOptions = {}): Promise<IntakeOutcome> {
    const found = await readQuarantined(this.store, quarantineId);
    if (!found) throw new Error(`no quarantined message ${quarantineId}`);
    const { row, mailbox, raw } = found;
    if (row.status !== "open") throw new Error(`quarantined message ${quarantineId} is already ${row.status}`);
    const declaredSize = row.declaredSize === null ? undefined : Number(row.declaredSize);
    let input: RawInput = { raw, source: row.source, sourceRef: row.sourceRef, declaredSize };
    if (declaredSize !== undefined && declaredSize > raw.length && declaredSize <= this.options.maxMessageBytes) {
      const whence = row.sourceRef ?? row.source;
      if (!options.refetch) {
        throw new Error(`quarantined message ${quarantineId} holds only the first ${raw.length} of ${declaredSize} bytes; the whole message must be fetched again from ${whence} (draftgate quarantine retry does that)`);
      }
      const whole = await options.refetch({ row, mailboxName: mailbox.name });
      // The source must give back the message whose head was kept, not whatever is there now.
      if (whole.length <= raw.length || !whole.subarray(0, raw.length).equals(raw)) {
        throw new Error(`what ${whence} holds now (${whole.length} bytes) is not the message that was quarantined; quarantine entry ${quarantineId} stays open`);
      }
      input = { raw: whole, source: row.source, sourceRef: row.sourceRef };
    }
    const p = await this.prepareOne(input);
    return this.store.tx(async (em) => {
      if (p.kind === "reject") {
        await updateQuarantineReason(em, row.id, p.code, p.reason.slice(0, 1000));
        return { kind: "quarantined" as const, quarantineId: row.id, reason: p.reason };
      }
      const batch = await IntakeBatch.open(em, mailbox.id, batchKeys([p]));
      const outcome = await this.storeMessage(em, batch, { id: mailbox.id, address: mailbox.address }, p);
      await markQuarantineRetried(em, row.id);
      batch.addEvent("quarantine.retried", outcome.kind === "stored" ? outcome.conversationId : null, { quarantineId: row.id });
      await batch.flush();
      return outcome;
    });
  }

  /**
   * One intake transaction, run again (after a backoff) while it fails for concurrent work rather than
   * for what it writes: the new run reads the rows the other writer committed (see transientDbError).
   */
  private async persistRetrying(mailbox: MailboxRef, prepared: PreparedBatch, inTransaction?: InTransaction): Promise<IntakeOutcome[]> {
    const retry = this.options.transientRetry ?? TRANSIENT_RETRY;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.tx((em) => this.persistAll(em, mailbox, prepared, inTransaction));
      } catch (err) {
        if (transientDbError(callerError(err)) === null || attempt >= retry.attempts) throw err;
        await sleep(retryDelayMs(attempt, retry.baseMs, retry.maxMs));
      }
    }
  }

  private async persistAll(em: EntityManager, mailbox: MailboxRef, prepared: PreparedBatch, inTransaction?: InTransaction): Promise<IntakeOutcome[]> {
    const batch = await IntakeBatch.open(em, mailbox.id, batchKeys(prepared));
    const out: IntakeOutcome[] = [];
    for (const p of prepared) {
      out.push(p.kind === "reject" ? await quarantine(em, batch, mailbox, p, p.code, p.reason) : await this.storeMessage(em, batch, mailbox, p));
    }
    await batch.flush();
    try {
      await inTransaction?.(em, prepared.map((p) => p.input));
    } catch (err) {
      throw new InTransactionError(err);
    }
    // A later message of the batch may have merged the conversation an earlier one went into.
    return out.map((o) => (o.kind === "stored" ? { ...o, conversationId: batch.conversationOfMessage(o.messageRowId) ?? o.conversationId } : o));
  }

  /** Only a failure of this message's own transaction that is its own fault (see messageFault) quarantines it. */
  private async persistAloneOrQuarantine(mailbox: MailboxRef, p: Prepared, inTransaction?: InTransaction): Promise<IntakeOutcome> {
    try {
      return (await this.persistRetrying(mailbox, [p], inTransaction))[0]!;
    } catch (err) {
      if (!messageFault(err)) throw callerError(err);
      const reason = `could not be stored: ${(err as Error)?.message ?? String(err)}`.slice(0, 1000);
      const reject: Prepared = { input: p.input, rawSha: p.rawSha, kind: "reject", code: "ESTORE", reason };
      try {
        return (await this.persistRetrying(mailbox, [reject], inTransaction))[0]!;
      } catch (quarantineError) {
        throw callerError(quarantineError);
      }
    }
  }

  private async prepareOne(input: RawInput): Promise<Prepared> {
    const rawSha = sha256(input.raw);
    if (input.declaredSize !== undefined && input.declaredSize > this.options.maxMessageBytes) {
      const reason =
        `message is ${input.declaredSize} bytes, over ingest.maxMessageBytes (${this.options.maxMessageBytes}); ` +
        `the first ${input.raw.length} bytes are kept here and the whole message stays at its source (${input.sourceRef ?? input.source})`;
      return { input, rawSha, kind: "reject", code: "ETOOBIG", reason };
    }
    if (input.raw.length > this.options.maxMessageBytes) {
      const reason = `message is ${input.raw.length} bytes, over ingest.maxMessageBytes (${this.options.maxMessageBytes})`;
      return { input, rawSha, kind: "reject", code: "ETOOBIG", reason };
    }
    try {
      const msg = await this.normalize(input.raw);
      return { input, rawSha, kind: "message", msg, keys: dedupeKeys(msg) };
    } catch (err) {
      // A normalizer says what is wrong with the bytes by a catalogued code; anything else it throws is a parse failure.
      const code = errorCodeOf(err) ?? "EPARSE";
      return { input, rawSha, kind: "reject", code, reason: String((err as Error).message ?? err).slice(0, 1000) };
    }
  }

  private async storeMessage(em: EntityManager, batch: IntakeBatch, mailbox: MailboxRef, p: Extract<Prepared, { kind: "message" }>): Promise<IntakeOutcome> {
    const { input, msg } = p;
    const key = findDuplicate(batch, msg, p.keys);
    if (key.duplicateOf !== null) return { kind: "duplicate", messageRowId: key.duplicateOf };

    const isOwnMessageId = msg.messageId ? batch.isOwnMessageId(msg.messageId) : false;
    const verdict = classifyAutomated(msg, { messageIdDomains: [this.options.messageIdDomain], isOwnMessageId });
    const direction = mailbox.address && msg.from?.address === mailbox.address.toLowerCase() ? "outbound" : "inbound";

    const subject = normalizeSubject(msg.subject);
    const ticketTag = extractTicketTag(msg.subject);
    const refs = referenceIds({ inReplyTo: msg.inReplyTo, references: msg.references, ownId: msg.messageId });
    const when = msg.date ?? input.receivedAt ?? new Date();
    const threadInput = { from: msg.from?.address || null, referenceIds: refs, ticketTag, subjectKey: subject.key, isReply: subject.isReply, date: when };
    const lookup = await lookupThread(em, batch, mailbox.id, msg.messageId, threadInput, this.options.thread);
    const decision = chooseConversation(threadInput, lookup, this.options.thread);

    const participants = [msg.from, ...msg.to, ...msg.cc].map((a) => a?.address).filter((a): a is string => !!a);
    const conversationId = await upsertConversation(em, batch, lookup.states, mailbox.id, decision.conversationId, decision.merge, {
      subject: (subject.base || msg.subject).slice(0, 998),
      subjectKey: subject.key.slice(0, 255),
      participants,
      when,
      automated: verdict.automated,
      reopen: direction === "inbound" && !verdict.automated,
    });

    const rawBlobId = await batch.blob(input.raw, p.rawSha);
    const messageRowId = await insertMessage(em, {
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
    batch.rememberMessage(key.key, messageRowId, msg.contentHash);
    batch.rememberStored(messageRowId, conversationId, refs);
    for (const a of msg.attachments) {
      const blobId = await batch.blob(a.content, a.sha256);
      batch.addAttachment({ messageRowId, filename: a.filename, contentType: a.contentType, size: a.size, contentId: a.contentId, disposition: a.disposition, sha256: a.sha256, blobId });
    }

    if (direction === "inbound" && !verdict.automated) {
      if (decision.conversationId !== null) batch.supersedeDrafts(conversationId);
      batch.addJob({
        type: "triage",
        payload: { messageRowId, conversationId },
        priority: TRIAGE_PRIORITY,
        maxAttempts: this.options.jobMaxAttempts,
        uniqueKey: `triage:message:${messageRowId}`,
      });
    }
    batch.addEvent("message.stored", conversationId, { messageRowId, automated: verdict.automated, direction });
    return { kind: "stored", messageRowId, conversationId, automated: verdict.automated, threadRule: decision.rule };
  }
}

/** An error thrown by the caller's in-transaction callback (a lost lease, say): the caller's business, never the message's. */
class InTransactionError extends Error {
  constructor(readonly inner: unknown) {
    super((inner as Error)?.message ?? String(inner));
  }
}

/** The error as the caller should see it: what its own callback threw, unwrapped. */
function callerError(err: unknown): unknown {
  return err instanceof InTransactionError ? err.inner : err;
}

/**
 * Whether a failed intake transaction may be blamed on the messages it wrote (then each is tried alone
 * and one that still fails is quarantined). Not so for the caller's callback nor for lock contention
 * that outlasted its retries: the message is fine, the database was busy. A duplicate key that outlasted
 * re-reading is no race (see transientDbError) and counts against the message.
 */
function messageFault(err: unknown): boolean {
  return !(err instanceof InTransactionError) && transientDbError(err) !== "contention";
}

function batchKeys(prepared: PreparedBatch): BatchKeys {
  const keys: BatchKeys = { dedupeKeys: [], messageIds: [], blobShas: [], quarantineShas: [] };
  for (const p of prepared) {
    keys.blobShas.push(p.rawSha);
    if (p.kind === "reject") {
      keys.quarantineShas.push(p.rawSha);
      continue;
    }
    keys.dedupeKeys.push(p.keys.primary);
    if (p.keys.variant) keys.dedupeKeys.push(p.keys.variant);
    if (p.msg.messageId) keys.messageIds.push(p.msg.messageId);
    for (const a of p.msg.attachments) keys.blobShas.push(a.sha256);
  }
  return keys;
}

function findDuplicate(batch: IntakeBatch, msg: NormalizedMessage, keys: DedupeKeys): { key: string; duplicateOf: number | null } {
  const hit = batch.messageByKey(keys.primary);
  if (!hit) return { key: keys.primary, duplicateOf: null };
  if (!keys.variant || hit.contentHash === msg.contentHash) return { key: keys.primary, duplicateOf: hit.id };
  const again = batch.messageByKey(keys.variant);
  return { key: keys.variant, duplicateOf: again ? again.id : null };
}

async function upsertConversation(
  em: EntityManager,
  batch: IntakeBatch,
  /** Conversations read by the thread lookup in this transaction (current: nothing wrote them since). */
  known: Map<number, ConversationState>,
  mailboxId: number,
  existingId: number | null,
  merge: number[],
  m: { subject: string; subjectKey: string; participants: string[]; when: Date; automated: boolean; reopen: boolean },
): Promise<number> {
  if (existingId === null) {
    return insertConversation(em, {
      mailboxId,
      subject: m.subject,
      subjectKey: m.subjectKey,
      automated: m.automated,
      participants: [...new Set(m.participants)],
      lastMessageAt: m.when,
    });
  }
  const conv = known.get(existingId) ?? (await loadConversation(em, existingId));
  if (!conv) throw new Error(`conversation ${existingId} vanished during intake`);
  const participants = new Set([...conv.participants, ...m.participants]);
  let automated = conv.automated && m.automated;
  let last = conv.lastMessageAt > m.when ? conv.lastMessageAt : m.when;
  for (const otherId of merge) {
    const other = await loadConversation(em, otherId);
    if (!other) continue;
    other.participants.forEach((p) => participants.add(p));
    automated = automated && other.automated;
    if (other.lastMessageAt > last) last = other.lastMessageAt;
    await mergeConversationInto(em, otherId, existingId);
    batch.merged(otherId, existingId);
    batch.addEvent("conversation.merged", existingId, { from: otherId });
  }
  await updateConversation(em, existingId, {
    participants: [...participants].slice(0, 500),
    automated,
    lastMessageAt: last,
    // A customer's message reopens a closed conversation and ends waiting on the customer (pending).
    status: m.reopen && conv.status !== "open" ? "open" : conv.status,
  });
  return existingId;
}

async function quarantine(em: EntityManager, batch: IntakeBatch, mailbox: MailboxRef, p: Prepared, code: ErrorCode, reason: string): Promise<IntakeOutcome> {
  if (batch.isQuarantined(p.rawSha)) return { kind: "duplicate", messageRowId: null };
  const blobId = await batch.blob(p.input.raw, p.rawSha);
  const quarantineId = await insertQuarantine(em, {
    mailboxId: mailbox.id,
    source: p.input.source,
    sourceRef: p.input.sourceRef?.slice(0, 1024) ?? null,
    reason: reason.slice(0, 1000),
    errorCode: code,
    sha256: p.rawSha,
    size: p.input.raw.length,
    declaredSize: p.input.declaredSize ?? null,
    blobId,
  });
  batch.rememberQuarantined(p.rawSha);
  batch.addEvent("message.quarantined", null, { quarantineId, code });
  return { kind: "quarantined", quarantineId, reason };
}
