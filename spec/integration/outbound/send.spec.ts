import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { simpleParser, type AddressObject } from "mailparser";
import { readBlob } from "../../../src/store/blobs.js";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import type { OutboxRow } from "../../../src/store/entities/review.js";
import { listOutbox } from "../../../src/store/outbox.js";
import { waitFor } from "../../support/cli.js";
import { dialects, type TestDatabase } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { startSmtpPeer, type SmtpPeer } from "../../support/smtp.js";
import { customerMessage, folderSources, Harness, outboundConfig, verifyDkim, withFolder } from "./helpers.js";

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));

for (const dialect of dialects)
  describe(`outbound: an approved reply goes out exactly once (smtp-server + Dovecot, ${dialect.name})`, function () {
    this.timeout(300_000);
    const USERS = Array.from({ length: 12 }, (_, i) => `t${i + 1}`);
    let dovecot: Dovecot;
    let peer: SmtpPeer;
    let db: TestDatabase;
    let h: Harness;
    let n = 0;
    let user: string;

    before(async () => {
      dovecot = await startDovecot({ users: USERS.map((u) => ({ user: u, password: "secret" })) });
    });
    after(async () => {
      await dovecot?.stop();
    });
    beforeEach(async () => {
      user = USERS[n++]!;
      peer = await startSmtpPeer();
      db = await dialect.fresh();
    });
    afterEach(async () => {
      await h?.close();
      await peer?.stop();
      await db?.drop();
    });

    /** One customer message in the INBOX, stored by the poller, a draft approved: the outbox id. */
    async function approvedReply(o: {
      body: string;
      subject?: string;
      cc?: string;
      outbound?: Record<string, unknown>;
      sentFolder?: string;
      tag?: string;
      smtp?: Record<string, unknown>;
    }) {
      h = await Harness.open(db, outboundConfig(dovecot, peer, user, { outbound: o.outbound, sentFolder: o.sentFolder, smtp: o.smtp }));
      const id = `c-${user}-${o.tag ?? "1"}@customers.example`;
      await dovecot.append(
        user,
        "INBOX",
        customerMessage({
          to: `${user}@example.com`,
          cc: o.cc,
          messageId: id,
          subject: o.subject ?? "Order 1234 never arrived",
          body: "Where is my parcel?",
          references: `<root-${user}@customers.example>`,
          inReplyTo: `root-${user}@customers.example`,
        }),
      );
      await h.poll(1);
      return { outboxId: await h.approve(id, o.body), customerMessageId: id };
    }

    it("sends it once with the approved headers, files the same bytes in Sent, flags \\Answered, and threads the customer's answer to it", async () => {
      const body = "Hello Ann,\n\nyour parcel left our warehouse today. O'Brien & Co <b>ships</b> it.\nTrailing spaces stay:   \n\nBest,";
      const { outboxId, customerMessageId } = await approvedReply({
        body,
        cc: "Bob <bob@customers.example>, support-bot <no-reply@customers.example>",
      });
      await h.start();
      const entry = await h.settle(outboxId, ["sent"]);

      assert.equal(peer.messages.length, 1, "received exactly once");
      const got = peer.messages[0]!;
      assert.deepEqual(
        got.to.sort(),
        ["ann@customers.example", "bob@customers.example"],
        "envelope: the customer and the Cc (no-reply dropped)",
      );
      assert.equal(got.from, `${user}@example.com`);
      const mail = await simpleParser(got.raw);
      assert.equal(mail.from?.value[0]?.address, `${user}@example.com`);
      assert.equal(mail.from?.value[0]?.name, "Acme Support");
      assert.deepEqual(addresses(mail.to), ["ann@customers.example"]);
      assert.deepEqual(addresses(mail.cc), ["bob@customers.example"]);
      assert.equal(mail.subject, "Re: Order 1234 never arrived");
      assert.equal(mail.messageId, `<${entry.messageId}>`);
      assert.equal(mail.inReplyTo, `<${customerMessageId}>`);
      assert.deepEqual(mail.references, [`<root-${user}@customers.example>`, `<${customerMessageId}>`]);
      assert.equal(mail.headers.get("auto-submitted"), undefined, "a reply a person approved is not auto-submitted");
      assert.ok(mail.text?.replace(/\r\n/g, "\n").includes(body), "the approved body, unchanged");
      assert.ok(mail.text?.includes("-- \nAcme Support team"), "the signature under it");
      assert.ok(typeof mail.html === "string" && mail.html.includes("O&#x27;Brien &amp; Co &lt;b&gt;ships&lt;/b&gt;"), "HTML escaped");

      // The bytes stored before sending are the bytes the server got, and the bytes filed in Sent.
      const stored = await h.store.read((em) => readBlob(em, entry.rawBlobId!));
      assert.ok(stored.equals(got.raw), "stored bytes = sent bytes");
      const sent = await folderSources(dovecot, user, "Sent");
      assert.equal(sent.length, 1);
      assert.ok(sent[0]!.equals(got.raw), "Sent folder holds the exact bytes");

      const flags = await withFolder(dovecot, user, "INBOX", async (c) => {
        const m = await c.fetchOne("1", { flags: true });
        return m ? m.flags : undefined;
      });
      assert.ok(flags?.has("\\Answered"), "the customer's message is \\Answered");

      const inbound = await h.message(customerMessageId);
      const ours = await h.message(entry.messageId);
      assert.equal(ours.direction, "outbound");
      assert.equal(ours.conversationId, inbound.conversationId, "our reply is in the conversation");
      assert.equal((await h.conversation(inbound.conversationId)).status, "pending", "waiting on the customer");

      // The customer answers our reply: it lands in the same conversation, which is open again.
      await dovecot.append(
        user,
        "INBOX",
        customerMessage({
          to: `${user}@example.com`,
          messageId: `answer-${user}@customers.example`,
          subject: "Re: Re: Order 1234 never arrived",
          body: "Thanks!",
          inReplyTo: entry.messageId,
          references: `<${customerMessageId}> <${entry.messageId}>`,
        }),
      );
      await h.poll(3);
      const answer = await h.message(`answer-${user}@customers.example`);
      assert.equal(answer.conversationId, inbound.conversationId);
      assert.equal((await h.conversation(inbound.conversationId)).status, "open");
      assert.equal(peer.messages.length, 1, "still once");
    });

    it("signs with DKIM when the mailbox has a key: the signature covers exactly the bytes the server got", async () => {
      const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      const { outboxId } = await approvedReply({
        body: "Signed reply.\nWith   odd    spacing   \n",
        smtp: { dkim: { domainName: "example.com", keySelector: "dg1", privateKey: pem } },
      });
      await h.start();
      await h.settle(outboxId, ["sent"]);
      assert.equal(peer.messages.length, 1);
      const v = verifyDkim(peer.messages[0]!.raw, publicKey.export({ type: "spki", format: "pem" }).toString());
      assert.deepEqual(v, { domain: "example.com", selector: "dg1", bodyHash: true, signature: true });
      const filed = await folderSources(dovecot, user, "Sent");
      assert.ok(filed[0]!.equals(peer.messages[0]!.raw), "the signed bytes are the ones filed");
    });

    it("retries 4xx replies with backoff and sends once when the server takes it (451 twice, then 250)", async () => {
      const { outboxId } = await approvedReply({ body: "Second try works." });
      peer.failNext(2, 451);
      await h.start();
      const entry = await h.settle(outboxId, ["sent", "failed", "uncertain"]);
      assert.equal(entry.state, "sent");
      assert.equal(entry.attempts, 3);
      assert.equal(peer.stats.failed, 2);
      assert.equal(peer.messages.length, 1);
      const failures = await h.events("outbox.send-failed");
      assert.deepEqual(
        failures.map((e) => [e.payload.outcome, e.payload.state, e.payload.responseCode]),
        [
          ["transient", "retrying", 451],
          ["transient", "retrying", 451],
        ],
      );
    });

    it("fails a 5xx for good: visible, nothing retried", async () => {
      const { outboxId } = await approvedReply({ body: "This one bounces." });
      peer.failNext(1, 550, "No such user here");
      await h.start();
      const entry = await h.settle(outboxId, ["sent", "failed", "uncertain"]);
      assert.equal(entry.state, "failed");
      assert.equal(entry.attempts, 1);
      assert.match(entry.lastError ?? "", /550.*No such user/);
      assert.equal(peer.messages.length, 0);
      assert.equal((await h.jobs()).filter((j) => j.type === "send").length, 1, "no retry job");
      const metrics = await h.metrics.registry.metrics();
      assert.match(metrics, /draftgate_outbox_entries\{state="failed"\} 1/);
      assert.match(metrics, /draftgate_outbox_send_attempts_total\{mailbox="support",outcome="failed"\} 1/);
      const listed = await listOutbox(h.store, { states: ["failed"] });
      assert.deepEqual(
        listed.map((e) => e.id),
        [outboxId],
      );
    });

    it("retries, and never hangs, while the SMTP server is down (connection refused)", async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, "127.0.0.1", () => {
          const port = (s.address() as AddressInfo).port;
          s.close(() => resolve(port));
        });
      });
      const { outboxId } = await approvedReply({ body: "Nobody is listening.", smtp: { port: closedPort } });
      await h.start();
      // The retry is minutes away (outbound.backoffBaseSeconds): wait for the first attempt's outcome only.
      await waitFor(async () => !["queued", "sending"].includes((await h.entry(outboxId)).state), 20_000, "the first attempt to end");
      const entry = await h.entry(outboxId);
      assert.equal(entry.state, "retrying", entry.lastError ?? "");
      assert.match(entry.lastError ?? "", /ECONNREFUSED|ECONNECTION|connect/i);
      assert.equal(peer.messages.length, 0);
    });

    it("gives a reply whose send job died a new one, once, and sends it once", async () => {
      const { outboxId } = await approvedReply({ body: "My job was dead-lettered." });
      // Nothing to do while the approval's send job is queued.
      assert.deepEqual(await h.outbound.requeueOrphans(), []);
      // Its job dies (every attempt failed, e.g. while the database was failing): the entry stays queued.
      await h.store.tx((em) => em.query("UPDATE `jobs` SET `state` = 'dead' WHERE `type` = 'send'"));
      assert.deepEqual(await h.outbound.requeueOrphans(), [outboxId]);
      // A later sweep (a later time: another unique key) finds the new job and queues nothing more.
      assert.deepEqual(await h.outbound.requeueOrphans(new Date(Date.now() + 60_000)), [], "a second sweep finds the new job");
      await h.start();
      const entry = await h.settle(outboxId, ["sent", "failed", "uncertain"]);
      assert.equal(entry.state, "sent");
      assert.equal(peer.messages.length, 1);
    });

    it("retries when the connection drops before DATA", async () => {
      const { outboxId } = await approvedReply({ body: "Dropped before data." });
      peer.dropBeforeDataNext(1);
      await h.start();
      const entry = await h.settle(outboxId, ["sent", "failed", "uncertain"]);
      assert.equal(peer.stats.droppedBeforeData, 1);
      assert.equal(entry.state, "sent");
      assert.equal(entry.attempts, 2);
      assert.equal(peer.messages.length, 1);
    });

    it("leaves a reply whose connection died after the final dot uncertain, never re-sent; the Sent-folder check resolves it", async () => {
      const { outboxId } = await approvedReply({ body: "Did it arrive?", sentFolder: "Sent" });
      peer.dropAfterDotNext(1);
      await h.start();
      let entry = await h.settle(outboxId, ["sent", "failed", "uncertain"]);
      assert.equal(entry.state, "uncertain");
      assert.equal(peer.messages.length, 1);
      assert.equal((await h.jobs()).filter((j) => j.type === "send").length, 1, "no retry job");

      // Not in Sent yet: the check leaves it for a person.
      assert.deepEqual(await h.outbound.checkUncertain(), { resolved: [], open: [outboxId] });
      assert.equal((await h.entry(outboxId)).state, "uncertain");
      // The provider filed it (as Gmail does): found by Message-ID, it is sent, and not filed a second time.
      await dovecot.append(user, "Sent", peer.messages[0]!.raw);
      assert.deepEqual(await h.outbound.checkUncertain(), { resolved: [outboxId], open: [] });
      entry = await h.settle(outboxId, ["sent"]);
      assert.ok(entry.sentAt);
      assert.equal((await folderSources(dovecot, user, "Sent")).length, 1);
      assert.equal(peer.messages.length, 1, "never re-sent");
      const ours = await h.message(entry.messageId);
      assert.equal(ours.direction, "outbound");
    });

    it("marks a reply left `sending` by a dead process uncertain at start and does not send it", async () => {
      const { outboxId } = await approvedReply({ body: "Interrupted." });
      // As a process killed between claiming and recording the result leaves it.
      const leave = (at: Date) =>
        h.store.tx((em) =>
          em.query("UPDATE `outbox` SET `state` = 'sending', `attempts` = 1, `updatedAt` = ? WHERE `id` = ?", [
            at.toISOString().replace("T", " ").replace("Z", ""),
            outboxId,
          ]),
        );
      await leave(new Date());
      if (dialect.name === "mysql") {
        // Several nodes share MySQL: a send touched moments ago may be a live node's, and is left alone.
        assert.deepEqual(await h.outbound.recoverInterrupted(), []);
        await leave(new Date(Date.now() - 3_600_000));
      }
      await h.start();
      const entry = await h.settle(outboxId, ["uncertain", "sent", "failed"]);
      assert.equal(entry.state, "uncertain");
      assert.equal(peer.messages.length, 0);
    });

    it("refuses to send to MAILER-DAEMON (failed with the reason, nothing sent) and defers past the per-recipient cap", async () => {
      const { outboxId } = await approvedReply({ body: "To a robot?", outbound: { maxPerRecipientPerHour: 1 } });
      await h.store.tx((em) =>
        em
          .getRepository<OutboxRow>("Outbox")
          .update({ id: outboxId }, { to: [{ address: "MAILER-DAEMON@customers.example", name: "" }], cc: [] }),
      );
      await h.start();
      const refused = await h.settle(outboxId, ["failed", "sent", "uncertain"]);
      assert.equal(refused.state, "failed");
      assert.match(refused.lastError ?? "", /refused, nothing sent: .*automated address/);
      assert.equal(peer.messages.length, 0);

      // Two replies to Ann within the hour with a cap of 1: the second waits (queued, not failed, not sent).
      const m = await h.store.read((em) => em.getRepository<MessageRow>("Message").findOneByOrFail({ direction: "inbound" }));
      const first = await h.approve(m.messageId!, "First answer.");
      await h.settle(first, ["sent"]);
      const second = await h.approve(m.messageId!, "Second answer.");
      // Its next try is an hour away: wait for the deferral, not for the jobs.
      await waitFor(
        async () => /per-recipient cap/.test((await h.entry(second)).lastError ?? ""),
        30_000,
        "the second reply to be deferred",
      );
      const deferred = await h.entry(second);
      assert.equal(deferred.state, "queued");
      assert.match(deferred.lastError ?? "", /per-recipient cap/);
      assert.ok(deferred.nextAttemptAt && deferred.nextAttemptAt.getTime() > Date.now());
      assert.equal(peer.to("ann@customers.example").length, 1);
    });
  });
