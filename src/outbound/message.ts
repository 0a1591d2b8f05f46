import DKIM from "nodemailer/lib/dkim";
import MailComposer from "nodemailer/lib/mail-composer";
import { simpleParser } from "mailparser";
import { attribution, composeReply, containsApprovedBody, quote } from "../core/outbound/composeReply.js";
import { formatMessageId } from "../core/replyHeaders.js";
import type { MailboxConfig } from "../config/schema.js";
import type { MessageRow } from "../store/entities/mail.js";
import type { OutboxRow } from "../store/entities/review.js";
import { renderReply } from "./templates.js";

/** The bytes of one reply and the SMTP envelope they go out with. */
export interface BuiltReply {
  raw: Buffer;
  envelope: { from: string; to: string[] };
}

/** The message answered, as far as the text part needs it (quoted history). */
export type AnsweredRow = Pick<
  MessageRow,
  "messageId" | "inReplyTo" | "references" | "fromAddress" | "fromName" | "date" | "text" | "automated"
>;

/**
 * Builds the exact bytes of a reply once, from the outbox entry: every header as approval decided it
 * (From the mailbox with its display name, To, Cc, Subject, the pre-assigned Message-ID, In-Reply-To,
 * References, Date; a DKIM signature when the mailbox has a key), the text part (approved body, signature, quoted history: composeReply, then
 * templates/replies/reply.txt.hbs) and the HTML part (reply.html.hbs). No Auto-Submitted: a person
 * approved it. The same bytes are stored, sent, filed in Sent and recorded in the conversation.
 */
export async function buildReply(
  entry: OutboxRow,
  mailbox: MailboxConfig,
  answered: AnsweredRow | null,
  now: Date = new Date(),
): Promise<BuiltReply> {
  const r = mailbox.reply;
  const composed = composeReply({
    mailbox: { address: entry.fromAddress, displayName: r.displayName, signature: r.signature },
    to: entry.to,
    cc: entry.cc,
    subject: entry.subject,
    answered: {
      messageId: answered?.messageId ?? null,
      inReplyTo: answered?.inReplyTo ?? null,
      references: answered?.references ?? [],
      from: answered?.fromAddress ? { address: answered.fromAddress, name: answered.fromName ?? "" } : null,
      date: answered?.date ?? null,
      text: answered?.text ?? "",
    },
    messageId: entry.messageId,
    body: entry.body,
    quoteHistory: r.quoteHistory && answered !== null,
  });
  const signatureLines = r.signature.trim() === "" ? [] : r.signature.replace(/\r\n?/gu, "\n").replace(/\n+$/u, "").split("\n");
  const quoted = r.quoteHistory && answered ? quote(answered.text) : "";
  const data = {
    text: composed.text,
    body: entry.body,
    signature: signatureLines,
    attribution: answered
      ? attribution({
          from: answered.fromAddress ? { address: answered.fromAddress, name: answered.fromName ?? "" } : null,
          date: answered.date,
        })
      : "",
    quoted:
      quoted === ""
        ? []
        : quoted
            .replace(/\n$/u, "")
            .split("\n")
            .map((l) => l.replace(/^> ?/u, "")),
    fromName: r.displayName,
    fromAddress: entry.fromAddress,
    subject: entry.subject,
  };
  const text = renderReply("reply.txt.hbs", data);
  const html = renderReply("reply.html.hbs", {
    ...data,
    paragraphs: entry.body
      .replace(/\r\n?/gu, "\n")
      .split(/\n{2,}/u)
      .filter((p) => p.trim() !== "")
      .map((p) => p.split("\n")),
  });

  const raw = await new MailComposer({
    from: { name: composed.from.name, address: composed.from.address },
    to: entry.to.map((a) => ({ name: a.name, address: a.address })),
    cc: entry.cc.length > 0 ? entry.cc.map((a) => ({ name: a.name, address: a.address })) : undefined,
    // As approved: approval decided the subject (one "Re: ", the tag when enabled) and the threading headers.
    subject: entry.subject,
    messageId: formatMessageId(entry.messageId),
    inReplyTo: entry.inReplyTo ? formatMessageId(entry.inReplyTo) : undefined,
    references: entry.references.length > 0 ? entry.references.map(formatMessageId) : undefined,
    date: now,
    text,
    html,
    // Quoted-printable keeps every line of the text readable on the wire and round-trips it exactly.
    textEncoding: "quoted-printable",
  })
    .compile()
    .build();
  const dkim = mailbox.smtp?.dkim;
  // Signed once, here: the signature covers exactly the bytes stored, sent and filed.
  const bytes = dkim ? await signDkim(wireForm(raw), dkim) : wireForm(raw);
  return { raw: bytes, envelope: { from: entry.fromAddress, to: [...entry.to, ...entry.cc].map((a) => a.address) } };
}

async function signDkim(raw: Buffer, key: { domainName: string; keySelector: string; privateKey: string }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of new DKIM({ domainName: key.domainName, keySelector: key.keySelector, privateKey: key.privateKey }).sign(raw)) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  }
  return wireForm(Buffer.concat(chunks));
}

/**
 * The bytes exactly as they cross the wire: every line ending CRLF (the composer leaves a 7bit text
 * part's own LF line ends, which SMTP would turn into CRLF on the way) and a final CRLF. Stored, sent,
 * filed in Sent and recorded, these are then the same bytes everywhere.
 */
function wireForm(raw: Buffer): Buffer {
  const text = raw.toString("latin1").replace(/\r?\n/gu, "\r\n");
  return Buffer.from(text.endsWith("\r\n") ? text : `${text}\r\n`, "latin1");
}

/**
 * Whether the bytes about to be sent carry the approved body unchanged: the text part is parsed back
 * out of the MIME (as the customer's client will) and must contain it (line endings aside).
 */
export async function carriesApprovedBody(raw: Buffer, body: string): Promise<boolean> {
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  return typeof parsed.text === "string" && containsApprovedBody(parsed.text, body);
}
