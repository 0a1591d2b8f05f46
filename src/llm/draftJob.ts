import { In, type EntityManager } from "typeorm";
import { fitThreadToBudget, renderThreadMessage } from "../core/llm/budget.js";
import { draftFlags, type DraftContext } from "../core/llm/draftFlags.js";
import { hiddenLinks, stripHiddenText } from "../core/llm/hiddenText.js";
import { holdsJob } from "../queue/claim.js";
import type { JobHandler, JobOutcome } from "../queue/worker.js";
import type { ConversationRow, MailboxRow, MessageRow } from "../store/entities/mail.js";
import type { DraftRow, TriageRow } from "../store/entities/review.js";
import type { JobRow } from "../store/entities/work.js";
import { appendEvent } from "../store/events.js";
import type { Store } from "../store/store.js";
import { fenceFor } from "./fencing.js";
import { mostSimilar } from "./similar.js";
import { knowledgeSnippets, render } from "./templates.js";
import { childAbort, withTimeLimit } from "./timeout.js";
import type { LlmJobDeps } from "./triageJob.js";

/** Tokens a fenced message adds around its text (the line naming it, the marker lines). */
const FENCE_TOKENS = 96;

/** Tokens of the one fence notice of the prompt. */
const NOTICE_TOKENS = 128;

/** How often streamed text is flushed to the events feed (the review page shows it live). */
const STREAM_FLUSH_MS = 250;

/**
 * The message's conversation now (a merge moves messages between conversations, so a job never trusts
 * the one in its payload) and a newer customer message in it, which makes this draft obsolete (it gets
 * its own); null when the message is gone.
 */
async function threadNow(store: Store, messageRowId: number): Promise<{ conversationId: number; newer: number | null } | null> {
  return store.read(async (em) => {
    const conversationId = await conversationOf(em, messageRowId);
    if (conversationId === null) return null;
    const rows = await em
      .getRepository<MessageRow>("Message")
      .createQueryBuilder("m")
      .select("m.id", "id")
      .where("m.conversationId = :conversationId AND m.direction = 'inbound' AND m.automated = :no AND m.id > :id", { conversationId, id: messageRowId, no: false })
      .limit(1)
      .getRawMany<{ id: number }>();
    return { conversationId, newer: rows[0] ? Number(rows[0].id) : null };
  });
}

async function conversationOf(em: EntityManager, messageRowId: number): Promise<number | null> {
  const m = await em.getRepository<MessageRow>("Message").findOne({ where: { id: messageRowId }, select: { id: true, conversationId: true } });
  return m ? m.conversationId : null;
}

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
    const now = await threadNow(store, messageRowId);
    if (!now) return { status: "skipped", reason: "message no longer exists" };
    if (now.newer) return { status: "skipped", reason: "a newer customer message supersedes it" };
    const loaded = await store.read(async (em) => {
      const message = await em.getRepository<MessageRow>("Message").findOneByOrFail({ id: messageRowId });
      const conversation = await em.getRepository<ConversationRow>("Conversation").findOneByOrFail({ id: message.conversationId });
      const mailbox = await em.getRepository<MailboxRow>("Mailbox").findOneByOrFail({ id: message.mailboxId });
      const thread = await em.getRepository<MessageRow>("Message").find({
        where: { conversationId: message.conversationId },
        select: { id: true, fromAddress: true, fromName: true, date: true, receivedAt: true, newText: true, text: true, direction: true, html: true },
      });
      const triage = await em.getRepository<TriageRow>("Triage").findOneBy({ messageRowId });
      return { message, conversation, mailbox, thread, triage };
    });
    const { message, conversation, mailbox, triage } = loaded;
    const thread = loaded.thread
      .filter((m) => m.id <= messageRowId)
      .sort((a, b) => (a.date ?? a.receivedAt).getTime() - (b.date ?? b.receivedAt).getTime() || a.id - b.id)
      .map((m) => ({
        from: m.direction === "outbound" ? `${mailbox.name} team` : stripHiddenText(sender(m)),
        date: (m.date ?? m.receivedAt).toISOString(),
        text: stripHiddenText(m.newText || m.text),
        direction: m.direction,
        html: m.html,
      }));
    const customerText = stripHiddenText(message.newText || message.text);
    const knowledge = knowledgeSnippets();
    // What the flags look at: every message the model is shown (the whole thread for a template reply).
    const flagContext = (shown: typeof thread): DraftContext => ({
      threadTexts: thread.map((m) => m.text),
      knowledge: knowledge.map((k) => k.text),
      untrustedTexts: shown.flatMap((m) => [m.from, m.text]),
      hiddenLinks: shown.flatMap((m) => (m.direction === "inbound" && m.html ? hiddenLinks(m.html) : [])),
    });

    if (!llm.engine) {
      const body = render("replies/template-draft.hbs", {
        name: message.fromName?.split(/\s+/)[0] ?? "",
        subject: conversation.subject,
        due: conversation.slaDueAt ? conversation.slaDueAt.toUTCString() : "",
      });
      // The template shows the subject back to the customer, so it is checked too.
      const all = flagContext(thread);
      const flags = draftFlags(body, { ...all, untrustedTexts: [...all.untrustedTexts, conversation.subject] });
      const opened = await openDraft(store, job, { messageRowId, status: "pending", body, origin: "template", flags, model: null }, "draft.ready");
      return "skipped" in opened ? { status: "skipped", reason: opened.skipped } : { status: "done" };
    }

    const engine = llm.engine;
    const examples = config.llm.retrievalK > 0 ? await similarApproved(store, engine, mailbox.id, customerText, config.llm.retrievalK) : [];
    const system = render("prompts/draft-system.hbs", {
      mailbox: mailbox.name,
      language: triage?.language && triage.language !== "und" ? triage.language : "the language of the customer's last message",
      knowledge: knowledge.map((k) => `## ${k.name}\n${k.text}`).join("\n\n"),
      examples: examples.map((e, i) => `Example ${i + 1}:\n${e}`).join("\n\n"),
    });
    const budget = Math.max(256, config.llm.contextSize - config.llm.maxDraftTokens - engine.countTokens(system) - NOTICE_TOKENS - 256);
    // Each message is counted as it is fenced below: renderThreadMessage plus its line and marker lines.
    let fitted;
    try {
      fitted = fitThreadToBudget(thread, budget, (s) => engine.countTokens(s) + FENCE_TOKENS);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const last = thread[thread.length - 1]!;
      fitted = { included: [{ ...last, text: `${last.text.slice(0, 1000)} […]` }], omitted: thread.length - 1, truncatedFirst: true };
    }
    const blocks = fitted.included.map(renderThreadMessage);
    const fence = fenceFor(blocks);
    const user = render("prompts/draft-user.hbs", {
      notice: fence.notice,
      omitted: fitted.omitted,
      thread: fitted.included
        .map((m, i) => `Message ${fitted.omitted + i + 1} (${m.direction === "inbound" ? "from the customer" : "our reply"}):\n${fence.wrap(blocks[i]!)}`)
        .join("\n\n"),
      instruction: typeof job.payload.instruction === "string" ? job.payload.instruction : "",
    });
    const context = flagContext(fitted.included);

    const opened = await openDraft(store, job, { messageRowId, status: "generating", body: "", origin: "model", flags: [], model: llm.status.info?.name ?? null }, "draft.started");
    if ("skipped" in opened) return { status: "skipped", reason: opened.skipped };
    const draftId = opened.id;
    let conversationId = opened.conversationId;
    try {
      const abort = childAbort(ctx.signal);
      let pending = "";
      let supersededAt: number | null = null;
      const flush = async () => {
        const state = await threadNow(store, messageRowId);
        if (state) conversationId = state.conversationId;
        if (pending) {
          const text = pending;
          pending = "";
          await store.tx((em) => appendEvent(em, "draft.delta", conversationId, { draftId, text }));
        }
        if (state?.newer) {
          supersededAt = state.newer;
          abort.abort(new Error("superseded"));
        }
      };
      const timer = setInterval(() => void flush().catch((err) => ctx.log.warn({ err }, "draft stream flush failed")), STREAM_FLUSH_MS);
      let out;
      try {
        out = await withTimeLimit(config.llm.timeoutSeconds, abort, (signal) =>
          engine.text({ system, user, maxTokens: config.llm.maxDraftTokens, signal, onText: (t) => (pending += t) }),
        );
      } finally {
        clearInterval(timer);
      }
      await flush();
      if (supersededAt === null && ctx.signal.aborted) {
        // Shutdown or a lost lease: this attempt is given up (the job runs again, here or elsewhere).
        throw new Error(`draft interrupted: ${String((ctx.signal.reason as Error | undefined)?.message ?? ctx.signal.reason)}`);
      }
      if (supersededAt !== null) {
        await closeDraft(store, draftId, messageRowId, { status: "superseded", body: out.text }, "draft.superseded", { by: supersededAt });
        return { status: "skipped", reason: "superseded while generating" };
      }
      const body = out.text.trim();
      return await finishDraft(store, job, draftId, messageRowId, { status: "pending", body, flags: draftFlags(body, context), tokens: out.tokens, durationMs: out.ms });
    } catch (err) {
      // Never leave the row `generating`: a retry would count it as a draft in progress.
      await closeDraft(store, draftId, messageRowId, { status: "failed" }, "draft.failed", { reason: String((err as Error).message ?? err).slice(0, 500) }).catch((e) =>
        ctx.log.warn({ err: e }, "could not mark the interrupted draft failed; the job's next run will"),
      );
      throw err;
    }
  };
}

/** "Name <address>", the address alone, or "customer". */
function sender(m: Pick<MessageRow, "fromName" | "fromAddress">): string {
  if (m.fromName && m.fromAddress) return `${m.fromName} <${m.fromAddress}>`;
  return m.fromName || m.fromAddress || "customer";
}

type NewDraft = Pick<DraftRow, "messageRowId" | "status" | "body" | "origin" | "flags" | "model">;

/**
 * Opens the message's draft in one transaction, if this run may: the job must still be held by it; a
 * draft this job left `generating` (its worker died or lost the lease) is failed; a pending draft, or
 * one generating under another job, means there is nothing to do. Returns the new draft.
 */
async function openDraft(store: Store, job: JobRow, draft: NewDraft, event: string): Promise<{ id: number; conversationId: number } | { skipped: string }> {
  return store.tx(async (em) => {
    if (!(await holdsJob(em, job))) return { skipped: "the job was claimed again by another run" };
    const conversationId = await conversationOf(em, draft.messageRowId);
    if (conversationId === null) return { skipped: "message no longer exists" };
    const repo = em.getRepository<DraftRow>("Draft");
    for (const stale of await repo.find({ where: { jobId: job.id, status: "generating" }, select: { id: true, conversationId: true } })) {
      await repo.update({ id: stale.id, status: "generating" }, { status: "failed" } as never);
      await appendEvent(em, "draft.failed", stale.conversationId, { draftId: stale.id, reason: "its worker stopped (died or lost the job's lease)" });
    }
    if ((await repo.countBy({ messageRowId: draft.messageRowId, status: In(["pending", "generating"]) })) > 0) {
      return { skipped: "a pending draft exists or one is being generated" };
    }
    const res = await repo.insert({ ...draft, conversationId, jobId: job.id, tokens: null, durationMs: null });
    const id = Number(res.identifiers[0]!.id);
    await appendEvent(em, event, conversationId, event === "draft.ready" ? { draftId: id, origin: draft.origin } : { draftId: id, messageRowId: draft.messageRowId });
    return { id, conversationId };
  });
}

/**
 * Makes the generated draft pending, only while this run still holds the job and the row is still
 * generating (intake may have superseded it, a new run of the job failed it). A run that lost the job
 * fails its own row instead: the run that took over writes the draft.
 */
async function finishDraft(store: Store, job: JobRow, draftId: number, messageRowId: number, patch: Partial<DraftRow>): Promise<JobOutcome> {
  const result = await store.tx(async (em) => {
    if (!(await holdsJob(em, job))) return "lost" as const;
    const conversationId = (await conversationOf(em, messageRowId)) ?? undefined;
    const res = await em.getRepository<DraftRow>("Draft").update({ id: draftId, status: "generating" }, { ...patch, conversationId });
    if (!res.affected) return "gone" as const;
    await appendEvent(em, "draft.ready", conversationId ?? null, { draftId, origin: "model" });
    return "done" as const;
  });
  if (result === "done") return { status: "done" };
  if (result === "gone") return { status: "skipped", reason: "superseded while generating" };
  await closeDraft(store, draftId, messageRowId, { status: "failed" }, "draft.failed", { reason: "the job was claimed again while this draft was generated" });
  return { status: "skipped", reason: "the job was claimed again while generating; the new run drafts" };
}

/**
 * Ends a draft that is still generating (superseded, failed) with its event, under the message's
 * conversation. A superseded one may have been marked so by intake already; it gets its text and event.
 */
async function closeDraft(store: Store, draftId: number, messageRowId: number, patch: Partial<DraftRow>, event: string, payload: Record<string, unknown>): Promise<void> {
  const from: DraftRow["status"][] = patch.status === "superseded" ? ["generating", "superseded"] : ["generating"];
  await store.tx(async (em) => {
    const res = await em.getRepository<DraftRow>("Draft").update({ id: draftId, status: In(from) }, patch);
    if (res.affected) await appendEvent(em, event, await conversationOf(em, messageRowId), { draftId, ...payload });
  });
}

/** Bodies of the k approved replies (this mailbox) most similar to the customer's text. */
async function similarApproved(store: Store, engine: { embed(t: string): Promise<number[]> }, mailboxId: number, text: string, k: number): Promise<string[]> {
  const candidates = await store.read((em) =>
    em
      .getRepository<DraftRow>("Draft")
      .createQueryBuilder("d")
      .innerJoin("conversations", "c", "c.id = d.conversationId")
      .where("d.status = 'approved' AND d.embedding IS NOT NULL AND c.mailboxId = :mailboxId", { mailboxId })
      .orderBy("d.id", "DESC")
      .limit(500)
      .getMany(),
  );
  if (candidates.length === 0) return [];
  const query = await engine.embed(text);
  return mostSimilar(query, candidates.map((c) => ({ item: c.body, vector: c.embedding ?? [] })), k);
}
