import type { EntityManager } from "typeorm";
import type { ConversationFacts } from "../core/threading.js";
import { CONVERSATION_STATE_COLUMNS, conversationState, type ConversationState, type ConversationStateRow } from "./intakeWrites.js";
import { fromDbDate, placeholders, select, type SqlValue } from "./sql.js";

/** What the threading rules read about stored conversations, inside the intake transaction. */

interface ConversationFactsRow {
  id: number;
  participants: string | null;
  lastMessageAt: unknown;
}

const facts = (c: ConversationFactsRow): ConversationFacts => ({
  conversationId: Number(c.id),
  participants: c.participants ? (JSON.parse(c.participants) as string[]) : [],
  lastMessageAt: fromDbDate(c.lastMessageAt),
});

/**
 * Stored conversations that hold a message with one of `refIds` as its Message-ID, or a message that
 * references one of `pointers`; each hit with the id it matched and the conversation's current row.
 */
export async function conversationsByReference(
  em: EntityManager,
  mailboxId: number,
  refIds: readonly string[],
  pointers: readonly string[],
): Promise<{ hit: string; state: ConversationState }[]> {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  if (refIds.length > 0) {
    // Two different messages may carry one Message-ID (both are kept, see dedupeKeys). As in JWZ, the
    // id belongs to the first one stored; a later holder must not pull its conversation into the reply.
    parts.push(
      `SELECT m.\`messageId\` AS \`hit\`, ${CONVERSATION_STATE_COLUMNS} FROM \`messages\` m INNER JOIN \`conversations\` c ON c.\`id\` = m.\`conversationId\` ` +
        `WHERE m.\`mailboxId\` = ? AND m.\`messageId\` IN ${placeholders(refIds.length)} ` +
        "AND NOT EXISTS (SELECT 1 FROM `messages` e WHERE e.`mailboxId` = m.`mailboxId` AND e.`messageId` = m.`messageId` AND e.`id` < m.`id`)",
    );
    params.push(mailboxId, ...refIds);
  }
  parts.push(
    `SELECT r.\`refId\` AS \`hit\`, ${CONVERSATION_STATE_COLUMNS} FROM \`message_refs\` r INNER JOIN \`messages\` m ON m.\`id\` = r.\`messageRowId\` ` +
      `INNER JOIN \`conversations\` c ON c.\`id\` = m.\`conversationId\` WHERE r.\`mailboxId\` = ? AND r.\`refId\` IN ${placeholders(pointers.length)}`,
  );
  params.push(mailboxId, ...pointers);
  const rows = await select<ConversationStateRow & { hit: string }>(em, parts.join(" UNION ALL "), params);
  return rows.map((row) => ({ hit: row.hit, state: conversationState(row) }));
}

/** The conversation a ticket tag names, when it is one of this mailbox's. */
export async function taggedConversation(em: EntityManager, mailboxId: number, conversationId: number): Promise<ConversationFacts | null> {
  const rows = await select<ConversationFactsRow>(
    em,
    "SELECT `id`, `participants`, `lastMessageAt` FROM `conversations` WHERE `id` = ? AND `mailboxId` = ?",
    [conversationId, mailboxId],
  );
  return rows[0] ? facts(rows[0]) : null;
}

/** The mailbox's latest conversations with this subject key, newest first (at most 20). */
export async function conversationsBySubject(em: EntityManager, mailboxId: number, subjectKey: string): Promise<ConversationFacts[]> {
  const rows = await select<ConversationFactsRow>(
    em,
    "SELECT `id`, `participants`, `lastMessageAt` FROM `conversations` WHERE `mailboxId` = ? AND `subjectKey` = ? ORDER BY `lastMessageAt` DESC LIMIT 20",
    [mailboxId, subjectKey.slice(0, 255)],
  );
  return rows.map(facts);
}
