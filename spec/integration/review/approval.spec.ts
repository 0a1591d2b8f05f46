import assert from "node:assert/strict";
import {
  ApprovalError,
  approveDraft,
  regenerateDraft,
  rejectDraft,
  writeReply,
  type ApprovalRefusal,
} from "../../../src/review/approveDraft.js";
import { auditOf } from "../../../src/store/audit.js";
import type { EventRow } from "../../../src/store/entities/work.js";
import { dialects, useStore } from "../../support/db.js";
import { customerMail, draftRow, ID_DOMAIN, jobsOf, outboxRows, pendingDraft, reviewConfig, reviewerUser, sha256 } from "./helpers.js";

/**
 * The approval use case (issue "Outbound", Approval): one path for approve, reject, regenerate and a
 * reply by hand; the outbox entry, its headers and its send job come into being in the approving
 * transaction or not at all.
 */

async function refused(p: Promise<unknown>, refusal: ApprovalRefusal): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApprovalError, `expected an ApprovalError, got ${String(err)}`);
    assert.equal(err.code, "EAPPROVAL");
    assert.equal(err.refusal, refusal, err.message);
    return true;
  });
}

for (const d of dialects) {
  describe(`approval (${d.name})`, function () {
    this.timeout(60_000);
    const db = useStore(d.fresh);
    const config = reviewConfig();
    const deps = () => ({ store: db.store, config });

    it("approve: records who and when, creates the outbox entry with code-made headers and queues its send", async () => {
      const first = await customerMail(db.store, {
        replyTo: "Jane Private <jane.private@customer.example.net>",
        subject: "Where is my order?",
      });
      // Our earlier answer is on file; the customer answers it, and the draft answers that.
      const c = await customerMail(db.store, { subject: "Re: Where is my order?", inReplyTo: first.messageId });
      assert.equal(c.conversationId, first.conversationId);
      const draftId = await pendingDraft(db.store, c);
      const rita = await reviewerUser(db.store);

      const before = Date.now();
      const r = await approveDraft(deps(), { draftId, actor: rita });

      const draft = await draftRow(db.store, draftId);
      assert.equal(draft.status, "approved");
      assert.equal(draft.decidedBy, rita);
      assert.ok(draft.decidedAt && draft.decidedAt.getTime() >= before - 1000);
      assert.equal(draft.bodyHash, sha256(draft.body));
      assert.equal(draft.originalBody, null);

      const [entry, ...more] = await outboxRows(db.store);
      assert.equal(more.length, 0);
      assert.ok(entry);
      assert.equal(entry.id, r.outboxId);
      assert.equal(entry.state, "queued");
      assert.equal(entry.draftId, draftId);
      assert.equal(entry.conversationId, c.conversationId);
      assert.equal(entry.answeredMessageRowId, c.messageRowId);
      assert.match(entry.messageId, new RegExp(`^[^@<>\\s]+@${ID_DOMAIN.replace(/\./g, "\\.")}$`));
      assert.equal(entry.fromAddress, "support@example.com");
      // The second message has no Reply-To: its From answers.
      assert.deepEqual(
        entry.to.map((a) => a.address),
        ["jane@customer.example.net"],
      );
      assert.deepEqual(entry.cc, []);
      assert.equal(entry.subject, "Re: Where is my order?");
      assert.equal(entry.inReplyTo, c.messageId);
      assert.deepEqual(entry.references, [first.messageId, c.messageId]);
      assert.equal(entry.body, draft.body);
      assert.equal(entry.bodyHash, sha256(draft.body));
      assert.equal(entry.approvedBy, rita);
      assert.equal(entry.attempts, 0);

      const sends = await jobsOf(db.store, "send");
      assert.equal(sends.length, 1);
      assert.deepEqual(sends[0]!.payload, { outboxId: entry.id });
      assert.equal((await jobsOf(db.store, "embed-reply")).length, 1);
      const audit = await db.store.read((em) => auditOf(em, "draft", String(draftId)));
      assert.deepEqual(
        audit.map((a) => [a.actor, a.action, a.detail.outboxId]),
        [[rita, "draft.approve", entry.id]],
      );
      const events = await db.store.read((em) => em.getRepository<EventRow>("Event").find({ order: { id: "ASC" } }));
      assert.ok(events.some((e) => e.type === "draft.approved" && e.payload.outboxId === entry.id));
    });

    it("approve: Reply-To decides the recipient, the mailbox's settings the Cc and the subject tag", async () => {
      const cfg = reviewConfig({
        mailboxes: [{ name: "support", address: "support@example.com", reply: { cc: "reply-all", subjectTag: true } }],
      });
      const c = await customerMail(db.store, {
        replyTo: "Jane Private <jane.private@customer.example.net>",
        cc: "Tom <tom@customer.example.net>, Mailer <mailer-daemon@customer.example.net>, Jane Private <jane.private@customer.example.net>",
      });
      const draftId = await pendingDraft(db.store, c);
      const r = await approveDraft({ store: db.store, config: cfg }, { draftId, actor: await reviewerUser(db.store) });
      assert.deepEqual(r.to, ["jane.private@customer.example.net"]);
      // reply-all: the other people on the message, never our own address (To: support@), a daemon, nor the customer twice.
      assert.deepEqual(r.cc, ["tom@customer.example.net"]);
      const [entry] = await outboxRows(db.store);
      assert.deepEqual(entry!.cc, [{ address: "tom@customer.example.net", name: "Tom" }]);
      assert.equal(r.subject, `Re: Where is my order? [#${c.conversationId}]`);
    });

    it("all or nothing: when queueing the send fails, no outbox entry exists and the draft stays pending", async () => {
      const c = await customerMail(db.store);
      const draftId = await pendingDraft(db.store, c);
      const rita = await reviewerUser(db.store);
      // The send job cannot be written: the jobs table is gone for a moment.
      await db.store.ds.query("ALTER TABLE `jobs` RENAME TO `jobs_away`");
      try {
        await assert.rejects(approveDraft(deps(), { draftId, actor: rita }));
      } finally {
        await db.store.ds.query("ALTER TABLE `jobs_away` RENAME TO `jobs`");
      }
      assert.deepEqual(await outboxRows(db.store), []);
      assert.equal((await draftRow(db.store, draftId)).status, "pending");
      assert.deepEqual(await db.store.read((em) => auditOf(em, "draft", String(draftId))), []);
      // And it can still be approved afterwards.
      await approveDraft(deps(), { draftId, actor: rita });
      assert.equal((await outboxRows(db.store)).length, 1);
    });

    it("an edited body is stored exactly, with its sha256, and the drafted text is kept", async () => {
      const c = await customerMail(db.store);
      const drafted = "Thanks, we are checking your order.";
      const draftId = await pendingDraft(db.store, c, drafted);
      const edited = "Hi Jane,\r\n\r\nyour parcel left today — tracking: ÄÖÜ 🚚  \n\n> not a quote\n-- \nnot a signature either\n\n";
      const r = await approveDraft(deps(), { draftId, actor: await reviewerUser(db.store), body: edited });
      const draft = await draftRow(db.store, draftId);
      const [entry] = await outboxRows(db.store);
      assert.equal(draft.body, edited);
      assert.equal(draft.originalBody, drafted);
      assert.equal(draft.bodyHash, sha256(edited));
      assert.equal(entry!.body, edited);
      assert.equal(entry!.bodyHash, sha256(edited));
      assert.equal(r.bodyHash, sha256(edited));
    });

    it("refuses to approve a draft twice, and two approvals at once make one entry", async () => {
      const c = await customerMail(db.store);
      const draftId = await pendingDraft(db.store, c);
      const rita = await reviewerUser(db.store);
      const sam = await reviewerUser(db.store, "sam@team.example.com");
      const both = await Promise.allSettled([
        approveDraft(deps(), { draftId, actor: rita }),
        approveDraft(deps(), { draftId, actor: sam }),
      ]);
      assert.equal(both.filter((s) => s.status === "fulfilled").length, 1);
      const lost = both.find((s) => s.status === "rejected");
      assert.ok(
        lost && lost.reason instanceof ApprovalError && lost.reason.refusal === "already-approved",
        String(lost?.status === "rejected" && lost.reason),
      );
      await refused(approveDraft(deps(), { draftId, actor: rita }), "already-approved");
      assert.equal((await outboxRows(db.store)).length, 1);
      assert.equal((await jobsOf(db.store, "send")).length, 1);
    });

    it("refuses a superseded draft: the customer wrote again", async () => {
      const c = await customerMail(db.store);
      const draftId = await pendingDraft(db.store, c);
      await customerMail(db.store, { subject: "Re: Where is my order?", inReplyTo: c.messageId, text: "Any news?" });
      // Intake superseded the pending draft.
      assert.equal((await draftRow(db.store, draftId)).status, "superseded");
      await refused(approveDraft(deps(), { draftId, actor: await reviewerUser(db.store) }), "superseded");
      assert.deepEqual(await outboxRows(db.store), []);
    });

    it("refuses a pending draft that is no longer the latest (a newer customer message or draft)", async () => {
      const c = await customerMail(db.store);
      const older = await pendingDraft(db.store, c);
      const rita = await reviewerUser(db.store);
      // A newer customer message whose intake did not (yet) supersede the draft: set it back to pending.
      await customerMail(db.store, { subject: "Re: Where is my order?", inReplyTo: c.messageId, text: "Any news?" });
      await db.store.ds.query("UPDATE `drafts` SET `status` = 'pending' WHERE `id` = ?", [older]);
      await refused(approveDraft(deps(), { draftId: older, actor: rita }), "superseded");
      // A newer draft of the conversation (one being written for the same message) makes a pending one stale too.
      const other = await customerMail(db.store, { subject: "Second topic", from: "max@customer.example.net" });
      const stale = await pendingDraft(db.store, other);
      await pendingDraft(db.store, other, "", "generating");
      await refused(approveDraft(deps(), { draftId: stale, actor: rita }), "not-latest");
      assert.deepEqual(await outboxRows(db.store), []);
    });

    it("refuses another conversation's or another mailbox's draft, an unknown reviewer and the anonymous operator", async () => {
      const a = await customerMail(db.store);
      const b = await customerMail(db.store, { mailbox: "billing", subject: "Invoice 77 is wrong", from: "bob@customer.example.net" });
      assert.notEqual(a.conversationId, b.conversationId);
      const draftA = await pendingDraft(db.store, a);
      const rita = await reviewerUser(db.store);
      await refused(
        approveDraft(deps(), { draftId: draftA, actor: rita, expected: { conversationId: b.conversationId } }),
        "wrong-conversation",
      );
      await refused(approveDraft(deps(), { draftId: draftA, actor: rita, expected: { mailbox: "billing" } }), "wrong-mailbox");
      await refused(approveDraft(deps(), { draftId: draftA, actor: "nobody@team.example.com" }), "unknown-user");
      await refused(approveDraft(deps(), { draftId: draftA, actor: "cli" }), "unknown-user");
      await refused(approveDraft(deps(), { draftId: 9999, actor: rita }), "not-found");
      assert.equal((await draftRow(db.store, draftA)).status, "pending");
      // The right conversation and mailbox pass.
      await approveDraft(deps(), { draftId: draftA, actor: rita, expected: { conversationId: a.conversationId, mailbox: "support" } });
      assert.equal((await outboxRows(db.store)).length, 1);
    });

    it("refuses a reply nobody may receive (a no-reply sender) and an empty text", async () => {
      const c = await customerMail(db.store, { from: "no-reply@shop.example.net" });
      const draftId = await pendingDraft(db.store, c);
      const rita = await reviewerUser(db.store);
      await refused(approveDraft(deps(), { draftId, actor: rita }), "no-recipient");
      const ok = await customerMail(db.store, { subject: "Another question" });
      const other = await pendingDraft(db.store, ok);
      await refused(approveDraft(deps(), { draftId: other, actor: rita, body: " \n\t" }), "empty-body");
      assert.deepEqual(await outboxRows(db.store), []);
    });

    it("reject: keeps the reason and who, sends nothing, and the draft cannot be approved after", async () => {
      const c = await customerMail(db.store);
      const draftId = await pendingDraft(db.store, c);
      const rita = await reviewerUser(db.store);
      await refused(rejectDraft(deps(), { draftId, actor: rita, reason: "  " }), "no-reason");
      await rejectDraft(deps(), { draftId, actor: rita, reason: "wrong tone" });
      const draft = await draftRow(db.store, draftId);
      assert.equal(draft.status, "rejected");
      assert.equal(draft.reason, "wrong tone");
      assert.equal(draft.decidedBy, rita);
      assert.deepEqual(
        (await db.store.read((em) => auditOf(em, "draft", String(draftId)))).map((a) => [a.actor, a.action, a.detail.reason]),
        [[rita, "draft.reject", "wrong tone"]],
      );
      await refused(approveDraft(deps(), { draftId, actor: rita }), "not-pending");
      await refused(rejectDraft(deps(), { draftId, actor: "cli", reason: "again" }), "not-pending");
      assert.deepEqual(await outboxRows(db.store), []);
      assert.deepEqual(await jobsOf(db.store, "send"), []);
    });

    it("regenerate: supersedes the draft and queues a draft job carrying the instruction", async () => {
      const c = await customerMail(db.store);
      const draftId = await pendingDraft(db.store, c);
      const r = await regenerateDraft(deps(), { draftId, actor: "cli", instruction: "shorter, and offer a refund" });
      assert.equal((await draftRow(db.store, draftId)).status, "superseded");
      const jobs = (await jobsOf(db.store, "draft")).filter((j) => j.id === r.jobId);
      assert.equal(jobs.length, 1);
      assert.deepEqual(jobs[0]!.payload, {
        messageRowId: c.messageRowId,
        conversationId: c.conversationId,
        instruction: "shorter, and offer a refund",
        regenerates: draftId,
      });
      await refused(approveDraft(deps(), { draftId, actor: await reviewerUser(db.store) }), "superseded");
      await refused(regenerateDraft(deps(), { draftId, actor: "cli", instruction: "again" }), "superseded");
    });

    it("reply by hand: answers the newest customer message, supersedes open drafts, is queued like an approval", async () => {
      const first = await customerMail(db.store);
      const c = await customerMail(db.store, { subject: "Re: Where is my order?", inReplyTo: first.messageId, text: "Any news?" });
      const open = await pendingDraft(db.store, c);
      const rita = await reviewerUser(db.store);
      const text = "Hi Jane, it arrives tomorrow.\n";
      await refused(writeReply(deps(), { conversationId: c.conversationId, actor: "cli", body: text }), "unknown-user");
      await refused(
        writeReply(deps(), { conversationId: c.conversationId, actor: rita, body: text, expected: { mailbox: "billing" } }),
        "wrong-mailbox",
      );
      await refused(writeReply(deps(), { conversationId: 4242, actor: rita, body: text }), "not-found");

      const r = await writeReply(deps(), { conversationId: c.conversationId, actor: rita, body: text });
      assert.deepEqual(r.superseded, [open]);
      assert.equal((await draftRow(db.store, open)).status, "superseded");
      const mine = await draftRow(db.store, r.draftId);
      assert.deepEqual(
        [mine.status, mine.origin, mine.body, mine.bodyHash, mine.messageRowId, mine.decidedBy],
        ["approved", "human", text, sha256(text), c.messageRowId, rita],
      );
      const [entry] = await outboxRows(db.store);
      assert.equal(entry!.draftId, r.draftId);
      assert.equal(entry!.inReplyTo, c.messageId);
      assert.equal(entry!.body, text);
      assert.equal(entry!.approvedBy, rita);
      assert.deepEqual(
        (await jobsOf(db.store, "send")).map((j) => j.payload),
        [{ outboxId: entry!.id }],
      );
      assert.deepEqual(
        (await db.store.read((em) => auditOf(em, "conversation", String(c.conversationId)))).map((a) => [a.actor, a.action]),
        [[rita, "reply.write"]],
      );
    });
  });
}
