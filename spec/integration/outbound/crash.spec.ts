import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { configSchema } from "../../../src/config/schema.js";
import { intakeOptions } from "../../../src/pipeline/intakeOptions.js";
import { Intake } from "../../../src/pipeline/intake.js";
import { approveDraft } from "../../../src/review/approveDraft.js";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import type { DraftRow, OutboxRow } from "../../../src/store/entities/review.js";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import { Store } from "../../../src/store/store.js";
import { addUser } from "../../../src/store/users.js";
import { runCli, waitFor, type CliResult } from "../../support/cli.js";
import { freshSqlite, type TestDatabase } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { startSmtpPeer, type SmtpPeer } from "../../support/smtp.js";
import { customerMessage, REVIEWER } from "./helpers.js";

/** `draftgate start --roles outbound` as a child process (the built CLI, as an operator runs it). */
function gateway(configPath: string, db: TestDatabase) {
  return runCli(["start", "--roles", "outbound"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: configPath, DRAFTGATE_LOG__LEVEL: "error" });
}

describe("outbound: kill -9 of the gateway in the middle of a batch of 300 approved replies", function () {
  this.timeout(300_000);
  const COUNT = 300;
  let dovecot: Dovecot;
  let peer: SmtpPeer;
  let db: TestDatabase;
  let dir: string;

  before(async () => {
    dovecot = await startDovecot({ users: [{ user: "crash", password: "secret" }] });
    // A server that takes a little while to answer each final dot: the batch takes a while.
    peer = await startSmtpPeer({ replyDelayMs: 5 });
    db = await freshSqlite();
    dir = mkdtempSync(join(tmpdir(), "draftgate-outbound-crash-"));
  });
  after(async () => {
    await peer?.stop();
    await dovecot?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sends no recipient anything twice; every entry ends sent or uncertain, and `outbox` lists every uncertain one", async () => {
    const yaml = [
      "mail: { messageIdDomain: draftgate.test }",
      "mailboxes:",
      "  - name: support",
      "    address: crash@example.com",
      `    imap: { host: ${dovecot.host}, port: ${dovecot.port}, secure: false, user: crash, password: secret, folders: [INBOX] }`,
      `    smtp: { host: ${peer.host}, port: ${peer.port}, secure: false, user: ${peer.user}, password: ${peer.password} }`,
      "    sentFolder: Sent",
      "jobs: { pollIntervalMs: 20, leaseSeconds: 5 }",
      "outbound: { maxConnections: 2, backoffBaseSeconds: 0.05, backoffMaxSeconds: 0.2 }",
      "",
    ].join("\n");
    const configPath = join(dir, "config.yaml");
    writeFileSync(configPath, yaml);

    // 300 customers, one message each, each draft approved through the approval use case.
    const { parse } = await import("yaml");
    const config = configSchema.parse(parse(yaml));
    const store = await Store.open(db.url);
    try {
      await store.migrate();
      const mailbox = await ensureMailbox(store, "support", "crash@example.com");
      await addUser(store, { email: REVIEWER, role: "reviewer", passwordHash: "x" }, "test");
      const intake = new Intake(store, intakeOptions(config));
      const raws = Array.from({ length: COUNT }, (_, i) =>
        customerMessage({
          from: `Customer ${i} <customer${i}@customers.example>`,
          to: "crash@example.com",
          messageId: `q${i}@customers.example`,
          subject: `Question number ${i}`,
          body: `Question ${i}?`,
        }),
      );
      for (let i = 0; i < COUNT; i += 50) {
        await intake.ingest(
          { id: mailbox.id, address: mailbox.address },
          raws.slice(i, i + 50).map((r) => ({ raw: Buffer.from(r), source: "test", sourceRef: null })),
        );
      }
      const messages = await store.read((em) => em.getRepository<MessageRow>("Message").find({ order: { id: "ASC" } }));
      assert.equal(messages.length, COUNT);
      for (const m of messages) {
        const draftId = await store.tx(async (em) => {
          const res = await em.getRepository<DraftRow>("Draft").insert({
            conversationId: m.conversationId,
            messageRowId: m.id,
            status: "pending",
            body: `Answer to ${m.subject}.`,
            origin: "model",
            flags: [],
          });
          return Number(res.identifiers[0]!.id);
        });
        await approveDraft({ store, config }, { draftId, actor: REVIEWER });
      }
      const entries = () => store.read((em) => em.getRepository<OutboxRow>("Outbox").find({ order: { id: "ASC" } }));
      assert.equal((await entries()).length, COUNT);

      const first = gateway(configPath, db);
      await waitFor(() => peer.messages.length >= 60 || first.child.exitCode !== null, 120_000, "60 replies at the SMTP server");
      // Kill it while the server holds a message whose final dot it has not answered: that reply is
      // delivered, but the gateway never learns it.
      peer.hold();
      await waitFor(() => peer.held > 0 || first.child.exitCode !== null, 60_000, "a reply waiting for the server's answer");
      first.child.kill("SIGKILL");
      const killed = await first;
      assert.equal(killed.signal, "SIGKILL", `the gateway exited by itself: ${killed.stderr}`);
      const atKill = peer.messages.length;
      assert.ok(atKill < COUNT, `killed after ${atKill} of ${COUNT} replies`);
      peer.release();

      const second = gateway(configPath, db);
      await waitFor(
        async () => (await entries()).every((e) => ["sent", "uncertain", "failed"].includes(e.state)) || second.child.exitCode !== null,
        180_000,
        "every entry to settle",
      );
      second.child.kill("SIGTERM");
      const stopped: CliResult = await second;
      assert.equal(stopped.code, 0, stopped.stderr);

      const final = await entries();
      const byState = (s: OutboxRow["state"]) => final.filter((e) => e.state === s);
      assert.deepEqual(
        final.filter((e) => e.state !== "sent" && e.state !== "uncertain").map((e) => [e.id, e.state, e.lastError]),
        [],
        "every entry ends sent or uncertain",
      );

      // Nobody got anything twice.
      const perRecipient = new Map<string, number>();
      for (const m of peer.messages) for (const to of m.to) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
      const twice = [...perRecipient].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], "no recipient has a message twice");
      // Every sent entry reached the server (once, by the check above), by its Message-ID.
      const received = new Set<string>();
      for (const m of peer.messages) received.add(((await simpleParser(m.raw)).messageId ?? "").replace(/^<|>$/g, ""));
      for (const e of byState("sent")) assert.ok(received.has(e.messageId), `sent entry ${e.id} reached the server`);

      // `draftgate outbox --json` lists every uncertain entry.
      const listed = await runCli(["outbox", "--json"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: configPath });
      assert.equal(listed.code, 0, listed.stderr);
      const rows = JSON.parse(listed.stdout) as { id: number; state: string }[];
      const listedUncertain = new Set(rows.filter((r) => r.state === "uncertain").map((r) => r.id));
      for (const e of byState("uncertain")) assert.ok(listedUncertain.has(e.id), `uncertain entry ${e.id} is listed by outbox`);
      // The reply the server got while the gateway died is one of them: delivered once, never re-sent.
      assert.ok(byState("uncertain").length >= 1, "the reply interrupted between its final dot and the server's answer is uncertain");
      // For the record (not a timing assertion): how the kill fell.
      console.log(
        `      killed after ${atKill} replies; ${byState("sent").length} sent, ${byState("uncertain").length} uncertain, ${peer.messages.length} received`,
      );
    } finally {
      await store.close();
    }
  });
});
