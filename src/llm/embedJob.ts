import type { JobHandler } from "../queue/worker.js";
import { findDraft, setDraftEmbedding } from "../store/drafts.js";
import type { LlmJobDeps } from "./deps.js";

/**
 * Stores the embedding of an approved reply, so later drafts can be shown the most similar approved
 * replies as examples. Enqueued when a reviewer approves a draft ("embed-reply", payload { draftId }).
 */
export function embedReplyHandler(deps: LlmJobDeps): JobHandler {
  const { store, llm } = deps;
  return async (job) => {
    if (!llm.engine) return { status: "skipped", reason: "no model: replies are embedded once one is available" };
    const draftId = Number(job.payload.draftId);
    const draft = await store.read((em) => findDraft(em, draftId));
    if (!draft || draft.status !== "approved") return { status: "skipped", reason: "not an approved draft" };
    const embedding = await llm.engine.embed(draft.body);
    await store.tx((em) => setDraftEmbedding(em, draftId, embedding));
    return { status: "done" };
  };
}
