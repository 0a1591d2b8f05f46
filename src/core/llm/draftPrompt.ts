/**
 * The prompt of a draft reply, built from what was read for it: the thread's new texts oldest first
 * within a token budget, knowledge snippets and similar approved replies as context, customer text
 * stripped of hidden text and fenced as data (one marker for the prompt; senders inside it too).
 * Rendering the templates, counting tokens and choosing the fence's marker are the caller's (they read
 * files, the model and randomness); this module decides what goes where.
 */
import type { Direction } from "../message.js";
import { hiddenLinks, stripHiddenText } from "../visibleText/hiddenText.js";
import { fitThreadToBudget, renderThreadMessage, type FittedThread, type ThreadMessage } from "./budget.js";
import type { DraftContext } from "./draftFlags.js";
import type { PromptFence } from "./fence.js";

/** Tokens a fenced message adds around its text (the line naming it, the marker lines). */
const FENCE_TOKENS = 96;

/** Tokens of the one fence notice of the prompt. */
const NOTICE_TOKENS = 128;

/** A stored message of the thread, as read for a draft. */
export interface StoredThreadMessage {
  id: number;
  fromAddress: string | null;
  fromName: string | null;
  date: Date | null;
  receivedAt: Date;
  newText: string;
  text: string;
  direction: Direction;
  html: string | null;
}

/** One message of the thread as the draft prompt shows it, with its HTML for the hidden-link check. */
export interface DraftThreadMessage extends ThreadMessage {
  html: string | null;
}

/**
 * The thread up to the message answered (`upTo`, included), oldest first, as the prompt shows it: hidden
 * text removed, the sender as "Name <address>", our own replies from "<mailbox> team".
 */
export function draftThread(messages: StoredThreadMessage[], upTo: number, mailbox: string): DraftThreadMessage[] {
  return messages
    .filter((m) => m.id <= upTo)
    .sort((a, b) => (a.date ?? a.receivedAt).getTime() - (b.date ?? b.receivedAt).getTime() || a.id - b.id)
    .map((m) => ({
      from: m.direction === "outbound" ? `${mailbox} team` : stripHiddenText(sender(m)),
      date: (m.date ?? m.receivedAt).toISOString(),
      text: stripHiddenText(m.newText || m.text),
      direction: m.direction,
      html: m.html,
    }));
}

/** "Name <address>", the address alone, or "customer". */
function sender(m: Pick<StoredThreadMessage, "fromName" | "fromAddress">): string {
  if (m.fromName && m.fromAddress) return `${m.fromName} <${m.fromAddress}>`;
  return m.fromName || m.fromAddress || "customer";
}

/**
 * What the draft's safety flags look at: every message the model is shown (`shown`; the whole thread
 * for a template reply), checked against the whole thread and the knowledge snippets.
 */
export function draftFlagContext(thread: DraftThreadMessage[], shown: DraftThreadMessage[], knowledge: string[]): DraftContext {
  return {
    threadTexts: thread.map((m) => m.text),
    knowledge,
    untrustedTexts: shown.flatMap((m) => [m.from, m.text]),
    hiddenLinks: shown.flatMap((m) => (m.direction === "inbound" && m.html ? hiddenLinks(m.html) : [])),
  };
}

/** The values of the system prompt template (prompts/draft-system.hbs). */
export type DraftSystemValues = { mailbox: string; language: string; knowledge: string; examples: string };

/** The values of the user prompt template (prompts/draft-user.hbs). */
export type DraftUserValues = { notice: string; omitted: number; thread: string; instruction: string };

export interface DraftPromptInput {
  mailbox: string;
  /** The language triage found, if any ("und" when it could not tell). */
  language: string | null;
  /** draftThread() of the conversation; the last message is the one answered. */
  thread: DraftThreadMessage[];
  knowledge: { name: string; text: string }[];
  /** Bodies of similar approved replies, most similar first. */
  examples: string[];
  /** A reviewer's instruction for this draft ("" for none). */
  instruction: string;
  contextSize: number;
  maxDraftTokens: number;
}

/** What the prompt builder needs from outside: templates, the model's tokenizer, a fence with a random marker. */
export interface DraftPromptTools {
  renderSystem: (values: DraftSystemValues) => string;
  renderUser: (values: DraftUserValues) => string;
  countTokens: (text: string) => number;
  fence: (texts: string[]) => PromptFence;
}

export interface DraftPrompt {
  system: string;
  user: string;
  /** The messages the prompt shows (the newest may be cut); the flags look at these. */
  shown: DraftThreadMessage[];
}

/**
 * The system and user prompt of a draft. The thread gets what the context leaves beside the system
 * prompt, the answer and the fence notice; it keeps the newest messages that fit (the one answered
 * always, cut if it must be), each fenced.
 */
export function buildDraftPrompt(input: DraftPromptInput, tools: DraftPromptTools): DraftPrompt {
  const system = tools.renderSystem({
    mailbox: input.mailbox,
    language: input.language && input.language !== "und" ? input.language : "the language of the customer's last message",
    knowledge: input.knowledge.map((k) => `## ${k.name}\n${k.text}`).join("\n\n"),
    examples: input.examples.map((e, i) => `Example ${i + 1}:\n${e}`).join("\n\n"),
  });
  const budget = Math.max(256, input.contextSize - input.maxDraftTokens - tools.countTokens(system) - NOTICE_TOKENS - 256);
  const fitted = fitFenced(input.thread, budget, tools.countTokens);
  const blocks = fitted.included.map(renderThreadMessage);
  const fence = tools.fence(blocks);
  const user = tools.renderUser({
    notice: fence.notice,
    omitted: fitted.omitted,
    thread: fitted.included
      .map(
        (m, i) =>
          `Message ${fitted.omitted + i + 1} (${m.direction === "inbound" ? "from the customer" : "our reply"}):\n${fence.wrap(blocks[i]!)}`,
      )
      .join("\n\n"),
    instruction: input.instruction,
  });
  return { system, user, shown: fitted.included };
}

/**
 * The thread within `budget`, each message counted as it is fenced: renderThreadMessage plus its line
 * and marker lines. A budget too small for even the newest message's header keeps that message's start.
 */
function fitFenced(thread: DraftThreadMessage[], budget: number, countTokens: (s: string) => number): FittedThread<DraftThreadMessage> {
  try {
    return fitThreadToBudget(thread, budget, (s) => countTokens(s) + FENCE_TOKENS);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const last = thread[thread.length - 1]!;
    return { included: [{ ...last, text: `${last.text.slice(0, 1000)} […]` }], omitted: thread.length - 1, truncatedFirst: true };
  }
}
