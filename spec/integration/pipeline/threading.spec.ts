import assert from "node:assert/strict";
import fc from "fast-check";
import type { IntakeOutcome, RawInput } from "../../../src/pipeline/intake.js";
import type { MessageRow } from "../../../src/store/entities/mail.js";
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
