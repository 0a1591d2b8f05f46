import { In } from "typeorm";
import type { ConversationRow, MailboxRow, MessageRow } from "./entities/mail.js";
import type { DraftRow, TriageRow } from "./entities/review.js";
import type { Store } from "./store.js";

/** The columns of a message that a conversation listing shows. */
export type ListedMessage = Pick<
  MessageRow,
  | "id"
  | "conversationId"
  | "messageId"
  | "inReplyTo"
  | "fromAddress"
  | "date"
  | "receivedAt"
  | "direction"
  | "automated"
  | "automatedReason"
  | "subject"
>;

/** One conversation with its mailbox's name, its messages (in no particular order) and its latest triage and draft. */
export interface ConversationListing {
  conversation: ConversationRow;
  mailboxName: string;
  messages: ListedMessage[];
  triage: TriageRow | undefined;
  draft: DraftRow | undefined;
}

/** Conversations to list, oldest first: all of them, or one mailbox's (none when no mailbox has that name). */
export async function listConversations(store: Store, mailboxName?: string): Promise<ConversationListing[]> {
  return store.read(async (em) => {
    const mailboxes = await em.getRepository<MailboxRow>("Mailbox").find();
    const names = new Map(mailboxes.map((m) => [m.id, m.name]));
    const where = mailboxName ? { mailboxId: mailboxes.find((m) => m.name === mailboxName)?.id ?? -1 } : {};
    const conversations = await em.getRepository<ConversationRow>("Conversation").find({ where, order: { id: "ASC" } });
    const out: ConversationListing[] = [];
    const PAGE = 500;
    for (let i = 0; i < conversations.length; i += PAGE) {
      const page = conversations.slice(i, i + PAGE);
      const ids = page.map((c) => c.id);
      const rows: ListedMessage[] = await em.getRepository<MessageRow>("Message").find({
        where: { conversationId: In(ids) },
        select: {
          id: true,
          conversationId: true,
          messageId: true,
          inReplyTo: true,
          fromAddress: true,
          date: true,
          receivedAt: true,
          direction: true,
          automated: true,
          automatedReason: true,
          subject: true,
        },
      });
      // Rows by id: the last one of a conversation is its latest.
      const triages = new Map<number, TriageRow>();
      for (const t of await em.getRepository<TriageRow>("Triage").find({ where: { conversationId: In(ids) }, order: { id: "ASC" } }))
        triages.set(t.conversationId, t);
      const drafts = new Map<number, DraftRow>();
      for (const d of await em.getRepository<DraftRow>("Draft").find({ where: { conversationId: In(ids) }, order: { id: "ASC" } }))
        drafts.set(d.conversationId, d);
      const byConv = new Map<number, ListedMessage[]>();
      for (const r of rows) (byConv.get(r.conversationId) ?? byConv.set(r.conversationId, []).get(r.conversationId)!).push(r);
      for (const c of page) {
        out.push({
          conversation: c,
          mailboxName: names.get(c.mailboxId) ?? String(c.mailboxId),
          messages: byConv.get(c.id) ?? [],
          triage: triages.get(c.id),
          draft: drafts.get(c.id),
        });
      }
    }
    return out;
  });
}
