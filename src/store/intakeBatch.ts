import type { EntityManager } from "typeorm";
import { enqueueNewJobs, type NewJob } from "./jobs.js";
import { BLOB_CHUNK_BYTES } from "./columns.js";
import type { AttachmentRow } from "./entities/mail.js";
import { appendEvents, type NewEvent } from "./events.js";
import { dbDate, insertReturningId, placeholders, run, select, type SqlValue } from "./sql.js";

export type NewAttachment = Omit<AttachmentRow, "id">;

/** What a batch needs to know up front, so each message costs no lookup round trip of its own. */
export interface BatchKeys {
  dedupeKeys: string[];
  messageIds: string[];
  blobShas: string[];
  quarantineShas: string[];
}

/**
 * One intake transaction's view of the database. Lookups that do not depend on other messages of the
 * batch (dedup keys, our outbox ids, existing blobs, quarantine) are read once for the whole batch and
 * kept current as the batch writes; rows nobody reads during the batch (attachments, jobs, events) are
 * written at the end in one statement each. On MariaDB every statement is a round trip, so this is
 * most of the intake's cost there.
 */
export class IntakeBatch {
  private readonly attachments: NewAttachment[] = [];
  private readonly supersede = new Set<number>();
  /** References of messages stored in this batch, written at flush; lookups see them through pendingRefsTo. */
  private readonly refs: { refId: string; messageRowId: number }[] = [];
  /** Conversation of each message stored in this batch, kept current through merges. */
  private readonly conversationOf = new Map<number, number>();
  private readonly jobs: NewJob[] = [];
  private readonly events: NewEvent[] = [];

  private constructor(
    private readonly em: EntityManager,
    private readonly mailboxId: number,
    private readonly messages: Map<string, { id: number; contentHash: string }>,
    private readonly ownIds: Set<string>,
    private readonly blobs: Map<string, number>,
    private readonly quarantined: Set<string>,
  ) {}

  static async open(em: EntityManager, mailboxId: number, keys: BatchKeys): Promise<IntakeBatch> {
    const messages = new Map<string, { id: number; contentHash: string }>();
    for (const r of await selectIn<{ id: number; dedupeKey: string; contentHash: string }>(
      em,
      "SELECT `id`, `dedupeKey`, `contentHash` FROM `messages` WHERE `mailboxId` = ? AND `dedupeKey` IN",
      [mailboxId],
      keys.dedupeKeys,
    )) {
      messages.set(r.dedupeKey, { id: Number(r.id), contentHash: r.contentHash });
    }
    const ownIds = new Set(
      (await selectIn<{ messageId: string }>(em, "SELECT `messageId` FROM `outbox` WHERE `messageId` IN", [], keys.messageIds)).map((r) => r.messageId),
    );
    const blobs = new Map(
      (await selectIn<{ id: number; sha256: string }>(em, "SELECT `id`, `sha256` FROM `blobs` WHERE `sha256` IN", [], keys.blobShas)).map((r) => [r.sha256, Number(r.id)]),
    );
    const quarantined = new Set(
      (await selectIn<{ sha256: string }>(em, "SELECT `sha256` FROM `quarantine` WHERE `mailboxId` = ? AND `sha256` IN", [mailboxId], keys.quarantineShas)).map(
        (r) => r.sha256,
      ),
    );
    return new IntakeBatch(em, mailboxId, messages, ownIds, blobs, quarantined);
  }

  /** The stored message with this dedup key, including ones stored earlier in this batch. */
  messageByKey(key: string): { id: number; contentHash: string } | null {
    return this.messages.get(key) ?? null;
  }

  rememberMessage(key: string, id: number, contentHash: string): void {
    this.messages.set(key, { id, contentHash });
  }

  /** True when we sent a message with this Message-ID (it is coming back to us). */
  isOwnMessageId(messageId: string): boolean {
    return this.ownIds.has(messageId);
  }

  isQuarantined(sha: string): boolean {
    return this.quarantined.has(sha);
  }

  rememberQuarantined(sha: string): void {
    this.quarantined.add(sha);
  }

  /** Stores bytes once by content (sha256) in chunks; returns the blob id. */
  async blob(bytes: Uint8Array, digest: string): Promise<number> {
    const known = this.blobs.get(digest);
    if (known !== undefined) return known;
    const chunks = Math.max(1, Math.ceil(bytes.length / BLOB_CHUNK_BYTES));
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const id = await insertReturningId(this.em, "INSERT INTO `blobs` (`sha256`, `size`, `chunks`, `head`, `createdAt`) VALUES (?, ?, ?, ?, ?)", [
      digest,
      bytes.length,
      chunks,
      buf.subarray(0, BLOB_CHUNK_BYTES),
      dbDate(new Date()),
    ]);
    for (let seq = 1; seq < chunks; seq++) {
      const data = buf.subarray(seq * BLOB_CHUNK_BYTES, (seq + 1) * BLOB_CHUNK_BYTES);
      await run(this.em, "INSERT INTO `blob_chunks` (`blobId`, `seq`, `data`) VALUES (?, ?, ?)", [id, seq, data]);
    }
    this.blobs.set(digest, id);
    return id;
  }

  rememberStored(messageRowId: number, conversationId: number, refIds: string[]): void {
    this.conversationOf.set(messageRowId, conversationId);
    for (const refId of refIds) this.refs.push({ refId, messageRowId });
  }

  /** Stored-in-this-batch messages whose references include one of `ids`. */
  pendingRefsTo(ids: string[]): { refId: string; conversationId: number }[] {
    if (this.refs.length === 0) return [];
    const wanted = new Set(ids);
    return this.refs.filter((r) => wanted.has(r.refId)).map((r) => ({ refId: r.refId, conversationId: this.conversationOf.get(r.messageRowId)! }));
  }

  /**
   * A conversation was merged into another. The caller moves the rows in the database; the rows this
   * batch has yet to write (events, jobs, drafts to supersede) are moved here, or they would name the
   * deleted conversation.
   */
  merged(from: number, into: number): void {
    for (const [message, conversation] of this.conversationOf) if (conversation === from) this.conversationOf.set(message, into);
    if (this.supersede.delete(from)) this.supersede.add(into);
    for (const e of this.events) if (e.conversationId === from) e.conversationId = into;
    for (const j of this.jobs) if (j.payload.conversationId === from) j.payload = { ...j.payload, conversationId: into };
  }

  /** The conversation a message stored in this batch belongs to now (after any merge). */
  conversationOfMessage(messageRowId: number): number | undefined {
    return this.conversationOf.get(messageRowId);
  }

  /** Pending drafts of this conversation are obsolete now: a newer customer message came in. */
  supersedeDrafts(conversationId: number): void {
    this.supersede.add(conversationId);
  }

  addAttachment(a: NewAttachment): void {
    this.attachments.push(a);
  }

  addJob(job: NewJob): void {
    this.jobs.push(job);
  }

  addEvent(type: string, conversationId: number | null, payload: Record<string, unknown>): void {
    this.events.push({ type, conversationId, payload });
  }

  /** Writes the deferred rows; call last, inside the same transaction. */
  async flush(): Promise<void> {
    if (this.refs.length > 0) {
      await run(
        this.em,
        `INSERT INTO \`message_refs\` (\`mailboxId\`, \`messageRowId\`, \`refId\`) VALUES ${this.refs.map(() => "(?, ?, ?)").join(", ")}`,
        this.refs.flatMap((r) => [this.mailboxId, r.messageRowId, r.refId]),
      );
    }
    if (this.attachments.length > 0) {
      await run(this.em, 
        "INSERT INTO `attachments` (`messageRowId`, `filename`, `contentType`, `size`, `contentId`, `disposition`, `sha256`, `blobId`) VALUES " +
          this.attachments.map(() => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", "),
        this.attachments.flatMap((a) => [a.messageRowId, a.filename, a.contentType, a.size, a.contentId, a.disposition, a.sha256, a.blobId]),
      );
    }
    if (this.supersede.size > 0) {
      const ids = [...this.supersede];
      await run(
        this.em,
        `UPDATE \`drafts\` SET \`status\` = 'superseded', \`updatedAt\` = ? WHERE \`status\` IN ('pending', 'generating') AND \`conversationId\` IN ${placeholders(ids.length)}`,
        [dbDate(new Date()), ...ids],
      );
    }
    await enqueueNewJobs(this.em, this.jobs);
    await appendEvents(this.em, this.events);
  }
}

/** `<sql> (?, …)` over a list, skipped when the list is empty; lists are bounded by the batch size. */
async function selectIn<T>(em: EntityManager, sql: string, params: SqlValue[], list: string[]): Promise<T[]> {
  const unique = [...new Set(list)];
  if (unique.length === 0) return [];
  return select<T>(em, `${sql} ${placeholders(unique.length)}`, [...params, ...unique]);
}
