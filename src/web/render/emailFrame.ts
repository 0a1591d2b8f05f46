import sanitizeHtml from "sanitize-html";

/**
 * The document that the review page shows an HTML mail in, and the headers of attachment downloads.
 *
 * The stored HTML was sanitized at ingest (src/pipeline/normalize.ts); it is sanitized again here, more
 * strictly, because this is where it meets a browser: a sanitizer bug or a looser ingest rule in an old row
 * must not become script on the reviewer's page. Three layers, each enough on its own for script:
 *   1. this allowlist (no script, no active elements, no handlers, no remote loads unless asked for);
 *   2. the response's CSP, which is also a `sandbox` without allow-scripts (`emailFrameHeaders`);
 *   3. the page's `<iframe sandbox="allow-popups allow-popups-to-escape-sandbox">` (no allow-scripts,
 *      no allow-same-origin: the frame has an opaque origin and cannot read the page or its cookies).
 *
 * `<style>` elements are dropped (with their text), inline `style` attributes are kept but filtered
 * declaration by declaration (`filterStyle`): ingest already drops `<style>` elements, and a stylesheet
 * can restyle the whole frame (fixed-position overlays, @import, @font-face) where an inline declaration
 * styles one element.
 */

export interface EmailFrameOptions {
  /** Load http(s) images (img src and CSS url()) from their hosts: the reviewer asked for it. */
  remoteImages: boolean;
  /**
   * Where the image of the part with this Content-ID (without angle brackets) loads from, or null when
   * the message has none: a `data:image/(png|gif|jpeg|webp);base64,…` URL, or a same-origin path ("/…");
   * anything else removes the image. Prefer data: URLs: the frame's origin is opaque (sandbox without
   * allow-same-origin), so a request for a path is cross-site: it carries no session cookie (SameSite)
   * and a `Cross-Origin-Resource-Policy: same-origin` response (helmet's default) is blocked.
   */
  cidUrl: (cid: string) => string | null;
}

export interface AttachmentMeta {
  filename: string | null;
  contentType: string;
  size: number;
}

const ALLOWED_TAGS = [
  // text and sections
  "p", "div", "span", "br", "hr", "wbr", "pre", "blockquote", "address", "center", "font",
  "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "aside", "header", "footer", "main", "nav",
  "b", "i", "u", "s", "strike", "em", "strong", "small", "big", "sub", "sup", "mark", "code", "kbd", "samp",
  "tt", "var", "cite", "q", "abbr", "dfn", "del", "ins", "bdi", "bdo", "figure", "figcaption",
  // lists and tables
  "ul", "ol", "li", "dl", "dt", "dd",
  "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
  // the two that carry URLs, each rewritten by `transformTag`
  "a", "img",
]; // prettier-ignore

const CELL_ATTRIBUTES = ["colspan", "rowspan", "align", "valign", "width", "height", "bgcolor"];
const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  "*": ["style", "title", "dir", "lang", "align"],
  a: ["href", "target", "rel"],
  img: ["src", "alt", "width", "height", "data-blocked-src"],
  font: ["color", "size", "face"],
  table: ["width", "border", "cellpadding", "cellspacing", "bgcolor"],
  tr: ["valign", "bgcolor"],
  td: CELL_ATTRIBUTES,
  th: CELL_ATTRIBUTES,
  col: ["span", "width"],
  colgroup: ["span", "width"],
  ol: ["start", "type"],
  li: ["value"],
};

/**
 * Disallowed elements whose content goes too, not only the tag: raw-text and foreign-content elements
 * (the usual places for parser-differential "mutation" XSS), embedded documents, and form controls.
 */
const DROP_WITH_CONTENT = [
  "script", "style", "template", "noscript", "noembed", "noframes", "xmp", "plaintext", "listing", "title",
  "textarea", "select", "option", "head", "iframe", "frame", "frameset", "object", "applet", "embed",
  "svg", "math", "audio", "video", "canvas", "map",
]; // prettier-ignore

const LINK_REL = "noopener noreferrer nofollow";
const RASTER_DATA_URL = /^data:image\/(?:png|gif|jpeg|webp)[;,]/i;
/** cidUrl paths: same-origin, nothing that needs escaping in an attribute or a CSS string. */
const SAME_ORIGIN_PATH = /^\/(?![/\\])[^\s"\\<>]*$/;
const BLOCKED_SRC_MAX = 2000;

/** A complete HTML document for the message's iframe. */
export function emailFrameDocument(html: string, opts: EmailFrameOptions): string {
  const body = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    nonTextTags: DROP_WITH_CONTENT,
    disallowedTagsMode: "discard",
    // A second net under transformTag, which already decides every href and src.
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesByTag: { img: ["http", "https", "data"] },
    allowedSchemesAppliedToAttributes: ["href", "src"],
    allowProtocolRelative: false,
    transformTags: { "*": (tagName, attribs) => ({ tagName, attribs: transformTag(tagName, attribs, opts) }) },
    // An img whose src was removed and that has no alt shows nothing: drop it.
    exclusiveFilter: (frame) => frame.tag === "img" && !frame.attribs.src && !frame.attribs.alt && !frame.attribs["data-blocked-src"],
  });
  return [
    "<!doctype html>",
    "<html><head>",
    '<meta charset="utf-8">',
    // Repeats the header policy minus what a meta policy cannot say, for a response served without it.
    `<meta http-equiv="Content-Security-Policy" content="${frameCsp(opts.remoteImages, false)}">`,
    '<meta name="referrer" content="no-referrer">',
    // Without href (base-uri 'none' forbids one): only makes every link open outside the frame.
    '<base target="_blank">',
    `<style>${FRAME_CSS}</style>`,
    "</head><body>",
    body,
    "</body></html>",
  ].join("\n");
}

const FRAME_CSS =
  "body{margin:0;padding:12px;font:14px/1.45 system-ui,sans-serif;overflow-wrap:anywhere}" +
  "img{max-width:100%}img[data-blocked-src]{outline:1px dashed #999;color:#666}";

/** Headers for the iframe document from `emailFrameDocument` (with the same remoteImages). */
export function emailFrameHeaders(opts: { remoteImages: boolean }): Record<string, string> {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": frameCsp(opts.remoteImages, true),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
  };
}

function frameCsp(remoteImages: boolean, asHeader: boolean): string {
  const directives = [
    "default-src 'none'",
    `img-src 'self' data:${remoteImages ? " https: http:" : ""}`,
    "style-src 'unsafe-inline'",
    "form-action 'none'",
    "base-uri 'none'",
  ];
  // frame-ancestors and sandbox are ignored (with a console warning) in a <meta> policy.
  // allow-popups lets links open a tab; escaping the sandbox there gives the linked site a normal tab.
  if (asHeader) directives.push("frame-ancestors 'self'", "sandbox allow-popups allow-popups-to-escape-sandbox");
  return directives.join("; ");
}

function transformTag(tag: string, attribs: sanitizeHtml.Attributes, opts: EmailFrameOptions): sanitizeHtml.Attributes {
  const out: sanitizeHtml.Attributes = {};
  for (const [name, value] of Object.entries(attribs)) {
    const key = name.toLowerCase();
    if (key === "style") {
      const style = filterStyle(value, (url) => imageUrl(url, opts));
      if (style) out.style = style;
    } else if (key !== "href" && key !== "src" && key !== "target" && key !== "rel" && key !== "data-blocked-src") {
      out[key] = value; // sanitize-html's allowlist decides about the rest
    }
  }
  if (tag === "a") {
    const href = linkUrl(attribs.href);
    if (href) Object.assign(out, { href, target: "_blank", rel: LINK_REL });
  } else if (tag === "img" && attribs.src !== undefined) {
    const src = imageUrl(attribs.src, opts);
    if (src) out.src = src;
    else if (isRemote(attribs.src)) {
      out["data-blocked-src"] = attribs.src.trim().slice(0, BLOCKED_SRC_MAX);
      out.alt ??= "";
    }
  }
  return out;
}

/** http(s) and mailto links, normalised as a browser would read them; anything else is no link. */
function linkUrl(raw: string | undefined): string | null {
  const url = parseUrl(raw);
  return url && ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
}

/** Where an image may load from: its cid attachment, a raster data: URL, or (if allowed) the web. */
function imageUrl(raw: string, opts: EmailFrameOptions): string | null {
  const value = raw.trim();
  if (/^cid:/i.test(value)) {
    const target = opts.cidUrl(contentIdOf(value.slice(4)));
    return target !== null && (SAME_ORIGIN_PATH.test(target) || isRasterDataUrl(target)) ? target : null;
  }
  if (RASTER_DATA_URL.test(value)) return isRasterDataUrl(value) ? value : null;
  const url = parseUrl(value);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) return null;
  return opts.remoteImages ? url.href : null;
}

/** A raster data: URL with nothing in it that needs escaping (base64 or plain URL characters). */
function isRasterDataUrl(value: string): boolean {
  return RASTER_DATA_URL.test(value) && /^[\w+/=;:,.-]+$/.test(value);
}

function isRemote(raw: string): boolean {
  const url = parseUrl(raw);
  return url !== null && (url.protocol === "http:" || url.protocol === "https:");
}

/** An absolute URL as the browser's URL parser reads it (it drops tabs, newlines and edge spaces). */
function parseUrl(raw: string | undefined): URL | null {
  if (raw === undefined) return null;
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/** RFC 2392: the cid: URL carries the Content-ID percent-encoded, without its angle brackets. */
function contentIdOf(encoded: string): string {
  let cid = encoded;
  try {
    cid = decodeURIComponent(encoded);
  } catch {
    // keep it as written
  }
  return cid.replace(/^<(.*)>$/, "$1");
}

const SAFE_FUNCTIONS = new Set(["rgb", "rgba", "hsl", "hsla", "calc"]);
const DENIED_PROPERTIES = /behavior|binding/;

/**
 * Inline CSS, declaration by declaration: a declaration survives when its value uses only plain tokens,
 * strings and the functions rgb/rgba/hsl/hsla/calc, and url() whose target `urlFor` accepts (the url is
 * then rewritten to that target). Everything else (expression(), image-set(), var(), attr(), @import,
 * escapes that spell any of those) drops the declaration. CSS escapes of non-ASCII characters (East Asian
 * font names) are decoded first; any other backslash drops the whole attribute, since an escape can spell
 * "url" or a quote.
 */
export function filterStyle(style: string, urlFor: (url: string) => string | null): string {
  const decoded = style.replace(/\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?/g, (escape, hex: string) => {
    const cp = parseInt(hex, 16);
    return cp >= 0x80 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : escape;
  });
  if (decoded.includes("\\")) return "";
  const declarations = splitDeclarations(decoded);
  if (!declarations) return "";
  const kept: string[] = [];
  for (const declaration of declarations) {
    const m = /^\s*(-?[a-zA-Z][a-zA-Z0-9-]*)\s*:([^]*)$/.exec(declaration);
    if (!m) continue;
    const property = m[1]!.toLowerCase();
    if (DENIED_PROPERTIES.test(property)) continue;
    const value = filterValue(m[2]!.trim(), urlFor);
    if (value) kept.push(`${property}: ${value}`);
  }
  return kept.join("; ");
}

/** Split on `;` outside strings and parentheses, dropping comments; null when the CSS is unbalanced. */
function splitDeclarations(css: string): string[] | null {
  const parts: string[] = [];
  let current = "";
  let depth = 0;
  for (let i = 0; i < css.length; i++) {
    const c = css[i]!;
    if (c === '"' || c === "'") {
      const end = css.indexOf(c, i + 1);
      if (end < 0) return null;
      current += css.slice(i, end + 1);
      i = end;
    } else if (c === "/" && css[i + 1] === "*") {
      const end = css.indexOf("*/", i + 2);
      if (end < 0) return null;
      current += " ";
      i = end + 1;
    } else if (c === ";" && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      if (c === "(") depth++;
      if (c === ")" && --depth < 0) return null;
      current += c;
    }
  }
  if (depth !== 0) return null;
  parts.push(current);
  return parts.filter((p) => p.trim() !== "");
}

/** One declaration's value with its url()s rewritten, or null when anything in it is not allowed. */
function filterValue(value: string, urlFor: (url: string) => string | null): string | null {
  let out = "";
  let ident = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"' || c === "'") {
      const end = value.indexOf(c, i + 1);
      const text = value.slice(i, end + 1);
      if (end < 0 || /[\n\r\f]/.test(text)) return null;
      out += text;
      i = end;
      ident = "";
    } else if (c === "(") {
      const name = ident.toLowerCase();
      if (name === "url") {
        const arg = /^\(\s*(?:"([^"]*)"|'([^']*)'|([^\s"'()]*))\s*\)/.exec(value.slice(i));
        const target = arg ? urlFor(arg[1] ?? arg[2] ?? arg[3] ?? "") : null;
        if (!arg || target === null || /["\\\n\r\f]/.test(target)) return null;
        out += `("${target}")`;
        i += arg[0].length - 1;
      } else if (name === "" || SAFE_FUNCTIONS.has(name)) {
        out += c;
      } else {
        return null;
      }
      ident = "";
    } else if (/[\w-]/.test(c) || c.charCodeAt(0) >= 0x80) {
      ident += c;
      out += c;
    } else if (/[\s#%.,+*/!)]/.test(c)) {
      out += c;
      ident = "";
    } else {
      return null; // < > { } @ : ; and friends have no business in an inline value
    }
  }
  return out.trim() || null;
}

/** Headers for downloading an attachment: always a download, never rendered by the browser. */
export function attachmentHeaders(a: AttachmentMeta): Record<string, string> {
  const name = safeFilename(a.filename);
  return {
    "Content-Type": safeContentType(a.contentType),
    "Content-Disposition": `attachment; filename="${asciiFallback(name)}"; filename*=UTF-8''${rfc5987(name)}`,
    "Content-Length": String(Number.isFinite(a.size) ? Math.max(0, Math.trunc(a.size)) : 0),
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
  };
}

const PASSIVE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"]);

/**
 * The attachment's own type when a browser can only display it passively; application/octet-stream for
 * everything else (HTML, SVG, XML, script, multipart, anything unparseable).
 */
export function safeContentType(contentType: string): string {
  const m = /^\s*([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)\s*(;.*)?$/i.exec(contentType);
  const type = m?.[1]?.toLowerCase();
  if (!type || !PASSIVE_TYPES.has(type)) return "application/octet-stream";
  if (type !== "text/plain") return type;
  const charset = /;\s*charset\s*=\s*"?([a-z0-9._:-]{1,40})"?\s*(?:;|$)/i.exec(m?.[2] ?? "")?.[1];
  return `text/plain; charset=${charset ? charset.toLowerCase() : "utf-8"}`;
}

/**
 * The last path segment of the sender's file name, without control, bidi-override and quote characters,
 * leading dots or trailing dots and spaces; "attachment" when nothing is left.
 */
export function safeFilename(filename: string | null): string {
  const base = (filename ?? "").split(/[/\\]/).pop() ?? "";
  const cleaned = base
    .slice(0, 1000)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd") // lone surrogates break encodeURIComponent
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069"]/g, "")
    .replace(/^[\s.]+|[\s.]+$/g, "");
  return [...cleaned].slice(0, 200).join("") || "attachment";
}

function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|[%\\"]/g, "_");
}

/** RFC 5987 ext-value characters: attr-char stays, everything else is percent-encoded UTF-8. */
function rfc5987(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
