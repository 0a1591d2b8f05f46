import { fitThreadToBudget } from "../core/llm/budget.js";
import { draftFlags } from "../core/llm/draftFlags.js";
import { fenceUntrusted } from "../core/llm/fence.js";
import { hiddenLinks, stripHiddenText } from "../core/llm/hiddenText.js";
import type { JobHandler } from "../queue/worker.js";
import type { ConversationRow, MailboxRow, MessageRow } from "../store/entities/mail.js";
import type { DraftRow, TriageRow } from "../store/entities/review.js";
import { appendEvent } from "../store/events.js";
import type { Store } from "../store/store.js";
import { mostSimilar } from "./similar.js";
import { knowledgeSnippets, render } from "./templates.js";
import type { LlmJobDeps } from "./triageJob.js";

/** Tokens a fenced message adds around its text (markers, the data notice, the header line). */
const FENCE_TOKENS = 96;

/** How often streamed text is flushed to the events feed (the review page shows it live). */
const STREAM_FLUSH_MS = 250;

/** A newer customer message in the conversation makes this draft obsolete (it gets its own). */
async function supersededBy(store: Store, conversationId: number, messageRowId: number): Promise<number | null> {
  const rows = await store.read((em) =>
    em
      .getRepository<MessageRow>("Message")
      .createQueryBuilder("m")
      .select("m.id", "id")
      .where("m.conversationId = :conversationId AND m.direction = 'inbound' AND m.automated = :no AND m.id > :id", { conversationId, id: messageRowId, no: false })
      .limit(1)
      .getRawMany<{ id: number }>(),
  );
  return rows[0] ? Number(rows[0].id) : null;
}

/**
 * Drafts a reply to one inbound message: the thread's new texts oldest first within a token budget,
 * knowledge snippets and similar approved replies as context, customer text stripped of hidden text and
 * fenced as data. Tokens stream to the events feed; a newer customer message cancels it. The draft is a
 * body only (recipients, subject and threading headers are set by code at send time) with safety flags.
 * Without a model the reply template is offered, labelled as such.
 */
export function draftHandler(deps: LlmJobDeps): JobHandler {
  const { store, llm, config } = deps;
  return async (job, ctx) => {
    const messageRowId = Number(job.payload.messageRowId);
    const conversationId = Number(job.payload.conversationId);
    if (await supersededBy(store, conversationId, messageRowId)) return { status: "skipped", reason: "a newer customer message supersedes it" };
    const loaded = await store.read(async (em) => {
      const message = await em.getRepository<MessageRow>("Message").findOneBy({ id: messageRowId });
      if (!message) return null;
      const existing = await em.getRepository<DraftRow>("Draft").count({ where: { messageRowId, status: "pending" } });
      const conversation = await em.getRepository<ConversationRow>("Conversation").findOneByOrFail({ id: message.conversationId });
      const mailbox = await em.getRepository<MailboxRow>("Mailbox").findOneByOrFail({ id: message.mailboxId });
      const thread = await em.getRepository<MessageRow>("Message").find({
        where: { conversationId: message.conversationId },
        select: { id: true, fromAddress: true, fromName: true, date: true, receivedAt: true, newText: true, text: true, direction: true, html: true },
      });
      const triage = await em.getRepository<TriageRow>("Triage").findOneBy({ messageRowId });
      return { message, existing, conversation, mailbox, thread, triage };
    });
    if (!loaded) return { status: "skipped", reason: "message no longer exists" };
    if (loaded.existing > 0) return { status: "skipped", reason: "a pending draft exists" };
    const { message, conversation, mailbox, triage } = loaded;
    const thread = loaded.thread
      .filter((m) => m.id <= messageRowId)
      .sort((a, b) => (a.date ?? a.receivedAt).getTime() - (b.date ?? b.receivedAt).getTime() || a.id - b.id)
      .map((m) => ({
        from: m.direction === "outbound" ? `${mailbox.name} team` : (m.fromName || m.fromAddress || "customer"),
        date: (m.date ?? m.receivedAt).toISOString(),
        text: stripHiddenText(m.newText || m.text),
        direction: m.direction,
        html: m.html,
      }));
    const customerText = stripHiddenText(message.newText || message.text);
    const knowledge = knowledgeSnippets();
    const context = {
      threadTexts: thread.map((m) => m.text),
      knowledge: knowledge.map((k) => k.text),
      customerText,
      hiddenLinks: message.html ? hiddenLinks(message.html) : [],
    };

    if (!llm.engine) {
      const body = render("replies/template-draft.hbs", {
        name: message.fromName?.split(/\s+/)[0] ?? "",
        subject: conversation.subject,
        due: conversation.slaDueAt ? conversation.slaDueAt.toUTCString() : "",
      });
      await saveDraft(store, { conversationId, messageRowId, body, origin: "template", flags: draftFlags(body, context), model: null, tokens: null, durationMs: null });
      return { status: "done" };
    }

    const engine = llm.engine;
    const examples = config.llm.retrievalK > 0 ? await similarApproved(store, engine, mailbox.id, customerText, config.llm.retrievalK) : [];
    const system = render("prompts/draft-system.hbs", {
      mailbox: mailbox.name,
      language: triage?.language && triage.language !== "und" ? triage.language : "the language of the customer's last message",
      knowledge: knowledge.map((k) => `## ${k.name}\n${k.text}`).join("\n\n"),
      examples: examples.map((e, i) => `Example ${i + 1}:\n${e}`).join("\n\n"),
    });
    const budget = Math.max(256, config.llm.contextSize - config.llm.maxDraftTokens - engine.countTokens(system) - 256);
    // Each message is counted with room for its fence markers and header (they are added below).
    let fitted;
    try {
      fitted = fitThreadToBudget(thread, budget, (s) => engine.countTokens(s) + FENCE_TOKENS);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const last = thread[thread.length - 1]!;
      fitted = { included: [{ ...last, text: `${last.text.slice(0, 1000)} […]` }], omitted: thread.length - 1, truncatedFirst: true };
    }
    const user = render("prompts/draft-user.hbs", {
      omitted: fitted.omitted,
      thread: fitted.included.map((m) => fenceUntrusted(`${m.direction === "inbound" ? "customer" : "our reply"} from ${m.from} on ${m.date}`, m.text)).join("\n\n"),
      instruction: typeof job.payload.instruction === "string" ? job.payload.instruction : "",
    });

    const draftId = await store.tx(async (em) => {
      const res = await em.getRepository<DraftRow>("Draft").insert({ conversationId, messageRowId, status: "generating", body: "", origin: "model", flags: [], model: llm.status.info?.name ?? null } as never);
      const id = Number(res.identifiers[0]!.id);
      await appendEvent(em, "draft.started", conversationId, { draftId: id, messageRowId });
      return id;
    });
    const abort = new AbortController();
    ctx.signal.addEventListener("abort", () => abort.abort(ctx.signal.reason), { once: true });
    let pending = "";
    let supersededAt: number | null = null;
    const flush = async () => {
      if (pending) {
        const text = pending;
        pending = "";
        await store.tx((em) => appendEvent(em, "draft.delta", conversationId, { draftId, text }));
      }
      const newer = await supersededBy(store, conversationId, messageRowId);
      if (newer) {
        supersededAt = newer;
        abort.abort(new Error("superseded"));
      }
    };
    const timer = setInterval(() => void flush().catch((err) => ctx.log.warn({ err }, "draft stream flush failed")), STREAM_FLUSH_MS);
    let out;
    try {
      out = await engine.text({ system, user, maxTokens: config.llm.maxDraftTokens, signal: abort.signal, onText: (t) => (pending += t) });
    } finally {
      clearInterval(timer);
    }
    await flush();
    if (supersededAt === null && ctx.signal.aborted) {
      // Shutdown: this attempt is given up (the job is released and runs again elsewhere).
      await store.tx(async (em) => {
        await em.getRepository<DraftRow>("Draft").update({ id: draftId }, { status: "failed", body: out.text } as never);
        await appendEvent(em, "draft.failed", conversationId, { draftId, reason: "interrupted by shutdown" });
      });
      throw new Error("draft interrupted by shutdown");
    }
    if (supersededAt !== null) {
      await store.tx(async (em) => {
        await em.getRepository<DraftRow>("Draft").update({ id: draftId }, { status: "superseded", body: out.text } as never);
        await appendEvent(em, "draft.superseded", conversationId, { draftId, by: supersededAt });
      });
      return { status: "skipped", reason: "superseded while generating" };
    }
    const body = out.text.trim();
    const stored = await store.tx(async (em) => {
      // Only a draft still generating becomes pending: intake may have superseded it meanwhile.
      const res = await em
        .getRepository<DraftRow>("Draft")
        .update({ id: draftId, status: "generating" }, { status: "pending", body, flags: draftFlags(body, context), tokens: out.tokens, durationMs: out.ms } as never);
      if (!res.affected) return false;
      await appendEvent(em, "draft.ready", conversationId, { draftId, origin: "model" });
      return true;
    });
    return stored ? { status: "done" } : { status: "skipped", reason: "superseded while generating" };
  };
}

async function saveDraft(
  store: Store,
  d: { conversationId: number; messageRowId: number; body: string; origin: string; flags: string[]; model: string | null; tokens: number | null; durationMs: number | null },
): Promise<void> {
  await store.tx(async (em) => {
    const res = await em.getRepository<DraftRow>("Draft").insert({ ...d, status: "pending" } as never);
    await appendEvent(em, "draft.ready", d.conversationId, { draftId: Number(res.identifiers[0]!.id), origin: d.origin });
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
