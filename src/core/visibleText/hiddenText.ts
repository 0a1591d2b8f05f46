/**
 * The model must read what the reviewer reads (promise 6: email content is untrusted input). Text a
 * person cannot see — zero-width and bidi control characters, tag characters, HTML hidden by markup or
 * style — is how instructions are smuggled to a model past a human, so it is removed before a prompt
 * is built, and links the reader cannot see are reported for the reviewer.
 */
import { extractUrls, urlKey } from "../contactTokens.js";
import { scanHtml } from "./htmlVisible.js";

// Default-ignorable code points (zero-width, bidi controls, variation selectors, tag characters, Hangul
// fillers ...), other format characters, and control characters other than tab and line breaks.
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are removed.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;
const ZWJ = "\u200d";
const isPictographic = (c: string) => /\p{Extended_Pictographic}/u.test(c);
// What may precede a zero-width joiner inside an emoji sequence: the emoji, a skin tone, or VS16.
const joinsEmoji = (c: string) => isPictographic(c) || /[\p{Emoji_Modifier}\ufe0f]/u.test(c);

/**
 * Removes what a reader would not see but a model would read: zero-width and bidi control characters,
 * other format and control characters, tag characters and stray variation selectors; line breaks are
 * normalized to "\n" and runs of three or more blank lines shortened to two. Emoji sequences (a joiner
 * between two emoji, VS16 after an emoji) are kept, since they cannot spell out hidden words.
 */
export function stripHiddenText(text: string): string {
  const chars = [...text.replace(/\r\n?|[\u2028\u2029\u0085]/gu, "\n")];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (!INVISIBLE.test(c)) {
      out.push(c);
      continue;
    }
    const prev = out[out.length - 1];
    if (prev === undefined) continue;
    // A joiner survives only directly between emoji, which never change, so a second pass keeps it too.
    if (c === ZWJ && joinsEmoji(prev) && isPictographic(chars[i + 1] ?? "")) out.push(c);
    else if ((c === "\ufe0f" || c === "\ufe0e") && /\p{Emoji}/u.test(prev)) out.push(c);
  }
  return out.join("").replace(/\n(?:[^\S\n]*\n){3,}/gu, "\n\n\n").replace(/^(?:[^\S\n]*\n){3,}/u, "\n\n");
}

/**
 * The text a person sees in an HTML mail: no comments, scripts, styles or head; nothing hidden by
 * `hidden`, aria-hidden, display:none, visibility:hidden, opacity 0, tiny fonts, text in the background
 * colour or zero-size and off-screen boxes, whether inline or by a <style> rule. Link text is kept (not
 * the href) and image alt text is not (the reader of a rendered mail sees the image, and alt text is a
 * place to hide words). Blocks become lines; the result is stripHiddenText'ed.
 */
export function visibleTextFromHtml(html: string): string {
  return stripHiddenText(scanHtml(html).visible).replace(/[^\S\n]+$/gmu, "").trim();
}

/**
 * http(s) links present in the HTML source — href targets and URLs written in text, comments or
 * hidden elements — that the reader cannot see as text: `<a href="https://evil.example">click here</a>`,
 * a link in a display:none block. Original spelling, href targets first and then URLs in text, each
 * in source order, no duplicates.
 */
export function hiddenLinks(html: string): string[] {
  const scan = scanHtml(html);
  const shown = new Set(extractUrls(stripHiddenText(scan.visible)).map(urlKey));
  const candidates = [
    ...scan.hrefs.map((h) => stripHiddenText(h).trim()).filter((h) => /^(?:https?:)?\/\/[^/]/iu.test(h)).map(trimHref),
    ...scan.allText.flatMap((t) => extractUrls(stripHiddenText(t)).filter((u) => /^(?:https?:\/\/|www\.)/iu.test(u))),
  ];
  const seen = new Set<string>();
  const hidden: string[] = [];
  for (const url of candidates) {
    const key = urlKey(url);
    if (!key || shown.has(key) || seen.has(key)) continue;
    seen.add(key);
    hidden.push(url);
  }
  return hidden;
}

const trimHref = (h: string) => (h.startsWith("//") ? `https:${h}` : h).replace(/\s+/gu, "");
