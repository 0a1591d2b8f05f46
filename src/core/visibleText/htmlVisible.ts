/**
 * Walks HTML tokens with a stack of open elements and decides, for every piece of text, whether a person
 * reading the rendered mail would see it. Hiding is tracked per element as the browser inherits it:
 * display:none and friends hide for good, `visibility` and font size can be turned back on by a
 * descendant, and colour is compared with the nearest background for each piece of text.
 * Inline styles and <style> sheets both count (cssSheet.ts). Misnested and unclosed tags are handled
 * the way browsers handle the common cases (an inline end tag does not close a block opened inside it;
 * <p>, <li>, <td> ... close their open siblings); where this walker simplifies (the adoption agency,
 * table foster-parenting), it errs towards keeping text hidden.
 */
import { isInvisibleColor, styleFacts, type StyleFacts } from "./cssHiding.js";
import { Stylesheet } from "./cssSheet.js";
import { htmlTokens } from "./htmlTokens.js";
import { TextBuilder } from "./textBuilder.js";

/** What a scan of an HTML body found. */
export interface HtmlScan {
  /** The text a person sees, with block structure as newlines (not yet passed through stripHiddenText). */
  visible: string;
  /** Every text, comment and script body in the source, seen or not (stylesheets excepted). */
  allText: string[];
  /** href values of links (not stylesheets), in source order. */
  hrefs: string[];
}

interface Open {
  name: string;
  /** Hidden for good (display:none, hidden, aria-hidden, head, script ...). */
  hard: boolean;
  visibility: "visible" | "hidden";
  tiny: boolean;
  color: string | null;
  background: string | null;
  pre: boolean;
  closedDetails: boolean;
}

const ROOT: Open = {
  name: "#root", hard: false, visibility: "visible", tiny: false,
  color: null, background: null, pre: false, closedDetails: false,
};
// What a client shows when the mail sets nothing: dark text on white.
const DEFAULT_COLOR = "#000000";
const DEFAULT_BACKGROUND = "#ffffff";

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr", "keygen", "basefont", "bgsound", "frame"]);
// Their content is never shown: metadata, scripts, templates, fallbacks a modern client does not render.
const HIDING_TAGS = new Set(["head", "script", "style", "title", "template", "noscript", "iframe", "noembed", "noframes", "datalist", "frameset", "desc"]);
const HEAD_CONTENT = new Set(["base", "basefont", "bgsound", "link", "meta", "title", "noscript", "script", "style", "template"]);
const FORMATTING = new Set(["a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u"]);
// The browser's "special" elements: an unrelated end tag never closes through them.
const SPECIAL = new Set([
  "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound", "blockquote", "body", "br",
  "button", "caption", "center", "col", "colgroup", "dd", "details", "dir", "div", "dl", "dt", "embed",
  "fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6",
  "head", "header", "hgroup", "hr", "html", "iframe", "img", "input", "li", "link", "listing", "main", "marquee",
  "menu", "meta", "nav", "noembed", "noframes", "noscript", "object", "ol", "p", "param", "plaintext", "pre",
  "script", "search", "section", "select", "source", "style", "summary", "table", "tbody", "td", "template",
  "textarea", "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp",
]);
const SCOPE = new Set(["applet", "caption", "html", "table", "td", "th", "marquee", "object", "template"]);
// Start tags that close an open <p> (HTML "close a p element in button scope").
const CLOSES_P = new Set([
  "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset",
  "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li",
  "dd", "dt", "main", "menu", "nav", "ol", "p", "pre", "listing", "search", "section", "summary", "table", "ul", "xmp",
]);
// Opening one of these closes an open sibling of the listed kinds, up to (not through) the boundary.
const CLOSES_SIBLING: Record<string, { siblings: string[]; boundary: ReadonlySet<string> }> = {
  li: { siblings: ["li"], boundary: new Set(["ul", "ol", "menu", "table"]) },
  dt: { siblings: ["dt", "dd"], boundary: new Set(["dl", "table"]) },
  dd: { siblings: ["dt", "dd"], boundary: new Set(["dl", "table"]) },
  tr: { siblings: ["tr"], boundary: new Set(["table", "tbody", "thead", "tfoot"]) },
  td: { siblings: ["td", "th"], boundary: new Set(["tr", "table"]) },
  th: { siblings: ["td", "th"], boundary: new Set(["tr", "table"]) },
  tbody: { siblings: ["tbody", "thead", "tfoot"], boundary: new Set(["table"]) },
  thead: { siblings: ["tbody", "thead", "tfoot"], boundary: new Set(["table"]) },
  tfoot: { siblings: ["tbody", "thead", "tfoot"], boundary: new Set(["table"]) },
  option: { siblings: ["option"], boundary: new Set(["select", "datalist"]) },
};
const BLOCK = new Set([
  "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div",
  "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "html", "li",
  "main", "menu", "nav", "ol", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
]);
const PARAGRAPH = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol"]);
const CELL = new Set(["td", "th"]);

/** Scans HTML once for its visible text, all of its text, and its link targets. */
export function scanHtml(html: string): HtmlScan {
  const sheet = new Stylesheet(styleSheets(html));
  // Sheet rules first, the inline style after them: inline wins unless a rule says !important.
  // Mail repeats the same few styles on many elements, so each distinct block is read once.
  const parsed = new Map<string, StyleFacts>();
  const styleOf = (name: string, attrs: Map<string, string>): StyleFacts => {
    const css = `${sheet.declarationsFor(name, attrs)};${attrs.get("style") ?? ""}`;
    let facts = parsed.get(css);
    if (!facts) parsed.set(css, (facts = styleFacts(css)));
    return facts;
  };
  const out = new TextBuilder();
  const stack = new OpenStack((el) => {
    if (BLOCK.has(el.name)) out.lineBreak(1);
    if (PARAGRAPH.has(el.name)) out.lineBreak(2);
  });
  const allText: string[] = [];
  const hrefs: string[] = [];
  // Text or a body element while <head> is open ends the head, as in browsers.
  const leaveHead = () => {
    if (stack.top().name === "head") stack.popTo(stack.length - 1);
  };

  for (const token of htmlTokens(html)) {
    if (token.kind === "comment") {
      allText.push(token.text);
    } else if (token.kind === "text") {
      // A stylesheet's url(...) fetches a font or an image; it is not a link anyone follows.
      if (stack.top().name !== "style") allText.push(token.text);
      if (/[^\s]/u.test(token.text)) leaveHead();
      const el = stack.top();
      if (isTextVisible(el) && !sheet.hostile) out.text(token.text, el.pre);
    } else if (token.kind === "start") {
      const { name, attrs } = token;
      if (name === "html" || name === "body") {
        if (stack.has(name)) continue;
        if (name === "body") leaveHead();
      } else if (!HEAD_CONTENT.has(name)) leaveHead();
      if (CLOSES_P.has(name)) stack.closeNearest(["p"], P_BOUNDARY);
      const sibling = CLOSES_SIBLING[name];
      if (sibling) stack.closeNearest(sibling.siblings, sibling.boundary);
      const href = attrs.get("href");
      if (href !== undefined && name !== "link" && name !== "base") hrefs.push(href);
      const el = openElement(name, attrs, stack.top(), styleOf(name, attrs));
      if (BLOCK.has(name) || name === "br") out.lineBreak(1);
      if (PARAGRAPH.has(name)) out.lineBreak(2);
      if (CELL.has(name)) out.space();
      if (VOID.has(name) || (token.selfClosing && (stack.has("svg") || stack.has("math")))) continue;
      stack.push(el);
    } else if (token.name === "br") {
      out.lineBreak(1); // browsers treat </br> as <br>
    } else if (token.name === "p" && !stack.has("p")) {
      out.lineBreak(2); // a stray </p> makes an empty paragraph
    } else {
      stack.close(token.name);
    }
  }
  return { visible: out.toString(), allText, hrefs };
}

const P_BOUNDARY = new Set([...SCOPE, "button"]);
// Chromium stops nesting at this depth and makes deeper elements siblings of the last one; doing the
// same keeps every walk down the stack bounded on hostile input.
const MAX_DEPTH = 512;

/** The stack of open elements, with a count per name so that absent names cost nothing to look up. */
class OpenStack {
  private items: Open[] = [];
  private counts = new Map<string, number>();

  constructor(private readonly onClose: (el: Open) => void) {}

  get length(): number {
    return this.items.length;
  }

  top(): Open {
    return this.items[this.items.length - 1] ?? ROOT;
  }

  has(name: string): boolean {
    return (this.counts.get(name) ?? 0) > 0;
  }

  push(el: Open): void {
    if (this.items.length >= MAX_DEPTH) this.popTo(this.items.length - 1);
    this.items.push(el);
    this.counts.set(el.name, (this.counts.get(el.name) ?? 0) + 1);
  }

  /** Closes every element from the top down to (and including) position `index`. */
  popTo(index: number): void {
    while (this.items.length > index) this.forget(this.items.pop()!);
  }

  /** Closes the nearest open element named in `names`, unless a `boundary` element comes first. */
  closeNearest(names: string[], boundary: ReadonlySet<string>): void {
    if (!names.some((n) => this.has(n))) return;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const name = this.items[i]!.name;
      if (names.includes(name)) return this.popTo(i);
      if (boundary.has(name)) return;
    }
  }

  /** Handles an end tag the way browsers do in the common cases. */
  close(name: string): void {
    if (!this.has(name)) return;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const el = this.items[i]!;
      if (el.name === name) {
        if (FORMATTING.has(name) && this.items.slice(i + 1).some((e) => !FORMATTING.has(e.name))) {
          // Misnested inline around a block (<b><div>..</b>): the block stays open and keeps what it
          // inherited, as the browser's adoption agency keeps it inside the formatting element's styling.
          this.forget(this.items.splice(i, 1)[0]!, false);
        } else {
          this.popTo(i);
        }
        return;
      }
      if (SCOPE.has(el.name)) return;
      // An unrelated inline end tag stops at a block; formatting end tags go on (see the splice above).
      if (!FORMATTING.has(name) && !SPECIAL.has(name) && SPECIAL.has(el.name)) return;
    }
  }

  private forget(el: Open, notify = true): void {
    this.counts.set(el.name, this.counts.get(el.name)! - 1);
    if (notify) this.onClose(el);
  }
}

function isTextVisible(el: Open): boolean {
  if (el.hard || el.closedDetails || el.visibility === "hidden" || el.tiny) return false;
  return !isInvisibleColor(el.color ?? DEFAULT_COLOR, el.background ?? DEFAULT_BACKGROUND);
}

// A <style> anywhere in the document styles all of it, so the sheets are read before the walk.
function styleSheets(html: string): string[] {
  const sheets: string[] = [];
  let inStyle = false;
  for (const token of htmlTokens(html)) {
    if (inStyle && token.kind === "text") sheets.push(token.text);
    inStyle = token.kind === "start" && token.name === "style";
  }
  return sheets;
}

function openElement(name: string, attrs: Map<string, string>, parent: Open, facts: StyleFacts): Open {
  // A closed <details> shows only its <summary>.
  const base = parent.closedDetails && name === "summary" ? { ...parent, closedDetails: false } : parent;
  const hiddenAttr = attrs.has("hidden") && (facts.display === null || facts.display === "none");
  const ariaHidden = attrs.get("aria-hidden")?.trim().toLowerCase() === "true";
  const hard = base.hard || base.closedDetails || HIDING_TAGS.has(name) || hiddenAttr || ariaHidden || facts.hard;
  const tiny = facts.fontSize ? facts.fontSize.tiny || (facts.fontSize.relative && base.tiny) : base.tiny;
  const color = facts.color ?? (name === "font" ? attrs.get("color")?.trim().toLowerCase() : undefined) ?? base.color;
  const bgAttr = attrs.get("bgcolor")?.trim().toLowerCase();
  const background = facts.background ?? bgAttr ?? (attrs.has("background") ? "image" : null) ?? base.background;
  return {
    name,
    hard,
    visibility: facts.visibility ?? base.visibility,
    tiny,
    color,
    background: background === "transparent" ? base.background : background,
    pre: base.pre || name === "pre" || name === "textarea" || name === "xmp" || name === "plaintext" || name === "listing",
    closedDetails: name === "details" && !attrs.has("open"),
  };
}
