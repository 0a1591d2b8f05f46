/**
 * A tolerant HTML tokenizer: text, start tags with attributes, end tags and comments, in source order.
 * It follows the browser's tokenizer closely enough that what it calls a tag or a comment is what a
 * mail client treats as one (quoted ">" inside attributes, "--!>" ending a comment, raw-text elements
 * whose content is never markup). Malformed input never throws; like a browser it drops a tag cut off
 * by the end of input and keeps a lone "<" as text. Tree building is the caller's job (htmlVisible.ts).
 */
import { decodeEntities } from "./htmlEntities.js";

/** One piece of HTML source. */
export type HtmlToken =
  | { kind: "text"; text: string; raw: boolean }
  | { kind: "start"; name: string; attrs: Map<string, string>; selfClosing: boolean }
  | { kind: "end"; name: string }
  | { kind: "comment"; text: string };

// Content that is never markup: the tokenizer reads to the matching end tag. `raw` text (script, style
// ...) keeps its references undecoded, as a browser does; title and textarea decode them.
const RAW_TEXT = new Set(["script", "style", "xmp", "iframe", "noembed", "noframes", "noscript"]);
const ESCAPABLE_RAW_TEXT = new Set(["title", "textarea"]);

const isAsciiLetter = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f";

/** Splits HTML into tokens; never throws. */
export function* htmlTokens(html: string): Generator<HtmlToken> {
  const n = html.length;
  let i = 0;
  let textStart = 0;
  const flushText = function* (end: number): Generator<HtmlToken> {
    if (end > textStart) yield { kind: "text", text: decodeEntities(html.slice(textStart, end)), raw: false };
  };

  while (i < n) {
    const lt = html.indexOf("<", i);
    if (lt < 0) break;
    const next = html.charAt(lt + 1);
    if (html.startsWith("<!--", lt)) {
      yield* flushText(lt);
      const { text, end } = readComment(html, lt + 4);
      yield { kind: "comment", text };
      i = textStart = end;
    } else if (next === "!" || next === "?" || (next === "/" && !isAsciiLetter(html.charAt(lt + 2)))) {
      // Doctype, CDATA, processing instructions and "</3" are bogus comments up to the next ">".
      yield* flushText(lt);
      const close = html.indexOf(">", lt + 2);
      const end = close < 0 ? n : close + 1;
      yield { kind: "comment", text: html.slice(lt + 2, close < 0 ? n : close) };
      i = textStart = end;
    } else if (isAsciiLetter(next) || (next === "/" && isAsciiLetter(html.charAt(lt + 2)))) {
      const tag = readTag(html, lt);
      if (!tag) {
        // Cut off by the end of input: the browser drops the partial tag.
        yield* flushText(lt);
        textStart = n;
        break;
      }
      yield* flushText(lt);
      yield tag.token;
      i = textStart = tag.end;
      // Browsers ignore "/>" on HTML elements: "<style/>" still starts a stylesheet that hides what follows.
      if (tag.token.kind === "start") {
        const name = tag.token.name;
        if (name === "plaintext") {
          yield { kind: "text", text: html.slice(i), raw: true };
          i = textStart = n;
        } else if (RAW_TEXT.has(name) || ESCAPABLE_RAW_TEXT.has(name)) {
          const close = findRawEnd(html, i, name);
          const body = html.slice(i, close);
          if (body) yield { kind: "text", text: RAW_TEXT.has(name) ? body : decodeEntities(body), raw: RAW_TEXT.has(name) };
          i = textStart = close;
        }
      }
    } else {
      i = lt + 1; // a "<" that starts nothing is text
    }
  }
  yield* flushText(n);
}

function readComment(html: string, from: number): { text: string; end: number } {
  // "<!-->" and "<!--->" are complete (empty) comments in browsers.
  if (html.startsWith(">", from)) return { text: "", end: from + 1 };
  if (html.startsWith("->", from)) return { text: "", end: from + 2 };
  let j = from;
  for (;;) {
    const dash = html.indexOf("--", j);
    if (dash < 0) return { text: html.slice(from), end: html.length };
    if (html.startsWith("-->", dash)) return { text: html.slice(from, dash), end: dash + 3 };
    if (html.startsWith("--!>", dash)) return { text: html.slice(from, dash), end: dash + 4 };
    j = dash + 1;
  }
}

function findRawEnd(html: string, from: number, name: string): number {
  // A regex rather than toLowerCase(): lower-casing can change the length and so every offset.
  const end = new RegExp(`</${name}(?=[\\s/>]|$)`, "giu");
  end.lastIndex = from;
  const m = end.exec(html);
  return m ? m.index : html.length;
}

function readTag(html: string, lt: number): { token: HtmlToken; end: number } | null {
  const n = html.length;
  const isEnd = html.charAt(lt + 1) === "/";
  let j = lt + (isEnd ? 2 : 1);
  const nameStart = j;
  while (j < n && !isSpace(html[j]!) && html[j] !== "/" && html[j] !== ">") j++;
  const name = html.slice(nameStart, j).toLowerCase();
  const attrs = new Map<string, string>();
  let selfClosing = false;
  for (;;) {
    while (j < n && (isSpace(html[j]!) || html[j] === "/")) {
      selfClosing = html[j] === "/";
      j++;
    }
    if (j >= n) return null;
    if (html[j] === ">") break;
    selfClosing = false;
    const attrStart = j;
    j++; // the first character may be "=" and still belong to the name, as in browsers
    while (j < n && !isSpace(html[j]!) && html[j] !== "/" && html[j] !== ">" && html[j] !== "=") j++;
    const attrName = html.slice(attrStart, j).toLowerCase();
    let value = "";
    let k = j;
    while (k < n && isSpace(html[k]!)) k++;
    if (html[k] === "=") {
      k++;
      while (k < n && isSpace(html[k]!)) k++;
      const quote = html[k];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, k + 1);
        if (close < 0) return null;
        value = html.slice(k + 1, close);
        j = close + 1;
      } else {
        const vStart = k;
        while (k < n && !isSpace(html[k]!) && html[k] !== ">") k++;
        value = html.slice(vStart, k);
        j = k;
      }
    }
    // The first of duplicate attributes wins, as in browsers.
    if (!attrs.has(attrName)) attrs.set(attrName, decodeEntities(value, true));
  }
  const end = j + 1;
  if (isEnd) return { token: { kind: "end", name }, end };
  return { token: { kind: "start", name, attrs, selfClosing }, end };
}
