import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../../src/config/schema.js";
import type { MailboxPoller } from "../../../src/ingest/imap/poller.js";
import type { MessageRow, QuarantineRow } from "../../../src/store/entities/mail.js";
import type { Store } from "../../../src/store/store.js";
import { runCli, waitFor } from "../../support/cli.js";
import { freshSqlite, useStore } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { folderSubjects, imapTestConfig, imapTestConfigYaml, startPoller, subjectsIn, testMessage } from "../../support/imap.js";

const stored = (store: Store) =>
  store.read(async (em) => (await em.getRepository<MessageRow>("Message").find({ select: { subject: true } })).map((m) => m.subject).sort());

const DAY = 86_400_000;

/**
 * Which mail the gateway takes and which it moves (imap.initialSync × moveTo): it stores what the initial
 * sync mode says, and moves exactly what it committed, never mail that was in the folder before it
 * started and that it did not take (that stays where `backfill` finds it).
 */
describe("IMAP initial sync and moveTo", function () {
  this.timeout(120_000);
  let dovecot: Dovecot;
  let dir: string;
  const db = useStore(freshSqlite);
  let running: MailboxPoller[] = [];

  before(async () => {
    dovecot = await startDovecot({ users: [{ user: "support", password: "secret" }] });
    dir = mkdtempSync(join(tmpdir(), "draftgate-moveto-"));
  });
  after(async () => {
    await dovecot?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await dovecot.recreateFolder("support", "INBOX");
    await dovecot.recreateFolder("support", "Processed");
  });
  afterEach(async () => {
    await Promise.all(running.map((p) => p.stop()));
    running = [];
  });

  const config = (initialSync: Config["imap"]["initialSync"], moveTo?: string, ingest: Partial<Config["ingest"]> = {}) =>
    imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret", ...(moveTo ? { moveTo } : {}) }], { imap: { initialSync }, ingest });

  /** Starts a poller, waits for its first sync, appends `later` and waits until they are stored (and moved, with moveTo). */
  async function runWith(c: Config, later: string[]): Promise<MailboxPoller> {
    const p = await startPoller(db.store, c);
    running.push(p);
    await waitFor(() => p.health.lastSyncAt !== null, 20_000, "first sync");
    const before = (await stored(db.store)).length;
    for (const s of later) await dovecot.append("support", "INBOX", testMessage(s));
    await waitFor(async () => (await stored(db.store)).length === before + later.length, 20_000, "the new mail to be stored");
    if (c.mailboxes[0]!.imap!.moveTo) {
      await waitFor(async () => (await subjectsIn(dovecot, "support", "INBOX")).every((s) => !later.includes(s)), 10_000, "the new mail to be moved");
    }
    return p;
  }

  it("new-only without moveTo: stores only new mail and leaves the folder as it was", async () => {
    await dovecot.appendMany("support", "INBOX", ["old 1", "old 2", "old 3"].map((s) => testMessage(s)));
    await runWith(config("new-only"), ["new 1", "new 2"]);
    assert.deepEqual(await stored(db.store), ["new 1", "new 2"]);
    assert.deepEqual(await subjectsIn(dovecot, "support", "INBOX"), ["new 1", "new 2", "old 1", "old 2", "old 3"]);
  });

  it("new-only with moveTo: moves only what it stored; older mail stays for backfill", async () => {
    await dovecot.appendMany("support", "INBOX", ["old 1", "old 2", "old 3"].map((s) => testMessage(s)));
    const p = await runWith(config("new-only", "Processed"), ["new 1", "new 2"]);
    assert.deepEqual(await stored(db.store), ["new 1", "new 2"]);
    assert.deepEqual(await subjectsIn(dovecot, "support", "Processed"), ["new 1", "new 2"]);
    assert.deepEqual(await subjectsIn(dovecot, "support", "INBOX"), ["old 1", "old 2", "old 3"]);
    assert.equal(p.health.consecutiveFailures, 0);

    // The mail the first sync skipped is still where backfill looks for it.
    const configPath = join(dir, "backfill.yaml");
    writeFileSync(configPath, imapTestConfigYaml(dovecot, "support", "secret"));
    const backfill = await runCli(["backfill", "--mailbox", "support", "--since", "2000-01-01", "--json"], { DATABASE_URL: db.db.url, DRAFTGATE_CONFIG: configPath });
    assert.equal(backfill.code, 0, backfill.stderr);
    assert.deepEqual(JSON.parse(backfill.stdout.trim().split("\n").pop()!), { folders: 1, messages: 3, stored: 3, duplicate: 0, quarantined: 0 });
    assert.deepEqual(await stored(db.store), ["new 1", "new 2", "old 1", "old 2", "old 3"]);
  });

  it("since without moveTo: stores mail from the window on and leaves the folder as it was", async () => {
    for (const s of ["older 1", "older 2"]) await dovecot.append("support", "INBOX", testMessage(s), [], new Date(Date.now() - 30 * DAY));
    for (const s of ["recent 1", "recent 2"]) await dovecot.append("support", "INBOX", testMessage(s), [], new Date(Date.now() - DAY));
    await runWith(config({ since: 7 }), ["new 1"]);
    assert.deepEqual(await stored(db.store), ["new 1", "recent 1", "recent 2"]);
    assert.equal((await subjectsIn(dovecot, "support", "INBOX")).length, 5);
  });

  it("since with moveTo: moves only what it stored; mail before the window stays", async () => {
    for (const s of ["older 1", "older 2"]) await dovecot.append("support", "INBOX", testMessage(s), [], new Date(Date.now() - 30 * DAY));
    for (const s of ["recent 1", "recent 2"]) await dovecot.append("support", "INBOX", testMessage(s), [], new Date(Date.now() - DAY));
    await runWith(config({ since: 7 }, "Processed"), ["new 1"]);
    assert.deepEqual(await stored(db.store), ["new 1", "recent 1", "recent 2"]);
    await waitFor(async () => (await subjectsIn(dovecot, "support", "Processed")).length >= 3, 10_000, "the recent mail to be moved");
    assert.deepEqual(await subjectsIn(dovecot, "support", "INBOX"), ["older 1", "older 2"]);
    assert.deepEqual(await subjectsIn(dovecot, "support", "Processed"), ["new 1", "recent 1", "recent 2"]);
  });

  it("leaves a quarantined message where its quarantine reason says it is", async () => {
    const c = config("all", "Processed", { maxMessageBytes: 50_000 });
    await dovecot.appendMany("support", "INBOX", [testMessage("fine 1"), testMessage("far too big", { body: "x".repeat(120_000) }), testMessage("fine 2")]);
    const p = await startPoller(db.store, c);
    running.push(p);
    await waitFor(async () => (await subjectsIn(dovecot, "support", "Processed")).length >= 2, 20_000, "the stored mail to be moved");
    const [q] = await db.store.read((em) => em.getRepository<QuarantineRow>("Quarantine").find());
    assert.ok(q, "the big message is quarantined");
    const uid = Number(/;UID=(\d+)$/.exec(q.sourceRef ?? "")?.[1]);
    assert.match(q.reason, /stays at its source \(imap:support\/INBOX;UIDVALIDITY=\d+;UID=\d+\)/);
    // Another sync (the move runs after every sync) must not move it either.
    await dovecot.append("support", "INBOX", testMessage("fine 3"));
    await waitFor(async () => (await subjectsIn(dovecot, "support", "Processed")).includes("fine 3"), 20_000, "the next message to be moved");
    assert.deepEqual([...(await folderSubjects(dovecot, "support", "INBOX")).entries()], [[uid, "far too big"]]);
  });
});
