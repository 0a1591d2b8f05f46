/**
 * What a style declaration block does to the visibility of an element's text. The hiding tricks in
 * mail are a known, short list: display, visibility, opacity, tiny fonts, text in the background's
 * colour, zero-size boxes, off-screen positioning and Outlook's mso-hide. Values are read after CSS
 * comments and escapes are undone, because a browser undoes them too ("disp\61 y:none" hides).
 */

import { splitOutside, stripCssComments, unescapeCss } from "./cssText.js";

/** Red, green, blue 0–255 and alpha 0–1. */
export interface Rgba { r: number; g: number; b: number; a: number }

/** The visibility-relevant effects of one element's inline style. */
export interface StyleFacts {
  /** Hidden for good: no descendant can show itself again. */
  hard: boolean;
  /** The declared `display`, when any (a declared non-none display overrides the `hidden` attribute). */
  display: string | null;
  /** `visibility`, which a descendant can turn back on. */
  visibility: "visible" | "hidden" | null;
  /** The declared font size, if any: `tiny` for unreadable, `relative` when it scales the parent's. */
  fontSize: { tiny: boolean; relative: boolean } | null;
  /** The text colour as declared (raw, lower-case). */
  color: string | null;
  /** The background colour as declared, or "image" when a background image makes comparison moot. */
  background: string | null;
}

/** Reads `style="..."` into property → value (lower-case, without !important), last declaration winning. */
export function parseStyle(style: string): Map<string, string> {
  const out = new Map<string, string>();
  const important = new Set<string>();
  for (const decl of splitOutside(unescapeCss(stripCssComments(style)), ";")) {
    const colon = decl.indexOf(":");
    if (colon < 0) continue;
    const prop = decl.slice(0, colon).trim().toLowerCase();
    let value = decl.slice(colon + 1).trim().toLowerCase();
    const isImportant = /!\s*important\s*$/u.test(value);
    if (isImportant) value = value.replace(/!\s*important\s*$/u, "").trim();
    if (!prop || !value) continue;
    if (important.has(prop) && !isImportant) continue;
    if (isImportant) important.add(prop);
    out.set(prop, value);
  }
  return out;
}

/** The visibility facts of an inline style. */
export function styleFacts(style: string): StyleFacts {
  const css = parseStyle(style);
  const display = css.get("display") ?? null;
  const visibilityValue = css.get("visibility");
  const fontSizeValue = css.get("font-size");
  const background = explicit(backgroundOf(css) ?? undefined);
  return {
    hard: display === "none" || isHardHidden(css),
    display,
    visibility: visibilityValue === undefined ? null : visibilityValue === "hidden" || visibilityValue === "collapse" ? "hidden" : "visible",
    fontSize: fontSizeValue === undefined ? null : fontSizeFacts(fontSizeValue),
    color: explicit(css.get("-webkit-text-fill-color")) ?? explicit(css.get("color")),
    // A transparent background shows the one behind it, as no declaration does.
    background: background === "transparent" || background === "none" ? null : background,
  };
}

// Keywords that defer to the parent; to us they are the same as saying nothing.
const DEFERRING = new Set(["inherit", "initial", "unset", "revert", "revert-layer", "currentcolor"]);
const explicit = (value: string | undefined): string | null => (value === undefined || DEFERRING.has(value) ? null : value);

function isHardHidden(css: Map<string, string>): boolean {
  const opacity = numberOf(css.get("opacity") ?? "");
  if (opacity !== null && opacity <= 0.05) return true;
  if (css.get("mso-hide") === "all") return true;
  const overflow = [css.get("overflow"), css.get("overflow-x"), css.get("overflow-y")];
  const clips = overflow.some((v) => v !== undefined && /\b(?:hidden|clip)\b/u.test(v));
  const zero = ["height", "max-height", "width", "max-width"].some((p) => isZeroLength(css.get(p)));
  if (clips && zero) return true;
  const position = css.get("position");
  if (position === "absolute" || position === "fixed") {
    if (["left", "top", "right", "bottom"].some((p) => (pixels(css.get(p)) ?? 0) <= -500)) return true;
  }
  if ((pixels(css.get("text-indent")) ?? 0) <= -500) return true;
  const clip = css.get("clip");
  if (clip !== undefined && /^rect\(\s*0\w*[\s,]+0\w*[\s,]+0\w*[\s,]+0\w*\s*\)$/u.test(clip)) return true;
  const clipPath = css.get("clip-path");
  if (clipPath !== undefined && /^(?:inset\(\s*(?:50|100)%\s*\)|circle\(\s*0\w*\s*\))$/u.test(clipPath)) return true;
  const transform = css.get("transform");
  if (transform !== undefined && /\bscale[xy]?\(\s*0(?:\.0*)?\s*[,)]/u.test(transform)) return true;
  return false;
}

const ABSOLUTE_KEYWORDS = new Set(["xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "xxx-large"]);

function fontSizeFacts(value: string): { tiny: boolean; relative: boolean } {
  if (ABSOLUTE_KEYWORDS.has(value)) return { tiny: false, relative: false };
  if (value === "smaller" || value === "larger" || value === "inherit") return { tiny: false, relative: true };
  const m = /^(-?\d*\.?\d+)([a-z%]*)$/u.exec(value);
  if (!m) return { tiny: false, relative: true };
  const size = Number(m[1]);
  const unit = m[2]!;
  const relative = unit === "em" || unit === "%" || unit === "ex" || unit === "ch";
  // Below these sizes nobody reads the text; 1px type is a classic way to hide a preheader.
  const tiny =
    size <= 0 ||
    ((unit === "px" || unit === "") && size <= 1) ||
    (unit === "pt" && size <= 1) ||
    ((unit === "em" || unit === "rem" || unit === "ex" || unit === "ch") && size <= 0.1) ||
    (unit === "%" && size <= 10);
  return { tiny, relative };
}

function backgroundOf(css: Map<string, string>): string | null {
  const explicit = css.get("background-color");
  const shorthand = css.get("background");
  const image = css.get("background-image");
  if ((image !== undefined && image !== "none") || (shorthand !== undefined && /\b(?:url|gradient)\(/u.test(shorthand))) return "image";
  if (explicit !== undefined) return explicit;
  if (shorthand === undefined) return null;
  for (const token of splitOutside(shorthand, " ")) {
    if (parseColor(token)) return token;
  }
  return null;
}

/** Parses the CSS colours mail uses (hex, rgb()/rgba(), common names); null for anything else. */
export function parseColor(value: string): Rgba | null {
  const v = value.trim().toLowerCase();
  const named = NAMED_COLORS[v];
  if (named) return parseColor(named);
  if (v === "transparent") return { r: 0, g: 0, b: 0, a: 0 };
  const hex = /^#([0-9a-f]{3,8})$/u.exec(v)?.[1];
  if (hex) {
    if (hex.length === 3 || hex.length === 4) {
      const [r, g, b, a = "f"] = [...hex].map((c) => c + c);
      return { r: parseInt(r!, 16), g: parseInt(g!, 16), b: parseInt(b!, 16), a: parseInt(a.length === 1 ? "ff" : a, 16) / 255 };
    }
    if (hex.length === 6 || hex.length === 8) {
      const a = hex.length === 8 ? parseInt(hex.slice(6, 8), 16) / 255 : 1;
      return { r: parseInt(hex.slice(0, 2), 16), g: parseInt(hex.slice(2, 4), 16), b: parseInt(hex.slice(4, 6), 16), a };
    }
    return null;
  }
  const fn = /^rgba?\(([^)]*)\)$/u.exec(v)?.[1];
  if (fn) {
    const parts = fn.split(/[\s,/]+/u).filter(Boolean);
    if (parts.length < 3) return null;
    const channel = (p: string) => (p.endsWith("%") ? (Number(p.slice(0, -1)) * 255) / 100 : Number(p));
    const [r, g, b] = parts.slice(0, 3).map(channel);
    const a = parts[3] === undefined ? 1 : parts[3].endsWith("%") ? Number(parts[3].slice(0, -1)) / 100 : Number(parts[3]);
    if ([r, g, b, a].some((x) => !Number.isFinite(x))) return null;
    return { r: r!, g: g!, b: b!, a };
  }
  return null;
}

/** Text in `fg` on `bg` is unreadable: transparent text, or the same (or nearly the same) colour. */
export function isInvisibleColor(fg: string, bg: string): boolean {
  const f = parseColor(fg);
  if (f && f.a <= 0.05) return true;
  if (bg === "image") return false;
  const b = parseColor(bg);
  if (!f || !b) return fg.replace(/\s+/gu, "") === bg.replace(/\s+/gu, "");
  const close = Math.max(Math.abs(f.r - b.r), Math.abs(f.g - b.g), Math.abs(f.b - b.b)) <= 16;
  return close && b.a > 0.05;
}

const NAMED_COLORS: Record<string, string> = {
  white: "#ffffff", black: "#000000", red: "#ff0000", green: "#008000", blue: "#0000ff", yellow: "#ffff00",
  gray: "#808080", grey: "#808080", silver: "#c0c0c0", whitesmoke: "#f5f5f5", snow: "#fffafa",
  ivory: "#fffff0", ghostwhite: "#f8f8ff", azure: "#f0ffff", mintcream: "#f5fffa", floralwhite: "#fffaf0",
  navy: "#000080", maroon: "#800000", purple: "#800080", teal: "#008080", olive: "#808000", orange: "#ffa500",
  lightgray: "#d3d3d3", lightgrey: "#d3d3d3", darkgray: "#a9a9a9", darkgrey: "#a9a9a9",
};

function numberOf(value: string): number | null {
  const m = /^(-?\d*\.?\d+)(%?)$/u.exec(value.trim());
  if (!m) return null;
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

function isZeroLength(value: string | undefined): boolean {
  return value !== undefined && /^-?0*\.?0+[a-z%]*$/u.test(value);
}

function pixels(value: string | undefined): number | null {
  if (value === undefined) return null;
  const m = /^(-?\d*\.?\d+)(px|pt|em|rem|%|vw|vh|cm|mm|in)?$/u.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  // Rough conversions are enough to tell "-9999px" from "-2px".
  const factor: Record<string, number> = { px: 1, pt: 1.33, em: 16, rem: 16, "%": 10, vw: 10, vh: 10, cm: 38, mm: 3.8, in: 96 };
  return n * (factor[m[2] ?? "px"] ?? 1);
}
