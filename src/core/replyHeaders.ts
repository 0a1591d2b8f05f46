/**
 * Subject and threading headers of the replies we send (RFC 5322 §3.6.4). Set by code, never by the model.
 */
import { cleanMessageId, isUsableMessageId, parseMessageIds } from "./references.js";
import { extractTicketTag, normalizeSubject } from "./subject.js";

/** Bounded References keep the root and the newest ids; 20 stays well under common header limits. */
export const defaultMaxReferences = 20;

// Written for an empty subject: a bare "Re: " ends in whitespace, which some MTAs and clients trim,
// so the subject would change on its way back. normalizeSubject gives this placeholder an empty key
// so it never threads by subject alone.
const EMPTY_SUBJECT = "(no subject)";

/** Exactly one leading "Re: " before the customer's subject (all reply/forward prefixes gone); our ticket tag kept at the end. */
export function replySubject(subject: string): string {
  const { base } = normalizeSubject(subject);
  const tag = extractTicketTag(subject ?? "");
  return `Re: ${base || EMPTY_SUBJECT}${tag === null ? "" : ` [#${tag}]`}`;
}

/** The threading facts of the message being answered (ids without brackets). */
export interface ReplyParent {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
}

/** Ids for our reply's In-Reply-To and References, without brackets (see formatReferences). */
export interface ReplyThreadHeaders {
  /** The parent's Message-ID, or null when it had none. */
  inReplyTo: string | null;
  /** Oldest first, ending with the parent's Message-ID when it has one. */
  references: string[];
}

/** In-Reply-To and References for a reply to `parent`, References bounded to maxReferences (root + newest). */
export function buildReplyHeaders(parent: ReplyParent, options: { maxReferences?: number } = {}): ReplyThreadHeaders {
  const max = options.maxReferences ?? defaultMaxReferences;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxReferences must be a positive integer, got ${max}`);

  const parentId = cleanMessageId(parent.messageId);
  const parentRefs = parent.references.map(cleanMessageId).filter((id): id is string => id !== null);
  // RFC 5322: without References, use In-Reply-To only when it names exactly one message.
  const inherited = parentRefs.length > 0 ? parentRefs : oneId(parent.inReplyTo);
  const ids = [...new Set(inherited)].filter((id) => id !== parentId);
  if (parentId !== null) ids.push(parentId);

  if (ids.length <= max) return { inReplyTo: parentId, references: ids };
  // With room for one id only, the parent matters more than the root.
  const references = max === 1 ? ids.slice(-1) : [ids[0]!, ...ids.slice(ids.length - (max - 1))];
  return { inReplyTo: parentId, references };
}

function oneId(inReplyTo: string | null): string[] {
  if (inReplyTo === null) return [];
  const clean = cleanMessageId(inReplyTo);
  const ids = clean !== null ? [clean] : parseMessageIds(inReplyTo);
  return ids.length === 1 ? ids : [];
}

/** `<id>` for a header; throws on an id that could break the header (whitespace, brackets, control characters). */
export function formatMessageId(id: string): string {
  if (!isUsableMessageId(id)) throw new RangeError(`not a usable message id: ${JSON.stringify(id)}`);
  return `<${id}>`;
}

/** A References/In-Reply-To value: bracketed ids separated by single spaces (folding is left to the mailer). */
export function formatReferences(ids: string[]): string {
  return ids.map(formatMessageId).join(" ");
}

/** A Message-ID (without brackets) for mail we send; the caller supplies the randomness so core stays pure. */
export function newMessageId(domain: string, unique: string): string {
  const id = `${unique}@${domain}`;
  if (!unique || !domain || unique.includes("@") || domain.includes("@") || !isUsableMessageId(id)) {
    throw new RangeError(`cannot build a message id from ${JSON.stringify(unique)} and ${JSON.stringify(domain)}`);
  }
  return id;
}
