import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailboxPoller } from "../../../src/ingest/imap/poller.js";
import { Intake } from "../../../src/pipeline/intake.js";
import type { AttachmentRow, QuarantineRow } from "../../../src/store/entities/mail.js";
import type { Store } from "../../../src/store/store.js";
import { runCli, waitFor } from "../../support/cli.js";
import { compose } from "../../support/compose.js";
import { dialects, freshSqlite, useStore } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { imapTestConfig, imapTestConfigYaml, startPoller, subjectsIn, testMessage } from "../../support/imap.js";
import { testIntake, testIntakeOptions } from "../../support/intake.js";

const quarantineRows = (store: Store) => store.read((em) => em.getRepository<QuarantineRow>("Quarantine").find({ order: { id: "ASC" } }));
const messageCount = (store: Store) => store.read((em) => em.getRepository("Message").count());
const attachments = (store: Store) => store.read((em) => em.getRepository<AttachmentRow>("Attachment").find());

/** A message with a 120 kB attachment: whatever is cut off of it shows in the stored attachment. */
const withAttachment = (subject: string) =>
  compose({
    messageId: `<${subject.replace(/\W+/g, "-")}.${Date.now()}@customers.example>`,
    from: "Ann Example <ann@customers.example>",
    to: "support@example.com",
    subject,
    text: "The report is attached.",
    attachments: [{ filename: "report.bin", content: Buffer.alloc(120_000, 0x61) }],
  });

for (const d of dialects) {
  describe(`a quarantined head of an oversized message (${d.name})`, () => {
    const db = useStore(d.fresh);

    async function quarantineHead(): Promise<{ id: number; whole: Buffer }> {
      const { ingest } = await testIntake(db.store, { maxMessageBytes: 4096 });
      const whole = await withAttachment("big report");
      const [o] = await ingest([{ raw: whole.subarray(0, 4096), source: "imap", sourceRef: "imap:support/INBOX;UIDVALIDITY=5;UID=9", declaredSize: whole.length }]);
      assert.equal(o!.kind, "quarantined");
      return { id: (o as { quarantineId: number }).quarantineId, whole };
    }

    it("keeps the declared size on the quarantine row", async () => {
      const { whole } = await quarantineHead();
      const [row] = await quarantineRows(db.store);
      assert.equal(row!.size, 4096);
      assert.equal(row!.declaredSize, whole.length);
    });

    it("is never stored as the message: a retry without the source refuses and leaves the entry open", async () => {
      const { id } = await quarantineHead();
      const raised = new Intake(db.store, testIntakeOptions);
      await assert.rejects(raised.retryQuarantined(id), /holds only the first 4096 of \d+ bytes.*fetched again from imap:support\/INBOX;UIDVALIDITY=5;UID=9/);
      assert.equal(await messageCount(db.store), 0);
      assert.equal((await quarantineRows(db.store))[0]!.status, "open");
    });

    it("is stored whole when the source gives the whole message again, and refused when it gives other bytes", async () => {
      const { id, whole } = await quarantineHead();
      const raised = new Intake(db.store, testIntakeOptions);
      const other = await withAttachment("something else");
      await assert.rejects(raised.retryQuarantined(id, { refetch: async () => other }), /not the message that was quarantined/);
      assert.equal(await messageCount(db.store), 0);

      const out = await raised.retryQuarantined(id, { refetch: async () => whole });
      assert.equal(out.kind, "stored");
      const [a] = await attachments(db.store);
      assert.equal(a!.size, 120_000, "the attachment is whole");
      assert.equal((await quarantineRows(db.store))[0]!.status, "retried");
    });

    it("stays open, without a fetch, while the message is still over the limit", async () => {
      const { id } = await quarantineHead();
      let fetched = 0;
      const out = await new Intake(db.store, { ...testIntakeOptions, maxMessageBytes: 8192 }).retryQuarantined(id, { refetch: async () => (fetched++, Buffer.alloc(0)) });
      assert.equal(out.kind, "quarantined");
      assert.match((out as { reason: string }).reason, /over ingest\.maxMessageBytes \(8192\)/);
      assert.equal(fetched, 0);
      assert.equal(await messageCount(db.store), 0);
    });
  });
}

describe("draftgate quarantine retry of an oversized IMAP message", function () {
  this.timeout(180_000);
  let dovecot: Dovecot;
  let dir: string;
  let configPath: string;
  const db = useStore(freshSqlite);
  let running: MailboxPoller[] = [];

  before(async () => {
    dovecot = await startDovecot({ users: [{ user: "support", password: "secret" }] });
    dir = mkdtempSync(join(tmpdir(), "draftgate-qretry-"));
    configPath = join(dir, "config.yaml");
    writeFileSync(configPath, imapTestConfigYaml(dovecot, "support", "secret", "ingest: { maxMessageBytes: 50000 }\n"));
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

  /** A gateway with moveTo takes INBOX: one message stored and moved, the big one quarantined. */
  async function ingestWithBigOne(): Promise<QuarantineRow> {
    await dovecot.appendMany("support", "INBOX", [testMessage("small"), await withAttachment("big report")]);
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret", moveTo: "Processed" }], { ingest: { maxMessageBytes: 50_000 } });
    const p = await startPoller(db.store, config);
    await waitFor(async () => (await subjectsIn(dovecot, "support", "Processed")).length >= 1 && (await quarantineRows(db.store)).length === 1, 20_000, "the sync");
    await p.stop();
    return (await quarantineRows(db.store))[0]!;
  }

  const retry = (id: number, env: Record<string, string> = {}) =>
    runCli(["quarantine", "retry", String(id), "--json"], { DATABASE_URL: db.db.url, DRAFTGATE_CONFIG: configPath, ...env });

  it("refetches the whole message from its folder once the limit allows it, and never stores the head", async () => {
    const q = await ingestWithBigOne();
    assert.equal(q.errorCode, "ETOOBIG");
    assert.deepEqual(await subjectsIn(dovecot, "support", "INBOX"), ["big report"], "the quarantined message is still where its reason says");

    const still = await retry(q.id);
    assert.equal(still.code, 1, still.stdout + still.stderr);
    assert.equal(JSON.parse(still.stdout)[0].outcome, "quarantined", still.stdout);
    assert.equal(await messageCount(db.store), 1);

    const done = await retry(q.id, { DRAFTGATE_INGEST__MAX_MESSAGE_BYTES: "1000000" });
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.equal(JSON.parse(done.stdout)[0].outcome, "stored", done.stdout);
    const [a] = await attachments(db.store);
    assert.equal(a!.size, 120_000, "the attachment is whole");
    assert.equal((await quarantineRows(db.store))[0]!.status, "retried");
  });

  it("refuses clearly when the message is no longer at its source", async () => {
    const q = await ingestWithBigOne();
    await dovecot.recreateFolder("support", "INBOX");
    const out = await retry(q.id, { DRAFTGATE_INGEST__MAX_MESSAGE_BYTES: "1000000" });
    assert.equal(out.code, 1);
    const [r] = JSON.parse(out.stdout);
    assert.equal(r.outcome, "error");
    assert.match(r.detail, /UIDVALIDITY|no longer/);
    assert.equal(await messageCount(db.store), 1);
    assert.equal((await quarantineRows(db.store))[0]!.status, "open");
  });
});
