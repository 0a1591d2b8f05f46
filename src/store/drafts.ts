import { In, type EntityManager } from "typeorm";
import { conversationOfMessage } from "./conversations.js";
import type { DraftRow, DraftStatus } from "./entities/review.js";
import type { JobRow } from "./entities/work.js";
import { appendEvent } from "./events.js";
import { holdsJob } from "./jobs.js";
import type { Store } from "./store.js";

/** A draft to open: a pending one (a template reply) or one the model is about to generate. */
export type NewDraft = Pick<DraftRow, "messageRowId" | "status" | "body" | "origin" | "flags" | "model">;

/** What a finished generation writes. */
export type GeneratedDraft = Pick<DraftRow, "body" | "flags" | "tokens" | "durationMs">;

export async function findDraft(em: EntityManager, id: number): Promise<DraftRow | null> {
  return em.getRepository<DraftRow>("Draft").findOneBy({ id });
}

/** Stores the embedding of an approved reply's body. */
export async function setDraftEmbedding(em: EntityManager, id: number, embedding: number[]): Promise<void> {
  await em.getRepository<DraftRow>("Draft").update({ id }, { embedding });
}

/** The newest `limit` approved replies of a mailbox that have an embedding, newest first. */
export async function embeddedApprovedReplies(
  em: EntityManager,
  mailboxId: number,
  limit: number,
): Promise<Pick<DraftRow, "body" | "embedding">[]> {
  return em
    .getRepository<DraftRow>("Draft")
    .createQueryBuilder("d")
    .innerJoin("conversations", "c", "c.id = d.conversationId")
    .where("d.status = 'approved' AND d.embedding IS NOT NULL AND c.mailboxId = :mailboxId", { mailboxId })
    .orderBy("d.id", "DESC")
    .limit(limit)
    .getMany();
}

/**
 * Opens the message's draft in one transaction, if this run may: the job must still be held by it; a
 * draft this job left `generating` (its worker died or lost the lease) is failed; a pending draft, or
 * one generating under another job, means there is nothing to do. Returns the new draft, with `event`
 * (draft.ready for a pending draft, draft.started for one to generate) appended.
 */
export async function openDraft(
  store: Store,
  job: JobRow,
  draft: NewDraft,
  event: "draft.ready" | "draft.started",
): Promise<{ id: number; conversationId: number } | { skipped: string }> {
  return store.tx(async (em) => {
    if (!(await holdsJob(em, job))) return { skipped: "the job was claimed again by another run" };
    const conversationId = await conversationOfMessage(em, draft.messageRowId);
    if (conversationId === null) return { skipped: "message no longer exists" };
    const repo = em.getRepository<DraftRow>("Draft");
    for (const stale of await repo.find({ where: { jobId: job.id, status: "generating" }, select: { id: true, conversationId: true } })) {
      await repo.update({ id: stale.id, status: "generating" }, { status: "failed" });
      await appendEvent(em, "draft.failed", stale.conversationId, {
        draftId: stale.id,
        reason: "its worker stopped (died or lost the job's lease)",
      });
    }
    if ((await repo.countBy({ messageRowId: draft.messageRowId, status: In(["pending", "generating"]) })) > 0) {
      return { skipped: "a pending draft exists or one is being generated" };
    }
    const res = await repo.insert({ ...draft, conversationId, jobId: job.id, tokens: null, durationMs: null });
    const id = Number(res.identifiers[0]!.id);
    await appendEvent(
      em,
      event,
      conversationId,
      event === "draft.ready" ? { draftId: id, origin: draft.origin } : { draftId: id, messageRowId: draft.messageRowId },
    );
    return { id, conversationId };
  });
}

/**
 * Makes the generated draft pending, only while this run still holds the job and the row is still
 * generating (intake may have superseded it, a new run of the job failed it): "done"; "gone" when the
 * row was no longer generating; "lost" when the job was claimed again (the caller fails its own row:
 * the run that took over writes the draft).
 */
export async function finishDraft(
  store: Store,
  job: JobRow,
  draftId: number,
  messageRowId: number,
  generated: GeneratedDraft,
): Promise<"done" | "gone" | "lost"> {
  return store.tx(async (em) => {
    if (!(await holdsJob(em, job))) return "lost";
    const conversationId = (await conversationOfMessage(em, messageRowId)) ?? undefined;
    const res = await em
      .getRepository<DraftRow>("Draft")
      .update({ id: draftId, status: "generating" }, { ...generated, status: "pending", conversationId });
    if (!res.affected) return "gone";
    await appendEvent(em, "draft.ready", conversationId ?? null, { draftId, origin: "model" });
    return "done";
  });
}

/** Fails a draft that is still generating (draft.failed, with the reason). */
export async function failDraft(store: Store, draftId: number, messageRowId: number, reason: string): Promise<void> {
  await closeDraft(store, draftId, messageRowId, { status: "failed" }, "draft.failed", { reason });
}

/**
 * Ends a generation that a newer customer message (`by`) made obsolete, keeping the text generated so
 * far (draft.superseded). Intake may have marked the row superseded already; it gets its text and event.
 */
export async function supersedeDraft(store: Store, draftId: number, messageRowId: number, body: string, by: number): Promise<void> {
  await closeDraft(store, draftId, messageRowId, { status: "superseded", body }, "draft.superseded", { by });
}

/** Ends a draft that is still generating with its event, under the message's conversation. */
async function closeDraft(
  store: Store,
  draftId: number,
  messageRowId: number,
  patch: { status: DraftStatus; body?: string },
  event: string,
  payload: Record<string, unknown>,
): Promise<void> {
  const from: DraftStatus[] = patch.status === "superseded" ? ["generating", "superseded"] : ["generating"];
  await store.tx(async (em) => {
    const res = await em.getRepository<DraftRow>("Draft").update({ id: draftId, status: In(from) }, patch);
    if (res.affected) await appendEvent(em, event, await conversationOfMessage(em, messageRowId), { draftId, ...payload });
  });
}

/** A pending draft as listed for review, with its conversation's subject and mailbox name. */
export interface PendingDraftListing extends DraftRow {
  subject: string;
  mailboxName: string;
}

/** Drafts waiting for a reviewer (pending), oldest first; only one mailbox's when `mailboxName` is given. */
export async function listPendingDrafts(store: Store, mailboxName?: string): Promise<PendingDraftListing[]> {
  return store.read(async (em) => {
    const qb = em
      .getRepository<DraftRow>("Draft")
      .createQueryBuilder("d")
      .innerJoin("conversations", "c", "c.id = d.conversationId")
      .innerJoin("mailboxes", "m", "m.id = c.mailboxId")
      .addSelect("c.subject", "subject")
      .addSelect("m.name", "mailboxName")
      .where("d.status = 'pending'")
      .orderBy("d.id", "ASC");
    if (mailboxName !== undefined) qb.andWhere("m.name = :mailboxName", { mailboxName });
    const { entities, raw } = await qb.getRawAndEntities<{ subject: string; mailboxName: string }>();
    return entities.map((d, i) => ({ ...d, subject: raw[i]!.subject, mailboxName: raw[i]!.mailboxName }));
  });
}
