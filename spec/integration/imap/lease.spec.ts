import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EntityManager } from "typeorm";
import { assertLeaseHeld, LeaseLostError } from "../../../src/ingest/imap/lease.js";
import type { ImapCheckpointRow } from "../../../src/store/entities/imap.js";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import { acquireMailboxLease, releaseMailboxLease } from "../../../src/store/mailboxLeases.js";
import { Store } from "../../../src/store/store.js";
import { runCli, waitFor } from "../../support/cli.js";
import { dialects, freshMysql, mysqlEnabled, useStore } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { imapTestConfigYaml, testMessage } from "../../support/imap.js";
import { testIntake } from "../../support/intake.js";

const HOUR = 3_600_000;

/** Runs `fn` as a node whose clock is `skewMs` off: `new Date()` and `Date.now()` both shifted. */
async function withClockSkew<T>(skewMs: number, fn: () => Promise<T>): Promise<T> {
  const Real = Date;
  class Skewed extends Real {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(Real.now() + skewMs);
      else super(...(args as [string]));
    }
    static override now(): number {
      return Real.now() + skewMs;
    }
  }
  globalThis.Date = Skewed as DateConstructor;
  try {
    return await fn();
  } finally {
    globalThis.Date = Real;
  }
}

for (const d of dialects) {
  describe(`the IMAP mailbox lease (${d.name})`, () => {
    const db = useStore(d.fresh);

    it("judges expiry by the database's clock: a node whose clock runs ahead takes no live lease and holds none past its TTL", async () => {
      const mb = await ensureMailbox(db.store, "support", "support@example.com");
      assert.equal(await acquireMailboxLease(db.store, mb.id, "a", 60_000), true);
      assert.equal(await withClockSkew(2 * HOUR, () => acquireMailboxLease(db.store, mb.id, "fast", 60_000)), false, "a node two hours ahead took a live lease");
      await releaseMailboxLease(db.store, mb.id, "a");
      assert.equal(await withClockSkew(2 * HOUR, () => acquireMailboxLease(db.store, mb.id, "fast", 300)), true);
      // The fast node stops renewing: after its 300 ms by the database's clock, another node takes over.
      await waitFor(() => acquireMailboxLease(db.store, mb.id, "b", 60_000), 10_000, "the fast node's lease to run out");
    });

    it("lets an intake transaction commit only while its owner holds the unexpired lease", async () => {
      const { mailbox, intake } = await testIntake(db.store);
      const held = (owner: string) => (em: EntityManager) => assertLeaseHeld(em, mailbox.id, owner);
      const message = (s: string) => [{ raw: Buffer.from(testMessage(s)), source: "imap", sourceRef: s }];
      assert.equal(await acquireMailboxLease(db.store, mailbox.id, "a", 60_000), true);
      assert.equal((await intake.ingest(mailbox, message("while held"), held("a")))[0]!.kind, "stored");
      await assert.rejects(intake.ingest(mailbox, message("not the owner"), held("b")), LeaseLostError);
      await releaseMailboxLease(db.store, mailbox.id, "a"); // expired now
      await assert.rejects(intake.ingest(mailbox, message("expired"), held("a")), LeaseLostError);
      assert.equal(await db.store.read((em) => em.getRepository("Message").count()), 1);
      assert.equal(await db.store.read((em) => em.getRepository("Quarantine").count()), 0, "a lost lease is not the message's fault");
    });

    it("a holder whose clock runs behind keeps its lease for its TTL", async () => {
      const mb = await ensureMailbox(db.store, "support", "support@example.com");
      assert.equal(await withClockSkew(-2 * HOUR, () => acquireMailboxLease(db.store, mb.id, "slow", 60_000)), true);
      assert.equal(await acquireMailboxLease(db.store, mb.id, "b", 60_000), false, "another node took a lease that has a minute to run");
    });
  });
}

/** `draftgate start --roles ingest` as a child process. */
const gateway = (configPath: string, url: string) =>
  runCli(["start", "--roles", "ingest"], { DATABASE_URL: url, DRAFTGATE_CONFIG: configPath, DRAFTGATE_IMAP__BATCH_SIZE: "5" });

describe("a stalled IMAP lease holder (MariaDB)", function () {
  this.timeout(300_000);
  let dovecot: Dovecot;
  let dir: string;

  before(async function () {
    // Runs in CI (MariaDB is there). Skipped only with DRAFTGATE_TEST_MYSQL=off, the documented switch for a
    // developer machine without MariaDB: the stalled-holder race is about several processes on MySQL.
    if (!mysqlEnabled) this.skip();
    dovecot = await startDovecot({ users: [{ user: "support", password: "secret" }] });
    dir = mkdtempSync(join(tmpdir(), "draftgate-lease-"));
  });
  after(async () => {
    await dovecot?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("commits nothing more once another node took the mailbox while it was paused (SIGSTOP past the TTL)", async () => {
    const TOTAL = 1500;
    const configPath = join(dir, "config.yaml");
    writeFileSync(configPath, imapTestConfigYaml(dovecot, "support", "secret")); // leaseSeconds: 3
    await dovecot.appendMany("support", "INBOX", Array.from({ length: TOTAL }, (_, i) => testMessage(`backlog ${i}`)));
    const db = await freshMysql();
    const migrate = await runCli(["migrate"], { DATABASE_URL: db.url });
    assert.equal(migrate.code, 0, migrate.stderr);
    const store = await Store.open(db.url);
    const count = () => store.read((em) => em.getRepository("Message").count());
    const checkpoint = () => store.read(async (em) => (await em.getRepository<ImapCheckpointRow>("ImapCheckpoint").findOneByOrFail({ folder: "INBOX" })).lastUid);
    const holder = gateway(configPath, db.url);
    // Listening from the start: the holder may say it lost the lease as soon as it runs again, which
    // can be at the first SIGCONT below (when it was paused inside its commit).
    let output = "";
    holder.child.stderr!.on("data", (d) => (output += d));
    holder.child.stdout!.on("data", (d) => (output += d));
    try {
      await waitFor(async () => (await count()) >= 100 || holder.child.exitCode !== null, 60_000, "the holder to be in its backlog");
      holder.child.kill("SIGSTOP");
      const mailbox = await ensureMailbox(store, "support", "support@example.com");
      await waitFor(
        async () => Number((await store.ds.query<{ n: number | string }[]>("SELECT COUNT(*) AS n FROM `mailbox_leases` WHERE `leaseUntil` < UTC_TIMESTAMP(3)"))[0]!.n) === 1,
        30_000,
        "the paused holder's lease to run out by the database's clock",
      );

      // Another node takes the mailbox. If the holder was paused inside its commit it holds the lease
      // row: the takeover then waits for that commit, so let the holder finish it.
      const takeover = acquireMailboxLease(store, mailbox.id, "other-node:1:test", 10 * 60_000);
      const first = await Promise.race([takeover, new Promise((r) => setTimeout(() => r("waiting"), 5000))]);
      if (first === "waiting") holder.child.kill("SIGCONT");
      assert.equal(await takeover, true, "the other node took the mailbox");
      const storedAtTakeover = await count();
      const checkpointAtTakeover = await checkpoint();
      assert.ok(storedAtTakeover < TOTAL);

      holder.child.kill("SIGCONT");
      await waitFor(() => /lost the mailbox lease/.test(output), 30_000, "the holder to notice it lost the lease");
      holder.child.kill("SIGTERM");
      const exit = await holder;
      assert.equal(exit.code, 0, exit.stderr);
      assert.equal(await count(), storedAtTakeover, "the old holder stored messages after the takeover");
      assert.equal(await checkpoint(), checkpointAtTakeover, "the old holder moved the checkpoint after the takeover");
    } finally {
      holder.child.kill("SIGCONT");
      holder.child.kill("SIGKILL");
      await holder.catch(() => undefined);
      await store.close();
      await db.drop();
    }
  });
});
