/**
 * Operator rules on top of (or instead of) the model's triage. The operator knows things the model
 * cannot: who the important customers are, which words mean an outage. Keyword rules set priority and
 * category over the model's choice; a VIP sender raises priority to at least "high"; a mailbox default
 * fills a field only when neither the model nor another rule set it. Without a model the rules decide
 * alone and say so, with a low confidence.
 */
import { stripHiddenText } from "../visibleText/hiddenText.js";
import { guessLanguage } from "./language.js";
import { PRIORITIES, type Priority, type TriageResult } from "./triage.js";

// Re-exported so that triage callers need this one module.
export { guessLanguage } from "./language.js";
export { PRIORITIES, SENTIMENTS, triageJsonSchema, validateTriage } from "./triage.js";
export type { Priority, Sentiment, TriageResult } from "./triage.js";

/** The operator's triage rules (config `triage`). */
export interface TriageRules {
  /** Addresses ("ceo@example.com") or whole domains ("@example.com"). */
  vipSenders: string[];
  /** `pattern` is a case-insensitive substring, or "/regex/flags". */
  keywords: { pattern: string; priority?: Priority; category?: string }[];
  /** Per mailbox name. */
  mailboxDefaults: Record<string, { priority?: Priority; category?: string }>;
}

/** The message fields the rules read. */
export interface TriageInput {
  /** A bare address or "Name <address>". */
  from: string;
  mailbox: string;
  subject: string;
  text: string;
}

/** The final triage, who decided it, and which rules applied. */
export interface RuledTriage {
  result: TriageResult;
  /** "model+rules" when a rule changed the model's priority or category. */
  decidedBy: "model" | "rules" | "model+rules";
  /** Descriptions of the rules that matched, in the order they were applied. */
  matched: string[];
}

const RULES_CONFIDENCE = 0.3;
const SUMMARY_MAX = 200;
const rank = (p: Priority) => PRIORITIES.indexOf(p); // 0 is the most urgent
const moreUrgent = (a: Priority, b: Priority) => (rank(a) <= rank(b) ? a : b);

/** Why a keyword pattern cannot be used, or null when it can (for config validation). */
export function keywordPatternError(pattern: string): string | null {
  const re = /^\/(.*)\/([a-z]*)$/su.exec(pattern);
  if (!re) return pattern.trim() ? null : "a keyword pattern must not be empty";
  try {
    new RegExp(re[1]!, re[2]!.replace(/[gy]/gu, ""));
    return null;
  } catch (err) {
    return `invalid regular expression ${pattern}: ${(err as Error).message}`;
  }
}

/** A predicate for a keyword pattern; null for an invalid one (which never matches). */
export function keywordMatcher(pattern: string): ((text: string) => boolean) | null {
  if (keywordPatternError(pattern) !== null) return null;
  const re = /^\/(.*)\/([a-z]*)$/su.exec(pattern);
  if (re) {
    // g and y make test() stateful across calls; neither changes what matches.
    const regex = new RegExp(re[1]!, re[2]!.replace(/[gy]/gu, ""));
    return (text) => regex.test(text);
  }
  const needle = pattern.toLowerCase();
  return (text) => text.toLowerCase().includes(needle);
}

/** Applies the operator's rules to the model's triage (or to none), saying who decided. */
export function applyTriageRules(input: TriageInput, model: TriageResult | null, rules: TriageRules): RuledTriage {
  const subject = stripHiddenText(input.subject);
  const text = stripHiddenText(input.text);
  const haystack = `${subject}\n${text}`;
  const matched: string[] = [];

  let keywordPriority: Priority | undefined;
  let keywordCategory: string | undefined;
  for (const rule of rules.keywords) {
    if (!keywordMatcher(rule.pattern)?.(haystack)) continue;
    matched.push(`keyword ${rule.pattern}`);
    if (rule.priority) keywordPriority = keywordPriority ? moreUrgent(keywordPriority, rule.priority) : rule.priority;
    // The first matching rule that names a category wins: rules are listed in the operator's order.
    if (rule.category && keywordCategory === undefined) keywordCategory = rule.category;
  }

  const mailboxDefault = Object.hasOwn(rules.mailboxDefaults, input.mailbox) ? rules.mailboxDefaults[input.mailbox] : undefined;
  let priority: Priority = keywordPriority ?? model?.priority ?? mailboxDefault?.priority ?? "normal";
  const category: string = keywordCategory ?? model?.category ?? mailboxDefault?.category ?? "other";
  const defaultUsed = !model && ((!keywordPriority && mailboxDefault?.priority) || (!keywordCategory && mailboxDefault?.category));
  if (defaultUsed) matched.push(`mailbox default ${input.mailbox}`);

  const vip = vipEntry(input.from, rules.vipSenders);
  if (vip !== null) {
    matched.push(`vip ${vip}`);
    priority = moreUrgent(priority, "high");
  }

  const base: TriageResult = model ?? {
    priority,
    category,
    sentiment: "neutral",
    language: guessLanguage(`${subject}\n${text}`),
    summary: firstSentence(text) || firstSentence(subject),
    confidence: RULES_CONFIDENCE,
    flags: [],
  };
  const result: TriageResult = { ...base, flags: [...base.flags], priority, category };
  const decidedBy = !model ? "rules" : priority !== model.priority || category !== model.category ? "model+rules" : "model";
  return { result, decidedBy, matched };
}

/** The VIP entry that matches a sender, or null. */
function vipEntry(from: string, vipSenders: string[]): string | null {
  const address = (/<([^<>]*)>\s*$/u.exec(from)?.[1] ?? from).trim().toLowerCase();
  const at = address.lastIndexOf("@");
  if (at <= 0) return null;
  const domain = address.slice(at + 1);
  for (const entry of vipSenders) {
    const e = entry.trim().toLowerCase();
    if (!e) continue;
    const isDomain = e.startsWith("@") || !e.includes("@");
    if (isDomain ? domain === e.replace(/^@/u, "") : address === e) return entry;
  }
  return null;
}

/** The first sentence of a text, on one line, at most 200 characters. */
export function firstSentence(text: string): string {
  const flat = text.replace(/\s+/gu, " ").trim();
  const end = /[.!?。！？](?=\s|$)|[。！？]/u.exec(flat);
  const sentence = end ? flat.slice(0, end.index + 1) : flat;
  const chars = [...sentence];
  return chars.length <= SUMMARY_MAX ? sentence : `${chars.slice(0, SUMMARY_MAX - 1).join("").trimEnd()}…`;
}
