import assert from "node:assert/strict";
import type { IntakeOutcome, RawInput } from "../../../src/pipeline/intake.js";
import { enqueueJob } from "../../../src/store/jobs.js";
import type { ConversationRow, Priority } from "../../../src/store/entities/mail.js";
import type { DraftRow, TriageRow } from "../../../src/store/entities/review.js";
import type { EventRow, JobRow } from "../../../src/store/entities/work.js";
import type { Store } from "../../../src/store/store.js";
import { compose } from "../../support/compose.js";
import { dialects, useStore } from "../../support/db.js";
import { testIntake } from "../../support/intake.js";

const CUSTOMER = "ann@example.org";
const SUPPORT = "support@example.com";
const input = (raw: Buffer): RawInput => ({ raw, source: "test", sourceRef: "test" });

function stored(o: IntakeOutcome | undefined): Extract<IntakeOutcome, { kind: "stored" }> {
  assert.ok(o && o.kind === "stored", `expected stored, got ${JSON.stringify(o)}`);
  return o;
}

const mail = (id: string, subject: string, extra: { references?: string[]; from?: string } = {}) =>
  compose({
    messageId: `<${id}>`,
    from: extra.from ?? CUSTOMER,
    to: SUPPORT,
    subject,
    date: new Date("2026-03-01T09:00:00Z"),
    references: extra.references?.map((r) => `<${r}>`),
    inReplyTo: extra.references ? `<${extra.references.at(-1)}>` : undefined,
    text: `About ${subject}.`,
  });

/** What triage would have written for a message: its row and the conversation's priority and due time. */
async function triaged(store: Store, messageRowId: number, conversationId: number, priority: Priority, slaDueAt: Date): Promise<void> {
  await store.tx(async (em) => {
    await em.getRepository<TriageRow>("Triage").insert({
      messageRowId, conversationId, priority, category: "other", sentiment: "neutral", language: "en", summary: "s",
      confidence: 0.9, flags: [], decidedBy: "rules", matchedRules: [], model: null, tokens: null, durationMs: null, slaDueAt,
    });
    await em.getRepository<ConversationRow>("Conversation").update({ id: conversationId }, { priority, slaDueAt });
  });
}

async function pendingDraft(store: Store, messageRowId: number, conversationId: number): Promise<void> {
  await store.tx((em) => em.getRepository<DraftRow>("Draft").insert({ conversationId, messageRowId, status: "pending", body: "b", origin: "template", flags: [] } as never));
}

for (const d of dialects) {
  describe(`conversation merge at intake (${d.name})`, () => {
    const db = useStore(d.fresh);

    /** Two conversations (A, then B) and a late message that references both, which merges B into A. */
    async function mergeOf(setup: (a: { message: number; conversation: number }, b: { message: number; conversation: number }) => Promise<void>) {
      const { ingest } = await testIntake(db.store);
      const [a, b] = (await ingest([input(await mail("a@example.org", "Printer")), input(await mail("b@example.org", "Scanner"))])).map(stored);
      assert.notEqual(a!.conversationId, b!.conversationId);
      const A = { message: a!.messageRowId, conversation: a!.conversationId };
      const B = { message: b!.messageRowId, conversation: b!.conversationId };
      await setup(A, B);
      const [late] = await ingest([input(await mail("late@example.org", "Both", { references: ["a@example.org", "b@example.org"] }))]);
      assert.equal(stored(late).conversationId, A.conversation, "the oldest conversation is kept");
      const gone = await db.store.read((em) => em.getRepository<ConversationRow>("Conversation").findOneBy({ id: B.conversation }));
      assert.equal(gone, null, "the merged conversation is deleted");
      return { A, B };
    }

    it("moves triage rows, drafts and waiting jobs to the conversation that is kept", async () => {
      let draftJob = 0;
      const { A, B } = await mergeOf(async (a, b) => {
        await triaged(db.store, b.message, b.conversation, "normal", new Date("2026-03-02T09:00:00Z"));
        await pendingDraft(db.store, b.message, b.conversation);
        draftJob = (await db.store.tx((em) =>
          enqueueJob(em, { type: "draft", payload: { messageRowId: b.message, conversationId: b.conversation }, maxAttempts: 3, uniqueKey: `draft:message:${b.message}` }),
        ))!;
      });
      const triage = await db.store.read((em) => em.getRepository<TriageRow>("Triage").find());
      assert.deepEqual(triage.map((t) => [t.messageRowId, t.conversationId]), [[B.message, A.conversation]]);
      const drafts = await db.store.read((em) => em.getRepository<DraftRow>("Draft").find());
      assert.deepEqual(drafts.map((x) => [x.messageRowId, x.conversationId]), [[B.message, A.conversation]]);
      const jobs = await db.store.read((em) => em.getRepository<JobRow>("Job").find({ order: { id: "ASC" } }));
      const stale = jobs.filter((j) => j.payload.conversationId === B.conversation);
      assert.deepEqual(stale.map((j) => [j.type, j.payload]), [], "no job still names the deleted conversation");
      assert.deepEqual(jobs.find((j) => j.id === draftJob)!.payload, { messageRowId: B.message, conversationId: A.conversation });
      const triageJobOfB = jobs.find((j) => j.uniqueKey === `triage:message:${B.message}`)!;
      assert.deepEqual(triageJobOfB.payload, { messageRowId: B.message, conversationId: A.conversation });
    });

    it("supersedes a pending draft that a newer customer message made obsolete before a later message of the batch merged its conversation", async () => {
      const { ingest } = await testIntake(db.store);
      const [a, b] = (await ingest([input(await mail("a@example.org", "Printer")), input(await mail("b@example.org", "Scanner"))])).map(stored);
      await pendingDraft(db.store, b!.messageRowId, b!.conversationId);
      // One batch: the customer writes again in B, then our own reply (no supersede of its own) joins A and B.
      const out = await ingest([
        input(await mail("b2@example.org", "Re: Scanner", { references: ["b@example.org"] })),
        input(await mail("ours@example.org", "Re: Both", { references: ["a@example.org", "b@example.org"], from: SUPPORT })),
      ]);
      const drafts = await db.store.read((em) => em.getRepository<DraftRow>("Draft").find());
      assert.deepEqual(drafts.map((x) => [x.conversationId, x.status]), [[a!.conversationId, "superseded"]]);
      // What the batch wrote after the merge (its events, the triage job of the customer's message) and
      // what it reports name the conversation that is kept, not the deleted one.
      const events = await db.store.read((em) => em.getRepository<EventRow>("Event").find());
      assert.deepEqual(events.filter((e) => e.conversationId === b!.conversationId).map((e) => e.type), []);
      const jobs = await db.store.read((em) => em.getRepository<JobRow>("Job").find());
      assert.deepEqual(jobs.filter((j) => j.payload.conversationId === b!.conversationId).map((j) => j.uniqueKey), []);
      assert.deepEqual(out.map((o) => stored(o).conversationId), [a!.conversationId, a!.conversationId]);
    });

    it("keeps the more urgent priority and the earlier SLA due time of the two", async () => {
      const early = new Date("2026-03-01T10:00:00.000Z");
      const late = new Date("2026-03-04T09:00:00.000Z");
      const { A } = await mergeOf(async (a, b) => {
        await triaged(db.store, a.message, a.conversation, "low", late);
        await triaged(db.store, b.message, b.conversation, "urgent", early);
      });
      const kept = await db.store.read((em) => em.getRepository<ConversationRow>("Conversation").findOneByOrFail({ id: A.conversation }));
      assert.equal(kept.priority, "urgent");
      assert.equal(kept.slaDueAt?.toISOString(), early.toISOString());
    });

    it("keeps the kept conversation's priority when it is the more urgent, and takes a due time it lacked", async () => {
      const due = new Date("2026-03-03T09:00:00.000Z");
      const { A } = await mergeOf(async (a, b) => {
        await db.store.tx((em) => em.getRepository<ConversationRow>("Conversation").update({ id: a.conversation }, { priority: "high" }));
        await triaged(db.store, b.message, b.conversation, "normal", due);
      });
      const kept = await db.store.read((em) => em.getRepository<ConversationRow>("Conversation").findOneByOrFail({ id: A.conversation }));
      assert.equal(kept.priority, "high");
      assert.equal(kept.slaDueAt?.toISOString(), due.toISOString());
    });
  });
}
