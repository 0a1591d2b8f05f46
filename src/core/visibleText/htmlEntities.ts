/**
 * HTML character references, decoded the way a browser shows them. Only the references that mail
 * actually carries are named; an unknown one stays as written, which is also what a browser does.
 * The invisible ones (&zwj; &shy; ...) are decoded on purpose: stripHiddenText removes them afterwards,
 * and leaving them encoded would let "ig&zwnj;nore" read as a different word than the person sees.
 */

const NAMED: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0",
  shy: "\u00ad", zwj: "\u200d", zwnj: "\u200c", lrm: "\u200e", rlm: "\u200f",
  ensp: "\u2002", emsp: "\u2003", thinsp: "\u2009",
  copy: "©", reg: "®", trade: "™", hellip: "…", mdash: "—", ndash: "–", bull: "•", middot: "·",
  lsquo: "‘", rsquo: "’", sbquo: "‚", ldquo: "“", rdquo: "”", bdquo: "„", laquo: "«", raquo: "»",
  euro: "€", pound: "£", yen: "¥", cent: "¢", sect: "§", deg: "°", times: "×", divide: "÷",
  auml: "ä", ouml: "ö", uuml: "ü", Auml: "Ä", Ouml: "Ö", Uuml: "Ü", szlig: "ß",
  eacute: "é", egrave: "è", ecirc: "ê", agrave: "à", aacute: "á", acirc: "â", ccedil: "ç",
  iacute: "í", oacute: "ó", uacute: "ú", ntilde: "ñ", Eacute: "É", iexcl: "¡", iquest: "¿",
};
// Browsers also accept these few without the semicolon ("&amp" in old mailers' output).
const LEGACY = new Set(["amp", "lt", "gt", "quot", "nbsp"]);

const REFERENCE = /&(?:#[xX]([0-9a-fA-F]{1,8});?|#([0-9]{1,10});?|([A-Za-z][A-Za-z0-9]{1,31})(;?))/gu;

function fromCodePoint(n: number): string {
  // NUL, surrogates and out-of-range values render as the replacement character in browsers.
  if (n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "\ufffd";
  return String.fromCodePoint(n);
}

/** Decodes character references in text or in an attribute value (where `&amp=` style legacy forms stay literal). */
export function decodeEntities(s: string, inAttribute = false): string {
  if (!s.includes("&")) return s;
  return s.replace(REFERENCE, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined, semi: string, offset: number) => {
    if (hex !== undefined) return fromCodePoint(parseInt(hex, 16));
    if (dec !== undefined) return fromCodePoint(parseInt(dec, 10));
    const value = NAMED[name!];
    if (value === undefined) return whole;
    if (semi === ";") return value;
    if (!LEGACY.has(name!)) return whole;
    const next = s.charAt(offset + whole.length);
    if (inAttribute && /[=A-Za-z0-9]/u.test(next)) return whole;
    return value;
  });
}
