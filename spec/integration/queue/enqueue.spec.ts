import assert from "node:assert/strict";
import { enqueueJob } from "../../../src/store/jobs.js";
import { dialects, useStore } from "../../support/db.js";
import { addJob, clearJobs, countJobs, eventually, getJob } from "./helpers.js";

for (const d of dialects) {
  describe(`job queue: enqueue (${d.name})`, () => {
    const db = useStore(d.fresh, "all");
    beforeEach(() => clearJobs(db.store));

    it("stores a queued job with its payload, default priority 100 and no attempts yet", async () => {
      const before = Date.now();
      const id = await addJob(db.store, { type: "triage", payload: { messageId: 42, tags: ["a", "b"] }, maxAttempts: 4 });
      const job = await getJob(db.store, id);
      assert.equal(job.type, "triage");
      assert.deepEqual(job.payload, { messageId: 42, tags: ["a", "b"] });
      assert.equal(job.state, "queued");
      assert.equal(job.priority, 100);
      assert.equal(job.attempts, 0);
      assert.equal(job.maxAttempts, 4);
      assert.equal(job.leaseOwner, null);
      assert.equal(job.uniqueKey, null);
      assert.ok(job.runAt.getTime() >= before - 1000 && job.runAt.getTime() <= Date.now() + 1000, "runAt defaults to now");
    });

    it("keeps the runAt and priority it is given (to the millisecond)", async () => {
      const runAt = new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 123));
      const id = await addJob(db.store, { priority: 7, runAt });
      const job = await getJob(db.store, id);
      assert.equal(job.priority, 7);
      assert.equal(job.runAt.getTime(), runAt.getTime());
    });

    it("leaves no job when the enqueuing transaction rolls back", async () => {
      await assert.rejects(
        db.store.tx(async (em) => {
          const id = await enqueueJob(em, { type: "triage", payload: { n: 1 }, maxAttempts: 3, uniqueKey: "rollback:1" });
          assert.ok(typeof id === "number");
          throw new Error("the intake failed after enqueueing");
        }),
        /the intake failed/,
      );
      assert.equal(await countJobs(db.store), 0);
      // The key of a rolled-back job is free again.
      const id = await db.store.tx((em) => enqueueJob(em, { type: "triage", payload: {}, maxAttempts: 3, uniqueKey: "rollback:1" }));
      assert.ok(typeof id === "number");
    });

    it("makes a second enqueue with the same uniqueKey a no-op that returns null", async () => {
      const first = await db.store.tx((em) => enqueueJob(em, { type: "triage", payload: { v: 1 }, maxAttempts: 3, uniqueKey: "triage:message:1" }));
      const second = await db.store.tx((em) => enqueueJob(em, { type: "triage", payload: { v: 2 }, maxAttempts: 3, uniqueKey: "triage:message:1" }));
      assert.ok(typeof first === "number");
      assert.equal(second, null);
      assert.equal(await countJobs(db.store), 1);
      assert.deepEqual((await getJob(db.store, first)).payload, { v: 1 }, "the first job is left untouched");
    });

    it("dedupes a uniqueKey inside one transaction too", async () => {
      const [a, b] = await db.store.tx(async (em) => [
        await enqueueJob(em, { type: "t", payload: {}, maxAttempts: 1, uniqueKey: "k" }),
        await enqueueJob(em, { type: "t", payload: {}, maxAttempts: 1, uniqueKey: "k" }),
      ]);
      assert.ok(typeof a === "number");
      assert.equal(b, null);
      assert.equal(await countJobs(db.store), 1);
    });

    it("dedupes a uniqueKey forever, even after the first job finished", async () => {
      const id = await addJob(db.store, { uniqueKey: "once" });
      await db.store.tx((em) => em.getRepository("Job").update({ id }, { state: "done" }));
      const again = await db.store.tx((em) => enqueueJob(em, { type: "test", payload: {}, maxAttempts: 3, uniqueKey: "once" }));
      assert.equal(again, null);
      assert.equal(await countJobs(db.store), 1);
    });

    it("lets jobs without a uniqueKey repeat", async () => {
      await addJob(db.store);
      await addJob(db.store);
      assert.equal(await countJobs(db.store), 2);
    });

    if (d.name === "mysql") {
      it("makes a concurrent second enqueue of the same uniqueKey a no-op too (no duplicate-key error)", async () => {
        let commitFirst!: () => void;
        const gate = new Promise<void>((resolve) => (commitFirst = resolve));
        let firstInserted!: () => void;
        const inserted = new Promise<void>((resolve) => (firstInserted = resolve));
        const first = db.store.tx(async (em) => {
          const id = await enqueueJob(em, { type: "t", payload: { n: 1 }, maxAttempts: 1, uniqueKey: "race" });
          firstInserted();
          await gate;
          return id;
        });
        await inserted;
        const second = db.store.tx((em) => enqueueJob(em, { type: "t", payload: { n: 2 }, maxAttempts: 1, uniqueKey: "race" }));
        const secondOutcome = second.then(
          (v) => ({ ok: true as const, v }),
          (err: unknown) => ({ ok: false as const, err }),
        );
        // Let the second transaction reach the point where it waits on the first one's row, then commit the first.
        // (InnoDB refreshes INNODB_TRX only when it was not read in the last 100 ms: poll slower than that.)
        await eventually(async () => {
          const rows: { n: number | string }[] = await db.store.ds.query(
            "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'",
          );
          return Number(rows[0]?.n) > 0;
        }, 5000, 150);
        commitFirst();
        const firstId = await first;
        const out = await secondOutcome;
        assert.ok(typeof firstId === "number");
        assert.ok(out.ok, `the second enqueue failed instead of being a no-op: ${out.ok ? "" : String((out.err as Error).message)}`);
        assert.equal(out.v, null);
        assert.equal(await countJobs(db.store), 1);
      });
    }
  });
}
