import { draftFlags, type DraftContext } from "../core/llm/draftFlags.js";
import { buildDraftPrompt, draftFlagContext, draftThread } from "../core/llm/draftPrompt.js";
import { stripHiddenText } from "../core/visibleText/hiddenText.js";
import type { JobHandler, JobOutcome } from "../queue/worker.js";
import { conversationNow, getConversation, getMessage, mailboxOf, threadMessages } from "../store/conversations.js";
import { embeddedApprovedReplies, failDraft, finishDraft, openDraft, supersedeDraft, type GeneratedDraft } from "../store/drafts.js";
import type { ConversationRow, MessageRow } from "../store/entities/mail.js";
import type { JobRow } from "../store/entities/work.js";
import type { Store } from "../store/store.js";
import { findTriage } from "../store/triage.js";
import type { LlmJobDeps } from "./deps.js";
import { streamDraft } from "./draftStream.js";
import type { LlmEngine } from "./engine.js";
import { fenceFor } from "./fencing.js";
import { mostSimilar } from "./similar.js";
import { knowledgeSnippets, render } from "./templates.js";

/** How many of a mailbox's newest approved replies are compared with the customer's text. */
const RETRIEVAL_CANDIDATES = 500;

/**
 * Drafts a reply to one inbound message: the thread's new texts oldest first within a token budget,
 * knowledge snippets and similar approved replies as context, customer text stripped of hidden text and
 * fenced as data (one marker for the prompt; senders inside it too). Tokens stream to the events feed; a
 * newer customer message cancels it, and llm.timeoutSeconds ends it. The draft is a body only
 * (recipients, subject and threading headers are set by code at send time) with safety flags over every
 * message the model was shown. Without a model the reply template is offered, labelled as such.
 *
 * One open draft per message: a draft being generated counts like a pending one, a row this job left
 * `generating` (its worker died or lost the lease) is failed when the job runs again, every write checks
 * that this run still holds the job, and the schema refuses a second pending draft for a message.
 */
export function draftHandler(deps: LlmJobDeps): JobHandler {
  const { store, llm, config } = deps;
  return async (job, ctx) => {
    const messageRowId = Number(job.payload.messageRowId);
    // A newer customer message in the conversation makes this draft obsolete (it gets its own).
    const now = await store.read((em) => conversationNow(em, messageRowId));
    if (!now) return { status: "skipped", reason: "message no longer exists" };
    if (now.newer) return { status: "skipped", reason: "a newer customer message supersedes it" };
    const { message, conversation, mailbox, stored, triage } = await store.read(async (em) => {
      const message = await getMessage(em, messageRowId);
      const conversation = await getConversation(em, message.conversationId);
      const mailbox = await mailboxOf(em, message);
      const stored = await threadMessages(em, message.conversationId);
      return { message, conversation, mailbox, stored, triage: await findTriage(em, messageRowId) };
    });
    const thread = draftThread(stored, messageRowId, mailbox.name);
    const knowledge = knowledgeSnippets();

    if (!llm.engine)
      return templateDraft(
        store,
        job,
        message,
        conversation,
        draftFlagContext(
          thread,
          thread,
          knowledge.map((k) => k.text),
        ),
      );

    const engine = llm.engine;
    const customerText = stripHiddenText(message.newText || message.text);
    const examples = config.llm.retrievalK > 0 ? await similarApproved(store, engine, mailbox.id, customerText, config.llm.retrievalK) : [];
    const prompt = buildDraftPrompt(
      {
        mailbox: mailbox.name,
        language: triage?.language ?? null,
        thread,
        knowledge,
        examples,
        instruction: typeof job.payload.instruction === "string" ? job.payload.instruction : "",
        contextSize: config.llm.contextSize,
        maxDraftTokens: config.llm.maxDraftTokens,
      },
      {
        renderSystem: (values) => render("prompts/draft-system.hbs", values),
        renderUser: (values) => render("prompts/draft-user.hbs", values),
        countTokens: (s) => engine.countTokens(s),
        fence: fenceFor,
      },
    );
    const context = draftFlagContext(
      thread,
      prompt.shown,
      knowledge.map((k) => k.text),
    );

    const opened = await openDraft(
      store,
      job,
      { messageRowId, status: "generating", body: "", origin: "model", flags: [], model: llm.status.info?.name ?? null },
      "draft.started",
    );
    if ("skipped" in opened) return { status: "skipped", reason: opened.skipped };
    const draftId = opened.id;
    try {
      const out = await streamDraft(store, engine, ctx, {
        draftId,
        messageRowId,
        conversationId: opened.conversationId,
        system: prompt.system,
        user: prompt.user,
        maxTokens: config.llm.maxDraftTokens,
        timeoutSeconds: config.llm.timeoutSeconds,
      });
      if (out.supersededBy !== null) {
        await supersedeDraft(store, draftId, messageRowId, out.text, out.supersededBy);
        return { status: "skipped", reason: "superseded while generating" };
      }
      const body = out.text.trim();
      return await finish(store, job, draftId, messageRowId, {
        body,
        flags: draftFlags(body, context),
        tokens: out.tokens,
        durationMs: out.ms,
      });
    } catch (err) {
      // Never leave the row `generating`: a retry would count it as a draft in progress.
      await failDraft(store, draftId, messageRowId, String((err as Error).message ?? err).slice(0, 500)).catch((e) =>
        ctx.log.warn({ err: e }, "could not mark the interrupted draft failed; the job's next run will"),
      );
      throw err;
    }
  };
}

/** The reply template, offered as a pending draft when there is no model (labelled as such). */
async function templateDraft(
  store: Store,
  job: JobRow,
  message: MessageRow,
  conversation: ConversationRow,
  context: DraftContext,
): Promise<JobOutcome> {
  const body = render("replies/template-draft.hbs", {
    name: message.fromName?.split(/\s+/)[0] ?? "",
    subject: conversation.subject,
    due: conversation.slaDueAt ? conversation.slaDueAt.toUTCString() : "",
  });
  // The template shows the subject back to the customer, so it is checked too.
  const flags = draftFlags(body, { ...context, untrustedTexts: [...context.untrustedTexts, conversation.subject] });
  const opened = await openDraft(
    store,
    job,
    { messageRowId: message.id, status: "pending", body, origin: "template", flags, model: null },
    "draft.ready",
  );
  return "skipped" in opened ? { status: "skipped", reason: opened.skipped } : { status: "done" };
}

/**
 * Makes the generated draft pending if this run still holds the job. A run that lost the job fails its
 * own row instead: the run that took over writes the draft.
 */
async function finish(store: Store, job: JobRow, draftId: number, messageRowId: number, generated: GeneratedDraft): Promise<JobOutcome> {
  const result = await finishDraft(store, job, draftId, messageRowId, generated);
  if (result === "done") return { status: "done" };
  if (result === "gone") return { status: "skipped", reason: "superseded while generating" };
  await failDraft(store, draftId, messageRowId, "the job was claimed again while this draft was generated");
  return { status: "skipped", reason: "the job was claimed again while generating; the new run drafts" };
}

/** Bodies of the k approved replies (this mailbox) most similar to the customer's text. */
async function similarApproved(
  store: Store,
  engine: Pick<LlmEngine, "embed">,
  mailboxId: number,
  text: string,
  k: number,
): Promise<string[]> {
  const candidates = await store.read((em) => embeddedApprovedReplies(em, mailboxId, RETRIEVAL_CANDIDATES));
  if (candidates.length === 0) return [];
  const query = await engine.embed(text);
  return mostSimilar(
    query,
    candidates.map((c) => ({ item: c.body, vector: c.embedding ?? [] })),
    k,
  );
}
