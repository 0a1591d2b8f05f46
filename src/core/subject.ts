/**
 * Subject lines: reply/forward prefixes in many languages, mailing-list tags and our ticket tag.
 * Threading compares `key`; replies are built from `base`, so the customer's own wording and case survive.
 */

/** What normalizeSubject returns. */
export interface NormalizedSubject {
  /** The subject without reply/forward prefixes and our ticket tags (list tags kept, in front), whitespace collapsed, in NFC; original case kept. */
  base: string;
  /** `base` NFKC-normalized and lower-cased, for comparisons. Empty for placeholder subjects. */
  key: string;
  /** A reply prefix (Re:, AW:, SV:, 回复: ...) was stripped. */
  isReply: boolean;
  /** A forward prefix (Fwd:, WG:, TR:, RV:, 转发: ...) was stripped. */
  isForward: boolean;
}

// Words that clients put before the colon. Each needs a colon after it (optionally a count such as
// [2], (3) or ^2, and whitespace, as French clients write "RE :"), so "Reply needed", "RE-Invoice"
// and "Review: ..." are never touched. Regex sources, matched case-insensitively.
const REPLY_WORDS = [
  "re", "ｒｅ", "aw", "sv", "antw", "antwort", "antwoord", "odp", "odg", "ynt", "rif", "r", "res",
  "réf\\.?", "ref\\.?", "vá", "bls", "atb", "ats", "απ", "σχετ", "השב", "رد",
  "回复", "回覆", "答复", "答覆", "返信", "회신", "답장",
];
// "VS" is a reply in Finnish but a forward in Danish and Norwegian. It counts as a forward because a
// reply arms the subject fallback in threading, and a wrong merge is worse than a missed one.
// Deliberately absent: "I" (Italian forward) and "FS" (Icelandic forward) collide with ordinary
// subjects ("I: ...", "FS: bike for sale"); "Ha" matches no client prefix we could find.
const FORWARD_WORDS = [
  "fwd?", "ｆｗｄ?", "tr", "wg", "rv", "enc", "vs", "vb", "vl", "pd", "doorst", "trs", "pers", "pārs",
  "ilt", "i̇lt", "İlt", "př", "πρθ", "הועבר", "转发", "轉寄", "轉發", "転送", "전달", "továbbítás",
];

const COUNT = String.raw`(?:\[\d{1,5}\]|\(\d{1,5}\)|\^\d{1,5})?`;
// Words and subjects are compared in NFC so a decomposed "Vá" (V, a, U+0301) still matches.
const prefixPattern = (words: string[]) =>
  new RegExp(String.raw`^(?:${words.join("|")})\s*${COUNT}\s*[:：]\s*`.normalize("NFC"), "iu");
const REPLY_PREFIX = prefixPattern(REPLY_WORDS);
const FORWARD_PREFIX = prefixPattern(FORWARD_WORDS);
// Bracketed tags at the start. A list puts its tag before whatever the subject starts with, so one reply
// reads "[users] Re: x" and another "Re: [users] x": a tag before a prefix is moved past it and kept, and
// both thread with "[users] x" (RFC 5256 and JWZ compare them alike). A tag is never dropped: "[URGENT]
// refund" is what the customer wrote.
const LIST_TAGS = /^(?:\[[^[\]]{1,100}\]\s*){1,10}/u;
const ONE_TAG = /\[[^[\]]{1,100}\]/gu;
// Old Netscape-style forwards wrap the whole subject: "[Fwd: original]".
const FORWARD_ENCLOSURE = /^\[\s*fwd?\s*:\s*([^]*)\]$/iu;
const TICKET_TAG = /\[#(\d{1,15})\]/u;
const TICKET_TAGS = /\[#\d{1,15}\]/gu;
// What clients display for an empty subject; we write it ourselves in replies (see replySubject).
const PLACEHOLDER_KEYS = new Set(["(no subject)"]);

const collapse = (s: string) => s.replace(/\s+/gu, " ").trim();

/** Removes every `[#N]` ticket tag, including ones that only appear once an inner tag is gone. */
function removeTicketTags(subject: string): string {
  let s = subject;
  while (TICKET_TAG.test(s)) s = s.replace(TICKET_TAGS, " ");
  return s;
}

function stripPrefix(s: string): { rest: string; kind: "reply" | "forward" } | null {
  const reply = REPLY_PREFIX.exec(s);
  if (reply) return { rest: s.slice(reply[0].length), kind: "reply" };
  const forward = FORWARD_PREFIX.exec(s);
  if (forward) return { rest: s.slice(forward[0].length), kind: "forward" };
  return null;
}

/**
 * `rest` with the list tags that stood before a prefix in front of it, each tag once (compared without
 * case), single-spaced. A subject that is nothing but tags and prefixes keeps no moved tag.
 */
function withListTags(moved: string[], rest: string): string {
  if (moved.length === 0) return rest;
  const lead = LIST_TAGS.exec(rest)?.[0] ?? "";
  const body = rest.slice(lead.length).trim();
  if (!body) return rest;
  const seen = new Set<string>();
  const tags = [...moved, ...(lead.match(ONE_TAG) ?? [])].filter((t) => {
    const k = t.toLowerCase();
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return `${tags.join(" ")} ${body}`;
}

/** Strips leading reply/forward prefixes and our ticket tags, keeping list tags; see NormalizedSubject. */
export function normalizeSubject(subject: string): NormalizedSubject {
  let s = collapse(removeTicketTags((subject ?? "").normalize("NFC")));
  let isReply = false;
  let isForward = false;
  const moved: string[] = [];
  for (;;) {
    const prefix = stripPrefix(s);
    if (prefix) {
      s = prefix.rest;
      if (prefix.kind === "reply") isReply = true;
      else isForward = true;
      continue;
    }
    const tag = LIST_TAGS.exec(s);
    if (tag && stripPrefix(s.slice(tag[0].length))) {
      moved.push(...(tag[0].match(ONE_TAG) ?? []));
      s = s.slice(tag[0].length);
      continue;
    }
    const enclosure = FORWARD_ENCLOSURE.exec(s);
    if (enclosure) {
      s = enclosure[1]!.trim();
      isForward = true;
      continue;
    }
    break;
  }
  const base = withListTags(moved, s.trim());
  const key = collapse(base.normalize("NFKC").toLowerCase());
  return { base, key: PLACEHOLDER_KEYS.has(key) ? "" : key, isReply, isForward };
}

/** The number in the first `[#N]` tag of a subject, or null. */
export function extractTicketTag(subject: string): number | null {
  const match = TICKET_TAG.exec(subject ?? "");
  return match ? Number(match[1]) : null;
}

/** The subject with ` [#ticket]` appended; unchanged when that is already its only tag. Other tags of ours are replaced. */
export function tagSubject(subject: string, ticket: number): string {
  // At most 15 digits: longer tags are not ours to read back (see TICKET_TAG).
  if (!Number.isSafeInteger(ticket) || ticket < 1 || String(ticket).length > 15) {
    throw new RangeError(`ticket must be a positive integer of at most 15 digits, got ${ticket}`);
  }
  const tags = [...(subject ?? "").matchAll(TICKET_TAGS)].map((m) => Number(m[0].slice(2, -1)));
  if (tags.length > 0 && tags.every((t) => t === ticket)) return subject;
  return collapse(`${collapse(removeTicketTags(subject ?? ""))} [#${ticket}]`);
}
