import assert from "node:assert/strict";
import { Intake } from "../../../src/pipeline/intake.js";
import { readBlob } from "../../../src/store/blobs.js";
import type { QuarantineRow } from "../../../src/store/entities/mail.js";
import { compose } from "../../support/compose.js";
import { dialects, useStore } from "../../support/db.js";
import { testIntake, testIntakeOptions } from "../../support/intake.js";

for (const d of dialects) {
  describe(`quarantine (${d.name})`, () => {
    const db = useStore(d.fresh);

    it("keeps oversized and unparseable input with raw bytes and reason, and stores the rest of the batch", async () => {
      const { ingest } = await testIntake(db.store, { maxMessageBytes: 4096 });
      const big = await compose({ messageId: "<big@example.org>", from: "a@example.org", to: "support@example.com", subject: "big", text: "x".repeat(10_000) });
      const good = await compose({ messageId: "<good@example.org>", from: "a@example.org", to: "support@example.com", subject: "good", text: "fine" });
      const junk = Buffer.from("\u0000\u0001 not mail at all");
      const out = await ingest([big, good, junk].map((raw, i) => ({ raw, source: "test", sourceRef: `item ${i}` })));
      assert.deepEqual(out.map((o) => o.kind), ["quarantined", "stored", "quarantined"]);
      const rows = await db.store.read((em) => em.getRepository<QuarantineRow>("Quarantine").find({ order: { id: "ASC" } }));
      assert.deepEqual(rows.map((r) => [r.errorCode, r.sourceRef, r.status]), [["ETOOBIG", "item 0", "open"], ["EPARSE", "item 2", "open"]]);
      assert.match(rows[0]!.reason, /over ingest\.maxMessageBytes/);
      assert.deepEqual(await db.store.read((em) => readBlob(em, rows[0]!.blobId)), big);
      assert.deepEqual(await db.store.read((em) => readBlob(em, rows[1]!.blobId)), junk);
    });

    it("stores raw bytes larger than a MariaDB packet chunk intact", async () => {
      const { ingest } = await testIntake(db.store);
      const attachment = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      const raw = await compose({ messageId: "<att@example.org>", from: "a@example.org", to: "support@example.com", subject: "file", text: "see file", attachments: [{ filename: "x.bin", content: attachment }] });
      const [o] = await ingest([{ raw, source: "test", sourceRef: null }]);
      assert.equal(o!.kind, "stored");
      const back = await db.store.read(async (em) => {
        const a = await em.getRepository("Attachment").findOneByOrFail({ filename: "x.bin" });
        return readBlob(em, (a as { blobId: number }).blobId);
      });
      assert.ok(back.equals(attachment));
    });

    it("retries a quarantined message: stored once the limit allows it, still open with a new reason otherwise", async () => {
      const { ingest } = await testIntake(db.store, { maxMessageBytes: 1024 });
      const big = await compose({ messageId: "<retry@example.org>", from: "a@example.org", to: "support@example.com", subject: "big", text: "y".repeat(5000) });
      const [q] = await ingest([{ raw: big, source: "test", sourceRef: "r" }]);
      assert.equal(q!.kind, "quarantined");
      const id = (q as { quarantineId: number }).quarantineId;

      const still = await new Intake(db.store, { ...testIntakeOptions, maxMessageBytes: 2048 }).retryQuarantined(id);
      assert.equal(still.kind, "quarantined");
      assert.equal((await db.store.read((em) => em.getRepository<QuarantineRow>("Quarantine").findOneByOrFail({ id }))).status, "open");

      const done = await new Intake(db.store, testIntakeOptions).retryQuarantined(id);
      assert.equal(done.kind, "stored");
      const row = await db.store.read((em) => em.getRepository<QuarantineRow>("Quarantine").findOneByOrFail({ id }));
      assert.equal(row.status, "retried");
      assert.ok(row.resolvedAt);
      await assert.rejects(new Intake(db.store, testIntakeOptions).retryQuarantined(id), /already retried/);
    });
  });
}
