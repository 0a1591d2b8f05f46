/**
 * Benchmark corpus: realistic support-inbox mail built with nodemailer's composer, reproducible from a seed.
 *
 * Threads of 1–8 messages alternate between a customer and support@example.com, replies carry
 * "Re: " subjects, In-Reply-To/References and quoted history ("On … wrote:" plus "> " lines);
 * some have an HTML alternative, ~15 % carry a small pdf/png attachment of random bytes. Every message
 * is 10–20 KB. Most text is English, some German, Spanish and Japanese. The messages are written in
 * date order as a folder of .eml files (name order = date order, threads interleaved as in a real export).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import MailComposer, { type MailComposerAttachment, type MailComposerOptions } from "nodemailer/lib/mail-composer/index.js";
import { mulberry32 } from "../src/core/prng.js";
import { wrapText } from "./support/report.js";

/** Bump when the generator's output changes, so cached corpora are rebuilt. */
export const GENERATOR_VERSION = 1;

export const MIN_BYTES = 10 * 1024;
export const MAX_BYTES = 20 * 1024;

export interface CorpusManifest {
  version: number;
  seed: number;
  count: number;
  threads: number;
  withAttachments: number;
  withHtml: number;
  bytes: number;
  minBytes: number;
  maxBytes: number;
  languages: Record<Lang, number>;
  files: string[];
}

export { mulberry32 };

type Rng = () => number;
type Lang = "en" | "de" | "es" | "ja";

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) {
    const v = Math.floor(rng() * 4294967296);
    b[i] = v & 0xff;
    if (i + 1 < n) b[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) b[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) b[i + 3] = (v >>> 24) & 0xff;
  }
  return b;
}

function hex(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(rng() * 16)];
  return s;
}

function base36(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[Math.floor(rng() * 62)];
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Text material

interface Person {
  name: string;
  first: string;
  last: string;
  address: string;
  lang: Lang;
  /** Domain of the Message-IDs their mail client makes. */
  msgIdDomain: string;
}

const NAMES: Record<Lang, { first: string[]; last: string[]; domains: string[] }> = {
  en: {
    first: ["Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan", "Harper", "Amelia", "Oliver", "Grace", "Daniel", "Chloe", "Priya", "Arjun", "Wei", "Fatima"],
    last: ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Clarke", "O'Neill", "Patel", "Nguyen", "Okafor", "Kowalski", "Anderson", "Murphy", "Reid", "Campbell"],
    domains: ["gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com", "fastmail.com", "acme-corp.com", "brightlabs.io", "northwind.example"],
  },
  de: {
    first: ["Jürgen", "Anna", "Lukas", "Sophie", "Maximilian", "Lea", "Jörg", "Katrin", "Björn", "Ute"],
    last: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Groß"],
    domains: ["web.de", "gmx.de", "t-online.de", "posteo.de", "firma-beispiel.de"],
  },
  es: {
    first: ["José", "María", "Lucía", "Javier", "Sofía", "Andrés", "Carmen", "Alejandro", "Inés", "Raúl"],
    last: ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz", "Muñoz"],
    domains: ["gmail.com", "hotmail.es", "telefonica.net", "empresa-ejemplo.es", "yahoo.es"],
  },
  ja: {
    first: ["太郎", "花子", "健太", "美咲", "翔", "由美", "大輔", "さくら"],
    last: ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村"],
    domains: ["docomo.ne.jp", "yahoo.co.jp", "gmail.com", "example.co.jp"],
  },
};

const ROMAJI: Record<string, string> = {
  太郎: "taro", 花子: "hanako", 健太: "kenta", 美咲: "misaki", 翔: "sho", 由美: "yumi", 大輔: "daisuke", さくら: "sakura",
  山田: "yamada", 佐藤: "sato", 鈴木: "suzuki", 高橋: "takahashi", 田中: "tanaka", 伊藤: "ito", 渡辺: "watanabe", 中村: "nakamura",
};

function asciiLocal(s: string): string {
  const t = ROMAJI[s] ?? s;
  return t
    .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-zA-Z0-9]/g, "")
    .toLowerCase();
}

function makeCustomer(rng: Rng, lang: Lang): Person {
  const pool = NAMES[lang];
  const first = pick(rng, pool.first);
  const last = pick(rng, pool.last);
  const domain = pick(rng, pool.domains);
  const sep = pick(rng, [".", "_", ""]);
  const num = chance(rng, 0.3) ? String(int(rng, 1, 99)) : "";
  const address = `${asciiLocal(first)}${sep}${asciiLocal(last)}${num}@${domain}`;
  const name = lang === "ja" ? `${last} ${first}` : `${first} ${last}`;
  const msgIdDomain = domain === "gmail.com" ? "mail.gmail.com" : domain.includes("outlook") || domain.includes("hotmail") ? "PR3P192MB0714.EURP192.PROD.OUTLOOK.COM" : domain;
  return { name, first, last, address, lang, msgIdDomain };
}

const AGENTS = ["Sam Rivera", "Alex Chen", "Jordan Blake", "Maren Holt", "Diego Torres", "Yuki Mori"];

function makeAgent(rng: Rng): Person {
  const name = pick(rng, AGENTS);
  const [first, last] = name.split(" ") as [string, string];
  return { name: `${name} (Example Support)`, first, last, address: "support@example.com", lang: "en", msgIdDomain: "example.com" };
}

interface Vars {
  order: string;
  invoice: string;
  product: string;
  amount: string;
  ticket: string;
  day: string;
  tracking: string;
}

const PRODUCTS: Record<Lang, string[]> = {
  en: ["the Aurora desk lamp", "the Pro plan", "the wireless keyboard", "the standing desk frame", "the 2 TB backup drive", "the team license", "the noise-cancelling headset", "the ergonomic chair"],
  de: ["die Schreibtischlampe Aurora", "den Pro-Tarif", "die kabellose Tastatur", "das Tischgestell", "die Backup-Festplatte"],
  es: ["la lámpara Aurora", "el plan Pro", "el teclado inalámbrico", "la silla ergonómica", "el disco de copia de seguridad"],
  ja: ["オーロラ デスクライト", "プロプラン", "ワイヤレスキーボード", "スタンディングデスク", "バックアップ用ハードディスク"],
};

const SUBJECTS: Record<Lang, string[]> = {
  en: [
    "Order #{order} hasn't arrived yet",
    "Refund request for invoice {invoice}",
    "Can't log in to my account",
    "Question about my subscription renewal",
    "Damaged item in my last shipment",
    "Feature request: export reports to CSV",
    "Please update my billing address",
    "API returns 500 on /v2/orders",
    "Password reset email never arrives",
    "Upgrade from Basic to Pro plan",
    "Wrong size delivered (order {order})",
    "Cancel my subscription",
    "Charged twice this month",
    "Invoice {invoice} shows the wrong VAT number",
    "Tracking number {tracking} not working",
    "How do I add a second user?",
  ],
  de: [
    "Bestellung {order} noch nicht angekommen",
    "Frage zur Rechnung {invoice}",
    "Rücksendung: falsche Größe geliefert",
    "Kündigung meines Abos",
    "Doppelte Abbuchung im März",
    "Zugang gesperrt – bitte um Hilfe",
  ],
  es: [
    "Pedido {order} no ha llegado",
    "Problema con la factura {invoice}",
    "No puedo acceder a mi cuenta",
    "Solicitud de reembolso",
    "Cambio de dirección de envío",
    "Cobro duplicado en mi tarjeta",
  ],
  ja: ["注文番号{order}の配送について", "請求書{invoice}に関するお問い合わせ", "ログインできません", "返品の手続きについて", "サブスクリプションの解約について"],
};

const CUSTOMER_SENTENCES: Record<Lang, string[]> = {
  en: [
    "I placed order #{order} on {day} and it still shows as processing.",
    "The tracking number {tracking} doesn't return anything on the carrier's website.",
    "I was charged {amount} but the invoice {invoice} says something different.",
    "Could you please let me know when I can expect a response?",
    "I've already tried clearing my browser cache and logging in from a different device.",
    "When I open {product} settings the page just spins forever.",
    "This is the third time I'm writing about this and I would really appreciate an update.",
    "Our finance team needs a corrected invoice before the end of the month.",
    "The box arrived with a large dent and {product} doesn't switch on.",
    "We are a team of twelve people and would like to move everyone to the annual plan.",
    "Is there a way to export all our data before we cancel?",
    "I attached a screenshot of the error message in case it helps.",
    "The confirmation email mentions a delivery window that has long passed.",
    "My colleague had the same problem last week and it was fixed within a day, so I hope it is something simple.",
    "If a refund is easier for you than a replacement, that would be fine as well.",
    "I'm travelling from {day} onwards, so email is the best way to reach me.",
    "The error says \"Request failed with status code 500\" and nothing else.",
    "We rely on {product} every day, so this is blocking quite a bit of work here.",
    "To be honest I'm a bit frustrated, but I'm sure we can sort this out.",
    "Thanks for the quick reply last time, that really helped.",
  ],
  de: [
    "Ich habe am {day} die Bestellung {order} aufgegeben, aber bisher ist nichts angekommen.",
    "Auf der Rechnung {invoice} steht ein Betrag von {amount}, das kann nicht stimmen.",
    "Könnten Sie mir bitte mitteilen, wann ich mit einer Lieferung rechnen kann?",
    "Die Sendungsnummer {tracking} ist beim Paketdienst nicht bekannt.",
    "Leider wurde {product} beschädigt geliefert, das Gehäuse ist gesprungen.",
    "Ich habe bereits versucht, mich über ein anderes Gerät anzumelden – ohne Erfolg.",
    "Für unsere Buchhaltung brauchen wir bis Monatsende eine korrigierte Rechnung.",
    "Über eine kurze Rückmeldung würde ich mich sehr freuen.",
    "Bitte bestätigen Sie mir die Kündigung schriftlich.",
  ],
  es: [
    "Hice el pedido {order} el {day} y todavía aparece como «en preparación».",
    "Me han cobrado {amount} pero la factura {invoice} indica otro importe.",
    "¿Podrían decirme cuándo recibiré el paquete?",
    "El número de seguimiento {tracking} no funciona en la web del transportista.",
    "{product} llegó dañado y no enciende.",
    "Ya he intentado restablecer la contraseña dos veces, pero el correo nunca llega.",
    "Necesito la factura corregida antes de fin de mes para mi contabilidad.",
    "Quedo a la espera de su respuesta, muchas gracias de antemano.",
    "Si es más fácil hacer un reembolso en lugar de un cambio, también me parece bien.",
  ],
  ja: [
    "{day}に注文番号{order}で注文しましたが、まだ商品が届いておりません。",
    "請求書{invoice}の金額が{amount}となっておりますが、注文時の金額と異なります。",
    "お手数ですが、配送状況をご確認いただけますでしょうか。",
    "追跡番号{tracking}を配送業者のサイトで入力しても情報が表示されません。",
    "届いた{product}の箱が破損しており、電源が入りません。",
    "パスワードの再設定メールが届かず、ログインできない状態です。",
    "月末までに訂正済みの請求書をいただけますと大変助かります。",
    "ご返信をお待ちしております。どうぞよろしくお願いいたします。",
  ],
};

const SUPPORT_SENTENCES = [
  "Thanks for reaching out, and sorry for the trouble with order #{order}.",
  "I've checked with our warehouse and the parcel left on {day}; the carrier shows it in transit.",
  "I've issued a refund of {amount} to your original payment method; it usually shows up within 3–5 business days.",
  "Could you send us a photo of the damaged packaging so we can file a claim with the carrier?",
  "Our engineers found the cause of the 500 errors and a fix is being rolled out today.",
  "I've reset the login for your account; you should receive an email with a link in the next few minutes.",
  "A corrected invoice {invoice} is attached to this message.",
  "Your subscription has been moved to the annual plan, effective from your next renewal date.",
  "If the link has expired, just reply to this email and I'll send a new one.",
  "I've added a note to ticket {ticket} so anyone on the team can pick this up if I'm out.",
  "We're sorry this took longer than it should have; I've applied a credit of {amount} to your account.",
  "A replacement for {product} will ship tomorrow with express delivery, no need to return the damaged one.",
  "You can export all your data under Settings → Account → Export at any time, even after cancelling.",
  "Please let me know if there's anything else I can help with.",
  "For security reasons we can't change the billing address by email; please use the link below or reply from the account owner's address.",
  "I've forwarded your suggestion to our product team; I can't promise a date, but CSV export is on the roadmap.",
];

const GREETINGS: Record<Lang, string[]> = {
  en: ["Hi,", "Hello,", "Hi there,", "Dear Support Team,", "Good morning,"],
  de: ["Hallo,", "Sehr geehrte Damen und Herren,", "Guten Tag,", "Liebes Support-Team,"],
  es: ["Hola,", "Buenos días:", "Estimados señores:"],
  ja: ["サポートご担当者様", "お世話になっております。"],
};

const CLOSINGS: Record<Lang, string[]> = {
  en: ["Thanks,", "Best,", "Kind regards,", "Cheers,", "Thank you,"],
  de: ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße"],
  es: ["Saludos,", "Un saludo,", "Atentamente,"],
  ja: ["よろしくお願いいたします。"],
};

function fillVars(s: string, v: Vars): string {
  return s.replace(/\{(\w+)\}/g, (_, k: string) => (v as unknown as Record<string, string>)[k] ?? `{${k}}`);
}

function wrap(paragraph: string, lang: Lang): string[] {
  if (lang === "ja") {
    const lines: string[] = [];
    for (let i = 0; i < paragraph.length; i += 38) lines.push(paragraph.slice(i, i + 38));
    return lines;
  }
  return wrapText(paragraph, 72);
}

function paragraph(rng: Rng, lang: Lang, fromSupport: boolean, v: Vars): string {
  const pool = fromSupport ? SUPPORT_SENTENCES : CUSTOMER_SENTENCES[lang];
  const n = int(rng, 2, 5);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(fillVars(pick(rng, pool), v));
  return out.join(lang === "ja" ? "" : " ");
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n: number) => String(n).padStart(2, "0");

function quoteHeader(lang: Lang, d: Date, p: Person): string {
  const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  switch (lang) {
    case "de":
      return `Am ${pad2(d.getUTCDate())}.${pad2(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} um ${hm} schrieb ${p.name} <${p.address}>:`;
    case "es":
      return `El ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]!.toLowerCase()} ${d.getUTCFullYear()}, a las ${hm}, ${p.name} (<${p.address}>) escribió:`;
    case "ja":
      return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${hm} ${p.name} <${p.address}>:`;
    default:
      return `On ${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} at ${hm}, ${p.name} <${p.address}> wrote:`;
  }
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// ---------------------------------------------------------------------------------------------------
// Messages

interface Draft {
  from: Person;
  to: Person;
  cc: Person | null;
  lang: Lang;
  subject: string;
  date: Date;
  messageId: string;
  inReplyTo: string | undefined;
  references: string[];
  greeting: string;
  paragraphs: string[];
  closing: string[];
  quoteHeader: string | null;
  /** The previous message's full text, to be quoted; trimmed to fit the size budget. */
  quoted: string[];
  quotedKeep: number;
  html: boolean;
  link: string | null;
  attachments: MailComposerAttachment[];
}

function textOf(d: Draft): string {
  const lines: string[] = [d.greeting, ""];
  for (const p of d.paragraphs) lines.push(...wrap(p, d.lang), "");
  lines.push(...d.closing);
  if (d.link) lines.push("", d.link);
  if (d.quoteHeader && d.quotedKeep > 0) {
    lines.push("", d.quoteHeader);
    for (const q of d.quoted.slice(0, d.quotedKeep)) lines.push(q.startsWith(">") ? `>${q}` : q ? `> ${q}` : ">");
  }
  return lines.join("\n") + "\n";
}

function htmlOf(d: Draft): string {
  const parts: string[] = [`<div dir="ltr"><p>${esc(d.greeting)}</p>`];
  for (const p of d.paragraphs) parts.push(`<p style="margin:0 0 12px 0">${esc(p)}</p>`);
  parts.push(`<p>${d.closing.map(esc).join("<br>\n")}</p>`);
  if (d.link) parts.push(`<p><a href="${esc(d.link)}">${esc(d.link)}</a></p>`);
  parts.push("</div>");
  if (d.quoteHeader && d.quotedKeep > 0) {
    parts.push(
      `<div class="gmail_quote"><div dir="ltr" class="gmail_attr">${esc(d.quoteHeader)}<br></div>`,
      `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">`,
      d.quoted.slice(0, d.quotedKeep).map(esc).join("<br>\n"),
      "</blockquote></div>",
    );
  }
  return `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>\n${parts.join("\n")}\n</body></html>\n`;
}

const addr = (p: Person) => ({ name: p.name, address: p.address });

async function compose(d: Draft): Promise<Buffer> {
  const options: MailComposerOptions = {
    from: addr(d.from),
    to: addr(d.to),
    ...(d.cc ? { cc: addr(d.cc) } : {}),
    subject: d.subject,
    messageId: d.messageId,
    date: d.date,
    ...(d.inReplyTo ? { inReplyTo: d.inReplyTo, references: d.references } : {}),
    text: textOf(d),
    ...(d.html ? { html: htmlOf(d) } : {}),
    ...(d.attachments.length > 0 ? { attachments: d.attachments } : {}),
    headers: { "X-Mailer": d.from.address === "support@example.com" ? "Helpdesk 4.2" : d.lang === "ja" ? "Becky! ver. 2.81" : "Apple Mail (2.3774)" },
  };
  return new MailComposer(options).compile().build();
}

/**
 * Composes a draft to a size between MIN_BYTES and MAX_BYTES around `target`: trims the quoted history
 * when over, adds paragraphs of new text when under.
 */
async function fit(rng: Rng, d: Draft, target: number, v: Vars): Promise<Buffer> {
  for (let round = 0; round < 60; round++) {
    const raw = await compose(d);
    const size = raw.length;
    if (size > MAX_BYTES) {
      if (d.quotedKeep > 0) {
        const perLine = Math.max(40, (d.html ? 2.2 : 1.1) * (Buffer.byteLength(d.quoted.slice(0, d.quotedKeep).join("\n")) / d.quotedKeep));
        d.quotedKeep = Math.max(0, d.quotedKeep - Math.ceil((size - target) / perLine));
      } else if (d.paragraphs.length > 1) d.paragraphs.pop();
      else if (d.attachments.length > 0) d.attachments.pop();
      else throw new Error(`cannot fit message ${d.messageId} under ${MAX_BYTES} bytes`);
      continue;
    }
    if (size >= Math.max(MIN_BYTES, target - 1500)) return raw;
    // Under target: add new text, estimating the encoded cost of each paragraph.
    const factor = (d.html ? 2.15 : 1.05) * (d.lang === "ja" ? 1.4 : 1.02);
    let need = target - size;
    while (need > 0) {
      const p = paragraph(rng, d.lang, d.from.address === "support@example.com", v);
      d.paragraphs.push(p);
      need -= Buffer.byteLength(p) * factor;
    }
  }
  throw new Error(`message ${d.messageId} did not converge to ${MIN_BYTES}–${MAX_BYTES} bytes`);
}

function attachment(rng: Rng, v: Vars): MailComposerAttachment {
  const size = int(rng, 2048, 5120);
  if (chance(rng, 0.5)) {
    const head = Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n", "latin1");
    return { filename: `invoice-${v.invoice}.pdf`, contentType: "application/pdf", content: Buffer.concat([head, randomBytes(rng, size - head.length)]) };
  }
  const head = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  return {
    filename: pick(rng, ["screenshot.png", `Screenshot ${v.day}.png`, "IMG_4711.png", "error.png", "damage-photo.png"]),
    contentType: "image/png",
    content: Buffer.concat([head, randomBytes(rng, size - head.length)]),
  };
}

function pickLang(rng: Rng): Lang {
  const r = rng();
  return r < 0.8 ? "en" : r < 0.9 ? "de" : r < 0.95 ? "es" : "ja";
}

function messageIdFor(rng: Rng, p: Person): string {
  if (p.msgIdDomain === "mail.gmail.com") return `<CA${base36(rng, 40)}@mail.gmail.com>`;
  if (p.msgIdDomain === "example.com") return `<${hex(rng, 8)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 12)}@example.com>`;
  return `<${hex(rng, 16)}.${base36(rng, 8)}@${p.msgIdDomain}>`;
}

interface Built {
  date: Date;
  raw: Buffer;
  lang: Lang;
  html: boolean;
  attachments: number;
}

/** Generates `count` messages (the last thread is cut short to hit the count exactly). */
export async function generateMessages(count: number, seed: number): Promise<{ messages: Built[]; threads: number }> {
  const rng = mulberry32(seed);
  const out: Built[] = [];
  let threads = 0;
  const year = Date.UTC(2024, 0, 1);
  while (out.length < count) {
    threads++;
    const lang = pickLang(rng);
    const customer = makeCustomer(rng, lang);
    const agent = makeAgent(rng);
    const length = Math.min(count - out.length, int(rng, 1, 8));
    const v: Vars = {
      order: String(int(rng, 100000, 999999)),
      invoice: `INV-${int(rng, 2023, 2024)}-${String(int(rng, 1, 99999)).padStart(5, "0")}`,
      product: pick(rng, PRODUCTS[lang]),
      amount: lang === "en" ? `$${int(rng, 9, 899)}.${pad2(int(rng, 0, 99))}` : `${int(rng, 9, 899)},${pad2(int(rng, 0, 99))} €`,
      ticket: `#${int(rng, 10000, 99999)}`,
      day: "",
      tracking: `1Z${hex(rng, 16).toUpperCase()}`,
    };
    let date = new Date(year + Math.floor(rng() * 365 * 86_400_000));
    v.day =
      lang === "en"
        ? `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`
        : lang === "ja"
          ? `${date.getUTCMonth() + 1}月${date.getUTCDate()}日`
          : lang === "es"
            ? `${date.getUTCDate()}/${date.getUTCMonth() + 1}`
            : `${pad2(date.getUTCDate())}.${pad2(date.getUTCMonth() + 1)}.`;
    const baseSubject = fillVars(pick(rng, SUBJECTS[lang]), v);
    const ids: string[] = [];
    let prev: { text: string; from: Person; date: Date } | null = null;
    for (let i = 0; i < length; i++) {
      const fromSupport = i % 2 === 1;
      const from = fromSupport ? agent : customer;
      const to = fromSupport ? customer : { ...agent, name: "Example Support" };
      // Support answers in English; customers write in their own language.
      const msgLang: Lang = fromSupport ? "en" : lang;
      const greeting = fromSupport ? (lang === "ja" ? `${customer.last}様` : `Hi ${customer.first},`) : pick(rng, GREETINGS[lang]);
      const closing = fromSupport
        ? ["Best regards,", agent.first, "Example Support · support@example.com · +1 555 0100"]
        : [pick(rng, CLOSINGS[lang]), customer.name];
      if (!fromSupport && chance(rng, 0.3)) closing.push("", "-- ", customer.name, lang === "en" ? "Sent from my iPhone" : customer.address);
      const messageId = messageIdFor(rng, from);
      const files = chance(rng, 0.15) ? [attachment(rng, v), ...(chance(rng, 0.2) ? [attachment(rng, v)] : [])] : [];
      const draft: Draft = {
        from,
        to,
        cc: !fromSupport && chance(rng, 0.08) ? makeCustomer(rng, lang) : null,
        lang: msgLang,
        subject: i === 0 ? baseSubject : `${lang === "de" && !fromSupport && chance(rng, 0.5) ? "AW" : "Re"}: ${baseSubject}`,
        date,
        messageId,
        inReplyTo: prev ? ids[ids.length - 1] : undefined,
        references: [...ids],
        greeting,
        paragraphs: [paragraph(rng, msgLang, fromSupport, v)],
        closing,
        quoteHeader: prev ? quoteHeader(msgLang, prev.date, prev.from) : null,
        quoted: prev ? prev.text.replace(/\n$/, "").split("\n") : [],
        quotedKeep: prev ? prev.text.split("\n").length : 0,
        html: chance(rng, 0.4),
        link: fromSupport && chance(rng, 0.3) ? `https://help.example.com/tickets/${v.ticket.slice(1)}?utm_source=email` : null,
        attachments: files,
      };
      const target = int(rng, MIN_BYTES + 1024, MAX_BYTES - 512);
      const raw = await fit(rng, draft, target, v);
      out.push({ date, raw, lang: msgLang, html: draft.html, attachments: draft.attachments.length });
      ids.push(messageId);
      prev = { text: textOf(draft), from, date };
      date = new Date(date.getTime() + int(rng, 5 * 60_000, 3 * 86_400_000));
    }
  }
  out.sort((a, b) => a.date.getTime() - b.date.getTime());
  return { messages: out, threads };
}

/**
 * The corpus folder for (count, seed), generated on first use and reused after: `<root>/corpus-v<V>-s<seed>-n<count>/`
 * with NNNNN.eml files and manifest.json (written last, so a half-written folder is never reused).
 */
export async function ensureCorpus(root: string, count: number, seed: number): Promise<{ dir: string; manifest: CorpusManifest; generated: boolean }> {
  const dir = join(root, `corpus-v${GENERATOR_VERSION}-s${seed}-n${count}`);
  const manifestPath = join(dir, "manifest.json");
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as CorpusManifest;
    if (manifest.version === GENERATOR_VERSION && manifest.count === count && manifest.seed === seed && manifest.files.every((f) => existsSync(join(dir, "eml", f)))) {
      return { dir, manifest, generated: false };
    }
  }
  const { messages, threads } = await generateMessages(count, seed);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "eml"), { recursive: true });
  const width = Math.max(5, String(count).length);
  const files: string[] = [];
  const languages: Record<Lang, number> = { en: 0, de: 0, es: 0, ja: 0 };
  let bytes = 0;
  let minBytes = Infinity;
  let maxBytes = 0;
  messages.forEach((m, i) => {
    const name = `${String(i + 1).padStart(width, "0")}.eml`;
    writeFileSync(join(tmp, "eml", name), m.raw);
    files.push(name);
    languages[m.lang]++;
    bytes += m.raw.length;
    minBytes = Math.min(minBytes, m.raw.length);
    maxBytes = Math.max(maxBytes, m.raw.length);
  });
  const manifest: CorpusManifest = {
    version: GENERATOR_VERSION,
    seed,
    count,
    threads,
    withAttachments: messages.filter((m) => m.attachments > 0).length,
    withHtml: messages.filter((m) => m.html).length,
    bytes,
    minBytes,
    maxBytes,
    languages,
    files,
  };
  writeFileSync(join(tmp, "manifest.json"), JSON.stringify(manifest, null, 1));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, manifest, generated: true };
}
