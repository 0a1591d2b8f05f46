/**
 * The shape of a triage result and the checks on model output (promise 6: model output is data). The
 * grammar built from triageJsonSchema keeps the model inside the shape while it generates; validateTriage
 * checks again, because a grammar cannot bound a number or enforce a code format, and because a
 * validation that never trusts its input also survives an engine or grammar bug.
 */
import { stripHiddenText } from "../visibleText/hiddenText.js";

/** How soon a conversation needs an answer. */
export type Priority = "urgent" | "high" | "normal" | "low";
/** The customer's tone. */
export type Sentiment = "positive" | "neutral" | "negative";

/** Priorities from most to least urgent. */
export const PRIORITIES: readonly Priority[] = ["urgent", "high", "normal", "low"];
/** The sentiments a triage may report. */
export const SENTIMENTS: readonly Sentiment[] = ["positive", "neutral", "negative"];

/** One message's triage, from the model or the rules. */
export interface TriageResult {
  priority: Priority;
  category: string;
  sentiment: Sentiment;
  /** A lower-case BCP-47-style tag ("en", "pt-br"), or "und" when unknown. */
  language: string;
  /** One line, at most 200 characters. */
  summary: string;
  /** 0–1. */
  confidence: number;
  /** At most 10, each at most 40 characters. */
  flags: string[];
}

const SUMMARY_MAX = 200;
const LANGUAGE_MAX = 8;
const FLAG_MAX = 40;
const FLAGS_MAX = 10;
const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$/u;
/**
 * Languages the grammar lets the model name (ISO 639-1, "und" for unknown): a closed list keeps even a
 * confused model inside valid codes.
 */
export const TRIAGE_LANGUAGES = [
  "en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "no", "fi", "is", "pl", "cs", "sk", "hu", "ro", "bg", "el", "tr",
  "ru", "uk", "sr", "hr", "sl", "lt", "lv", "et", "ca", "eu", "gl", "ga", "ar", "he", "fa", "hi", "bn", "ur", "ta", "id",
  "ms", "th", "vi", "zh", "ja", "ko", "sw", "af", "und",
] as const;
/** Confidence steps the grammar allows (a grammar cannot bound a free number). */
const CONFIDENCE_STEPS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** The JSON schema of a triage for node-llama-cpp's grammar (`createGrammarForJsonSchema`). */
export function triageJsonSchema(categories: string[]) {
  const unique = [...new Set(categories)];
  if (unique.length === 0) throw new RangeError("triage needs at least one category");
  // Property order is generation order: summarizing first lets the model read before it classifies.
  return {
    type: "object",
    properties: {
      language: { type: "string", enum: [...TRIAGE_LANGUAGES] },
      summary: { type: "string", maxLength: SUMMARY_MAX },
      category: { type: "string", enum: unique },
      priority: { type: "string", enum: [...PRIORITIES] },
      sentiment: { type: "string", enum: [...SENTIMENTS] },
      confidence: { enum: CONFIDENCE_STEPS },
      flags: { type: "array", items: { type: "string", maxLength: FLAG_MAX }, maxItems: FLAGS_MAX },
    },
    required: ["language", "summary", "category", "priority", "sentiment", "confidence", "flags"],
    additionalProperties: false,
  } as const;
}

/**
 * Checks model output against the triage shape and returns a clean copy: enums exact, an unknown
 * category mapped to "other" when the list has it, language lower-cased, summary trimmed to one line
 * with hidden characters removed, flags trimmed and de-duplicated. Unknown keys are ignored (the copy
 * never carries them). Never throws; reports every problem found.
 */
export function validateTriage(raw: unknown, categories: string[]): { ok: true; value: TriageResult } | { ok: false; errors: string[] } {
  try {
    return check(raw, categories);
  } catch {
    // Only a hostile object (a throwing getter or proxy) gets here; model output is parsed JSON.
    return { ok: false, errors: ["triage output could not be read"] };
  }
}

function check(raw: unknown, categories: string[]): { ok: true; value: TriageResult } | { ok: false; errors: string[] } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, errors: ["triage output is not an object"] };
  const field = (key: string): unknown => (Object.hasOwn(raw, key) ? (raw as Record<string, unknown>)[key] : undefined);
  const errors: string[] = [];

  const priority = field("priority");
  if (!PRIORITIES.includes(priority as Priority)) errors.push(`priority must be one of ${PRIORITIES.join(", ")}`);

  const sentiment = field("sentiment");
  if (!SENTIMENTS.includes(sentiment as Sentiment)) errors.push(`sentiment must be one of ${SENTIMENTS.join(", ")}`);

  let category = field("category");
  if (typeof category !== "string") errors.push("category must be a string");
  else {
    const wanted = category.trim().toLowerCase();
    const known = categories.find((c) => c === category) ?? categories.find((c) => c.toLowerCase() === wanted);
    if (known !== undefined) category = known;
    else if (categories.includes("other")) category = "other";
    else errors.push(`category must be one of ${categories.join(", ")}`);
  }

  let language = field("language");
  if (typeof language !== "string") errors.push("language must be a string");
  else {
    language = language.trim().toLowerCase().replace(/_/gu, "-");
    if ((language as string).length > LANGUAGE_MAX || !LANGUAGE_TAG.test(language as string)) errors.push("language must be a 2–3 letter language code");
  }

  let summary = field("summary");
  if (typeof summary !== "string") errors.push("summary must be a string");
  else {
    summary = stripHiddenText(summary).replace(/\s+/gu, " ").trim();
    // A grammar bounds string length in its own units, so an over-long summary is cut, not rejected.
    const chars = [...(summary as string)];
    if (chars.length > SUMMARY_MAX) summary = `${chars.slice(0, SUMMARY_MAX - 1).join("")}…`;
  }

  const confidence = field("confidence");
  if (typeof confidence !== "number" || !Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    errors.push("confidence must be a number from 0 to 1");
  }

  const flagsRaw = field("flags");
  let flags: string[] = [];
  if (!Array.isArray(flagsRaw)) errors.push("flags must be an array");
  else if (flagsRaw.length > FLAGS_MAX) errors.push(`flags must have at most ${FLAGS_MAX} items`);
  else if (!flagsRaw.every((f): f is string => typeof f === "string")) errors.push("flags must be strings");
  else {
    flags = [...new Set(flagsRaw.map((f) => [...stripHiddenText(f).replace(/\s+/gu, " ").trim()].slice(0, FLAG_MAX).join("")).filter(Boolean))];
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      priority: priority as Priority,
      category: category as string,
      sentiment: sentiment as Sentiment,
      language: language as string,
      summary: summary as string,
      confidence: confidence as number,
      flags,
    },
  };
}
