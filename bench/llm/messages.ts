/**
 * N varied customer messages for the LLM benchmark, one per conversation, composed with nodemailer
 * (spec/support/compose.ts) from a seeded PRNG: English, German, Spanish and French customers, short
 * questions to multi-paragraph complaints, some with an HTML alternative, some with quoted history of an
 * earlier exchange (intake strips it to the new text), some with a signature. Same seed → same bytes.
 */
import { compose } from "../../spec/support/compose.js";
import { mulberry32 } from "../generate.js";

type Lang = "en" | "de" | "es" | "fr";

const NAMES: Record<Lang, string[]> = {
  en: ["Ann Baker", "Tom Hughes", "Priya Shah", "Liam O'Connor", "Grace Kim", "Omar Haddad"],
  de: ["Jürgen Müller", "Anna Schäfer", "Lukas Weiß", "Sabine Köhler"],
  es: ["María José Núñez", "Carlos Peña", "Lucía Fernández"],
  fr: ["Élodie Lefèvre", "François Dubois", "Chloé Martin"],
};

const TOPICS: Record<Lang, { subject: string; lines: string[] }[]> = {
  en: [
    { subject: "Refund for order", lines: ["I returned the package two weeks ago and still have not received my refund.", "The tracking shows it was delivered to your warehouse on the 3rd.", "Could you tell me when the money will be back on my card?"] },
    { subject: "Cannot log in", lines: ["Since this morning I cannot log in to my account.", "The password reset e-mail never arrives, I checked the spam folder too.", "I need access today because our invoices are due."] },
    { subject: "Shipping delay", lines: ["My order was supposed to arrive last Friday.", "The tracking page has said 'label created' for six days now.", "Is the parcel lost? Please send a replacement if so."] },
    { subject: "Wrong invoice address", lines: ["The invoice you sent lists our old company address.", "Our accounting department cannot process it like this.", "Please issue a corrected invoice with the address in our profile."] },
    { subject: "App crashes on export", lines: ["The desktop app crashes every time I export a report as PDF.", "It started after the last update, version 4.2.", "Exporting as CSV still works. Is there a workaround?"] },
    { subject: "Cancel my subscription", lines: ["Please cancel my subscription at the end of the current period.", "We are moving to a different tool for budget reasons.", "Can you confirm that no further charges will be made?"] },
  ],
  de: [
    { subject: "Rückerstattung fehlt", lines: ["Ich habe die Ware vor zwei Wochen zurückgeschickt.", "Die Rückerstattung ist bis heute nicht auf meinem Konto eingegangen.", "Bitte prüfen Sie das und geben Sie mir Bescheid."] },
    { subject: "Lieferung beschädigt", lines: ["Das Paket kam heute beschädigt an, der Bildschirm hat einen Sprung.", "Fotos kann ich Ihnen gerne schicken.", "Wie bekomme ich Ersatz?"] },
    { subject: "Frage zur Rechnung", lines: ["Auf der letzten Rechnung wurde der Betrag doppelt abgebucht.", "Können Sie die zweite Buchung stornieren?"] },
  ],
  es: [
    { subject: "Pedido no recibido", lines: ["Hice un pedido hace diez días y todavía no ha llegado.", "El número de seguimiento no funciona.", "¿Pueden revisar qué ha pasado?"] },
    { subject: "Cambio de talla", lines: ["Las zapatillas que compré son demasiado pequeñas.", "¿Es posible cambiarlas por una talla más grande sin coste?"] },
  ],
  fr: [
    { subject: "Problème de connexion", lines: ["Je n'arrive plus à me connecter à mon compte depuis hier.", "Le code de vérification n'arrive jamais par SMS.", "Pouvez-vous m'aider rapidement ?"] },
    { subject: "Facture incorrecte", lines: ["La facture de mars contient une erreur sur la TVA.", "Merci de m'envoyer une facture corrigée."] },
  ],
};

const FILLER: Record<Lang, string[]> = {
  en: ["I have been a customer for years and this never happened before.", "I already called your hotline but nobody picked up.", "My order number is in the subject line.", "Thank you in advance for your help.", "This is quite urgent for us.", "I attached nothing, everything is described here."],
  de: ["Ich bin seit Jahren Kunde und das ist mir noch nie passiert.", "Die Hotline war leider nicht erreichbar.", "Vielen Dank im Voraus."],
  es: ["Soy cliente desde hace años.", "Llamé por teléfono pero nadie contestó.", "Gracias de antemano."],
  fr: ["Je suis client depuis longtemps.", "J'ai déjà appelé le service client sans succès.", "Merci d'avance."],
};

const GREETING: Record<Lang, string> = { en: "Hello,", de: "Guten Tag,", es: "Hola,", fr: "Bonjour," };
const WROTE: Record<Lang, string> = { en: "wrote:", de: "schrieb:", es: "escribió:", fr: "a écrit :" };

export interface BenchMessage {
  raw: Buffer;
  lang: Lang;
  html: boolean;
  quoted: boolean;
  bytes: number;
}

/** The messages, one per conversation (unique subject, sender and Message-ID; no threading headers). */
export async function benchMessages(count: number, seed = 1): Promise<BenchMessage[]> {
  const rng = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const start = Date.UTC(2026, 2, 2, 8, 0, 0);
  const out: BenchMessage[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng();
    const lang: Lang = r < 0.6 ? "en" : r < 0.75 ? "de" : r < 0.88 ? "es" : "fr";
    const name = pick(NAMES[lang]);
    const address = `${name.toLowerCase().normalize("NFD").replace(/[^a-z]+/g, ".").replace(/^\.|\.$/g, "")}.${i}@customer${i % 7}.example`;
    const topic = pick(TOPICS[lang]);
    const ref = `#${String(10000 + Math.floor(rng() * 89999))}`;
    // Short question, a few paragraphs, or a long complaint.
    const size = rng();
    const paragraphs = size < 0.3 ? 1 : size < 0.8 ? 2 + Math.floor(rng() * 2) : 4 + Math.floor(rng() * 3);
    const body: string[] = [GREETING[lang], ""];
    for (let p = 0; p < paragraphs; p++) {
      const sentences = p === 0 ? [...topic.lines] : Array.from({ length: 2 + Math.floor(rng() * 3) }, () => pick(FILLER[lang]));
      body.push(sentences.join(" "), "");
    }
    body.push(name.split(" ")[0]!);
    const signature = rng() < 0.4;
    if (signature) body.push("", "-- ", `${name}`, `Tel. +49 30 ${1000000 + Math.floor(rng() * 8999999)}`);
    const quoted = rng() < 0.3;
    if (quoted) {
      const then = new Date(start - 86_400_000 * (1 + Math.floor(rng() * 20)));
      body.push("", `On ${then.toUTCString()}, Support <support@example.com> ${WROTE[lang]}`, "> Thank you for contacting us.", "> We are looking into your request and will get back to you.", ">", "> Best regards, the support team");
    }
    const text = body.join("\n");
    const html = rng() < 0.35;
    const raw = await compose({
      messageId: `<bench-llm-${seed}-${i}@customer.example>`,
      from: { name, address },
      to: "support@example.com",
      subject: `${topic.subject} ${ref}`,
      date: new Date(start + i * 60_000),
      text,
      ...(html ? { html: `<html><body>${text.split("\n\n").map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`).join("")}</body></html>` } : {}),
    });
    out.push({ raw, lang, html, quoted, bytes: raw.length });
  }
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
