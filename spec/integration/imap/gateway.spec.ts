import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailboxLeaseRow } from "../../../src/store/entities/imap.js";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import { Store } from "../../../src/store/store.js";
import { runCli, waitFor, type CliResult } from "../../support/cli.js";
import { freshMysql, freshSqlite, mysqlEnabled, type TestDatabase } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { imapTestConfigYaml, testMessage } from "../../support/imap.js";

/** `draftgate start --roles ingest` as a child process, the way an operator runs it. */
function gateway(configPath: string, db: TestDatabase) {
  return runCli(["start", "--roles", "ingest"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: configPath, DRAFTGATE_LOG__LEVEL: "warn" });
}

async function subjects(store: Store): Promise<string[]> {
  return store.read(async (em) => (await em.getRepository<MessageRow>("Message").find({ select: { subject: true } })).map((m) => m.subject));
}

describe("the gateway process against a real Dovecot", function () {
  this.timeout(300_000);
  let dovecot: Dovecot;
  let dir: string;
  let configPath: string;

  before(async () => {
    dovecot = await startDovecot({ users: [{ user: "support", password: "secret" }] });
    dir = mkdtempSync(join(tmpdir(), "draftgate-gw-"));
    configPath = join(dir, "config.yaml");
    writeFileSync(configPath, imapTestConfigYaml(dovecot, "support", "secret", "ingest: { batchSize: 50 }\n"));
  });
  after(async () => {
    await dovecot?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => dovecot.recreateFolder("support", "INBOX"));

  it("stores every message exactly once when killed with SIGKILL in the middle of syncing 2,000 messages", async () => {
    const COUNT = 2000;
    await dovecot.appendMany("support", "INBOX", Array.from({ length: COUNT }, (_, i) => testMessage(`bulk ${i}`, { body: `message ${i}\n${"words ".repeat(200)}` })));
    const db = await freshSqlite();
    // The schema must exist before we watch the count from this process.
    const migrate = await runCli(["migrate"], { DATABASE_URL: db.url });
    assert.equal(migrate.code, 0, migrate.stderr);
    const store = await Store.open(db.url);
    const count = () => store.read((em) => em.getRepository("Message").count()).catch(() => 0);
    try {
      const first = gateway(configPath, db);
      await waitFor(async () => (await count()) >= 300 || first.child.exitCode !== null, 120_000, "300 messages");
      first.child.kill("SIGKILL");
      const killed = await first;
      assert.equal(killed.signal, "SIGKILL", `the gateway exited by itself: ${killed.stderr}`);
      const partial = await count();
      assert.ok(partial < COUNT, `killed after ${partial} messages`);

      const second = gateway(configPath, db);
      await waitFor(async () => (await count()) >= COUNT || second.child.exitCode !== null, 180_000, `${COUNT} messages`);
      second.child.kill("SIGTERM");
      const stopped: CliResult = await second;
      assert.equal(stopped.code, 0, stopped.stderr);
      const all = await subjects(store);
      assert.equal(all.length, COUNT);
      assert.equal(new Set(all).size, COUNT, "every message exactly once");
    } finally {
      await store.close();
      await db.drop();
    }
  });

  // Runs in CI; skipped only with DRAFTGATE_TEST_MYSQL=off (a developer machine without MariaDB): lease
  // takeover between processes needs MySQL, SQLite serves one process.
  (mysqlEnabled ? it : it.skip)("lets one of two processes poll a mailbox and the other take over within the lease TTL when it dies", async () => {
    const db = await freshMysql();
    const migrate = await runCli(["migrate"], { DATABASE_URL: db.url });
    assert.equal(migrate.code, 0, migrate.stderr);
    const store = await Store.open(db.url);
    const count = () => store.read((em) => em.getRepository("Message").count());
    const a = gateway(configPath, db);
    const b = gateway(configPath, db);
    try {
      await dovecot.appendMany("support", "INBOX", Array.from({ length: 40 }, (_, i) => testMessage(`first ${i}`)));
      await waitFor(async () => (await count()) === 40, 60_000, "40 messages");
      const lease = await store.read((em) => em.getRepository<MailboxLeaseRow>("MailboxLease").find());
      assert.equal(lease.length, 1);
      const holderPid = Number(lease[0]!.owner.split(":")[1]);
      const [holder, other] = holderPid === a.child.pid ? [a, b] : [b, a];
      assert.equal(holder.child.pid, holderPid, "the lease names one of the two processes");

      holder.child.kill("SIGKILL");
      await holder;
      const killedAt = Date.now();
      await dovecot.appendMany("support", "INBOX", Array.from({ length: 20 }, (_, i) => testMessage(`second ${i}`)));
      // TTL 3 s (see the test config); renewals every TTL/3 and the other's retry every TTL/3.
      await waitFor(async () => (await count()) === 60, 30_000, "the other process to take over");
      const tookOverMs = Date.now() - killedAt;
      assert.ok(tookOverMs < 15_000, `took ${tookOverMs} ms`);
      const after = await store.read((em) => em.getRepository<MailboxLeaseRow>("MailboxLease").findOneByOrFail({ mailboxId: lease[0]!.mailboxId }));
      assert.equal(Number(after.owner.split(":")[1]), other.child.pid);
      const all = await subjects(store);
      assert.equal(new Set(all).size, 60, "nothing lost, nothing twice");
      other.child.kill("SIGTERM");
      assert.equal((await other).code, 0);
    } finally {
      a.child.kill("SIGKILL");
      b.child.kill("SIGKILL");
      await store.close();
      await db.drop();
    }
  });
});

describe("draftgate doctor with IMAP mailboxes", function () {
  this.timeout(120_000);
  let dovecot: Dovecot;
  let dir: string;
  before(async () => {
    dovecot = await startDovecot({ users: [{ user: "support", password: "secret" }] });
    dir = mkdtempSync(join(tmpdir(), "draftgate-doctor-"));
  });
  after(async () => {
    await dovecot?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("logs in and lists capabilities, and reports a wrong password as a failed check", async () => {
    const good = join(dir, "good.yaml");
    writeFileSync(good, imapTestConfigYaml(dovecot, "support", "secret"));
    const db = await freshSqlite();
    try {
      const ok = await runCli(["doctor"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: good });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /ok +mailbox support: logged in as support@127\.0\.0\.1:\d+; IDLE/);
      const bad = join(dir, "bad.yaml");
      writeFileSync(bad, imapTestConfigYaml(dovecot, "support", "wrong"));
      const failed = await runCli(["doctor"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: bad });
      assert.equal(failed.code, 1);
      assert.match(failed.stdout, /FAIL +mailbox support: .*authentication failed/i);
      assert.doesNotMatch(failed.stdout + failed.stderr, /wrong/, "the password never reaches the output");
    } finally {
      await db.drop();
    }
  });

  it("shows a running gateway's login failures and backoff for the mailbox", async () => {
    const bad = join(dir, "bad-running.yaml");
    writeFileSync(bad, imapTestConfigYaml(dovecot, "support", "wrong"));
    const db = await freshSqlite();
    const running = gateway(bad, db);
    try {
      let out = "";
      await waitFor(async () => {
        out = (await runCli(["doctor"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: bad })).stdout;
        return /poller support: polled by .*failures in a row [2-9]/.test(out);
      }, 60_000, "doctor to show repeated failures");
      assert.match(out, /poller support: polled by [^:]+:\d+:\w+: disconnected; .*last error .*authentication failed/i);
    } finally {
      running.child.kill("SIGTERM");
      await running;
      await db.drop();
    }
  });
});
