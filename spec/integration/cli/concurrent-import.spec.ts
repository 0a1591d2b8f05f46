import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AttachmentRow, BlobRow, MessageRow, QuarantineRow } from "../../../src/store/entities/mail.js";
import type { JobRow } from "../../../src/store/entities/work.js";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import { Store } from "../../../src/store/store.js";
import { runCli, type CliResult } from "../../support/cli.js";
import { compose } from "../../support/compose.js";
import { dialects } from "../../support/db.js";

const COUNT = 300;
/** A few files attached over and over: every batch of either process stores or reuses the same blobs. */
const SHARED = [0, 1, 2, 3].map((i) => ({ filename: `terms-${i}.pdf`, content: Buffer.alloc(16 * 1024 + i, 65 + i) }));

async function writeMbox(dir: string): Promise<string> {
  const parts: Buffer[] = [];
  for (let i = 0; i < COUNT; i++) {
    const raw = await compose({
      messageId: `<overlap-${i}@customers.example>`,
      from: `customer${i % 41}@customers.example`,
      to: "support@example.com",
      subject: `Overlapping question ${i}`,
      date: new Date(Date.UTC(2026, 0, 1, 0, i)),
      text: `Hello,\n\nquestion ${i}, see the attached terms.\n`,
      attachments: [SHARED[i % SHARED.length]!, ...(i % 3 === 0 ? [SHARED[(i + 1) % SHARED.length]!] : [])],
    });
    parts.push(Buffer.from(`From customer${i}@customers.example Thu Jan  1 00:00:00 2026\n`), raw, Buffer.from("\n"));
  }
  const path = join(dir, "overlap.mbox");
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

function summaryOf(r: CliResult): { messages: number; stored: number; duplicate: number; quarantined: number } {
  assert.equal(r.code, 0, `import failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

for (const d of dialects) {
  describe(`two draftgate import processes on the same mail at once (${d.name})`, function () {
    this.timeout(300_000);
    let dir: string;
    let mbox: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "draftgate-overlap-"));
      mbox = await writeMbox(dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** A migrated database with the mailboxes in it (as next to a running gateway), and both imports run at once. */
    async function importTwice(mailboxes: [string, string]) {
      const db = await d.fresh();
      const store = await Store.open(db.url);
      try {
        await store.migrate();
        for (const name of new Set(mailboxes)) await ensureMailbox(store, name, null);
        // Small batches: many transactions of the two processes interleave on the same keys and blobs.
        const env = { DATABASE_URL: db.url, DRAFTGATE_INGEST__BATCH_SIZE: "10" };
        const results = await Promise.all(mailboxes.map((m) => runCli(["import", "--mailbox", m, "--json", mbox], env)));
        const summaries = results.map(summaryOf);
        const rows = await store.read(async (em) => ({
          quarantine: await em.getRepository<QuarantineRow>("Quarantine").find(),
          messages: await em.getRepository<MessageRow>("Message").find({ select: { id: true, mailboxId: true, messageId: true } }),
          attachments: await em.getRepository<AttachmentRow>("Attachment").find({ select: { id: true, messageRowId: true, sha256: true } }),
          blobs: await em.getRepository<BlobRow>("Blob").find({ select: { id: true, sha256: true } }),
          jobs: await em.getRepository<JobRow>("Job").find({ select: { id: true, uniqueKey: true } }),
        }));
        return { summaries, ...rows };
      } finally {
        await store.close();
        await db.drop();
      }
    }

    it("into the same mailbox: every message stored once, nothing quarantined", async () => {
      const r = await importTwice(["support", "support"]);
      assert.deepEqual(r.quarantine.map((q) => [q.errorCode, q.reason]), [], "nothing in quarantine");
      assert.deepEqual(r.summaries.map((s) => s.quarantined), [0, 0]);
      assert.deepEqual(r.summaries.map((s) => s.stored + s.duplicate), [COUNT, COUNT]);
      assert.equal(r.summaries[0]!.stored + r.summaries[1]!.stored, COUNT, "each message stored by one of the two");
      assert.equal(r.messages.length, COUNT);
      assert.equal(new Set(r.messages.map((m) => m.messageId)).size, COUNT, "nothing twice");
      assert.equal(r.jobs.length, COUNT, "one triage job per message");
      const perMessage = COUNT + Math.ceil(COUNT / 3);
      assert.equal(r.attachments.length, perMessage, "attachments written once per message");
      assert.equal(r.blobs.length, COUNT + SHARED.length, "raw messages and the shared attachments, each once");
    });

    it("into two mailboxes that share every attachment and raw blob: both complete, nothing quarantined", async () => {
      const r = await importTwice(["support", "billing"]);
      assert.deepEqual(r.quarantine.map((q) => [q.errorCode, q.reason]), [], "nothing in quarantine");
      assert.deepEqual(r.summaries.map((s) => [s.stored, s.duplicate, s.quarantined]), [[COUNT, 0, 0], [COUNT, 0, 0]]);
      assert.equal(r.messages.length, 2 * COUNT);
      for (const mailboxId of new Set(r.messages.map((m) => m.mailboxId))) {
        const mine = r.messages.filter((m) => m.mailboxId === mailboxId);
        assert.equal(new Set(mine.map((m) => m.messageId)).size, COUNT, `mailbox ${mailboxId}: every message once`);
      }
      assert.equal(r.jobs.length, 2 * COUNT);
      assert.equal(r.blobs.length, COUNT + SHARED.length, "blobs are shared between the mailboxes, each stored once");
    });
  });
}
