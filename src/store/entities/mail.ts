import { EntitySchema } from "typeorm";
import type { Address, Direction, HeaderMap } from "../../core/message.js";
import { columns, type Dialect } from "../columns.js";

export interface MailboxRow {
  id: number;
  name: string;
  address: string | null;
  createdAt: Date;
}

export type ConversationStatus = "open" | "pending" | "closed";
export type Priority = "urgent" | "high" | "normal" | "low";

export interface ConversationRow {
  id: number;
  mailboxId: number;
  subject: string;
  subjectKey: string;
  status: ConversationStatus;
  priority: Priority | null;
  /** True while every message in it is automated. */
  automated: boolean;
  participants: string[];
  lastMessageAt: Date;
  /** When a reply is due under the SLA of the conversation's priority (set by triage). */
  slaDueAt: Date | null;
  /** The reviewer who has it (users.id); null: unassigned. */
  assigneeId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface MessageRow {
  id: number;
  mailboxId: number;
  conversationId: number;
  /** sha256 of the identity used for deduplication (Message-ID, or content when it has none). */
  dedupeKey: string;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  fromAddress: string | null;
  fromName: string | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  date: Date | null;
  receivedAt: Date;
  direction: Direction;
  automated: boolean;
  automatedReason: string | null;
  text: string;
  newText: string;
  html: string | null;
  headers: HeaderMap;
  contentType: string;
  contentHash: string;
  size: number;
  rawBlobId: number;
  source: string;
  sourceRef: string | null;
  threadRule: string;
  createdAt: Date;
}

/** One id a message points at (In-Reply-To / References), for threading lookups in both directions. */
export interface MessageRefRow {
  id: number;
  mailboxId: number;
  messageRowId: number;
  refId: string;
}

export interface AttachmentRow {
  id: number;
  messageRowId: number;
  filename: string | null;
  contentType: string;
  size: number;
  contentId: string | null;
  disposition: string | null;
  sha256: string;
  blobId: number;
}

/**
 * Content-addressed bytes (raw messages, attachments). The first BLOB_CHUNK_BYTES sit in `head`, so
 * nearly every blob is one row written by one statement; larger ones continue in blob_chunks (seq ≥ 1).
 */
export interface BlobRow {
  id: number;
  sha256: string;
  size: number;
  chunks: number;
  head: Buffer;
  createdAt: Date;
}

export interface BlobChunkRow {
  id: number;
  blobId: number;
  seq: number;
  data: Buffer;
}

export type QuarantineStatus = "open" | "retried" | "discarded";

export interface QuarantineRow {
  id: number;
  mailboxId: number;
  source: string;
  sourceRef: string | null;
  reason: string;
  errorCode: string;
  sha256: string;
  /** Bytes kept (the raw blob). */
  size: number;
  /**
   * The size the source reported when only the first `size` bytes were read (an oversized IMAP message):
   * the entry is partial and a retry must fetch the whole message again. Null: the blob is the whole input.
   */
  declaredSize: number | null;
  blobId: number;
  status: QuarantineStatus;
  createdAt: Date;
  resolvedAt: Date | null;
}

export function mailEntities(dialect: Dialect) {
  const c = columns(dialect);
  const Mailbox = new EntitySchema<MailboxRow>({
    name: "Mailbox",
    tableName: "mailboxes",
    columns: {
      id: c.id(),
      name: c.string(64, { unique: true }),
      address: c.string(320, { nullable: true }),
      createdAt: c.date({ createDate: true }),
    },
  });

  const Conversation = new EntitySchema<ConversationRow>({
    name: "Conversation",
    tableName: "conversations",
    columns: {
      id: c.id(),
      mailboxId: c.int(),
      subject: c.string(998),
      subjectKey: c.string(255),
      status: c.string(16, { default: "open" }),
      priority: c.string(16, { nullable: true }),
      automated: c.bool({ default: false }),
      participants: c.json(),
      lastMessageAt: c.date(),
      slaDueAt: c.date({ nullable: true }),
      assigneeId: c.int({ nullable: true }),
      createdAt: c.date({ createDate: true }),
      updatedAt: c.date({ updateDate: true }),
    },
    indices: [
      // The review queue: open conversations of some mailboxes.
      { name: "IDX_conversation_queue", columns: ["status", "mailboxId", "slaDueAt"] },
      { name: "IDX_conversation_subject", columns: ["mailboxId", "subjectKey"] },
      { name: "IDX_conversation_last", columns: ["mailboxId", "lastMessageAt"] },
    ],
  });

  const Message = new EntitySchema<MessageRow>({
    name: "Message",
    tableName: "messages",
    columns: {
      id: c.id(),
      mailboxId: c.int(),
      conversationId: c.int(),
      dedupeKey: c.string(64),
      messageId: c.string(512, { nullable: true }),
      inReplyTo: c.string(512, { nullable: true }),
      references: c.json(),
      subject: c.string(998),
      fromAddress: c.string(320, { nullable: true }),
      fromName: c.string(320, { nullable: true }),
      to: c.json(),
      cc: c.json(),
      replyTo: c.json(),
      date: c.date({ nullable: true }),
      receivedAt: c.date(),
      direction: c.string(16),
      automated: c.bool({ default: false }),
      automatedReason: c.string(32, { nullable: true }),
      text: c.text(),
      newText: c.text(),
      html: c.text({ nullable: true }),
      headers: c.json(),
      contentType: c.string(128),
      contentHash: c.string(64),
      size: c.int(),
      rawBlobId: c.int(),
      source: c.string(32),
      sourceRef: c.string(1024, { nullable: true }),
      threadRule: c.string(16),
      createdAt: c.date({ createDate: true }),
    },
    indices: [
      { name: "UQ_message_dedupe", columns: ["mailboxId", "dedupeKey"], unique: true },
      { name: "IDX_message_mid", columns: ["mailboxId", "messageId"] },
      { name: "IDX_message_conversation", columns: ["conversationId", "date"] },
    ],
  });

  const MessageRef = new EntitySchema<MessageRefRow>({
    name: "MessageRef",
    tableName: "message_refs",
    columns: {
      id: c.id(),
      mailboxId: c.int(),
      messageRowId: c.int(),
      refId: c.string(512),
    },
    indices: [
      { name: "IDX_ref_ref", columns: ["mailboxId", "refId"] },
      { name: "IDX_ref_message", columns: ["messageRowId"] },
    ],
  });

  const Attachment = new EntitySchema<AttachmentRow>({
    name: "Attachment",
    tableName: "attachments",
    columns: {
      id: c.id(),
      messageRowId: c.int(),
      filename: c.string(512, { nullable: true }),
      contentType: c.string(255),
      size: c.int(),
      contentId: c.string(512, { nullable: true }),
      disposition: c.string(32, { nullable: true }),
      sha256: c.string(64),
      blobId: c.int(),
    },
    indices: [{ name: "IDX_attachment_message", columns: ["messageRowId"] }],
  });

  const Blob = new EntitySchema<BlobRow>({
    name: "Blob",
    tableName: "blobs",
    columns: {
      id: c.id(),
      sha256: c.string(64, { unique: true }),
      size: c.int(),
      chunks: c.int(),
      head: c.binary(),
      createdAt: c.date({ createDate: true }),
    },
  });

  const BlobChunk = new EntitySchema<BlobChunkRow>({
    name: "BlobChunk",
    tableName: "blob_chunks",
    columns: {
      id: c.id(),
      blobId: c.int(),
      seq: c.int(),
      data: c.binary(),
    },
    indices: [{ name: "UQ_blob_chunk", columns: ["blobId", "seq"], unique: true }],
  });

  const Quarantine = new EntitySchema<QuarantineRow>({
    name: "Quarantine",
    tableName: "quarantine",
    columns: {
      id: c.id(),
      mailboxId: c.int(),
      source: c.string(32),
      sourceRef: c.string(1024, { nullable: true }),
      reason: c.string(1000),
      errorCode: c.string(32),
      sha256: c.string(64),
      size: c.int(),
      declaredSize: c.bigint({ nullable: true }),
      blobId: c.int(),
      status: c.string(16, { default: "open" }),
      createdAt: c.date({ createDate: true }),
      resolvedAt: c.date({ nullable: true }),
    },
    indices: [{ name: "UQ_quarantine_content", columns: ["mailboxId", "sha256"], unique: true }],
  });

  return [Mailbox, Conversation, Message, MessageRef, Attachment, Blob, BlobChunk, Quarantine];
}
