import { createHash } from "node:crypto";
import { configSchema, type Config } from "../../../src/config/schema.js";
import type { DraftRow, OutboxRow } from "../../../src/store/entities/review.js";
import type { JobRow } from "../../../src/store/entities/work.js";
import type { Store } from "../../../src/store/store.js";
import { addUser } from "../../../src/store/users.js";
import { compose } from "../../support/compose.js";
import { testIntake } from "../../support/intake.js";

/** Shared set-up of the approval specs: a configured mailbox, customer mail, pending drafts, reviewers. */

export const ID_DOMAIN = "replies.example.org";

export function reviewConfig(extra: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    mail: { messageIdDomain: ID_DOMAIN },
    mailboxes: [
      { name: "support", address: "support@example.com" },
      { name: "billing", address: "billing@example.com" },
    ],
    ...extra,
  });
}

export const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

export interface Customer {
  messageRowId: number;
  conversationId: number;
  messageId: string;
}

let seq = 0;

/** One customer message into `mailbox`; `inReplyTo` threads it onto an earlier one. */
export async function customerMail(
  store: Store,
  opts: {
    mailbox?: string;
    from?: string;
    replyTo?: string;
    cc?: string;
    subject?: string;
    inReplyTo?: string;
    references?: string[];
    text?: string;
    html?: string;
    attachments?: { filename: string; content: string; contentType: string }[];
  } = {},
): Promise<Customer> {
  const mailbox = opts.mailbox ?? "support";
  const { ingest } = await testIntake(store, {}, mailbox, `${mailbox}@example.com`);
  const messageId = `c${++seq}.${Date.now()}@customer.example.net`;
  const raw = await compose({
    messageId: `<${messageId}>`,
    from: opts.from ?? "Jane Doe <jane@customer.example.net>",
    to: `${mailbox}@example.com`,
    ...(opts.replyTo ? { replyTo: opts.replyTo } : {}),
    ...(opts.cc ? { cc: opts.cc } : {}),
    subject: opts.subject ?? "Where is my order?",
    date: new Date(Date.UTC(2026, 2, 1, 9, seq)),
    ...(opts.inReplyTo ? { inReplyTo: `<${opts.inReplyTo}>`, references: (opts.references ?? [opts.inReplyTo]).map((r) => `<${r}>`) } : {}),
    text: opts.text ?? "Hello, my order 1234 has not arrived. Can you check?",
    ...(opts.html ? { html: opts.html } : {}),
    ...(opts.attachments ? { attachments: opts.attachments } : {}),
  });
  const [out] = await ingest([{ raw, source: "import", sourceRef: null }]);
  if (out?.kind !== "stored") throw new Error(`customer mail not stored: ${JSON.stringify(out)}`);
  return { messageRowId: out.messageRowId, conversationId: out.conversationId, messageId };
}

/** A pending draft answering a message (as the draft job leaves one). */
export async function pendingDraft(
  store: Store,
  c: Pick<Customer, "messageRowId" | "conversationId">,
  body = "Thanks, we are checking your order.",
  status: DraftRow["status"] = "pending",
): Promise<number> {
  return store.tx(async (em) => {
    const res = await em.getRepository<DraftRow>("Draft").insert({
      conversationId: c.conversationId,
      messageRowId: c.messageRowId,
      status,
      body,
      origin: "model",
      flags: [],
      model: "fake",
    });
    return Number(res.identifiers[0]!.id);
  });
}

export async function reviewerUser(
  store: Store,
  email = "rita@team.example.com",
  role: "admin" | "reviewer" = "reviewer",
): Promise<string> {
  await addUser(store, { email, role, passwordHash: "x" }, "test");
  return email;
}

export const draftRow = (store: Store, id: number) => store.read((em) => em.getRepository<DraftRow>("Draft").findOneByOrFail({ id }));
export const outboxRows = (store: Store) => store.read((em) => em.getRepository<OutboxRow>("Outbox").find({ order: { id: "ASC" } }));
export const jobsOf = (store: Store, type: string) =>
  store.read((em) => em.getRepository<JobRow>("Job").find({ where: { type }, order: { id: "ASC" } }));
