import type { EntityManager } from "typeorm";
import type { ConversationRow, MailboxRow, MessageRow, Priority } from "./entities/mail.js";

/** A message of a thread with the fields a prompt shows of it. */
export type ThreadMessageRow = Pick<
  MessageRow,
  "id" | "fromAddress" | "fromName" | "date" | "receivedAt" | "newText" | "text" | "direction" | "html"
>;

export async function findMessage(em: EntityManager, id: number): Promise<MessageRow | null> {
  return em.getRepository<MessageRow>("Message").findOneBy({ id });
}

/** The message; throws when it is gone. */
export async function getMessage(em: EntityManager, id: number): Promise<MessageRow> {
  return em.getRepository<MessageRow>("Message").findOneByOrFail({ id });
}

/** The conversation; throws when it is gone. */
export async function getConversation(em: EntityManager, id: number): Promise<ConversationRow> {
  return em.getRepository<ConversationRow>("Conversation").findOneByOrFail({ id });
}

/** The mailbox a message or conversation belongs to (mailboxes are never deleted). */
export async function mailboxOf(em: EntityManager, of: { mailboxId: number }): Promise<MailboxRow> {
  return em.getRepository<MailboxRow>("Mailbox").findOneByOrFail({ id: of.mailboxId });
}

/** The conversation a message is in now (a merge moves messages between conversations); null when the message is gone. */
export async function conversationOfMessage(em: EntityManager, messageRowId: number): Promise<number | null> {
  const m = await em
    .getRepository<MessageRow>("Message")
    .findOne({ where: { id: messageRowId }, select: { id: true, conversationId: true } });
  return m ? m.conversationId : null;
}

/**
 * The message's conversation now (a merge moves messages between conversations, so a job never trusts
 * the one in its payload) and the first customer message in it after this one (inbound, not automated),
 * null when there is none; null when the message is gone.
 */
export async function conversationNow(
  em: EntityManager,
  messageRowId: number,
): Promise<{ conversationId: number; newer: number | null } | null> {
  const conversationId = await conversationOfMessage(em, messageRowId);
  if (conversationId === null) return null;
  const rows = await em
    .getRepository<MessageRow>("Message")
    .createQueryBuilder("m")
    .select("m.id", "id")
    .where("m.conversationId = :conversationId AND m.direction = 'inbound' AND m.automated = :no AND m.id > :id", {
      conversationId,
      id: messageRowId,
      no: false,
    })
    .limit(1)
    .getRawMany<{ id: number }>();
  return { conversationId, newer: rows[0] ? Number(rows[0].id) : null };
}

/** Every message of a conversation, in no particular order. */
export async function threadMessages(em: EntityManager, conversationId: number): Promise<ThreadMessageRow[]> {
  return em.getRepository<MessageRow>("Message").find({
    where: { conversationId },
    select: {
      id: true,
      fromAddress: true,
      fromName: true,
      date: true,
      receivedAt: true,
      newText: true,
      text: true,
      direction: true,
      html: true,
    },
  });
}

/** Sets the priority triage decided for a conversation and when a reply is due under its SLA. */
export async function setConversationPriority(
  em: EntityManager,
  conversationId: number,
  priority: Priority,
  slaDueAt: Date,
): Promise<void> {
  await em.getRepository<ConversationRow>("Conversation").update({ id: conversationId }, { priority, slaDueAt });
}
