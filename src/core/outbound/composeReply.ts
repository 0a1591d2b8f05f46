/**
 * The headers and text of a reply, from plain inputs. Everything here is decided by code (DESIGN.md
 * promise 6): the model supplies a body only, and the approved body goes out byte for byte.
 * The HTML part (templates/replies/*.hbs) and DKIM are the sending side's; this builds the text part
 * the HTML must agree with.
 */
import type { Address } from "../message.js";
import { isUsableMessageId } from "../references.js";
import { buildReplyHeaders, defaultMaxReferences, formatMessageId, formatReferences, replySubject } from "../replyHeaders.js";
import { tagSubject } from "../subject.js";
import { cleanDisplayName, isSendableAddress } from "./recipients.js";

/** The message being answered: its threading facts and what the quoted history shows. */
export interface ReplyTarget {
  /** Without brackets; null when it had none (then no In-Reply-To is written). */
  messageId: string | null;
  inReplyTo: string | null;
  references: readonly string[];
  from: Address | null;
  date: Date | null;
  /** Its plain text, quoted when quoting is on. */
  text: string;
}

export interface ComposeReplyInput {
  mailbox: {
    address: string;
    /** Shown before the address in From; empty or absent for the bare address. */
    displayName?: string | null;
    /** Appended after the RFC 3676 signature separator "-- "; empty or absent for none. */
    signature?: string | null;
  };
  /** From resolveRecipients (an `ok` decision). */
  to: readonly Address[];
  cc?: readonly Address[];
  /** The subject answered: the conversation's subject (or the answered message's). */
  subject: string;
  /** The conversation's ticket number, when subject tags are enabled: `[#id]` is written (replacing any other of ours). */
  ticketTag?: number | null;
  answered: ReplyTarget;
  /** Our Message-ID, assigned when the outbox entry was created, without brackets. */
  messageId: string;
  /** The approved body, exactly as approved. */
  body: string;
  /** Quote the answered message's text under the reply. */
  quoteHistory?: boolean;
  /** How much of the answered text to quote (characters, cut at a line); default 50,000. */
  maxQuoteChars?: number;
  maxReferences?: number;
  /** Renders the date in the attribution line; default a fixed UTC form, so the output does not depend on the host's zone. */
  formatDate?: (date: Date) => string;
}

export interface ComposedReply {
  from: Address;
  to: Address[];
  cc: Address[];
  subject: string;
  /** Ids without brackets. */
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  /** Ready header values (`<id>` form), for nodemailer's messageId / inReplyTo / references options. */
  headers: { messageId: string; inReplyTo: string | null; references: string | null };
  /** The text part: body, then signature, then quoted history; `\n` line ends added by us, the body's own kept. */
  text: string;
}

/** Quoting a whole 2 MB newsletter-sized message would bury the reply and bloat every later quote. */
export const defaultMaxQuoteChars = 50_000;

const SIGNATURE_SEPARATOR = "-- \n"; // RFC 3676 §4.3: dash, dash, space, line end.
const oneLine = cleanDisplayName;
const toLf = (s: string) => s.replace(/\r\n?/gu, "\n");

/** Builds the reply; throws RangeError on inputs no reply may go out with (no To, empty body, unusable Message-ID). */
export function composeReply(input: ComposeReplyInput): ComposedReply {
  if (!isUsableMessageId(input.messageId)) throw new RangeError(`not a usable Message-ID: ${JSON.stringify(input.messageId)}`);
  if (input.to.length === 0) throw new RangeError("a reply needs at least one To recipient (see resolveRecipients)");
  // resolveRecipients already checked these; checked again because a header is where an injected
  // line break or a second address would do harm.
  for (const a of [...input.to, ...(input.cc ?? []), { address: input.mailbox.address, name: "" }]) {
    if (!isSendableAddress(a.address)) throw new RangeError(`not a sendable address: ${JSON.stringify(a.address)}`);
  }
  // Approval refuses empty bodies; this guards the send against a reply that would be only a signature.
  if (input.body.trim() === "") throw new RangeError("the approved body is empty");

  const { inReplyTo, references } = buildReplyHeaders(
    { messageId: input.answered.messageId, inReplyTo: input.answered.inReplyTo, references: [...input.answered.references] },
    { maxReferences: input.maxReferences ?? defaultMaxReferences },
  );
  const tagged = input.ticketTag == null ? input.subject : tagSubject(input.subject ?? "", input.ticketTag);

  return {
    from: { address: input.mailbox.address.trim(), name: oneLine(input.mailbox.displayName) },
    to: input.to.map((a) => ({ address: a.address.trim(), name: oneLine(a.name) })),
    cc: (input.cc ?? []).map((a) => ({ address: a.address.trim(), name: oneLine(a.name) })),
    subject: replySubject(tagged),
    messageId: input.messageId,
    inReplyTo,
    references,
    headers: {
      messageId: formatMessageId(input.messageId),
      inReplyTo: inReplyTo === null ? null : formatMessageId(inReplyTo),
      references: references.length === 0 ? null : formatReferences(references),
    },
    text: replyText(input),
  };
}

/** The text part: the body untouched, the signature, the quoted history, separated by blank lines. */
function replyText(input: ComposeReplyInput): string {
  const body = input.body;
  let text = body.endsWith("\n") ? body : `${body}\n`;
  const signature = toLf(input.mailbox.signature ?? "").replace(/\n+$/u, "");
  if (signature.trim() !== "") text += `\n${SIGNATURE_SEPARATOR}${signature}\n`;
  if (input.quoteHistory === true) {
    const quoted = quote(input.answered.text, input.maxQuoteChars ?? defaultMaxQuoteChars);
    if (quoted !== "") text += `\n${attribution(input.answered, input.formatDate ?? formatUtc)}\n${quoted}`;
  }
  return text;
}

/** "On <date>, <name> <address> wrote:", leaving out what is unknown. */
export function attribution(answered: Pick<ReplyTarget, "from" | "date">, formatDate: (date: Date) => string = formatUtc): string {
  const name = oneLine(answered.from?.name);
  const address = oneLine(answered.from?.address);
  const who = name && address ? `${name} <${address}>` : name || address || "someone";
  const date = answered.date && !Number.isNaN(answered.date.getTime()) ? oneLine(formatDate(answered.date)) : "";
  return date ? `On ${date}, ${who} wrote:` : `${who} wrote:`;
}

/** Each line prefixed "> " (an empty line becomes ">", no trailing space); trailing blank lines dropped; cut at a line. */
export function quote(text: string, maxChars = defaultMaxQuoteChars): string {
  let lines = toLf(text ?? "")
    .replace(/\s+$/u, "")
    .split("\n");
  if (lines.length === 1 && lines[0] === "") return "";
  let cut = false;
  let size = 0;
  const kept: string[] = [];
  for (const line of lines) {
    size += line.length + 1;
    if (size > maxChars) {
      // A single overlong first line is cut inside; otherwise the cut falls between lines.
      if (kept.length === 0) kept.push(line.slice(0, Math.max(0, maxChars)));
      cut = true;
      break;
    }
    kept.push(line);
  }
  lines = kept;
  const out = lines.map((l) => (l === "" ? ">" : `> ${l}`));
  if (cut) out.push("> [...]");
  return `${out.join("\n")}\n`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** "Mon, 3 Mar 2025 at 14:05 UTC". */
export function formatUtc(date: Date): string {
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} at ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
}

/**
 * Whether a text part (as sent, or as parsed back from the bytes sent) contains the approved body
 * unchanged. Only line endings are normalized: SMTP turns every line end into CRLF, a parser may hand
 * back LF. Anything else (trimmed whitespace, re-wrapped lines, a changed character) is a mismatch.
 */
export function containsApprovedBody(textPart: string, body: string): boolean {
  const wanted = toLf(body);
  // Every text contains the empty string; an empty approved body is a fault upstream, never a match.
  return wanted.trim() !== "" && toLf(textPart).includes(wanted);
}
