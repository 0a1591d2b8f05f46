/**
 * Lexical helpers shared by the inline-style and stylesheet readers: comments, escapes, and splitting
 * on a separator outside parentheses and quotes.
 */

/** Replaces CSS comments with a space (an unterminated one runs to the end, as in browsers). */
export function stripCssComments(css: string): string {
  return css.replace(/\/\*[^]*?(?:\*\/|$)/gu, " ");
}

/** Undoes CSS escapes: "\61" → "a", "\:" → ":". */
export function unescapeCss(s: string): string {
  return s.replace(/\\(?:([0-9a-fA-F]{1,6})\s?|([^\n0-9a-fA-F]))/gu, (_, hex: string | undefined, ch: string | undefined) => {
    if (hex === undefined) return ch!;
    const n = parseInt(hex, 16);
    return n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? "\ufffd" : String.fromCodePoint(n);
  });
}

/** Splits on `sep` outside parentheses and quotes, so "url(a;b)" stays whole. */
export function splitOutside(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (depth === 0 && (sep === " " ? /\s/u.test(c) : c === sep)) {
      if (i > start) parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (s.length > start) parts.push(s.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}
