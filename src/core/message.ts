/**
 * The message model every ingest source maps to. Pure data: no I/O, no library types.
 */

export interface Address {
  /** Lower-cased address, e.g. "jane@example.com". Empty string when a header held no usable address. */
  address: string;
  name: string;
}

export interface NormalizedAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  contentId: string | null;
  disposition: string | null;
  sha256: string;
  content: Uint8Array;
}

export type Direction = "inbound" | "outbound";

/**
 * Header values the rules look at. Names are lower-case; each value is the unfolded raw text
 * of every occurrence, in order.
 */
export type HeaderMap = Record<string, string[]>;

export interface NormalizedMessage {
  /** Message-ID without angle brackets, or null when the message has none (or an unusable one). */
  messageId: string | null;
  inReplyTo: string | null;
  /** References in header order, without brackets. */
  references: string[];
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  /** Date header if it parsed, else null. */
  date: Date | null;
  text: string;
  /** The text with quoted history and signature removed. */
  newText: string;
  /** Sanitized HTML, or null when the message had no HTML part. */
  html: string | null;
  attachments: NormalizedAttachment[];
  headers: HeaderMap;
  /** Top-level MIME type, lower-case ("multipart/report", "text/plain", ...). */
  contentType: string;
  /** sha256 of the content that identifies a message across delivery paths (see contentHash in pipeline). */
  contentHash: string;
  size: number;
}
