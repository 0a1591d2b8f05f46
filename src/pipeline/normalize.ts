import { createHash } from "node:crypto";
import EmailReplyParser from "email-reply-parser";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import sanitizeHtml from "sanitize-html";
import { DraftgateError } from "../core/errors.js";
import type { Address, HeaderMap, NormalizedAttachment, NormalizedMessage } from "../core/message.js";
import { visibleTextFromHtml } from "../core/visibleText/hiddenText.js";
import { parseMessageIds } from "../core/references.js";

/** Raised for input that is not a message at all; the pipeline quarantines it with this reason. */
export class UnparseableMessageError extends DraftgateError {
  constructor(message: string) {
    super("EPARSE", message);
  }
}

const PARSER_OPTIONS = {
  skipTextToHtml: true,
  // For HTML-only mail we derive the text ourselves, from what a reader sees: mailparser's conversion
  // keeps hidden elements (display:none, zero-size text), a favourite place for instructions to a model.
  skipHtmlToText: true,
  skipImageLinks: true,
  skipTextLinks: true,
  // Keep DSN parts (message/delivery-status) as attachments: the bounce evidence stays with the message.
  keepDeliveryStatus: true,
} as const;

/** Limit on text fed to the quote stripper: its regexes are linear but a 1 MB body gains nothing. */
const REPLY_PARSE_LIMIT = 100_000;
/** Lines kept after the first quoted (">") line: enough for the parser to see the quote block start. */
const LINES_AFTER_FIRST_QUOTE = 2;

/** raw MIME → NormalizedMessage. Throws UnparseableMessageError for bytes that carry no message. */
export async function normalizeMime(raw: Buffer): Promise<NormalizedMessage> {
  if (raw.length === 0) throw new UnparseableMessageError("empty message");
  let parsed: ParsedMail;
  try {
    parsed = await (simpleParser as (src: Buffer, o: object) => Promise<ParsedMail>)(raw, PARSER_OPTIONS);
  } catch (err) {
    throw new UnparseableMessageError(`MIME parser failed: ${(err as Error).message}`);
  }
  const headers = headerMap(parsed.headerLines ?? []);
  if (Object.keys(headers).length === 0 || !looksLikeMessage(headers)) {
    throw new UnparseableMessageError("no RFC 5322 header block (no From, Date, Subject or Message-ID)");
  }

  const messageId = parseMessageIds(headers["message-id"]?.[0] ?? null)[0] ?? null;
  const inReplyTo = parseMessageIds(headers["in-reply-to"] ?? null)[0] ?? null;
  const references = parseMessageIds(headers["references"] ?? null);
  const from = firstAddress(parsed.from);
  const date = parseDate(headers["date"]?.[0]);
  const text = (parsed.text ? parsed.text : typeof parsed.html === "string" ? visibleTextFromHtml(parsed.html) : "").replace(/\r\n?/g, "\n");
  const html = typeof parsed.html === "string" ? sanitize(parsed.html) : null;
  const attachments: NormalizedAttachment[] = (parsed.attachments ?? []).map((a) => {
    const content = a.content instanceof Buffer ? a.content : Buffer.from(a.content ?? "");
    return {
      filename: a.filename ? a.filename.slice(0, 500) : null,
      contentType: (a.contentType || "application/octet-stream").toLowerCase().slice(0, 250),
      size: content.length,
      contentId: a.contentId ? a.contentId.slice(0, 500) : null,
      disposition: a.contentDisposition ? a.contentDisposition.slice(0, 30) : null,
      sha256: createHash("sha256").update(content).digest("hex"),
      content,
    };
  });
  const subject = (parsed.subject ?? "").replace(/[\r\n\t]+/g, " ").trim().slice(0, 998);
  const contentType = ((parsed.headers.get("content-type") as { value?: string } | undefined)?.value ?? "text/plain")
    .toLowerCase()
    .slice(0, 120);

  return {
    messageId,
    inReplyTo,
    references,
    subject,
    from,
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    replyTo: addresses(parsed.replyTo),
    date,
    text,
    newText: newTextOf(text),
    html,
    attachments,
    headers,
    contentType,
    contentHash: contentHash(raw, headers),
    size: raw.length,
  };
}

/** mailparser substitutes "now" for a Date it cannot read; we keep "unknown" instead, so re-ingest is stable. */
function parseDate(value: string | undefined): Date | null {
  if (!value) return null;
  const d = new Date(value.replace(/\s*\([^)]*\)\s*$/, ""));
  return Number.isNaN(d.getTime()) ? null : d;
}

function headerMap(lines: readonly { key: string; line: string }[]): HeaderMap {
  const map: HeaderMap = {};
  for (const { key, line } of lines) {
    const colon = line.indexOf(":");
    const value = (colon >= 0 ? line.slice(colon + 1) : "").replace(/\r?\n[ \t]+/g, " ").trim();
    (map[key.toLowerCase()] ??= []).push(value);
  }
  return map;
}

function looksLikeMessage(h: HeaderMap): boolean {
  return ["from", "date", "subject", "message-id", "to", "received", "return-path", "sender"].some((k) => k in h);
}

function toAddress(a: { address?: string; name?: string }): Address {
  return { address: (a.address ?? "").trim().toLowerCase().slice(0, 320), name: (a.name ?? "").trim().slice(0, 320) };
}

/** Flattens mailparser's address objects (groups included) into plain addresses. */
function addresses(value: AddressObject | AddressObject[] | undefined): Address[] {
  if (!value) return [];
  const out: Address[] = [];
  for (const obj of Array.isArray(value) ? value : [value]) {
    for (const entry of obj.value ?? []) {
      if (entry.group) entry.group.forEach((g) => out.push(toAddress(g)));
      else out.push(toAddress(entry));
    }
  }
  return out.filter((a) => a.address || a.name);
}

function firstAddress(value: AddressObject | AddressObject[] | undefined): Address | null {
  return addresses(value).find((a) => a.address) ?? addresses(value)[0] ?? null;
}

/** The new text of a message: quoted history and signature removed (email-reply-parser). */
export function newTextOf(text: string): string {
  const input = trimQuotedTail(text.length > REPLY_PARSE_LIMIT ? text.slice(0, REPLY_PARSE_LIMIT) : text);
  try {
    const visible = new EmailReplyParser().read(input).getVisibleText().trim();
    return visible || input.trim();
  } catch {
    return input.trim();
  }
}

/**
 * A top-posted reply ends in one quoted block that the parser would drop anyway; it runs ~50 regexes
 * per line, so cutting that block down to its first lines first saves most of its cost on long
 * threads. Inline replies (text between quoted lines) are left whole.
 */
function trimQuotedTail(text: string): string {
  const quote = /^>/m.exec(text);
  if (!quote) return text;
  if (/\n[ \t]*[^>\s]/.test(text.slice(quote.index))) return text;
  let end = quote.index;
  for (let i = 0; i < LINES_AFTER_FIRST_QUOTE && end >= 0; i++) end = text.indexOf("\n", end + 1);
  return end > 0 ? text.slice(0, end + 1) : text;
}

/** HTML for the review page: no scripts, handlers, forms, iframes or remote-loading tricks. */
export function sanitize(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: sanitizeHtml.defaults.allowedTags.concat(["img", "font", "center"]),
    allowedAttributes: {
      ...sanitizeHtml.defaults.allowedAttributes,
      "*": ["style", "title", "dir", "lang", "align"],
      img: ["src", "alt", "width", "height"],
      a: ["href", "name", "title", "rel", "target"],
      font: ["color", "size", "face"],
      td: ["colspan", "rowspan", "align", "valign"],
      th: ["colspan", "rowspan", "align", "valign"],
    },
    allowedSchemes: ["http", "https", "mailto", "cid"],
    allowedSchemesByTag: { img: ["cid", "data"] },
    allowProtocolRelative: false,
    transformTags: { a: sanitizeHtml.simpleTransform("a", { rel: "noopener noreferrer nofollow", target: "_blank" }) },
  });
}

/**
 * Identity of a message's content across delivery paths: the same mail fetched twice differs in trace
 * headers (Received, Delivered-To) and sometimes line endings, not in these. Computed from the raw bytes,
 * not the parse: mailparser renders some parts with the current time, which would make it unstable.
 */
function contentHash(raw: Buffer, headers: HeaderMap): string {
  let split = raw.indexOf("\r\n\r\n");
  let skip = 4;
  const lf = raw.indexOf("\n\n");
  if (split < 0 || (lf >= 0 && lf < split)) {
    split = lf;
    skip = 2;
  }
  const body = split < 0 ? Buffer.alloc(0) : raw.subarray(split + skip);
  const h = createHash("sha256");
  for (const name of ["from", "date", "subject", "to", "message-id"]) h.update(`${name}:${(headers[name] ?? []).join("\u0000")}\n`);
  h.update(body.toString("latin1").replace(/\r\n?/g, "\n").replace(/\s+$/, ""));
  return h.digest("hex");
}
