/**
 * <style> sheets in mail: which declarations apply to an element, so that `.x{display:none}` hides text
 * as surely as an inline style does. A full selector engine is not needed to stay safe, only to be
 * exact, so where this reader cannot be sure that a rule applies (combinators, structural
 * pseudo-classes, media features other than width) it keeps only what the rule hides and assumes it
 * applies: that can hide more text from the model than a browser hides from the reader, never less.
 * Width queries are answered for an 800px-wide desktop client in light mode. Rules for user actions
 * (:hover ...) and pseudo-elements (::before ...) are skipped: they do not hide the element's own text.
 */
import { styleFacts } from "./cssHiding.js";
import { splitOutside, stripCssComments, unescapeCss } from "./cssText.js";

/** One rule, reduced to what matching needs. */
interface Rule {
  /** The last compound selector (the element the rule styles). */
  tag: string | null;
  id: string | null;
  classes: string[];
  attrs: Array<{ name: string; value: string | null }>;
  specificity: number;
  order: number;
  declarations: string;
}

/** The rules of a mail's stylesheets, indexed for matching. */
export class Stylesheet {
  private byId = new Map<string, Rule[]>();
  private byClass = new Map<string, Rule[]>();
  private byTag = new Map<string, Rule[]>();
  private universal: Rule[] = [];
  /** Attributes some rule tests; with tag, id and classes they decide which rules match. */
  private testedAttrs = new Set<string>();
  private cache = new Map<string, string>();
  private work = 0;
  private nestedTooDeep = false;

  /** Reads the text of every <style> element of a mail, in document order. */
  constructor(sheets: string[]) {
    const rules: Rule[] = [];
    try {
      // Old mailers wrap sheets in <!-- --> for clients that would print them.
      for (const css of sheets) collectRules(stripCssComments(css).replace(/<!--|-->/gu, " "), true, rules, 0);
    } catch (err) {
      if (!(err instanceof HostileSheet)) throw err;
      this.nestedTooDeep = true;
    }
    for (const rule of rules.slice(0, MAX_RULES)) {
      if (rule.id !== null) push(this.byId, rule.id, rule);
      else if (rule.classes.length > 0) push(this.byClass, rule.classes[0]!, rule);
      else if (rule.tag !== null) push(this.byTag, rule.tag, rule);
      else this.universal.push(rule);
      for (const a of rule.attrs) this.testedAttrs.add(a.name);
    }
  }

  /** The sheets nest deeper than any real one does; a reader of such a mail should be shown nothing. */
  get hostile(): boolean {
    return this.nestedTooDeep;
  }

  /** The sheet declarations for an element, in cascade order, as one style string to put before its inline style. */
  declarationsFor(name: string, attrs: Map<string, string>): string {
    if (this.nestedTooDeep) return HIDE;
    // Selectors are lower-cased: mail renders in quirks mode, where classes and ids match in any case.
    const classes = [...new Set((attrs.get("class") ?? "").toLowerCase().split(/\s+/u).filter(Boolean))];
    const id = attrs.get("id")?.toLowerCase();
    const buckets = [this.universal, this.byTag.get(name), id === undefined ? undefined : this.byId.get(id), ...classes.map((c) => this.byClass.get(c))];
    const size = buckets.reduce((n, b) => n + (b?.length ?? 0), 0);
    if (size === 0) return "";
    const key = [name, id, classes.join(" "), ...[...this.testedAttrs].map((a) => attrs.get(a)?.toLowerCase())].join("\u0000");
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    // Past this much matching the mail is hostile; hiding the rest is safe, showing it might not be.
    this.work += size;
    if (this.work > MAX_WORK) return HIDE;
    const matching = [...new Set(buckets.flatMap((b) => b ?? []))].filter((r) => matches(r, name, id, classes, attrs));
    matching.sort((a, b) => a.specificity - b.specificity || a.order - b.order);
    const declarations = matching.map((r) => r.declarations).join(";");
    this.cache.set(key, declarations);
    return declarations;
  }
}

/** Thrown when a sheet nests deeper than any real one does. */
class HostileSheet extends Error {}

// Bounds on work for hostile sheets; real mail has a few hundred rules and a few thousand elements.
const MAX_RULES = 5000;
const MAX_WORK = 500_000;
const MAX_NESTING = 32;
// mso-hide:all is the one declaration that hides for good and that no later one turns off.
const HIDE = "mso-hide:all !important";
const DESKTOP_WIDTH = 800;
const USER_ACTION = /^:(?:hover|active|focus|focus-within|focus-visible|visited|target|checked|indeterminate|placeholder-shown|autofill)$/u;

function push(map: Map<string, Rule[]>, key: string, rule: Rule): void {
  const list = map.get(key);
  if (list) list.push(rule);
  else map.set(key, [rule]);
}

function matches(rule: Rule, name: string, id: string | undefined, classes: string[], attrs: Map<string, string>): boolean {
  if (rule.tag !== null && rule.tag !== name) return false;
  if (rule.id !== null && rule.id !== id) return false;
  if (!rule.classes.every((c) => classes.includes(c))) return false;
  return rule.attrs.every((a) => attrs.has(a.name) && (a.value === null || attrs.get(a.name)!.toLowerCase() === a.value));
}

/** Walks `prelude { body }` blocks, descending into @media/@supports; `certain` is false inside uncertain ones. */
function collectRules(css: string, certain: boolean, out: Rule[], depth: number): void {
  if (depth > MAX_NESTING) throw new HostileSheet();
  let i = 0;
  while (i < css.length && out.length < MAX_RULES) {
    const open = css.indexOf("{", i);
    if (open < 0) return;
    const close = matchingBrace(css, open);
    const prelude = css.slice(i, open).trim();
    const body = css.slice(open + 1, close);
    i = close + 1;
    if (prelude.startsWith("@")) {
      const at = /^@([\w-]+)\s*(.*)$/su.exec(prelude);
      const kind = at?.[1]?.toLowerCase();
      if (kind === "media") {
        const verdict = evaluateMedia(at![2]!);
        if (verdict !== false) collectRules(body, certain && verdict === true, out, depth + 1);
      } else if (kind === "supports" || kind === "layer" || kind === "container" || kind === "document") {
        const sure = kind === "layer" || (kind === "supports" && !/\bnot\b/iu.test(at![2]!));
        collectRules(body, certain && sure, out, depth + 1);
      }
      continue; // @font-face, @keyframes, @page ... style no text
    }
    for (const selector of splitOutside(unescapeCss(prelude), ",")) {
      const rule = parseSelector(selector.toLowerCase(), certain, body, out.length);
      if (rule) out.push(rule);
    }
  }
}

function matchingBrace(css: string, open: number): number {
  let depth = 0;
  let quote = "";
  for (let j = open; j < css.length; j++) {
    const c = css[j]!;
    if (quote) {
      if (c === "\\") j++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return j;
  }
  return css.length;
}

/** true: applies on an 800px light-mode screen; false: does not; null: cannot tell. */
function evaluateMedia(query: string): boolean | null {
  const results = splitOutside(query.toLowerCase(), ",").map((q) => {
    if (/^not\b/u.test(q)) return null;
    let verdict: boolean | null = true;
    for (const part of q.replace(/^only\s+/u, "").split(/\s+and\s+/u)) {
      const p = part.trim();
      let v: boolean | null = null;
      if (p === "all" || p === "screen" || p === "") v = true;
      else if (/^(?:print|speech|tv|handheld|projection|aural|braille|embossed|tty)$/u.test(p)) v = false;
      else {
        const m = /^\(\s*(min|max)-(?:device-)?width\s*:\s*(\d*\.?\d+)(px|em|rem)?\s*\)$/u.exec(p);
        const scheme = /^\(\s*prefers-color-scheme\s*:\s*(dark|light)\s*\)$/u.exec(p);
        if (m) {
          const px = Number(m[2]) * (m[3] === "em" || m[3] === "rem" ? 16 : 1);
          v = m[1] === "min" ? DESKTOP_WIDTH >= px : DESKTOP_WIDTH <= px;
        } else if (scheme) v = scheme[1] === "light";
      }
      if (v === false) return false;
      if (v === null) verdict = null;
    }
    return verdict;
  });
  if (results.includes(true)) return true;
  return results.includes(null) ? null : false;
}

function parseSelector(selector: string, certain: boolean, body: string, order: number): Rule | null {
  const compounds = splitCompounds(selector);
  const last = compounds[compounds.length - 1];
  if (!last) return null;
  let sure = certain && compounds.length === 1;
  const rule: Rule = { tag: null, id: null, classes: [], attrs: [], specificity: specificityOf(compounds), order, declarations: "" };
  const parts = last.match(/^[a-z*][\w-]*|#[\w-]+|\.[\w-]+|\[[^\]]*\]|::?[\w-]+(?:\([^)]*\))?|./gu) ?? [];
  for (const part of parts) {
    if (/^[a-z]/u.test(part)) rule.tag = part;
    else if (part === "*") continue;
    else if (part.startsWith("#")) rule.id = part.slice(1);
    else if (part.startsWith(".")) rule.classes.push(part.slice(1));
    else if (part.startsWith("[")) {
      const attr = /^\[\s*([\w-]+)\s*(?:=\s*["']?([^"'\]]*)["']?\s*)?\]$/u.exec(part);
      if (attr) rule.attrs.push({ name: attr[1]!, value: attr[2] ?? null });
      else sure = false; // ^=, ~= ... are assumed to match
    } else if (part.startsWith("::") || /^:(?:before|after|first-line|first-letter|marker|placeholder|selection)$/u.test(part)) {
      return null;
    } else if (part.startsWith(":")) {
      if (USER_ACTION.test(part.replace(/\(.*$/u, ""))) return null;
      sure = false; // :first-child, :not(...) ... are assumed to match
    } else return null; // something this reader does not understand: an ordinary client would not either
  }
  rule.declarations = sure ? body : hidingOnly(body);
  return rule.declarations ? rule : null;
}

/** Of a rule that may or may not apply, only what it hides: a rule can then only hide more, never reveal. */
function hidingOnly(declarations: string): string {
  const facts = styleFacts(declarations);
  const kept: string[] = [];
  if (facts.hard) kept.push(HIDE);
  if (facts.visibility === "hidden") kept.push("visibility:hidden");
  if (facts.fontSize?.tiny) kept.push("font-size:0");
  return kept.join(";");
}

function splitCompounds(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of selector.trim()) {
    if (c === "(" || c === "[") depth++;
    if (c === ")" || c === "]") depth = Math.max(0, depth - 1);
    if (depth === 0 && /[\s>+~]/u.test(c)) {
      if (current) out.push(current);
      current = "";
    } else current += c;
  }
  if (current) out.push(current);
  return out;
}

function specificityOf(compounds: string[]): number {
  const all = compounds.join(" ");
  const ids = all.match(/#[\w-]+/gu)?.length ?? 0;
  const classes = all.match(/\.[\w-]+|\[[^\]]*\]|(?<!:):[\w-]+/gu)?.length ?? 0;
  const tags = all.match(/(?:^|[\s>+~])[a-z][\w-]*|::[\w-]+/gu)?.length ?? 0;
  return ids * 1_000_000 + classes * 1_000 + tags;
}
