/**
 * Text material of the review benchmark's conversations, from a seeded PRNG: customers, subjects,
 * customer mail and support replies of a few hundred characters (English, German, Spanish, French),
 * quoted history, simple HTML alternatives, and the one-line summaries triage writes.
 */
import { mulberry32 } from "../../src/core/prng.js";

export type Rng = () => number;
export { mulberry32 };

export const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
export const chance = (rng: Rng, p: number) => rng() < p;

/** Picks a key by weight: `{ a: 3, b: 1 }` gives "a" three times as often as "b". */
export function weighted<K extends string>(rng: Rng, weights: Record<K, number>): K {
  const entries = Object.entries(weights) as [K, number][];
  let r = rng() * entries.reduce((s, [, w]) => s + w, 0);
  for (const [k, w] of entries) if ((r -= w) < 0) return k;
  return entries[entries.length - 1]![0];
}

export type Lang = "en" | "de" | "es" | "fr";

export interface Customer {
  name: string;
  first: string;
  address: string;
  lang: Lang;
}

const NAMES: Record<Lang, { first: string[]; last: string[]; domains: string[] }> = {
  en: {
    first: ["Olivia", "James", "Amelia", "Noah", "Grace", "Liam", "Harper", "Ethan", "Chloe", "Mason", "Ruby", "Owen"],
    last: ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Hughes", "Edwards", "Turner", "Baker", "Hall"],
    domains: ["gmail.com", "outlook.com", "yahoo.co.uk", "acme-corp.com", "northwind.example", "fastmail.com"],
  },
  de: {
    first: ["Lukas", "Anna", "Jonas", "Marie", "Felix", "Lena", "Paul", "Sophie", "Jürgen", "Käthe"],
    last: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer"],
    domains: ["web.de", "gmx.de", "t-online.de", "firma-gmbh.de"],
  },
  es: {
    first: ["Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Álvaro", "Carmen", "Diego"],
    last: ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"],
    domains: ["gmail.com", "hotmail.es", "telefonica.net", "empresa.es"],
  },
  fr: {
    first: ["Camille", "Louis", "Chloé", "Gabriel", "Léa", "Hugo", "Manon", "Jules"],
    last: ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"],
    domains: ["orange.fr", "free.fr", "laposte.net", "societe.fr"],
  },
};

const plain = (s: string) =>
  s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/gu, "")
    .toLowerCase();

/** A customer: name, first name, a unique-enough address (`n` makes it unique) and language. */
export function customer(rng: Rng, n: number): Customer {
  const lang = weighted<Lang>(rng, { en: 70, de: 12, es: 10, fr: 8 });
  const pool = NAMES[lang];
  const first = pick(rng, pool.first);
  const last = pick(rng, pool.last);
  return { name: `${first} ${last}`, first, address: `${plain(first)}.${plain(last)}${n}@${pick(rng, pool.domains)}`, lang };
}

export const CATEGORIES = ["billing", "technical", "account", "shipping", "sales", "feedback", "other"] as const;
export type Category = (typeof CATEGORIES)[number];

const SUBJECTS: Record<Category, string[]> = {
  billing: [
    "Invoice #{n} charged twice",
    "Refund for order {n}",
    "Wrong VAT on invoice {n}",
    "Question about my last invoice",
    "Card declined on renewal",
  ],
  technical: [
    "App crashes on start",
    "Error 500 when exporting reports",
    "Sync stopped working since Monday",
    "Cannot upload files larger than 10 MB",
    "Login loop on the mobile app",
  ],
  account: [
    "Cannot log in to my account",
    "Please change the e-mail on my account",
    "Two-factor code never arrives",
    "Close my account",
    "Add a second user to account {n}",
  ],
  shipping: [
    "Where is my order {n}?",
    "Order {n} arrived damaged",
    "Wrong item in parcel {n}",
    "Change delivery address for order {n}",
    "Tracking number not working",
  ],
  sales: [
    "Quote for 50 licences",
    "Discount for non-profits?",
    "Upgrade to the team plan",
    "Volume pricing question",
    "Demo request for our team",
  ],
  feedback: ["Great service, one suggestion", "Feature request: dark mode", "Your new checkout is confusing", "Thanks for the quick help"],
  other: ["Question", "Partnership enquiry", "Press enquiry", "Data request under GDPR", "Hello"],
};

const PARAGRAPHS: Record<Category, string[]> = {
  billing: [
    "I was charged twice for invoice {n} this month. The second charge of 49.00 EUR shows on my card statement from the 3rd, and I only have one subscription with you.",
    "Could you please refund the duplicate payment? I attached a screenshot of the bank statement. I would also like a corrected invoice for our accounting department.",
    "Our finance team noticed that the VAT number is missing on invoice {n}. Without it we cannot reclaim the tax, so we need a new invoice with the number on it.",
    "The renewal failed because the card on file expired. I updated it in the settings, but the account still says payment overdue. Can you retry the payment?",
  ],
  technical: [
    "Since the update yesterday the app closes right after the splash screen. I reinstalled it twice and restarted the phone, but nothing changed. I am on version 4.2.1.",
    "When I try to export the monthly report I get an error 500 after about thirty seconds. Smaller date ranges work, but anything over two weeks fails every time.",
    "The desktop client stopped syncing on Monday. It shows 'waiting for server' forever, while the web version has all the new files. Other colleagues have the same problem.",
    "Uploading a 12 MB PDF fails with 'request entity too large'. Your pricing page says the limit is 100 MB on our plan, so I think something is misconfigured.",
  ],
  account: [
    "I cannot log in anymore. The password reset e-mail never arrives, and I checked the spam folder as well. My account was created with this address about two years ago.",
    "Please change the e-mail address on my account to my new work address. I no longer have access to the old mailbox after leaving my previous employer.",
    "The two-factor code by SMS never arrives. I tried several times over the last hour. Is there another way to get into the account? I have an important deadline today.",
    "We hired a new colleague and want to add her as a second user on account {n}. What does that cost, and does she get her own login?",
  ],
  shipping: [
    "My order {n} was supposed to arrive last Friday, but the tracking page has not changed for six days. Could you check with the carrier what is going on?",
    "The parcel for order {n} arrived today, but the box was crushed and the item inside is broken. I have photos of the packaging and the damage if you need them.",
    "I received the wrong item: I ordered the blue version in size M and got a black one in size L. How do I send it back, and will you cover the return shipping?",
    "I am moving next week. Can you still change the delivery address of order {n}? It has not shipped yet according to my account page.",
  ],
  sales: [
    "We are a team of about fifty people and are considering your business plan. Could you send us a quote for annual billing, including the onboarding package?",
    "We are a registered non-profit organisation. Do you offer a discount for charities? We would need around twenty seats for our volunteers.",
    "We would like to upgrade from the starter plan to the team plan in the middle of our billing period. How is the price calculated for the remaining months?",
  ],
  feedback: [
    "I just wanted to say that your support team was very helpful last week. One suggestion: it would be great if the app remembered the last used filter.",
    "The new checkout flow is confusing. I could not find where to enter the discount code and almost paid the full price. Maybe move it above the payment options?",
    "Please add a dark mode to the web app. I work late in the evening and the bright white background is tiring. Many other tools have it by now.",
  ],
  other: [
    "Under the GDPR I would like a copy of all personal data you store about me, and information on how long you keep it. Please confirm that you received this request.",
    "I write for a technology magazine and would like to ask a few questions about your company for an article next month. Who is the right person to talk to?",
    "We run a small online shop and are interested in a partnership. Could you tell me whom to contact about reseller conditions?",
  ],
};

const GREETING: Record<Lang, string[]> = {
  en: ["Hello,", "Hi,", "Dear support team,", "Good morning,"],
  de: ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,"],
  es: ["Hola,", "Buenos días,", "Estimado equipo de soporte:"],
  fr: ["Bonjour,", "Madame, Monsieur,"],
};
const CLOSING: Record<Lang, string[]> = {
  en: ["Thanks,", "Best regards,", "Kind regards,", "Thank you in advance,"],
  de: ["Viele Grüße", "Mit freundlichen Grüßen", "Danke und Gruß"],
  es: ["Saludos,", "Un saludo,", "Gracias de antemano,"],
  fr: ["Cordialement,", "Merci d'avance,", "Bien à vous,"],
};
const LOCAL_LINE: Record<Lang, string[]> = {
  en: [""],
  de: ["Ich hoffe, Sie können mir schnell weiterhelfen. Die Bestellung ist dringend für unser Büro."],
  es: ["Espero su respuesta lo antes posible, es bastante urgente para nosotros."],
  fr: ["Je vous remercie de me répondre rapidement, c'est assez urgent pour nous."],
};
const FOLLOW_UPS = [
  "Any update on this? I have not heard back yet.",
  "I tried what you suggested, but it still does not work. What else can I do?",
  "Thanks for your reply. One more question: how long will this take?",
  "Sorry to bother you again, but this is getting urgent now.",
  "I just checked again and nothing has changed since my last message.",
];

const REPLIES = [
  "Thank you for getting in touch, and sorry for the trouble. I have looked into your account and can see what happened. I have corrected it on our side, and you should see the change within the next hour.",
  "Thanks for the details. I have passed this on to our technical team with the information you sent. We will get back to you as soon as we know more, usually within one working day.",
  "I am sorry to hear that. I have arranged a replacement at no cost to you; you will receive a tracking number by e-mail once it ships. There is no need to return the damaged item.",
  "Thanks for your patience. The refund of the duplicate charge is on its way and should appear on your statement within 3 to 5 working days, depending on your bank.",
  "Good question. The price for the remaining months is calculated pro rata from the day you upgrade, and the difference appears on your next invoice. Let me know if you want me to make the change for you.",
  "I have checked with the carrier: the parcel is at the local depot and is scheduled for delivery tomorrow. If it does not arrive by Thursday, just reply to this e-mail and we will send a new one.",
];

const SUMMARIES: Record<Category, string[]> = {
  billing: [
    "Customer charged twice; asks for refund of duplicate payment",
    "Needs corrected invoice with VAT number",
    "Renewal failed after card expiry; asks to retry payment",
  ],
  technical: [
    "App crashes on start after update to 4.2.1",
    "Report export fails with error 500 for long date ranges",
    "Desktop sync stuck on 'waiting for server' since Monday",
    "Upload of 12 MB file rejected despite 100 MB plan limit",
  ],
  account: [
    "Password reset e-mail never arrives; locked out",
    "Wants account e-mail changed to new work address",
    "SMS two-factor code not arriving; urgent access needed",
    "Asks price of adding a second user",
  ],
  shipping: [
    "Order not delivered; tracking unchanged for six days",
    "Parcel arrived crushed; item broken, has photos",
    "Wrong colour and size delivered; asks about return",
    "Wants delivery address changed before shipping",
  ],
  sales: [
    "Quote request for about 50 seats, annual billing",
    "Non-profit asks for discount on 20 seats",
    "Mid-period upgrade to team plan; asks about pricing",
  ],
  feedback: [
    "Praises support; suggests remembering last filter",
    "Finds new checkout confusing; discount code hard to find",
    "Feature request: dark mode in web app",
  ],
  other: ["GDPR data access request", "Press enquiry for magazine article", "Reseller partnership enquiry"],
};

const fill = (s: string, n: number) => s.replaceAll("{n}", String(n));

export function subject(rng: Rng, category: Category, n: number): string {
  return fill(pick(rng, SUBJECTS[category]), n);
}

export function summary(rng: Rng, category: Category): string {
  return pick(rng, SUMMARIES[category]);
}

/** A customer's first mail: greeting, one or two paragraphs of the category, a closing and the name. */
export function customerText(rng: Rng, c: Customer, category: Category, n: number): string {
  const paras = [pick(rng, PARAGRAPHS[category])];
  if (chance(rng, 0.5)) paras.push(pick(rng, PARAGRAPHS[category]));
  const local = pick(rng, LOCAL_LINE[c.lang]);
  if (local) paras.push(local);
  return [pick(rng, GREETING[c.lang]), ...paras.map((p) => fill(p, n)), `${pick(rng, CLOSING[c.lang])}\n${c.name}`].join("\n\n");
}

/** A customer's follow-up in a thread. */
export function followUpText(rng: Rng, c: Customer, category: Category, n: number): string {
  const extra = chance(rng, 0.4) ? `\n\n${fill(pick(rng, PARAGRAPHS[category]), n)}` : "";
  return `${pick(rng, GREETING[c.lang])}\n\n${pick(rng, FOLLOW_UPS)}${extra}\n\n${pick(rng, CLOSING[c.lang])}\n${c.first}`;
}

/** A support reply (what a reviewer approved). */
export function replyText(rng: Rng, c: Customer): string {
  return `Hi ${c.first},\n\n${pick(rng, REPLIES)}\n\nKind regards,\nThe support team`;
}

/** `text` as quoted history under an "On … wrote:" line. */
export function quoted(text: string, who: string, when: Date): string {
  return `On ${when.toUTCString()}, ${who} wrote:\n${text
    .split("\n")
    .map((l) => (l ? `> ${l}` : ">"))
    .join("\n")}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/gu, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);

/** A simple HTML alternative of a plain text (as a webmail writes it). */
export function htmlOf(text: string): string {
  const paras = text.split("\n\n").map((p) => `<p>${escapeHtml(p).replaceAll("\n", "<br>")}</p>`);
  return `<div dir="ltr" style="font-family:Arial,sans-serif;font-size:14px">${paras.join("")}</div>`;
}
