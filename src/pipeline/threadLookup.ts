import type { EntityManager } from "typeorm";
import { factsNeeded, type ConversationFacts, type ReferenceHit, type ThreadInput, type ThreadLookup, type ThreadOptions } from "../core/threading.js";
import type { IntakeBatch } from "../store/intakeBatch.js";
import { CONVERSATION_STATE_COLUMNS, conversationState, type ConversationState, type ConversationStateRow } from "../store/intakeWrites.js";
import { fromDbDate, placeholders, select, type SqlValue } from "../store/sql.js";

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
 * Facts the threading rules need, read inside the intake transaction; only what the rules could use
 * is looked up (references decide alone when they hit; tag and subject only where they apply).
 * `states` holds the current row of every conversation a reference hit, so intake need not read it again.
 */
export async function lookupThread(
  em: EntityManager,
  batch: IntakeBatch,
  mailboxId: number,
  ownId: string | null,
  input: ThreadInput,
  options: ThreadOptions,
): Promise<ThreadLookup & { states: Map<number, ConversationState> }> {
  const states = new Map<number, ConversationState>();
  const refIds = input.referenceIds;
  const references: ReferenceHit[] = [];
  // Messages that reference us (a reply stored before its parent) or the same ids as we do (siblings).
  const pointers = ownId ? [...refIds, ownId] : refIds;
  if (pointers.length > 0) {
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
    for (const row of await select<ConversationStateRow & { hit: string }>(em, parts.join(" UNION ALL "), params)) {
      const state = conversationState(row);
      states.set(state.id, state);
      references.push({ conversationId: state.id, refIndex: refIds.indexOf(row.hit) });
    }
    for (const hit of batch.pendingRefsTo(pointers)) references.push({ conversationId: hit.conversationId, refIndex: refIds.indexOf(hit.refId) });
  }
  if (references.length > 0) return { references, tagged: null, sameSubject: [], states };

  const needed = factsNeeded(input, options);
  let tagged: ConversationFacts | null = null;
  if (needed.tag) {
    const rows = await select<ConversationFactsRow>(
      em,
      "SELECT `id`, `participants`, `lastMessageAt` FROM `conversations` WHERE `id` = ? AND `mailboxId` = ?",
      [input.ticketTag, mailboxId],
    );
    if (rows[0]) tagged = facts(rows[0]);
  }
  const sameSubject = needed.subject
    ? (
        await select<ConversationFactsRow>(
          em,
          "SELECT `id`, `participants`, `lastMessageAt` FROM `conversations` WHERE `mailboxId` = ? AND `subjectKey` = ? ORDER BY `lastMessageAt` DESC LIMIT 20",
          [mailboxId, input.subjectKey.slice(0, 255)],
        )
      ).map(facts)
    : [];
  return { references, tagged, sameSubject, states };
}
