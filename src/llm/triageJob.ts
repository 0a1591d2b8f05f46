import { slaDueAt } from "../core/llm/sla.js";
import { applyTriageRules, triageJsonSchema, validateTriage, type TriageResult } from "../core/llm/triageRules.js";
import { stripHiddenText } from "../core/visibleText/hiddenText.js";
import type { JobHandler } from "../queue/worker.js";
import { conversationOfMessage, findMessage, mailboxOf, setConversationPriority } from "../store/conversations.js";
import { appendEvent } from "../store/events.js";
import { enqueueJob } from "../store/jobs.js";
import { insertTriage, isTriaged } from "../store/triage.js";
import type { LlmJobDeps } from "./deps.js";
import { fenceFor } from "./fencing.js";
import { render } from "./templates.js";
import { childAbort, withTimeLimit } from "./timeout.js";

/** Tokens of the fence around the message: the notice, the marker lines and some slack. */
const FENCE_TOKENS = 128;

/** Draft jobs queue behind every triage job; the more urgent the message, the sooner its draft. */
export const DRAFT_PRIORITY: Record<TriageResult["priority"], number> = { urgent: 20, high: 21, normal: 22, low: 23 };

/**
 * Triage of one inbound message: the model's JSON (grammar-constrained, then validated: it is data),
 * overridden by the operator's rules; stored with who decided, the SLA due time, and a draft job.
 * Without a model (or with output that fails validation) the rules decide alone, and the row says so.
 * Subject, sender and text go into the prompt inside one fence; the call is given up at llm.timeoutSeconds
 * (the job fails and is retried). The conversation is the message's at the time of the write: a merge
 * may have moved the message since the job was queued.
 */
export function triageHandler(deps: LlmJobDeps): JobHandler {
  const { store, llm, config } = deps;
  return async (job, ctx) => {
    const messageRowId = Number(job.payload.messageRowId);
    const loaded = await store.read(async (em) => {
      const message = await findMessage(em, messageRowId);
      if (!message) return null;
      return { message, mailbox: await mailboxOf(em, message), done: await isTriaged(em, messageRowId) };
    });
    if (!loaded) return { status: "skipped", reason: "message no longer exists" };
    if (loaded.done) return { status: "skipped", reason: "already triaged" };
    const { message, mailbox } = loaded;
    const text = stripHiddenText(message.newText || message.text);

    let model: TriageResult | null = null;
    let usage: { tokens: number; ms: number } | null = null;
    const extraFlags: string[] = [];
    if (llm.engine) {
      const engine = llm.engine;
      const system = render("prompts/triage-system.hbs", { mailbox: mailbox.name, categories: config.triage.categories.join(", ") });
      const from = stripHiddenText(message.fromName ? `${message.fromName} <${message.fromAddress ?? "unknown"}>` : (message.fromAddress ?? "unknown"));
      const header = `Subject: ${stripHiddenText(message.subject).slice(0, 300)}\nFrom: ${from.slice(0, 400)}\n\n`;
      // The message is cut to what fits beside the system prompt, the fence and the answer (its start matters most).
      const room = config.llm.contextSize - config.llm.maxTriageTokens - engine.countTokens(system) - engine.countTokens(header) - FENCE_TOKENS;
      const fenced = `${header}${fitTokens(text, Math.max(64, room), (s) => engine.countTokens(s))}`;
      const fence = fenceFor([fenced]);
      const out = await withTimeLimit(config.llm.timeoutSeconds, childAbort(ctx.signal), (signal) =>
        engine.json({
          system,
          user: render("prompts/triage-user.hbs", { notice: fence.notice, message: fence.wrap(fenced) }),
          schema: triageJsonSchema(config.triage.categories),
          maxTokens: config.llm.maxTriageTokens,
          signal,
        }),
      );
      usage = { tokens: out.tokens, ms: out.ms };
      const checked = validateTriage(out.value, config.triage.categories);
      if (checked.ok) model = checked.value;
      else {
        extraFlags.push("model-output-invalid");
        ctx.log.warn({ errors: checked.errors }, "model triage failed validation; rules decide");
      }
    }
    const decided = applyTriageRules(
      { from: message.fromAddress ?? "", mailbox: mailbox.name, subject: message.subject, text },
      model,
      { vipSenders: config.triage.vipSenders, keywords: config.triage.keywords, mailboxDefaults: config.triage.mailboxDefaults },
    );
    const result = { ...decided.result, flags: [...new Set([...decided.result.flags, ...extraFlags])] };
    const due = slaDueAt(result.priority, message.receivedAt, config.sla);

    await store.tx(async (em) => {
      const conversationId = (await conversationOfMessage(em, messageRowId)) ?? message.conversationId;
      await insertTriage(em, {
        messageRowId,
        conversationId,
        priority: result.priority,
        category: result.category,
        sentiment: result.sentiment,
        language: result.language,
        summary: result.summary.slice(0, 255),
        confidence: result.confidence,
        flags: result.flags,
        decidedBy: decided.decidedBy,
        matchedRules: decided.matched,
        model: usage && llm.status.info ? llm.status.info.name : null,
        tokens: usage?.tokens ?? null,
        durationMs: usage?.ms ?? null,
        slaDueAt: due,
      });
      await setConversationPriority(em, conversationId, result.priority, due);
      await enqueueJob(em, {
        type: "draft",
        payload: { messageRowId, conversationId },
        priority: DRAFT_PRIORITY[result.priority],
        maxAttempts: config.jobs.maxAttempts,
        uniqueKey: `draft:message:${messageRowId}`,
      });
      await appendEvent(em, "triage.done", conversationId, { messageRowId, priority: result.priority, decidedBy: decided.decidedBy });
    });
    return { status: "done" };
  };
}

/** The longest start of `text` within `budget` tokens (by binary search on characters). */
function fitTokens(text: string, budget: number, count: (s: string) => number): string {
  if (count(text) <= budget) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(text.slice(0, mid)) + 4 <= budget) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)} […]`;
}
