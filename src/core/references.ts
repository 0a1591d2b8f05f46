/**
 * Message ids out of Message-ID / In-Reply-To / References header text, and the ids a message points at.
 * Ids come from untrusted mail and end up in our outgoing headers, so anything that could break a
 * header (whitespace, line breaks, angle brackets, control characters) is never accepted.
 */

const MAX_ID_LENGTH = 500;
const BRACKETED = /<([^<>]*)>/gu;
// Whitespace (which covers CR/LF), brackets and other control characters.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this must find
const FORBIDDEN = /[\s<>\u0000-\u001f\u007f]/u;

/** True when an id (without brackets) is safe to store, compare and write back into a header. */
export function isUsableMessageId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH && !FORBIDDEN.test(id);
}

/** Trims an id and drops one pair of surrounding brackets; null when what is left is not usable. */
export function cleanMessageId(id: string | null | undefined): string | null {
  if (typeof id !== "string") return null;
  let s = id.trim();
  if (s.startsWith("<") && s.endsWith(">")) s = s.slice(1, -1).trim();
  return isUsableMessageId(s) ? s : null;
}

/** Message ids in header text, in order, without brackets or duplicates. */
export function parseMessageIds(value: string | string[] | null | undefined): string[] {
  const text = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string").join(" ");
  // Bracketed ids need no '@': GUID-style ids such as <ff000000-2202-...> occur in real mail.
  // Without any bracket, only tokens with an '@' count, so "Your message of Monday" yields nothing.
  const candidates = text.includes("<")
    ? [...text.matchAll(BRACKETED)].map((m) => m[1]!.trim())
    : text.split(/[\s,;]+/u).filter((token) => token.includes("@"));
  return [...new Set(candidates.filter(isUsableMessageId))];
}

/**
 * The ids a message points at, most relevant first; never its own id. As in RFC 5256 (and JWZ), the
 * References header decides: its ids, newest (the parent) first. In-Reply-To counts only when References
 * holds no usable id, so a client that writes an In-Reply-To naming some other message cannot pull
 * this one (or, through a merge, its whole thread) into that message's conversation.
 */
export function referenceIds(
  input: { inReplyTo: string | null; references: string[]; ownId: string | null },
  max = 50,
): string[] {
  const limit = Math.floor(max);
  if (!(limit > 0)) return [];
  const own = cleanMessageId(input.ownId);
  const usable = (ids: (string | null)[]) => ids.map(cleanMessageId).filter((id): id is string => id !== null && id !== own);
  const references = usable([...input.references].reverse());
  const ordered = references.length > 0 ? references : usable([input.inReplyTo]);
  return [...new Set(ordered)].slice(0, limit);
}
