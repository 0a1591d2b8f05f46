import assert from "node:assert/strict";
import { pino } from "pino";
import { claimJobs, enqueueJob } from "../../../src/store/jobs.js";
import { Worker } from "../../../src/queue/worker.js";
import type { JobRow } from "../../../src/store/entities/work.js";
import { Store } from "../../../src/store/store.js";
import { dialects, useStore } from "../../support/db.js";
import { allJobs, clearJobs, waitFor } from "./helpers.js";

// SQLite has one writer (Store.tx serializes claims); concurrent claimers only exist on MySQL.
for (const d of dialects.filter((x) => x.name === "mysql")) {
  describe(`job queue: concurrent claimers (${d.name})`, () => {
    const db = useStore(d.fresh, "all");
    let other: Store;
    before(async () => {
      other = await Store.open(db.db.url);
    });
    after(async () => {
      await other?.close();
    });
    beforeEach(() => clearJobs(db.store));

    async function enqueueMany(n: number): Promise<number[]> {
      return db.store.tx(async (em) => {
        const ids: number[] = [];
        for (let i = 0; i < n; i++) {
          ids.push((await enqueueJob(em, { type: "test", payload: { i }, priority: i % 5, maxAttempts: 3 }))!);
        }
        return ids;
      });
    }

    it("two stores claiming at the same time never get the same job and together claim every job exactly once", async () => {
      const ids = await enqueueMany(200);
      const claimedBy = new Map<number, string[]>();
      const record = (owner: string, jobs: JobRow[]) => {
        for (const j of jobs) claimedBy.set(j.id, [...(claimedBy.get(j.id) ?? []), owner]);
      };
      let rounds = 0;
      for (;;) {
        rounds++;
        assert.ok(rounds <= 200, "claiming did not finish");
        const [a, b] = await Promise.all([
          claimJobs(db.store, { types: ["test"], owner: "a", limit: 7, leaseMs: 60_000 }),
          claimJobs(other, { types: ["test"], owner: "b", limit: 7, leaseMs: 60_000 }),
        ]);
        assert.ok(a.length <= 7 && b.length <= 7);
        const inRound = new Set(a.map((j) => j.id));
        for (const j of b) assert.ok(!inRound.has(j.id), `job ${j.id} was claimed by both stores in round ${rounds}`);
        record("a", a);
        record("b", b);
        if (a.length === 0 && b.length === 0) break;
      }
      const duplicates = [...claimedBy].filter(([, owners]) => owners.length > 1);
      assert.deepEqual(duplicates, [], "no job is claimed twice");
      const missing = ids.filter((id) => !claimedBy.has(id));
      assert.deepEqual(missing, [], "every job is claimed");
      assert.equal(claimedBy.size, 200);

      const rows = await allJobs(db.store);
      for (const row of rows) {
        assert.equal(row.state, "running");
        assert.equal(row.attempts, 1, `job ${row.id} was claimed once`);
        assert.equal(row.leaseOwner, claimedBy.get(row.id)![0], `job ${row.id} is leased to the store that claimed it`);
      }
      const byA = rows.filter((r) => r.leaseOwner === "a").length;
      const byB = rows.filter((r) => r.leaseOwner === "b").length;
      assert.equal(byA + byB, 200);
    });

    it("many overlapping claims from both stores still hand each job out once", async () => {
      const ids = await enqueueMany(120);
      const seen: number[] = [];
      let rounds = 0;
      for (;;) {
        rounds++;
        assert.ok(rounds <= 200, "claiming did not finish");
        const batches = await Promise.all(
          [db.store, other, db.store, other].map((s, i) => claimJobs(s, { types: ["test"], owner: `w${i}`, limit: 5, leaseMs: 60_000 })),
        );
        const got = batches.flat();
        seen.push(...got.map((j) => j.id));
        if (got.length === 0) break;
      }
      assert.equal(new Set(seen).size, seen.length, "no duplicates");
      assert.deepEqual(
        [...seen].sort((x, y) => x - y),
        ids,
      );
    });

    it("workers on two stores run every job exactly once, with no claim or completion errors (no deadlocks)", async () => {
      // Deadlocks between claimers are timing-dependent: run a few rounds and stop at the first error.
      const errors: string[] = [];
      const errorLog = pino({ level: "warn" }, {
        write: (line: string) => {
          const e = JSON.parse(line) as { msg?: string; err?: { message?: string } };
          errors.push(`${e.msg}: ${e.err?.message ?? ""}`);
        },
      });
      for (let round = 1; round <= 4 && errors.length === 0; round++) {
        await clearJobs(db.store);
        const ids = await enqueueMany(150);
        const runs = new Map<number, number>();
        const handler = async (job: JobRow) => {
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          await new Promise((resolve) => setImmediate(resolve));
        };
        const options = { concurrency: 2, leaseMs: 30_000, pollIntervalMs: 10, backoffBaseMs: 10, backoffMaxMs: 50, graceMs: 1000 };
        // Two workers per store, the way several processes (or roles) share one database.
        const workers = [db.store, other, db.store, other].map(
          (store, i) => new Worker(store, { test: handler }, { ...options, owner: `w${i}` }, errorLog),
        );
        for (const w of workers) w.start();
        try {
          await waitFor(async () => (await allJobs(db.store)).every((j) => j.state === "done"), 20_000, `all jobs done (round ${round})`);
        } finally {
          await Promise.all(workers.map((w) => w.stop()));
        }
        assert.deepEqual([...runs.keys()].sort((x, y) => x - y), ids);
        assert.deepEqual([...runs].filter(([, n]) => n !== 1), [], "each job ran once");
        for (const row of await allJobs(db.store)) assert.equal(row.attempts, 1);
      }
      assert.deepEqual(errors, [], "no claim or completion failed (e.g. a deadlock)");
    });
  });
}
