import type { EntityManager } from "typeorm";
import type { AttachmentRow, ConversationRow, MessageRow, Priority } from "./entities/mail.js";
import type { AuditRow, DraftRow, NoteRow, OutboxRow, TriageRow } from "./entities/review.js";
import { appendAudit } from "./audit.js";
import { readBlob } from "./blobs.js";
import { appendEvent } from "./events.js";
import { dbDate, runChanges } from "./sql.js";
import type { Store } from "./store.js";

const DRAFT_VIEW_COLUMNS = {
  id: true,
  conversationId: true,
  messageRowId: true,
  status: true,
  body: true,
  origin: true,
  flags: true,
  model: true,
  tokens: true,
  durationMs: true,
  reviewerId: true,
  decidedBy: true,
  decidedAt: true,
  bodyHash: true,
  originalBody: true,
  reason: true,
  jobId: true,
  createdAt: true,
} as const;

/** Everything the conversation page (`/c/:id`) shows, read in one go. */
export interface ConversationView {
  conversation: ConversationRow;
  mailbox: string;
  assignee: string | null;
  messages: (Pick<
    MessageRow,
    "id" | "direction" | "fromAddress" | "fromName" | "to" | "date" | "receivedAt" | "subject" | "text" | "newText" | "automated"
  > & { hasHtml: boolean; attachments: Pick<AttachmentRow, "id" | "filename" | "contentType" | "size" | "contentId">[] })[];
  triage: TriageRow | null;
  drafts: DraftRow[];
  outbox: Pick<OutboxRow, "id" | "state" | "approvedBy" | "approvedAt" | "sentAt" | "lastError" | "subject">[];
  history: AuditRow[];
  notes: NoteRow[];
}

/** The conversation if it exists and is in one of `visible` mailboxes (null: all); null otherwise (the page answers 404). */
export async function conversationView(store: Store, id: number, visible: number[] | null): Promise<ConversationView | null> {
  return store.read(async (em) => {
    const conversation = await em.getRepository<ConversationRow>("Conversation").findOneBy({ id });
    if (!conversation || (visible && !visible.includes(conversation.mailboxId))) return null;
    const mailbox = (await em.getRepository<{ id: number; name: string }>("Mailbox").findOneByOrFail({ id: conversation.mailboxId })).name;
    const assignee = conversation.assigneeId
      ? ((await em.getRepository<{ id: number; email: string }>("User").findOneBy({ id: conversation.assigneeId }))?.email ?? null)
      : null;
    const messages = await em.getRepository<MessageRow>("Message").find({
      where: { conversationId: id },
      select: {
        id: true,
        direction: true,
        fromAddress: true,
        fromName: true,
        to: true,
        date: true,
        receivedAt: true,
        subject: true,
        text: true,
        newText: true,
        automated: true,
        html: true,
      },
      order: { id: "ASC" },
    });
    const attachments = messages.length
      ? await em
          .getRepository<AttachmentRow>("Attachment")
          .createQueryBuilder("a")
          .select(["a.id", "a.messageRowId", "a.filename", "a.contentType", "a.size", "a.contentId"])
          .where("a.messageRowId IN (:...ids)", { ids: messages.map((m) => m.id) })
          .getMany()
      : [];
    const triage = await em.getRepository<TriageRow>("Triage").findOne({ where: { conversationId: id }, order: { id: "DESC" } });
    // Without `embedding`: 2,560 floats of JSON per approved draft, never shown, were most of a long thread's view time.
    const drafts = await em.getRepository<DraftRow>("Draft").find({
      where: { conversationId: id },
      select: DRAFT_VIEW_COLUMNS,
      order: { id: "ASC" },
    });
    const outbox = await em.getRepository<OutboxRow>("Outbox").find({
      where: { conversationId: id },
      select: { id: true, state: true, approvedBy: true, approvedAt: true, sentAt: true, lastError: true, subject: true },
      order: { id: "ASC" },
    });
    const history = await em.getRepository<AuditRow>("Audit").find({
      where: { subjectType: "conversation", subjectId: String(id) },
      order: { id: "ASC" },
      take: 200,
    });
    const notes = await notesOf(em, id);
    const byDate = (m: MessageRow) => (m.date ?? m.receivedAt).getTime();
    return {
      conversation,
      mailbox,
      assignee,
      messages: messages
        .sort((a, b) => byDate(a) - byDate(b) || a.id - b.id)
        .map(({ html, ...m }) => ({
          ...m,
          hasHtml: typeof html === "string" && html.trim() !== "",
          attachments: attachments.filter((a) => a.messageRowId === m.id),
        })),
      triage,
      drafts,
      outbox,
      history,
      notes,
    };
  });
}

/** A message's stored HTML and its conversation's mailbox (for the access check), or null. */
export async function messageHtml(
  em: EntityManager,
  messageId: number,
): Promise<{ html: string | null; conversationId: number; mailboxId: number } | null> {
  const m = await em
    .getRepository<MessageRow>("Message")
    .findOne({ where: { id: messageId }, select: { id: true, html: true, conversationId: true, mailboxId: true } });
  return m ? { html: m.html, conversationId: m.conversationId, mailboxId: m.mailboxId } : null;
}

/** An attachment with its message's conversation and mailbox (for the access check), or null. */
export async function attachmentOf(
  em: EntityManager,
  attachmentId: number,
): Promise<(AttachmentRow & { conversationId: number; mailboxId: number }) | null> {
  const a = await em.getRepository<AttachmentRow>("Attachment").findOneBy({ id: attachmentId });
  if (!a) return null;
  const m = await em
    .getRepository<MessageRow>("Message")
    .findOne({ where: { id: a.messageRowId }, select: { id: true, conversationId: true, mailboxId: true } });
  return m ? { ...a, conversationId: m.conversationId, mailboxId: m.mailboxId } : null;
}

/** Assigns a conversation (null: unassign), audited and announced. */
export async function assignConversation(store: Store, id: number, assigneeId: number | null, actor: string): Promise<void> {
  await store.tx(async (em) => {
    await runChanges(em, "UPDATE `conversations` SET `assigneeId` = ?, `updatedAt` = ? WHERE `id` = ?", [
      assigneeId,
      dbDate(new Date()),
      id,
    ]);
    await appendAudit(em, {
      actor,
      action: assigneeId === null ? "conversation.unassign" : "conversation.assign",
      subjectType: "conversation",
      subjectId: String(id),
      detail: { assigneeId },
    });
    await appendEvent(em, "conversation.assigned", id, { assigneeId });
  });
}

/** Sets a conversation's status (open, waiting on customer, solved), audited and announced. */
export async function setConversationStatus(store: Store, id: number, status: ConversationRow["status"], actor: string): Promise<void> {
  await store.tx(async (em) => {
    await runChanges(em, "UPDATE `conversations` SET `status` = ?, `updatedAt` = ? WHERE `id` = ?", [status, dbDate(new Date()), id]);
    await appendAudit(em, { actor, action: "conversation.status", subjectType: "conversation", subjectId: String(id), detail: { status } });
    await appendEvent(em, "conversation.status", id, { status });
  });
}

/** Records that a user opened a conversation (the audit log's "viewed"). */
export async function auditView(store: Store, id: number, actor: string, ip: string | null): Promise<void> {
  await store.tx((em) =>
    appendAudit(em, { actor, action: "conversation.view", subjectType: "conversation", subjectId: String(id), detail: { ip } }),
  );
}

/** An attachment's bytes, or null when it is gone. */
export async function attachmentBytes(em: EntityManager, attachmentId: number): Promise<Buffer | null> {
  const a = await em.getRepository<AttachmentRow>("Attachment").findOneBy({ id: attachmentId });
  return a ? readBlob(em, a.blobId) : null;
}

/** Adds an internal note (never sent to the customer), audited and announced. */
export async function addNote(store: Store, conversationId: number, author: string, body: string): Promise<number> {
  return store.tx(async (em) => {
    const res = await em.getRepository<NoteRow>("Note").insert({ conversationId, author, body: body.slice(0, 20_000) });
    const id = Number(res.identifiers[0]!.id);
    await appendAudit(em, {
      actor: author,
      action: "note.add",
      subjectType: "conversation",
      subjectId: String(conversationId),
      detail: { noteId: id },
    });
    await appendEvent(em, "conversation.note", conversationId, { noteId: id, author });
    return id;
  });
}

export async function notesOf(em: EntityManager, conversationId: number): Promise<NoteRow[]> {
  return em.getRepository<NoteRow>("Note").find({ where: { conversationId }, order: { id: "ASC" } });
}

/** A reviewer sets the priority (and the SLA due time it implies from the conversation's newest message). */
export async function setPriorityByReviewer(store: Store, id: number, priority: Priority, slaDueAt: Date, actor: string): Promise<void> {
  await store.tx(async (em) => {
    await runChanges(em, "UPDATE `conversations` SET `priority` = ?, `slaDueAt` = ?, `updatedAt` = ? WHERE `id` = ?", [
      priority,
      dbDate(slaDueAt),
      dbDate(new Date()),
      id,
    ]);
    await appendAudit(em, {
      actor,
      action: "conversation.priority",
      subjectType: "conversation",
      subjectId: String(id),
      detail: { priority },
    });
    await appendEvent(em, "conversation.priority", id, { priority });
  });
}

/** The mailbox of a conversation (for an access check), or null when there is no such conversation. */
export async function mailboxOfConversation(em: EntityManager, id: number): Promise<number | null> {
  const c = await em.getRepository<ConversationRow>("Conversation").findOne({ where: { id }, select: { id: true, mailboxId: true } });
  return c ? c.mailboxId : null;
}

/** A message's raster images that its HTML can show by Content-ID (cid:). */
export async function inlineImagesOf(
  em: EntityManager,
  messageRowId: number,
): Promise<(Pick<AttachmentRow, "id" | "contentType" | "size"> & { contentId: string })[]> {
  const rows = await em.getRepository<AttachmentRow>("Attachment").find({
    where: { messageRowId },
    select: { id: true, contentType: true, size: true, contentId: true },
  });
  return rows.filter(
    (a): a is AttachmentRow & { contentId: string } => !!a.contentId && /^image\/(png|gif|jpeg|webp)$/u.test(a.contentType),
  );
}
