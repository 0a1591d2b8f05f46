import { In, type EntityManager } from "typeorm";
import type { ConversationFacts, ReferenceHit, ThreadLookup } from "../core/threading.js";
import type { ConversationRow, MessageRefRow, MessageRow } from "../store/entities/mail.js";

/** Facts the threading rules need, read inside the intake transaction. */
export async function lookupThread(
  em: EntityManager,
  q: { mailboxId: number; ownId: string | null; referenceIds: string[]; ticketTag: number | null; subjectKey: string },
): Promise<ThreadLookup> {
  const references: ReferenceHit[] = [];
  if (q.referenceIds.length > 0) {
    const parents = await em.getRepository<MessageRow>("Message").find({
      select: { conversationId: true, messageId: true },
      where: { mailboxId: q.mailboxId, messageId: In(q.referenceIds) },
    });
    for (const p of parents) references.push({ conversationId: p.conversationId, refIndex: q.referenceIds.indexOf(p.messageId!) });
  }
  // Messages that reference us (a reply stored before its parent) or the same ids as we do (siblings).
  const pointers = q.ownId ? [...q.referenceIds, q.ownId] : q.referenceIds;
  if (pointers.length > 0) {
    const refs = await em
      .getRepository<MessageRefRow>("MessageRef")
      .createQueryBuilder("r")
      .innerJoin("messages", "m", "m.id = r.messageRowId")
      .select(["r.refId AS refId", "m.conversationId AS conversationId"])
      .where("r.mailboxId = :mailboxId AND r.refId IN (:...pointers)", { mailboxId: q.mailboxId, pointers })
      .getRawMany<{ refId: string; conversationId: number }>();
    for (const r of refs) {
      const idx = q.referenceIds.indexOf(r.refId);
      references.push({ conversationId: Number(r.conversationId), refIndex: idx });
    }
  }

  const conversations = em.getRepository<ConversationRow>("Conversation");
  const facts = (c: ConversationRow): ConversationFacts => ({
    conversationId: c.id,
    participants: c.participants ?? [],
    lastMessageAt: c.lastMessageAt,
  });
  let tagged: ConversationFacts | null = null;
  if (q.ticketTag !== null) {
    const c = await conversations.findOne({ where: { id: q.ticketTag, mailboxId: q.mailboxId } });
    if (c) tagged = facts(c);
  }
  const sameSubject = q.subjectKey
    ? (
        await conversations.find({
          where: { mailboxId: q.mailboxId, subjectKey: q.subjectKey.slice(0, 255) },
          order: { lastMessageAt: "DESC" },
          take: 20,
        })
      ).map(facts)
    : [];
  return { references, tagged, sameSubject };
}
