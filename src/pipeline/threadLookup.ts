import type { EntityManager } from "typeorm";
import { factsNeeded, type ReferenceHit, type ThreadInput, type ThreadLookup, type ThreadOptions } from "../core/threading.js";
import type { IntakeBatch } from "../store/intakeBatch.js";
import type { ConversationState } from "../store/intakeWrites.js";
import { conversationsByReference, conversationsBySubject, taggedConversation } from "../store/threadFacts.js";

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
    for (const { hit, state } of await conversationsByReference(em, mailboxId, refIds, pointers)) {
      states.set(state.id, state);
      references.push({ conversationId: state.id, refIndex: refIds.indexOf(hit) });
    }
    for (const hit of batch.pendingRefsTo(pointers)) references.push({ conversationId: hit.conversationId, refIndex: refIds.indexOf(hit.refId) });
  }
  if (references.length > 0) return { references, tagged: null, sameSubject: [], states };

  const needed = factsNeeded(input, options);
  const tagged = needed.tag && input.ticketTag !== null ? await taggedConversation(em, mailboxId, input.ticketTag) : null;
  const sameSubject = needed.subject ? await conversationsBySubject(em, mailboxId, input.subjectKey) : [];
  return { references, tagged, sameSubject, states };
}
