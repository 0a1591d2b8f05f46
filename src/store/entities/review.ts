import { EntitySchema } from "typeorm";
import { columns, type Dialect } from "../columns.js";

export type DraftStatus = "generating" | "pending" | "approved" | "rejected" | "superseded" | "failed";

export interface DraftRow {
  id: number;
  conversationId: number;
  /** The inbound message this draft answers. */
  messageRowId: number;
  status: DraftStatus;
  body: string;
  /** "model" | "template" | "human". */
  origin: string;
  flags: string[];
  model: string | null;
  tokens: number | null;
  durationMs: number | null;
  reviewerId: number | null;
  /** Embedding of the body once approved, for retrieving similar past replies. */
  embedding: number[] | null;
  /** The job whose run made this draft (null for drafts made outside a job); its next run fails a row left `generating`. */
  jobId: number | null;
  /** `messageRowId` while pending, else null (computed by the database): unique, so one pending draft per message. */
  readonly pendingMessageRowId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The triage of one inbound message: what the model said (validated) and what the operator's rules made of it. */
export interface TriageRow {
  id: number;
  messageRowId: number;
  conversationId: number;
  priority: "urgent" | "high" | "normal" | "low";
  category: string;
  sentiment: string;
  language: string;
  summary: string;
  confidence: number;
  flags: string[];
  /** "model" | "rules" | "model+rules". */
  decidedBy: string;
  matchedRules: string[];
  model: string | null;
  tokens: number | null;
  durationMs: number | null;
  slaDueAt: Date;
  createdAt: Date;
}

export type OutboxState = "queued" | "sending" | "sent" | "failed" | "uncertain" | "cancelled";

/** One outgoing reply; its Message-ID is assigned before any send so a crash can be resolved, never re-sent blindly. */
export interface OutboxRow {
  id: number;
  conversationId: number;
  draftId: number | null;
  mailboxId: number;
  state: OutboxState;
  messageId: string;
  to: string[];
  cc: string[];
  subject: string;
  inReplyTo: string | null;
  references: string[];
  body: string;
  approvedBy: number | null;
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserRow {
  id: number;
  email: string;
  role: "admin" | "reviewer";
  passwordHash: string | null;
  createdAt: Date;
}

export interface SessionRow {
  /** sha256 of the session token; the token itself is never stored. */
  id: string;
  userId: number;
  expiresAt: Date;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface AuditRow {
  id: number;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string | null;
  detail: Record<string, unknown>;
  createdAt: Date;
}

export function reviewEntities(dialect: Dialect) {
  const c = columns(dialect);
  const Draft = new EntitySchema<DraftRow>({
    name: "Draft",
    tableName: "drafts",
    columns: {
      id: c.id(),
      conversationId: c.int(),
      messageRowId: c.int(),
      status: c.string(16),
      body: c.text(),
      origin: c.string(16),
      flags: c.json(),
      model: c.string(255, { nullable: true }),
      tokens: c.int({ nullable: true }),
      durationMs: c.int({ nullable: true }),
      reviewerId: c.int({ nullable: true }),
      embedding: c.json({ nullable: true }),
      jobId: c.int({ nullable: true }),
      // Generated from status, so every writer (intake superseding drafts in plain SQL included) keeps it
      // right without knowing it exists; NULLs do not collide in a unique index on SQLite or MariaDB.
      pendingMessageRowId: c.int({
        nullable: true,
        generatedType: "STORED",
        asExpression: "CASE WHEN `status` = 'pending' THEN `messageRowId` END",
        insert: false,
        update: false,
        unique: true,
      }),
      createdAt: c.date({ createDate: true }),
      updatedAt: c.date({ updateDate: true }),
    },
    indices: [{ name: "IDX_draft_conversation", columns: ["conversationId", "status"] }],
  });

  const Triage = new EntitySchema<TriageRow>({
    name: "Triage",
    tableName: "triages",
    columns: {
      id: c.id(),
      messageRowId: c.int({ unique: true }),
      conversationId: c.int(),
      priority: c.string(16),
      category: c.string(40),
      sentiment: c.string(16),
      language: c.string(8),
      summary: c.string(255),
      confidence: c.double(),
      flags: c.json(),
      decidedBy: c.string(16),
      matchedRules: c.json(),
      model: c.string(255, { nullable: true }),
      tokens: c.int({ nullable: true }),
      durationMs: c.int({ nullable: true }),
      slaDueAt: c.date(),
      createdAt: c.date({ createDate: true }),
    },
    indices: [{ name: "IDX_triage_conversation", columns: ["conversationId"] }],
  });

  const Outbox = new EntitySchema<OutboxRow>({
    name: "Outbox",
    tableName: "outbox",
    columns: {
      id: c.id(),
      conversationId: c.int(),
      draftId: c.int({ nullable: true, unique: true }),
      mailboxId: c.int(),
      state: c.string(16),
      messageId: c.string(255, { unique: true }),
      to: c.json(),
      cc: c.json(),
      subject: c.string(998),
      inReplyTo: c.string(512, { nullable: true }),
      references: c.json(),
      body: c.text(),
      approvedBy: c.int({ nullable: true }),
      attempts: c.int({ default: 0 }),
      lastError: c.text({ nullable: true }),
      sentAt: c.date({ nullable: true }),
      createdAt: c.date({ createDate: true }),
      updatedAt: c.date({ updateDate: true }),
    },
    indices: [{ name: "IDX_outbox_state", columns: ["state"] }],
  });

  const User = new EntitySchema<UserRow>({
    name: "User",
    tableName: "users",
    columns: {
      id: c.id(),
      email: c.string(320, { unique: true }),
      role: c.string(16),
      passwordHash: c.string(255, { nullable: true }),
      createdAt: c.date({ createDate: true }),
    },
  });

  const Session = new EntitySchema<SessionRow>({
    name: "Session",
    tableName: "sessions",
    columns: {
      id: c.string(64, { primary: true }),
      userId: c.int(),
      expiresAt: c.date(),
      data: c.json(),
      createdAt: c.date({ createDate: true }),
    },
    indices: [{ name: "IDX_session_expiry", columns: ["expiresAt"] }],
  });

  const Audit = new EntitySchema<AuditRow>({
    name: "Audit",
    tableName: "audit_log",
    columns: {
      id: c.id(),
      actor: c.string(320),
      action: c.string(64),
      subjectType: c.string(32),
      subjectId: c.string(64, { nullable: true }),
      detail: c.json(),
      createdAt: c.date({ createDate: true }),
    },
    indices: [{ name: "IDX_audit_subject", columns: ["subjectType", "subjectId"] }],
  });

  return [Draft, Triage, Outbox, User, Session, Audit];
}
