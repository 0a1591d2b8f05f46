/**
 * Finding links, e-mail addresses and phone numbers in plain text, and the normalized keys by which
 * one occurrence is compared with another. Shared by the draft flagger (did the model invent a contact
 * detail?) and the hidden-link finder (is this URL shown to the reader?), so both agree on what a link is.
 */

// Top-level domains that make a bare "example.com/path" a link; without a scheme or "www." a wider
// net would catch file names ("invoice.pdf") and abbreviations.
const COMMON_TLDS =
  "com|org|net|edu|gov|io|co|ai|app|dev|info|biz|me|us|uk|de|fr|es|it|nl|be|at|ch|eu|se|no|dk|fi|pl|pt|cz|ru|jp|cn|in|br|au|ca|mx|ly|gl|to|xyz|shop|store|online|site|link";
// What may follow the host: anything but whitespace and the characters that delimit a URL in text.
const URL_TAIL = String.raw`[^\s<>"'\x60{}|\\^[\]]`;
const SCHEME_URL = new RegExp(String.raw`\b(?:https?:\/\/|www\.)${URL_TAIL}+`, "giu");
const BARE_URL = new RegExp(
  String.raw`(?<![\w@.\-/:])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:${COMMON_TLDS})(?![\w-])(?:[/?#]${URL_TAIL}*)?`,
  "giu",
);
const EMAIL = /(?<![\w.%+-])[a-z0-9](?:[a-z0-9._%+-]{0,63})@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])/giu;
// 7+ digits, each pair of digits separated by at most three of space, tab, dot, dash or parentheses.
const PHONE = /(?<![\w+.-])\+?\(?\d(?:[ \t.()-]{0,3}\d){6,}\)?/gu;
// Shapes that have the digits of a phone number but are dates, times or year ranges.
const NOT_PHONES = [
  /\b\d{4}[-./]\d{1,2}[-./]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?/gu,
  /\b\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\b/gu,
  /\b(?:19|20)\d{2}\s?[-–]\s?(?:19|20)?\d{2}\b/gu,
];

/** Characters a sentence puts after a link that are not part of it. */
const TRAILING = /[.,;:!?'"»”’…>*_]+$/u;

/** Strips what a sentence puts after a link: punctuation, and a closing bracket that opened outside it. */
export function trimUrl(url: string): string {
  let u = url;
  for (;;) {
    const before = u;
    u = u.replace(TRAILING, "");
    for (const [open, close] of [["(", ")"], ["[", "]"], ["{", "}"]] as const) {
      if (u.endsWith(close) && count(u, open) < count(u, close)) u = u.slice(0, -1);
    }
    if (u === before) return u;
  }
}

/** URLs in text: http(s)://…, www.…, and bare host names with a common top-level domain; in order. */
export function extractUrls(text: string): string[] {
  const found: { at: number; url: string }[] = [];
  const masked = text.replace(EMAIL, (m) => " ".repeat(m.length)).replace(SCHEME_URL, (m, at: number) => {
    found.push({ at, url: trimUrl(m) });
    return " ".repeat(m.length);
  });
  for (const m of masked.matchAll(BARE_URL)) found.push({ at: m.index, url: trimUrl(m[0]) });
  return found.sort((a, b) => a.at - b.at).map((f) => f.url).filter((u) => /[a-z0-9]\.[a-z]/iu.test(u));
}

/**
 * The comparison key of a URL: no scheme, lower-case host, no trailing punctuation or slashes.
 * "HTTPS://Example.com/Help/." and "example.com/Help" are the same link; the path keeps its case
 * because servers distinguish it.
 */
export function urlKey(url: string): string {
  const noScheme = trimUrl(url.trim()).replace(/^(?:https?:)?\/\//iu, "");
  const cut = noScheme.search(/[/?#]/u);
  const host = (cut < 0 ? noScheme : noScheme.slice(0, cut)).toLowerCase().replace(/\.$/u, "");
  const rest = cut < 0 ? "" : noScheme.slice(cut);
  // "a.example/./" needs two rounds: the slash uncovers a dot, the dot a slash.
  let key = host + rest;
  for (let before = ""; before !== key; ) {
    before = key;
    key = trimUrl(key).replace(/\/+$/u, "");
  }
  return key;
}

/** E-mail addresses in text, lower-cased, in order. */
export function extractEmails(text: string): string[] {
  return [...text.matchAll(EMAIL)].map((m) => m[0].toLowerCase().replace(/\.+$/u, ""));
}

/** Phone-number-like sequences (7+ digits; spaces, dashes, dots, parentheses and a leading +), as digits only. */
export function extractPhoneDigits(text: string): string[] {
  let masked = text.replace(EMAIL, (m) => " ".repeat(m.length)).replace(SCHEME_URL, (m) => " ".repeat(m.length));
  for (const shape of NOT_PHONES) masked = masked.replace(shape, (m) => " ".repeat(m.length));
  return [...masked.matchAll(PHONE)].map((m) => m[0].replace(/\D/gu, "")).filter((d) => d.length >= 7);
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}
