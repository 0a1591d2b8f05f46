import { EntitySchema } from "typeorm";
import type { OutboxState } from "../../core/outbound/outboxState.js";
import { columns, type Dialect } from "../columns.js";

export type { OutboxState };

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
  /** The user who approved or rejected it (users.id). */
  reviewerId: number | null;
  /** Who decided (approved, rejected, asked to regenerate) it: the user's e-mail address. */
  decidedBy: string | null;
  decidedAt: Date | null;
  /** Once approved: sha256 (hex) of `body`, which is then exactly the text approved (edits included). */
  bodyHash: string | null;
  /** The text as drafted when the reviewer approved an edited body (null when approved unchanged). */
  originalBody: string | null;
  /** The reviewer's reason for a rejection, or the instruction a regeneration was asked with. */
  reason: string | null;
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

/** A recipient as stored on an outbox entry (address as it goes in the header; name cleaned of control characters). */
export interface OutboxAddress {
  address: string;
  name: string;
}

/**
 * One outgoing reply. Created only by the approval use case (src/review/approveDraft.ts), with every
 * header decided by code at approval time and its Message-ID assigned before any send, so a crash can
 * be resolved (never re-sent blindly).
 */
export interface OutboxRow {
  id: number;
  conversationId: number;
  /** The approved draft (a hand-written reply is a draft of origin "human"); one entry per draft. */
  draftId: number | null;
  mailboxId: number;
  /** The customer message this reply answers (its \Answered flag, its In-Reply-To). */
  answeredMessageRowId: number | null;
  state: OutboxState;
  /** Without angle brackets; unique. Assigned at approval and kept across retries and --resend. */
  messageId: string;
  /** The mailbox address the reply is sent from (the display name comes from the mailbox's config). */
  fromAddress: string;
  to: OutboxAddress[];
  cc: OutboxAddress[];
  subject: string;
  /** Without brackets, like `references`. */
  inReplyTo: string | null;
  references: string[];
  /** The reply text exactly as approved (no signature, no quoted history). */
  body: string;
  /** sha256 (hex) of `body`: the sender checks the bytes it sends still carry it unchanged. */
  bodyHash: string;
  /** E-mail address of the user who approved it. */
  approvedBy: string;
  approvedAt: Date;
  attempts: number;
  lastError: string | null;
  /** When the next attempt is due (queued, retrying); null otherwise. */
  nextAttemptAt: Date | null;
  sentAt: Date | null;
  /** The exact bytes handed to the SMTP server (a blob), set by the sender before it sends. */
  rawBlobId: number | null;
  /** Who resolved an `uncertain` entry, how ("sent" | "resend") and when. */
  resolvedBy: string | null;
  resolution: string | null;
  resolvedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One recipient (to or cc) of an outbox entry, keyed as the per-recipient cap counts it
 * (src/core/outbound/rateCap.ts `recipientKey`): written at approval with the entry, so the cap counts
 * the sends to this entry's recipients with one indexed query instead of reading every recent entry.
 */
export interface OutboxRecipientRow {
  outboxId: number;
  recipientKey: string;
}

export interface UserRow {
  id: number;
  email: string;
  role: "admin" | "reviewer";
  passwordHash: string | null;
  /** Failed log-ins in a row; reset by a successful one. */
  failedLogins: number;
  /** Log-ins are refused until then (too many failures in a row). */
  lockedUntil: Date | null;
  createdAt: Date;
}

export interface SessionRow {
  /** sha256 of the session token; the token itself is never stored. */
  id: string;
  /** Null before log-in (a login form's CSRF token lives in such a session). */
  userId: number | null;
  expiresAt: Date;
  data: Record<string, unknown>;
  /** Where the session was last used from (shown to the user, audited at log-in). */
  ip: string | null;
  userAgent: string | null;
  lastSeenAt: Date;
  createdAt: Date;
}

/** A secret the gateway made for itself and every process shares (the session cookie's signing key). */
export interface AppSecretRow {
  name: string;
  value: string;
  createdAt: Date;
}

/** An internal note on a conversation: seen by the reviewers who see the conversation, never sent. */
export interface NoteRow {
  id: number;
  conversationId: number;
  author: string;
  body: string;
  createdAt: Date;
}

/** A token for scripts on the JSON API, acting as its user: only its sha256 is kept. */
export interface ApiTokenRow {
  id: number;
  userId: number;
  name: string;
  /** sha256 (hex) of the token. */
  tokenHash: string;
  /** "read" (GET only) or "write" (everything its user may do). */
  scope: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A group of reviewers and the mailboxes they work on: a reviewer sees only their teams' mailboxes. */
export interface TeamRow {
  id: number;
  name: string;
  createdAt: Date;
}

export interface TeamMemberRow {
  teamId: number;
  userId: number;
}

export interface TeamMailboxRow {
  teamId: number;
  mailboxId: number;
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
      decidedBy: c.string(320, { nullable: true }),
      decidedAt: c.date({ nullable: true }),
      bodyHash: c.string(64, { nullable: true }),
      originalBody: c.text({ nullable: true }),
      reason: c.text({ nullable: true }),
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
      answeredMessageRowId: c.int({ nullable: true }),
      state: c.string(16),
      messageId: c.string(255, { unique: true }),
      fromAddress: c.string(320),
      to: c.json(),
      cc: c.json(),
      subject: c.string(998),
      inReplyTo: c.string(512, { nullable: true }),
      references: c.json(),
      body: c.text(),
      bodyHash: c.string(64),
      approvedBy: c.string(320),
      approvedAt: c.date(),
      attempts: c.int({ default: 0 }),
      lastError: c.text({ nullable: true }),
      nextAttemptAt: c.date({ nullable: true }),
      sentAt: c.date({ nullable: true }),
      rawBlobId: c.int({ nullable: true }),
      resolvedBy: c.string(320, { nullable: true }),
      resolution: c.string(16, { nullable: true }),
      resolvedAt: c.date({ nullable: true }),
      createdAt: c.date({ createDate: true }),
      updatedAt: c.date({ updateDate: true }),
    },
    indices: [
      { name: "IDX_outbox_state", columns: ["state", "nextAttemptAt"] },
      { name: "IDX_outbox_conversation", columns: ["conversationId"] },
      { name: "IDX_outbox_sent", columns: ["sentAt"] },
    ],
  });

  const OutboxRecipient = new EntitySchema<OutboxRecipientRow>({
    name: "OutboxRecipient",
    tableName: "outbox_recipients",
    columns: {
      outboxId: c.int({ primary: true }),
      recipientKey: c.string(320, { primary: true }),
    },
    indices: [{ name: "IDX_outbox_recipient_key", columns: ["recipientKey", "outboxId"] }],
  });

  const User = new EntitySchema<UserRow>({
    name: "User",
    tableName: "users",
    columns: {
      id: c.id(),
      email: c.string(320, { unique: true }),
      role: c.string(16),
      passwordHash: c.string(255, { nullable: true }),
      failedLogins: c.int({ default: 0 }),
      lockedUntil: c.date({ nullable: true }),
      createdAt: c.date({ createDate: true }),
    },
  });

  const Session = new EntitySchema<SessionRow>({
    name: "Session",
    tableName: "sessions",
    columns: {
      id: c.string(64, { primary: true }),
      userId: c.int({ nullable: true }),
      expiresAt: c.date(),
      data: c.json(),
      ip: c.string(64, { nullable: true }),
      userAgent: c.string(255, { nullable: true }),
      lastSeenAt: c.date(),
      createdAt: c.date({ createDate: true }),
    },
    indices: [
      { name: "IDX_session_expiry", columns: ["expiresAt"] },
      { name: "IDX_session_user", columns: ["userId"] },
    ],
  });

  const AppSecret = new EntitySchema<AppSecretRow>({
    name: "AppSecret",
    tableName: "app_secrets",
    columns: { name: c.string(64, { primary: true }), value: c.string(255), createdAt: c.date({ createDate: true }) },
  });
  const Note = new EntitySchema<NoteRow>({
    name: "Note",
    tableName: "notes",
    columns: { id: c.id(), conversationId: c.int(), author: c.string(320), body: c.text(), createdAt: c.date({ createDate: true }) },
    indices: [{ name: "IDX_note_conversation", columns: ["conversationId"] }],
  });
  const ApiToken = new EntitySchema<ApiTokenRow>({
    name: "ApiToken",
    tableName: "api_tokens",
    columns: {
      id: c.id(),
      userId: c.int(),
      name: c.string(128),
      tokenHash: c.string(64, { unique: true }),
      scope: c.string(16),
      createdAt: c.date({ createDate: true }),
      lastUsedAt: c.date({ nullable: true }),
      revokedAt: c.date({ nullable: true }),
    },
  });
  const Team = new EntitySchema<TeamRow>({
    name: "Team",
    tableName: "teams",
    columns: { id: c.id(), name: c.string(128, { unique: true }), createdAt: c.date({ createDate: true }) },
  });
  const TeamMember = new EntitySchema<TeamMemberRow>({
    name: "TeamMember",
    tableName: "team_members",
    columns: { teamId: c.int({ primary: true }), userId: c.int({ primary: true }) },
    indices: [{ name: "IDX_team_member_user", columns: ["userId"] }],
  });
  const TeamMailbox = new EntitySchema<TeamMailboxRow>({
    name: "TeamMailbox",
    tableName: "team_mailboxes",
    columns: { teamId: c.int({ primary: true }), mailboxId: c.int({ primary: true }) },
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

  return [Draft, Triage, Outbox, OutboxRecipient, User, Session, AppSecret, ApiToken, Note, Team, TeamMember, TeamMailbox, Audit];
}
