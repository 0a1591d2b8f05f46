import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import { Store } from "../../../src/store/store.js";
import { runCli, waitFor } from "../../support/cli.js";
import { compose } from "../../support/compose.js";
import { dialects } from "../../support/db.js";

const COUNT = 1500;

/** An mbox of COUNT distinct messages, some without a Message-ID (deduplicated by content). */
async function writeMbox(dir: string): Promise<string> {
  const parts: Buffer[] = [];
  for (let i = 0; i < COUNT; i++) {
    const raw = await compose({
      messageId: i % 10 === 3 ? undefined : `<bulk-${i}@customers.example>`,
      from: `customer${i % 97}@customers.example`,
      to: "support@example.com",
      subject: `Question number ${i}`,
      date: new Date(Date.UTC(2026, 0, 1, 0, i)),
      text: `Hello,\n\nthis is question ${i}.\n${"Some more words to make it realistic. ".repeat(40)}\n`,
    });
    // nodemailer adds a Message-ID when none is given; drop it to exercise content deduplication.
    const bytes = i % 10 === 3 ? Buffer.from(raw.toString("latin1").replace(/^Message-ID: .*\r\n/m, ""), "latin1") : raw;
    parts.push(Buffer.from(`From customer${i}@customers.example Thu Jan  1 00:00:00 2026\n`), bytes, Buffer.from("\n"));
  }
  const path = join(dir, "bulk.mbox");
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

for (const d of dialects) {
  describe(`draftgate import killed with SIGKILL half way (${d.name})`, function () {
    this.timeout(300_000);
    let dir: string;
    let mbox: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "draftgate-crash-"));
      mbox = await writeMbox(dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("stores every message exactly once after the same import runs again", async () => {
      const db = await d.fresh();
      const store = await Store.open(db.url);
      const env = { DATABASE_URL: db.url, DRAFTGATE_INGEST__BATCH_SIZE: "20" };
      const count = () => store.read((em) => em.getRepository("Message").count()).catch(() => 0);
      try {
        const first = runCli(["import", "--mailbox", "support", "--json", mbox], env);
        await waitFor(async () => (await count()) >= 200 || first.child.exitCode !== null, 120_000, "200 messages stored");
        first.child.kill("SIGKILL");
        const killed = await first;
        assert.equal(killed.signal, "SIGKILL", `import finished before it could be killed: ${killed.stdout}${killed.stderr}`);
        const partial = await count();
        assert.ok(partial > 0 && partial < COUNT, `killed after ${partial} messages`);

        const second = await runCli(["import", "--mailbox", "support", "--json", mbox], env);
        assert.equal(second.code, 0, second.stderr);
        const summary = JSON.parse(second.stdout.trim().split("\n").pop()!);
        assert.equal(summary.messages, COUNT);
        assert.equal(summary.stored + summary.duplicate, COUNT);
        assert.equal(summary.duplicate, partial);

        const rows = await store.read((em) => em.getRepository<MessageRow>("Message").find({ select: { id: true, messageId: true, subject: true } }));
        assert.equal(rows.length, COUNT);
        assert.equal(new Set(rows.map((r) => r.subject)).size, COUNT, "every message exactly once");
        const jobs = await store.read((em) => em.getRepository("Job").count());
        assert.equal(jobs, COUNT, "one triage job per message, none twice");
      } finally {
        await store.close();
        await db.drop();
      }
    });
  });
}
