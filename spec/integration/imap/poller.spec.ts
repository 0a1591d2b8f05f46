import assert from "node:assert/strict";
import { pino } from "pino";
import type { Config } from "../../../src/config/schema.js";
import { MailboxPoller } from "../../../src/ingest/imap/poller.js";
import { intakeOptions } from "../../../src/pipeline/fromConfig.js";
import { Intake } from "../../../src/pipeline/intake.js";
import type { MessageRow, QuarantineRow } from "../../../src/store/entities/mail.js";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import type { Store } from "../../../src/store/store.js";
import { waitFor } from "../../support/cli.js";
import { freshSqlite, useStore } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { imapTestConfig, testMessage } from "../../support/imap.js";

const log = pino({ level: "silent" });

async function poller(store: Store, config: Config, index = 0): Promise<MailboxPoller> {
  const m = config.mailboxes[index]!;
  const row = await ensureMailbox(store, m.name, m.address);
  const p = new MailboxPoller({
    store,
    intake: new Intake(store, intakeOptions(config)),
    mailbox: { id: row.id, name: m.name, address: m.address },
    settings: m.imap!,
    config,
    log,
  });
  p.start();
  return p;
}

const countMessages = (store: Store, mailbox?: string) =>
  store.read(async (em) => {
    if (!mailbox) return em.getRepository("Message").count();
    const row = await em.getRepository<{ id: number }>("Mailbox").findOneBy({ name: mailbox } as never);
    return row ? em.getRepository("Message").countBy({ mailboxId: row.id } as never) : 0;
  });

const subjects = (store: Store) =>
  store.read(async (em) => (await em.getRepository<MessageRow>("Message").find({ select: { subject: true } })).map((m) => m.subject).sort());

describe("IMAP ingest against a real Dovecot", function () {
  this.timeout(120_000);
  let dovecot: Dovecot;
  const db = useStore(freshSqlite);
  let running: MailboxPoller[] = [];

  before(async () => {
    dovecot = await startDovecot({ users: [{ user: "support", password: "secret" }, { user: "billing", password: "secret" }] });
  });
  after(async () => dovecot?.stop());
  beforeEach(async () => {
    await dovecot.recreateFolder("support", "INBOX");
    await dovecot.recreateFolder("billing", "INBOX");
  });
  afterEach(async () => {
    await Promise.all(running.map((p) => p.stop()));
    running = [];
  });
  const start = async (config: Config, index = 0) => {
    const p = await poller(db.store, config, index);
    running.push(p);
    return p;
  };

  it("delivers mail appended while the gateway is in IDLE without waiting for a poll", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }], { imap: { pollSeconds: 3600 } });
    const p = await start(config);
    await waitFor(() => p.health.connected && p.health.lastSyncAt !== null, 20_000, "first sync");
    await waitFor(() => p.health.idling, 5_000, "IDLE");
    await dovecot.append("support", "INBOX", testMessage("pushed by IDLE"));
    await waitFor(async () => (await countMessages(db.store)) === 1, 10_000, "the message to arrive");
    assert.deepEqual(await subjects(db.store), ["pushed by IDLE"]);
  });

  it("resumes from its checkpoint after a restart: nothing lost, nothing twice", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }]);
    await dovecot.appendMany("support", "INBOX", [1, 2, 3, 4, 5].map((i) => testMessage(`before ${i}`)));
    const first = await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 5, 20_000, "5 messages");
    await first.stop();
    running = [];
    await dovecot.appendMany("support", "INBOX", [6, 7, 8].map((i) => testMessage(`while down ${i}`)));
    await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 8, 20_000, "8 messages");
    const all = await subjects(db.store);
    assert.equal(new Set(all).size, 8);
  });

  it("resyncs by Message-ID when UIDVALIDITY changes: no duplicates, new mail in", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }]);
    const old = [1, 2, 3].map((i) => testMessage(`old ${i}`));
    await dovecot.appendMany("support", "INBOX", old);
    const first = await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 3, 20_000, "3 messages");
    await first.stop();
    running = [];
    await dovecot.recreateFolder("support", "INBOX");
    await dovecot.appendMany("support", "INBOX", [...old, testMessage("new 1"), testMessage("new 2")]);
    await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 5, 20_000, "5 messages");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await countMessages(db.store), 5);
  });

  it("reconnects and catches up when Dovecot restarts under it", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }]);
    const p = await start(config);
    await waitFor(() => p.health.connected && p.health.lastSyncAt !== null, 20_000, "first sync");
    await dovecot.restart();
    await dovecot.append("support", "INBOX", testMessage("after restart"));
    await waitFor(async () => (await countMessages(db.store)) === 1, 30_000, "the message after the restart");
    assert.ok(p.health.consecutiveFailures === 0 || p.health.connected);
  });

  it("quarantines a malformed and an oversized message and ingests the rest", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }], { ingest: { maxMessageBytes: 50_000 } });
    await dovecot.appendMany("support", "INBOX", [
      testMessage("fine 1"),
      "this is not a message at all\r\njust lines\r\n",
      testMessage("far too big", { body: "x".repeat(120_000) }),
      testMessage("fine 2"),
    ]);
    await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 2, 20_000, "2 stored");
    const q = await db.store.read((em) => em.getRepository<QuarantineRow>("Quarantine").find({ order: { id: "ASC" } }));
    await waitFor(async () => (await db.store.read((em) => em.getRepository("Quarantine").count())) === 2, 10_000, "2 quarantined");
    const rows = q.length === 2 ? q : await db.store.read((em) => em.getRepository<QuarantineRow>("Quarantine").find({ order: { id: "ASC" } }));
    assert.deepEqual(rows.map((r) => r.errorCode).sort(), ["EPARSE", "ETOOBIG"]);
    const big = rows.find((r) => r.errorCode === "ETOOBIG")!;
    assert.ok(big.size <= 50_000, "the oversized message was not loaded whole");
    assert.match(big.reason, /stays at its source/);
    assert.deepEqual(await subjects(db.store), ["fine 1", "fine 2"]);
  });

  it("backs off on a wrong password, reports it, and keeps other mailboxes working", async () => {
    const config = imapTestConfig(dovecot, [
      { name: "support", user: "support", password: "wrong" },
      { name: "billing", user: "billing", password: "secret" },
    ]);
    const bad = await start(config, 0);
    await start(config, 1);
    await dovecot.append("billing", "INBOX", testMessage("billing still works"));
    await waitFor(async () => (await countMessages(db.store, "billing")) === 1, 20_000, "billing mail");
    await waitFor(() => bad.health.consecutiveFailures >= 3, 20_000, "three failed logins");
    assert.equal(bad.health.connected, false);
    assert.match(bad.health.lastError ?? "", /authentication failed/i);
    assert.ok(bad.health.retryAt === null || bad.health.retryAt.getTime() > Date.now() - 1000);
  });

  it("marks messages seen only when asked to, after they are committed", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret", markSeen: true }]);
    await dovecot.appendMany("support", "INBOX", [testMessage("to be seen")]);
    const p = await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 1, 20_000, "1 message");
    await waitFor(() => p.health.lastSyncAt !== null && p.health.backlog === 0, 5_000, "sync to finish");
    const { ImapFlow } = await import("imapflow");
    const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: "support", pass: "secret" }, logger: false });
    await client.connect();
    try {
      await client.mailboxOpen("INBOX");
      await waitFor(async () => {
        for await (const m of client.fetch("1:*", { flags: true })) if (!m.flags?.has("\\Seen")) return false;
        return true;
      }, 5_000, "\\Seen flag");
    } finally {
      await client.logout();
    }
  });

  it("keeps receiving after IDLE has been restarted by imap.maxIdleSeconds", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }], { imap: { maxIdleSeconds: 1 } });
    const p = await start(config);
    await waitFor(() => p.health.idling, 20_000, "IDLE");
    await new Promise((r) => setTimeout(r, 2500));
    await dovecot.append("support", "INBOX", testMessage("after IDLE restarts"));
    await waitFor(async () => (await countMessages(db.store)) === 1, 10_000, "the message");
  });

  it("moves committed messages to the configured folder, and only those", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret", moveTo: "Processed" }]);
    await dovecot.appendMany("support", "Processed", []);
    await dovecot.appendMany("support", "INBOX", [testMessage("move me 1"), testMessage("move me 2")]);
    const p = await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 2, 20_000, "2 messages");
    const { ImapFlow } = await import("imapflow");
    const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: "support", pass: "secret" }, logger: false });
    await client.connect();
    try {
      await waitFor(async () => {
        const inbox = await client.status("INBOX", { messages: true });
        const done = await client.status("Processed", { messages: true });
        return inbox !== false && done !== false && inbox.messages === 0 && done.messages === 2;
      }, 10_000, "the move");
    } finally {
      await client.logout();
    }
    assert.equal(p.health.consecutiveFailures, 0);
  });
});
