/**
 * Which conversation a message belongs to, decided from facts the store looked up.
 * Order (DESIGN.md): references we know → our subject tag (sender must be a participant)
 * → conservative normalized-subject fallback → a new conversation.
 */

export type ThreadRule = "reference" | "tag" | "subject" | "new";

export interface ThreadInput {
  /** Lower-cased sender address, or null. */
  from: string | null;
  /** Ids this message points at, most relevant first: References newest first, In-Reply-To only without them (see referenceIds). */
  referenceIds: string[];
  ticketTag: number | null;
  subjectKey: string;
  /** The subject carried a reply prefix (Re:, AW:, 回复: ...). */
  isReply: boolean;
  date: Date;
}

export interface ReferenceHit {
  conversationId: number;
  /** Index into ThreadInput.referenceIds of the id that matched; -1 when a stored message references us (a child that arrived first). */
  refIndex: number;
}

export interface ConversationFacts {
  conversationId: number;
  participants: string[];
  lastMessageAt: Date;
}

export interface ThreadLookup {
  /** Stored messages whose Message-ID is one of our references, or that reference us or the same ids. */
  references: ReferenceHit[];
  /** The conversation named by our subject tag, if it exists. */
  tagged: ConversationFacts | null;
  /** Conversations in the same mailbox with the same subject key. */
  sameSubject: ConversationFacts[];
}

export interface ThreadDecision {
  conversationId: number | null;
  rule: ThreadRule;
  /** Other conversations the references prove are the same thread (split earlier because a reply came before its parent). */
  merge: number[];
}

export interface ThreadOptions {
  subjectWindowMs: number;
  /** Subject keys this short never thread by subject alone. */
  minSubjectKeyLength: number;
}

export const defaultThreadOptions: ThreadOptions = {
  subjectWindowMs: 14 * 24 * 3600 * 1000,
  minSubjectKeyLength: 4,
};

/** Which facts beyond references the rules could use for this message (the rest need not be looked up). */
export function factsNeeded(input: Pick<ThreadInput, "from" | "ticketTag" | "subjectKey" | "isReply">, options: ThreadOptions = defaultThreadOptions) {
  return {
    tag: input.ticketTag !== null && input.from !== null,
    subject: input.isReply && input.from !== null && input.subjectKey.length >= options.minSubjectKeyLength,
  };
}

export function chooseConversation(
  input: ThreadInput,
  lookup: ThreadLookup,
  options: ThreadOptions = defaultThreadOptions,
): ThreadDecision {
  if (lookup.references.length > 0) {
    const rank = (hit: ReferenceHit) => (hit.refIndex < 0 ? Number.MAX_SAFE_INTEGER : hit.refIndex);
    const ordered = [...lookup.references].sort((a, b) => rank(a) - rank(b) || a.conversationId - b.conversationId);
    // Keep the oldest conversation (lowest id) so merges always fold newer splits into the original.
    const ids = [...new Set(ordered.map((h) => h.conversationId))];
    const target = Math.min(...ids);
    return { conversationId: target, rule: "reference", merge: ids.filter((id) => id !== target) };
  }

  const from = input.from;
  if (input.ticketTag !== null && lookup.tagged && from && lookup.tagged.participants.includes(from)) {
    return { conversationId: lookup.tagged.conversationId, rule: "tag", merge: [] };
  }

  if (input.isReply && from && input.subjectKey.length >= options.minSubjectKeyLength) {
    const since = input.date.getTime() - options.subjectWindowMs;
    const match = lookup.sameSubject
      .filter((c) => c.participants.includes(from) && c.lastMessageAt.getTime() >= since)
      .sort((a, b) => b.lastMessageAt.getTime() - a.lastMessageAt.getTime())[0];
    if (match) return { conversationId: match.conversationId, rule: "subject", merge: [] };
  }

  return { conversationId: null, rule: "new", merge: [] };
}
