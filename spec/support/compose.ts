import MailComposer from "nodemailer/lib/mail-composer";
import type Mail from "nodemailer/lib/mailer";

/** Builds real RFC 5322 bytes with nodemailer's composer (the same code that sends our mail). */
export async function compose(options: Mail.Options): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

export interface ChainMessage {
  id: string;
  raw: Buffer;
}

/** A reply chain: each message answers the previous one with proper In-Reply-To / References. */
export async function replyChain(length: number, opts: { subject: string; customer: string; support: string; domain?: string; start?: Date }): Promise<ChainMessage[]> {
  const out: ChainMessage[] = [];
  const domain = opts.domain ?? "mail.example.net";
  const start = opts.start ?? new Date("2026-03-01T09:00:00Z");
  for (let i = 0; i < length; i++) {
    const id = `chain-${opts.subject.replace(/\W+/g, "")}-${i}@${domain}`;
    const fromCustomer = i % 2 === 0;
    const raw = await compose({
      messageId: `<${id}>`,
      from: fromCustomer ? opts.customer : opts.support,
      to: fromCustomer ? opts.support : opts.customer,
      subject: i === 0 ? opts.subject : `Re: ${opts.subject}`,
      date: new Date(start.getTime() + i * 3600_000),
      inReplyTo: i > 0 ? `<${out[i - 1]!.id}>` : undefined,
      references: i > 0 ? out.map((m) => `<${m.id}>`) : undefined,
      text: `Message ${i} of the chain.\n\n${i > 0 ? `On some day someone wrote:\n> Message ${i - 1} of the chain.\n` : ""}`,
    });
    out.push({ id, raw });
  }
  return out;
}
