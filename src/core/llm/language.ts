/**
 * A small language guess for when no model is available: the script for Japanese, Chinese and Russian,
 * common function words for the Latin-script languages support mail mostly arrives in. It only picks
 * the reply language of a template and a triage label, so "und" (undetermined) is the honest answer
 * whenever the evidence is thin or split.
 */

// Short, frequent words that are rare in the other listed languages (shared ones would only add ties).
const WORDS: Record<string, string[]> = {
  en: ["the", "and", "is", "are", "you", "to", "of", "my", "i", "it", "not", "have", "with", "this", "that", "please", "for", "was", "thanks", "thank", "can", "your", "would", "order", "hello", "hi"],
  de: ["und", "ich", "nicht", "der", "das", "ist", "mit", "sie", "ein", "eine", "bitte", "mein", "meine", "auf", "für", "danke", "habe", "wir", "ihr", "ihre", "hallo", "bestellung", "noch", "auch", "vielen", "dank", "kann", "wurde"],
  fr: ["le", "les", "et", "est", "je", "vous", "pas", "une", "des", "pour", "merci", "avec", "mon", "ma", "ne", "bonjour", "dans", "votre", "sur", "commande", "mes", "suis", "ai"],
  es: ["el", "los", "las", "y", "es", "por", "para", "gracias", "mi", "con", "hola", "está", "tengo", "pero", "muy", "su", "pedido", "del", "mis", "estoy", "usted"],
  it: ["il", "gli", "è", "sono", "per", "grazie", "non", "mio", "mia", "che", "ciao", "della", "questo", "ho", "ordine", "buongiorno", "vorrei", "nel", "sul"],
  nl: ["het", "een", "en", "ik", "niet", "van", "dat", "mijn", "met", "voor", "bedankt", "alstublieft", "graag", "wij", "heb", "bestelling", "hallo", "dank", "u", "uw", "zijn", "op"],
  pt: ["o", "os", "não", "é", "um", "uma", "obrigado", "obrigada", "com", "meu", "minha", "você", "olá", "tenho", "pedido", "estou", "do", "da", "em", "seu"],
};
const LOOKUP = new Map<string, string[]>();
for (const [lang, words] of Object.entries(WORDS)) {
  for (const w of words) LOOKUP.set(w, [...(LOOKUP.get(w) ?? []), lang]);
}

/** Guesses a language code (en, de, fr, es, it, nl, pt, ja, zh, ru) from text; "und" when unsure. */
export function guessLanguage(text: string): string {
  const kana = count(text, /[\p{Script=Hiragana}\p{Script=Katakana}]/gu);
  const han = count(text, /\p{Script=Han}/gu);
  const cyrillic = count(text, /\p{Script=Cyrillic}/gu);
  const latin = count(text, /\p{Script=Latin}/gu);
  if (kana >= 2) return "ja";
  if (han >= 2 && han >= latin) return "zh";
  if (cyrillic >= 3 && cyrillic >= latin) return "ru";

  const scores = new Map<string, number>();
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
    for (const lang of LOOKUP.get(word) ?? []) scores.set(lang, (scores.get(lang) ?? 0) + 1);
  }
  const ranked = [...scores].sort((a, b) => b[1] - a[1]);
  const [best, second] = ranked;
  if (!best || best[1] < 2) return "und";
  if (second && second[1] * 1.5 > best[1]) return "und";
  return best[0];
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
