import assert from "node:assert/strict";
import { pino } from "pino";
import type { Config } from "../../../src/config/schema.js";
import { MailboxPoller } from "../../../src/ingest/imap/poller.js";
import { intakeOptions } from "../../../src/pipeline/intakeOptions.js";
import { Intake } from "../../../src/pipeline/intake.js";
import type { MessageRow, QuarantineRow } from "../../../src/store/entities/mail.js";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import type { Store } from "../../../src/store/store.js";
import { waitFor } from "../../support/cli.js";
import { freshSqlite, useStore } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { imapTestConfig, testMessage } from "../../support/imap.js";
import { startImapWiretap, type ImapWiretap } from "../../support/imapWiretap.js";

const log = pino({ level: "silent" });

async function poller(store: Store, config: Config, index = 0, onCommitted?: () => void): Promise<MailboxPoller> {
  const m = config.mailboxes[index]!;
  const row = await ensureMailbox(store, m.name, m.address);
  const p = new MailboxPoller({
    store,
    intake: new Intake(store, intakeOptions(config), onCommitted),
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
    return row ? em.getRepository("Message").countBy({ mailboxId: row.id }) : 0;
  });

const subjects = (store: Store) =>
  store.read(async (em) => (await em.getRepository<MessageRow>("Message").find({ select: { subject: true } })).map((m) => m.subject).sort());

describe("IMAP ingest against a real Dovecot", function () {
  this.timeout(120_000);
  let dovecot: Dovecot;
  const db = useStore(freshSqlite);
  let running: MailboxPoller[] = [];
  let taps: ImapWiretap[] = [];

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
    await Promise.all(taps.map((t) => t.close()));
    taps = [];
  });
  const start = async (config: Config, index = 0, onCommitted?: () => void) => {
    const p = await poller(db.store, config, index, onCommitted);
    running.push(p);
    return p;
  };
  /** Routes the config's first mailbox through a wiretap that records the gateway's IMAP commands. */
  const tapped = async (config: Config, onCommand?: (line: string) => void) => {
    const tap = await startImapWiretap(dovecot, onCommand);
    taps.push(tap);
    config.mailboxes[0]!.imap!.host = tap.host;
    config.mailboxes[0]!.imap!.port = tap.port;
    return tap;
  };
  const seenFlags = (): Promise<boolean[]> =>
    dovecot.withClient("support", async (client) => {
      await client.mailboxOpen("INBOX", { readOnly: true });
      const flags: boolean[] = [];
      for await (const m of client.fetch("1:*", { flags: true })) flags.push(m.flags?.has("\\Seen") ?? false);
      return flags;
    });

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

  it("marks messages seen when asked to, and only after they are committed", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret", markSeen: true }]);
    const events: string[] = [];
    const tap = await tapped(config, (line) => {
      if (/ STORE /i.test(line) && /\\Seen/i.test(line)) events.push("store-seen");
    });
    await dovecot.appendMany("support", "INBOX", [testMessage("to be seen 1"), testMessage("to be seen 2")]);
    const p = await start(config, 0, () => events.push("committed"));
    await waitFor(async () => (await countMessages(db.store)) === 2, 20_000, "2 messages");
    await waitFor(() => p.health.lastSyncAt !== null && p.health.backlog === 0, 5_000, "sync to finish");
    await waitFor(async () => (await seenFlags()).every(Boolean), 5_000, "\\Seen flags");
    assert.ok(tap.count("UID STORE") + tap.count("STORE") > 0, "the flags were set by the gateway");
    const firstStore = events.indexOf("store-seen");
    assert.ok(firstStore > 0, `a STORE \\Seen was sent: ${events.join(", ")}`);
    assert.equal(events.slice(0, firstStore).filter((e) => e === "committed").length, 2, `both messages committed before any \\Seen: ${events.join(", ")}`);
  });

  it("leaves messages unseen and sends no STORE when markSeen is off (the default)", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }]);
    assert.equal(config.mailboxes[0]!.imap!.markSeen, false);
    const tap = await tapped(config);
    await dovecot.appendMany("support", "INBOX", [testMessage("stays unseen 1"), testMessage("stays unseen 2")]);
    const p = await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 2, 20_000, "2 messages");
    await waitFor(() => p.health.lastSyncAt !== null && p.health.backlog === 0 && p.health.idling, 5_000, "sync to finish");
    assert.deepEqual(await seenFlags(), [false, false]);
    assert.equal(tap.commands.filter((l) => / STORE /i.test(l)).length, 0, tap.commands.join("\n"));
  });

  it("keeps receiving after IDLE has been restarted by imap.maxIdleSeconds", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }], { imap: { maxIdleSeconds: 1 } });
    const tap = await tapped(config);
    const p = await start(config);
    await waitFor(() => p.health.idling, 20_000, "IDLE");
    // The restart is seen on the wire: IDLE ended (DONE) and was issued again on the same connection.
    await waitFor(() => tap.count("IDLE") >= 3, 15_000, "IDLE to be restarted twice");
    assert.ok(tap.commands.includes("DONE"), "IDLE was ended with DONE");
    await dovecot.append("support", "INBOX", testMessage("after IDLE restarts"));
    await waitFor(async () => (await countMessages(db.store)) === 1, 10_000, "the message");
    assert.equal(p.health.consecutiveFailures, 0, "no reconnect was needed");
  });

  it("moves committed messages to the configured folder, and only those", async () => {
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret", moveTo: "Processed" }]);
    await dovecot.appendMany("support", "Processed", []);
    await dovecot.appendMany("support", "INBOX", [testMessage("move me 1"), testMessage("move me 2")]);
    const p = await start(config);
    await waitFor(async () => (await countMessages(db.store)) === 2, 20_000, "2 messages");
    await dovecot.withClient("support", (client) =>
      waitFor(async () => {
        const inbox = await client.status("INBOX", { messages: true });
        const done = await client.status("Processed", { messages: true });
        return inbox !== false && done !== false && inbox.messages === 0 && done.messages === 2;
      }, 10_000, "the move"),
    );
    assert.equal(p.health.consecutiveFailures, 0);
  });
});
