import assert from "node:assert/strict";
import { approveDraft } from "../../../src/review/approveDraft.js";
import { OutboxActionError, resolveOutbox } from "../../../src/review/resolveOutbox.js";
import { auditOf } from "../../../src/store/audit.js";
import { writeBlob } from "../../../src/store/blobs.js";
import { claimOutboxForSend, moveOutbox, sendTimesByRecipient, setOutboxRaw } from "../../../src/store/outbox.js";
import { AFTER_SEND_JOBS } from "../../../src/store/outboxSend.js";
import type { Store } from "../../../src/store/store.js";
import { dialects, useStore } from "../../support/db.js";
import { customerMail, jobsOf, outboxRows, pendingDraft, reviewConfig, reviewerUser } from "./helpers.js";

/**
 * After approval: the outbox state machine as the store applies it (what the sender relies on), and a
 * person settling an `uncertain` entry: only from `uncertain`, `--resend` keeps the Message-ID.
 */

async function approved(store: Store, subject = "Where is my order?"): Promise<number> {
  const c = await customerMail(store, { subject });
  const draftId = await pendingDraft(store, c);
  const actor = await reviewerUser(store, `r${draftId}@team.example.com`);
  return (await approveDraft({ store, config: reviewConfig() }, { draftId, actor })).outboxId;
}

/** Claims the entry, keeps its bytes (as the sender does before sending) and loses the connection after the final dot: outcome unknown. */
async function makeUncertain(store: Store, id: number): Promise<void> {
  await store.tx(async (em) => {
    assert.ok(await claimOutboxForSend(em, id));
    assert.ok(await setOutboxRaw(em, id, await writeBlob(em, Buffer.from(`Message-ID: <m${id}@x>\r\n\r\nbody\r\n`))));
    assert.equal((await moveOutbox(em, id, "outcome-unknown", { lastError: "connection closed after the final dot" })).ok, true);
  });
}

async function notResolvable(p: Promise<unknown>, state: string | null): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OutboxActionError, String(err));
    assert.equal(err.code, "EOUTBOX");
    assert.equal(err.state, state);
    return true;
  });
}

for (const d of dialects) {
  describe(`outbox after approval (${d.name})`, function () {
    this.timeout(60_000);
    const db = useStore(d.fresh);
    const deps = () => ({ store: db.store, config: reviewConfig() });

    it("moves only along the state machine: one claim wins, uncertain is never claimed again", async () => {
      const id = await approved(db.store);
      const first = await db.store.tx((em) => claimOutboxForSend(em, id));
      assert.equal(first?.state, "sending");
      assert.equal(first?.attempts, 1);
      assert.equal(await db.store.tx((em) => claimOutboxForSend(em, id)), null, "a second claim of a sending entry");
      assert.deepEqual(await db.store.tx((em) => moveOutbox(em, id, "cancel")), { ok: false, state: "sending" });
      await db.store.tx((em) =>
        moveOutbox(em, id, "transient-failure", { lastError: "451 try later", nextAttemptAt: new Date(Date.now() + 60_000) }),
      );
      assert.equal(await db.store.tx((em) => claimOutboxForSend(em, id)), null, "claimed before its retry time");
      const again = await db.store.tx((em) => claimOutboxForSend(em, id, new Date(Date.now() + 61_000)));
      assert.equal(again?.attempts, 2);
      await db.store.tx((em) => moveOutbox(em, id, "outcome-unknown"));
      assert.equal(await db.store.tx((em) => claimOutboxForSend(em, id, new Date(Date.now() + 3600_000))), null, "uncertain claimed");
      const [entry] = await outboxRows(db.store);
      assert.equal(entry!.state, "uncertain");
    });

    it("counts sends per recipient for the hourly cap", async () => {
      const id = await approved(db.store);
      await db.store.tx(async (em) => {
        await claimOutboxForSend(em, id);
        await moveOutbox(em, id, "accepted", { sentAt: new Date() });
      });
      const times = await db.store.read((em) => sendTimesByRecipient(em, new Date(Date.now() - 3600_000)));
      assert.equal(times.get("jane@customer.example.net")?.length, 1);
      assert.equal((await db.store.read((em) => sendTimesByRecipient(em, new Date(Date.now() + 1000)))).size, 0);
    });

    it("resolve --sent: only an uncertain entry, and who resolved it is kept", async () => {
      const id = await approved(db.store);
      await notResolvable(resolveOutbox(deps(), { outboxId: id, actor: "cli", resolution: "sent" }), "queued");
      await makeUncertain(db.store, id);
      const r = await resolveOutbox(deps(), { outboxId: id, actor: "cli", resolution: "sent" });
      assert.equal(r.state, "sent");
      const [entry] = await outboxRows(db.store);
      assert.deepEqual([entry!.state, entry!.resolvedBy, entry!.resolution], ["sent", "cli", "sent"]);
      assert.ok(entry!.sentAt && entry!.resolvedAt);
      await notResolvable(resolveOutbox(deps(), { outboxId: id, actor: "cli", resolution: "resend" }), "sent");
      assert.deepEqual(
        (await db.store.read((em) => auditOf(em, "outbox", String(id)))).map((a) => [a.actor, a.action, a.detail.resolution]),
        [["cli", "outbox.resolve", "sent"]],
      );
      assert.equal((await jobsOf(db.store, "send")).length, 1, "--sent queues no send");
      // What follows every sent reply: stored in the conversation; filed in Sent and \Answered only with
      // IMAP (this mailbox has none, and the message answered was imported), so those are not queued.
      assert.equal((await jobsOf(db.store, AFTER_SEND_JOBS.record)).length, 1, "record queued");
      assert.equal((await jobsOf(db.store, AFTER_SEND_JOBS.fileSent)).length, 0, "nothing to file without IMAP");
      assert.equal((await jobsOf(db.store, AFTER_SEND_JOBS.markAnswered)).length, 0, "no \\Answered without IMAP");
    });

    it("resolve --resend: back to queued with the same Message-ID, fresh attempts and a new send job; admins only", async () => {
      const id = await approved(db.store);
      await makeUncertain(db.store, id);
      const [before] = await outboxRows(db.store);
      const reviewer = await reviewerUser(db.store, "rex@team.example.com", "reviewer");
      const admin = await reviewerUser(db.store, "ada@team.example.com", "admin");
      await notResolvable(resolveOutbox(deps(), { outboxId: id, actor: reviewer, resolution: "resend" }), null);
      await notResolvable(resolveOutbox(deps(), { outboxId: id, actor: "ghost@team.example.com", resolution: "resend" }), null);
      await notResolvable(resolveOutbox(deps(), { outboxId: 777, actor: admin, resolution: "resend" }), null);

      const r = await resolveOutbox(deps(), { outboxId: id, actor: admin, resolution: "resend" });
      const [after] = await outboxRows(db.store);
      assert.equal(after!.state, "queued");
      assert.equal(after!.messageId, before!.messageId);
      assert.equal(r.messageId, before!.messageId);
      assert.equal(after!.attempts, 0);
      assert.deepEqual([after!.resolvedBy, after!.resolution], [admin, "resend"]);
      const sends = await jobsOf(db.store, "send");
      assert.equal(sends.length, 2);
      assert.equal(sends[1]!.id, r.jobId);
      assert.deepEqual(sends[1]!.payload, { outboxId: id });
      // Queued again, it is an ordinary entry: not resolvable until it is uncertain again.
      await notResolvable(resolveOutbox(deps(), { outboxId: id, actor: admin, resolution: "sent" }), "queued");
    });
  });
}
