/**
 * What the outbound benchmark sends: N customer messages (bench/llm/messages.ts, one conversation each)
 * and, for each, the reply text a reviewer approves (seeded: a greeting, two to four paragraphs of
 * support prose, some German with umlauts, a closing). From these, the bare baseline's nodemailer
 * message: the headers approval decides for the gateway's reply (From the mailbox with its display
 * name, To the customer, `Re: ` + subject, In-Reply-To/References the customer's Message-ID) and a
 * text part (body, `-- ` signature) plus an HTML part, as the gateway's reply templates lay them out.
 */
import { simpleParser } from "mailparser";
import type Mail from "nodemailer/lib/mailer";
import { mulberry32 } from "../generate.js";
import { benchMessages } from "../llm/messages.js";

export const MAILBOX = { name: "support", address: "support@example.com", displayName: "Acme Support" };
export const SIGNATURE = "Acme Support team\nhttps://help.example.com";

export interface ReplyCase {
  /** The customer's message as it arrives (ingested before the run). */
  raw: Buffer;
  /** Its Message-ID, without brackets. */
  messageId: string;
  customer: { name: string; address: string };
  /** The reply's subject: `Re: ` + the customer's. */
  subject: string;
  /** The approved reply text. */
  body: string;
}

const EN = [
  "Thank you for getting in touch and for your patience while we looked into this.",
  "I checked your order and can see that the parcel left our warehouse on Tuesday.",
  "The refund has been approved today; depending on your bank it takes three to five working days to show on your statement.",
  "I have reset the verification on your account, so the next password reset e-mail should arrive within a few minutes.",
  "We are sorry that the item arrived damaged. A replacement is on its way and you do not need to send the broken one back.",
  "If anything is still unclear, simply reply to this e-mail and it will reach the same team.",
  "Our engineers know about the export problem in version 4.2; a fix is planned for the next update, until then exporting as CSV and printing to PDF works.",
  "Your subscription will end at the close of the current billing period and no further charges will be made.",
];
const DE = [
  "vielen Dank für Ihre Nachricht und Ihre Geduld.",
  "Die Rückerstattung wurde heute veranlasst und sollte in drei bis fünf Werktagen auf Ihrem Konto eingehen.",
  "Wir bedauern, dass die Lieferung beschädigt ankam; Ersatz ist bereits unterwegs.",
  "Bei weiteren Fragen antworten Sie einfach auf diese E-Mail.",
];

/** The N reply cases, same seed → same texts (the customer messages are bench/llm/messages.ts's for that seed). */
export async function replyCases(count: number, seed: number): Promise<ReplyCase[]> {
  const rng = mulberry32(seed * 7919 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const out: ReplyCase[] = [];
  for (const m of await benchMessages(count, seed)) {
    const parsed = await simpleParser(m.raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    const from = parsed.from?.value[0];
    if (!from?.address || !parsed.messageId) throw new Error("a generated customer message has no From address or Message-ID");
    const first = (from.name || "").split(" ")[0] || "there";
    const german = m.lang === "de";
    const paragraphs = Array.from({ length: 2 + Math.floor(rng() * 3) }, () =>
      Array.from({ length: 1 + Math.floor(rng() * 3) }, () => pick(german ? DE : EN)).join(" "),
    );
    const greeting = german ? `Guten Tag ${from.name},` : `Hello ${first},`;
    const closing = german ? "Mit freundlichen Grüßen" : "Best regards";
    out.push({
      raw: m.raw,
      messageId: parsed.messageId.replace(/^<|>$/g, ""),
      customer: { name: from.name ?? "", address: from.address },
      subject: `Re: ${parsed.subject ?? ""}`,
      body: [greeting, "", ...paragraphs.flatMap((p) => [p, ""]), closing, "Sam"].join("\n"),
    });
  }
  return out;
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The bare baseline's message for a case (`messageId` without brackets). */
export function bareMessage(c: ReplyCase, messageId: string): Mail.Options {
  const lines = (s: string) => s.split("\n").map(escapeHtml).join("<br>\n");
  const paragraphs = c.body.split(/\n{2,}/).filter((p) => p.trim() !== "");
  return {
    from: { name: MAILBOX.displayName, address: MAILBOX.address },
    to: [{ name: c.customer.name, address: c.customer.address }],
    subject: c.subject,
    messageId: `<${messageId}>`,
    inReplyTo: `<${c.messageId}>`,
    references: [`<${c.messageId}>`],
    date: new Date(),
    text: `${c.body}\n\n-- \n${SIGNATURE}\n`,
    html:
      '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"></head>\n<body style="font-family: sans-serif; font-size: 14px; line-height: 1.4;">\n' +
      paragraphs.map((p) => `<p>${lines(p)}</p>\n`).join("") +
      `<p style="color: #555;">-- <br>\n${lines(SIGNATURE)}</p>\n</body>\n</html>\n`,
    textEncoding: "quoted-printable",
  };
}
