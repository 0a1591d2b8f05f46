import assert from "node:assert/strict";
import fc from "fast-check";
import type { IntakeOutcome, RawInput } from "../../../src/pipeline/intake.js";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import type { JobRow } from "../../../src/store/entities/work.js";
import { compose, replyChain } from "../../support/compose.js";
import { dialects, useStore } from "../../support/db.js";
import { testIntake } from "../../support/intake.js";

const CUSTOMER = "Ann Example <ann@example.org>";
const SUPPORT = "support@example.com";
const input = (raw: Buffer, ref = "test"): RawInput => ({ raw, source: "test", sourceRef: ref });

function stored(o: IntakeOutcome | undefined): Extract<IntakeOutcome, { kind: "stored" }> {
  assert.ok(o && o.kind === "stored", `expected stored, got ${JSON.stringify(o)}`);
  return o;
}

for (const d of dialects) {
  describe(`threading at intake (${d.name})`, () => {
    const db = useStore(d.fresh);

    it("puts a reply chain ingested in order into one conversation", async () => {
      const { ingest } = await testIntake(db.store);
      const chain = await replyChain(6, { subject: "Printer on fire", customer: CUSTOMER, support: SUPPORT });
      const outcomes = await ingest(chain.map((m) => input(m.raw)));
      const conversations = new Set(outcomes.map((o) => stored(o).conversationId));
      assert.equal(conversations.size, 1);
      assert.deepEqual(outcomes.slice(1).map((o) => stored(o).threadRule), Array(5).fill("reference"));
    });

    it("puts a reply chain into one conversation whatever order it arrives in (replies before parents)", async () => {
      const chain = await replyChain(5, { subject: "Refund for order 1234", customer: CUSTOMER, support: SUPPORT });
      await fc.assert(
        fc.asyncProperty(fc.shuffledSubarray(chain.map((_, i) => i), { minLength: 5, maxLength: 5 }), fc.integer({ min: 1, max: 5 }), async (order, batch) => {
          await db.store.tx(async (em) => {
            for (const t of ["Message", "MessageRef", "Conversation", "Job", "Event", "Attachment"]) await em.getRepository(t).clear();
          });
          const { ingest } = await testIntake(db.store);
          for (let i = 0; i < order.length; i += batch) await ingest(order.slice(i, i + batch).map((k) => input(chain[k]!.raw)));
          const convs = await db.store.read((em) => em.getRepository("Conversation").count());
          assert.equal(convs, 1, `order ${order.join(",")} in batches of ${batch}`);
          const messages = await db.store.read((em) => em.getRepository<MessageRow>("Message").find());
          assert.equal(messages.length, 5);
          assert.equal(new Set(messages.map((m) => m.conversationId)).size, 1);
        }),
        { numRuns: d.name === "sqlite" ? 25 : 10 },
      );
    });

    it("threads a reply without references by subject only when the sender is a participant", async () => {
      const { ingest } = await testIntake(db.store);
      const original = stored((await ingest([input(await compose({ messageId: "<orig-1@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Invoice 2231 is wrong", date: new Date("2026-03-01T10:00:00Z"), text: "The total is off." }))]))[0]);
      const outlook = stored((await ingest([input(await compose({ messageId: "<ol-2@example.org>", from: CUSTOMER, to: SUPPORT, subject: "AW: SV: Invoice 2231 is wrong", date: new Date("2026-03-02T10:00:00Z"), text: "Any news?" }))]))[0]);
      assert.equal(outlook.conversationId, original.conversationId);
      assert.equal(outlook.threadRule, "subject");
      const stranger = stored((await ingest([input(await compose({ messageId: "<x-3@other.example>", from: "mallory@other.example", to: SUPPORT, subject: "Re: Invoice 2231 is wrong", date: new Date("2026-03-02T11:00:00Z"), text: "me too" }))]))[0]);
      assert.notEqual(stranger.conversationId, original.conversationId);
      const notAReply = stored((await ingest([input(await compose({ messageId: "<n-4@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Invoice 2231 is wrong", date: new Date("2026-03-03T11:00:00Z"), text: "new question, same subject" }))]))[0]);
      assert.notEqual(notAReply.conversationId, original.conversationId);
      const late = stored((await ingest([input(await compose({ messageId: "<late-5@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Re: Invoice 2231 is wrong", date: new Date("2026-06-01T10:00:00Z"), text: "months later" }))]))[0]);
      assert.notEqual(late.conversationId, original.conversationId, "outside the subject window");
    });

    it("threads by our [#ticket] tag only for participants", async () => {
      const { ingest } = await testIntake(db.store);
      const first = stored((await ingest([input(await compose({ messageId: "<t-1@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Login broken", text: "cannot log in" }))]))[0]);
      const tagged = stored((await ingest([input(await compose({ messageId: "<t-2@example.org>", from: CUSTOMER, to: SUPPORT, subject: `Fwd: something else [#${first.conversationId}]`, text: "see above" }))]))[0]);
      assert.equal(tagged.conversationId, first.conversationId);
      assert.equal(tagged.threadRule, "tag");
      const forged = stored((await ingest([input(await compose({ messageId: "<t-3@evil.example>", from: "eve@evil.example", to: SUPPORT, subject: `Re: [#${first.conversationId}]`, text: "let me in" }))]))[0]);
      assert.notEqual(forged.conversationId, first.conversationId);
    });

    it("survives self-references and reference loops", async () => {
      const { ingest } = await testIntake(db.store);
      const a = await compose({ messageId: "<loop-a@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Loop", references: ["<loop-a@example.org>", "<loop-b@example.org>"], inReplyTo: "<loop-b@example.org>", text: "a" });
      const b = await compose({ messageId: "<loop-b@example.org>", from: SUPPORT, to: CUSTOMER, subject: "Re: Loop", references: ["<loop-a@example.org>", "<loop-b@example.org>"], inReplyTo: "<loop-a@example.org>", text: "b" });
      const [oa, ob] = await ingest([input(a), input(b)]);
      assert.equal(stored(oa).conversationId, stored(ob).conversationId);
    });

    it("deduplicates messages without a Message-ID by content and keeps distinct ones that share an id", async () => {
      const { ingest } = await testIntake(db.store);
      const noId = Buffer.from(`From: ${CUSTOMER}\r\nTo: ${SUPPORT}\r\nSubject: no id\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nhello\r\n`);
      const relayed = Buffer.concat([Buffer.from("Received: from relay.example by mx.example; Mon, 2 Mar 2026 10:00:05 +0000\r\n"), noId]);
      const [o1, o2, o3] = await ingest([input(noId), input(noId), input(relayed)]);
      assert.equal(o1!.kind, "stored");
      assert.equal(o2!.kind, "duplicate");
      assert.equal(o3!.kind, "duplicate", "a trace header added on the way is the same message");
      const v1 = Buffer.from(`Message-ID: <same@example.org>\r\nFrom: ${CUSTOMER}\r\nSubject: first\r\n\r\none\r\n`);
      const v2 = Buffer.from(`Message-ID: <same@example.org>\r\nFrom: ${CUSTOMER}\r\nSubject: second\r\n\r\ntwo\r\n`);
      const out = await ingest([input(v1), input(v2), input(v2)]);
      assert.deepEqual(out.map((o) => o.kind), ["stored", "stored", "duplicate"]);
    });

    describe("RFC 5256 / JWZ", () => {
      const conversationOf = async (messageId: string) =>
        (await db.store.read((em) => em.getRepository<MessageRow>("Message").findOneByOrFail({ messageId }))).conversationId;
      const conversationCount = () => db.store.read((em) => em.getRepository("Conversation").count());

      for (const batched of [false, true]) {
        it(`lets References decide the parent when In-Reply-To names another message (${batched ? "one batch" : "one by one"})`, async () => {
          const { ingest } = await testIntake(db.store);
          const a = await compose({ messageId: "<ra-1@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Printer jams", text: "a" });
          const b = await compose({ messageId: "<rb-1@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Scanner is slow", text: "b" });
          const reply = await compose({ messageId: "<rr-1@example.com>", from: SUPPORT, to: CUSTOMER, subject: "Re: Scanner is slow", inReplyTo: "<ra-1@example.org>", references: ["<rb-1@example.org>"], text: "r" });
          const outcomes = batched ? await ingest([input(a), input(b), input(reply)]) : [...(await ingest([input(a)])), ...(await ingest([input(b)])), ...(await ingest([input(reply)]))];
          const [oa, ob, or] = outcomes.map(stored);
          assert.notEqual(oa!.conversationId, ob!.conversationId);
          assert.equal(or!.conversationId, ob!.conversationId, "the reply joins the conversation its References name");
          assert.equal(or!.threadRule, "reference");
          assert.equal(await conversationCount(), 2, "the conversation In-Reply-To named is not merged in");
          assert.equal(await conversationOf("ra-1@example.org"), oa!.conversationId);
        });
      }

      it("uses In-Reply-To when there are no References (Outlook)", async () => {
        const { ingest } = await testIntake(db.store);
        const a = stored((await ingest([input(await compose({ messageId: "<ol-a@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Login", text: "a" }))]))[0]);
        const r = stored((await ingest([input(await compose({ messageId: "<ol-r@example.com>", from: SUPPORT, to: CUSTOMER, subject: "Antwort: Login", inReplyTo: "<ol-a@example.org>", text: "r" }))]))[0]);
        assert.equal(r.conversationId, a.conversationId);
        assert.equal(r.threadRule, "reference");
      });

      it("threads [list] Re: Topic with [list] Topic and Re: [list] Topic by subject", async () => {
        const { ingest } = await testIntake(db.store);
        const at = (h: number) => new Date(Date.UTC(2026, 2, 1, h));
        const first = stored((await ingest([input(await compose({ messageId: "<l-1@example.org>", from: CUSTOMER, to: SUPPORT, subject: "[users] Crash on start", date: at(9), text: "it crashes" }))]))[0]);
        const listReply = stored((await ingest([input(await compose({ messageId: "<l-2@example.org>", from: CUSTOMER, to: SUPPORT, subject: "[users] Re: Crash on start", date: at(10), text: "still" }))]))[0]);
        const plainReply = stored((await ingest([input(await compose({ messageId: "<l-3@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Re: [users] Crash on start", date: at(11), text: "again" }))]))[0]);
        assert.equal(listReply.conversationId, first.conversationId);
        assert.equal(listReply.threadRule, "subject");
        assert.equal(plainReply.conversationId, first.conversationId);
        assert.equal(plainReply.threadRule, "subject");
        // And the other way round: a thread the list started with its tag before the prefix.
        const other = stored((await ingest([input(await compose({ messageId: "<l-4@example.org>", from: CUSTOMER, to: SUPPORT, subject: "[dev] Re: Build fails", date: at(12), text: "x" }))]))[0]);
        const follow = stored((await ingest([input(await compose({ messageId: "<l-5@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Re: [dev] Build fails", date: at(13), text: "y" }))]))[0]);
        assert.equal(follow.conversationId, other.conversationId);
      });

      for (const batched of [false, true]) {
        it(`attaches a reply to a Message-ID two stored messages share to the first one stored (${batched ? "one batch" : "one by one"})`, async () => {
          const { ingest } = await testIntake(db.store);
          // The second holder of the id joins an older conversation, so "lowest conversation id" would pick it.
          const older = await compose({ messageId: "<older-1@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Older thread", text: "o" });
          const first = await compose({ messageId: "<shared@example.org>", from: CUSTOMER, to: SUPPORT, subject: "Refund for order 77", text: "first" });
          const second = await compose({ messageId: "<shared@example.org>", from: "Bob <bob@example.net>", to: SUPPORT, subject: "Re: Older thread", references: ["<older-1@example.org>"], text: "second, same id" });
          const reply = await compose({ messageId: "<shared-reply@example.com>", from: SUPPORT, to: CUSTOMER, subject: "Re: Refund for order 77", inReplyTo: "<shared@example.org>", references: ["<shared@example.org>"], text: "r" });
          const all = [older, first, second, reply].map((raw) => input(raw));
          const outcomes = batched ? [...(await ingest(all.slice(0, 3))), ...(await ingest(all.slice(3)))] : await all.reduce<Promise<IntakeOutcome[]>>(async (acc, i) => [...(await acc), ...(await ingest([i]))], Promise.resolve([]));
          const [oOlder, oFirst, oSecond, oReply] = outcomes.map(stored);
          assert.equal(oSecond!.conversationId, oOlder!.conversationId);
          assert.ok(oOlder!.conversationId < oFirst!.conversationId);
          assert.equal(oReply!.conversationId, oFirst!.conversationId, "the reply goes with the first message stored under the id");
          assert.equal(await conversationCount(), 2, "the two holders' conversations stay apart");
        });
      }
    });

    it("stores feedback and delivery reports automated with no job; a person forwarding a bounce gets one", async () => {
      const { ingest } = await testIntake(db.store);
      const jmrp = Buffer.from(
        "From: staff@hotmail.com\r\nTo: abuse@example.com\r\nSubject: complaint about message from 192.0.2.222\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n" +
          'Message-ID: <jmrp-1@hotmail.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n' +
          "From: Shop <news@shop.example>\r\nTo: someone@hotmail.example\r\nSubject: Sale\r\n\r\nBuy now\r\n--b--\r\n",
      );
      const senderless = Buffer.from(
        "To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: Mon, 2 Mar 2026 10:01:00 +0000\r\nMessage-ID: <dsn-1@mx.example.net>\r\n\r\n" +
          "This is the mail system at host mx.example.net.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n",
      );
      const forward = await compose({
        messageId: "<fw-1@example.org>",
        from: CUSTOMER,
        to: SUPPORT,
        subject: "Fwd: Undelivered Mail Returned to Sender",
        text: "Your reply to me bounced, can you resend?\n\n---------- Forwarded message ---------\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nSubject: Undelivered Mail Returned to Sender\n\nFinal-Recipient: rfc822; ann@old.example\nAction: failed\nStatus: 5.1.1\n",
      });
      const [oj, os, of] = (await ingest([input(jmrp), input(senderless), input(forward)])).map(stored);
      assert.equal(oj!.automated, true);
      assert.equal(os!.automated, true);
      assert.equal(of!.automated, false);
      const rows = await db.store.read((em) => em.getRepository<MessageRow>("Message").find({ order: { id: "ASC" } }));
      assert.deepEqual(rows.map((r) => r.automatedReason), ["report", "report", null]);
      const jobs = await db.store.read((em) => em.getRepository<JobRow>("Job").find());
      assert.deepEqual(jobs.map((j) => j.uniqueKey), [`triage:message:${of!.messageRowId}`], "a job for the forward only, none for a report");
    });

    it("marks our own mail coming back automated and gives it no job", async () => {
      const { ingest } = await testIntake(db.store, { messageIdDomain: "draftgate.test" });
      const echo = await compose({ messageId: "<abc123@draftgate.test>", from: SUPPORT, to: CUSTOMER, subject: "Re: hi", text: "our reply" });
      const o = stored((await ingest([input(echo)]))[0]);
      assert.equal(o.automated, true);
      const jobs = await db.store.read((em) => em.getRepository("Job").count());
      assert.equal(jobs, 0);
    });

    it("records mail from the mailbox's own address as outbound without a job", async () => {
      const { ingest } = await testIntake(db.store);
      const sent = await compose({ messageId: "<sent-1@example.com>", from: SUPPORT, to: CUSTOMER, subject: "Hello", text: "from the team" });
      const o = stored((await ingest([input(sent)]))[0]);
      const row = await db.store.read((em) => em.getRepository<MessageRow>("Message").findOneByOrFail({ id: o.messageRowId }));
      assert.equal(row.direction, "outbound");
      assert.equal(await db.store.read((em) => em.getRepository("Job").count()), 0);
    });
  });
}
