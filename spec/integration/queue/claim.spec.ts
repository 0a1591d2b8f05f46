import assert from "node:assert/strict";
import { claimJobs, completeJob, enqueueNewJobs, failJob, releaseJob, renewJobLease, retryDeadJob } from "../../../src/store/jobs.js";
import { dialects, useStore } from "../../support/db.js";
import { addJob, addMs, allJobs, clearJobs, getJob } from "./helpers.js";

const LEASE = 60_000;

for (const d of dialects) {
  describe(`job queue: claim and settle (${d.name})`, () => {
    const db = useStore(d.fresh, "all");
    beforeEach(() => clearJobs(db.store));

    const claim = (owner: string, extra: { types?: string[]; limit?: number; now?: Date } = {}) =>
      claimJobs(db.store, { types: extra.types ?? ["test"], owner, limit: extra.limit ?? 10, leaseMs: LEASE, now: extra.now });

    describe("claimJobs", () => {
      it("claims a due job: running, leased to the owner, attempt counted", async () => {
        const id = await addJob(db.store, { payload: { x: 1 } });
        const now = addMs(new Date(), 1);
        const [job, ...rest] = await claim("w1", { now });
        assert.equal(rest.length, 0);
        assert.equal(job!.id, id);
        assert.deepEqual(job!.payload, { x: 1 });
        assert.equal(job!.state, "running");
        assert.equal(job!.attempts, 1);
        assert.equal(job!.leaseOwner, "w1");
        assert.equal(job!.leaseUntil!.getTime(), now.getTime() + LEASE);
        const row = await getJob(db.store, id);
        assert.equal(row.state, "running");
        assert.equal(row.attempts, 1);
        assert.equal(row.leaseOwner, "w1");
        assert.equal(row.leaseUntil!.getTime(), now.getTime() + LEASE);
      });

      it("does not claim a job whose runAt is in the future until that time comes", async () => {
        const runAt = addMs(new Date(), 3_600_000);
        const id = await addJob(db.store, { runAt });
        assert.deepEqual(await claim("w1"), []);
        assert.deepEqual(await claim("w1", { now: addMs(runAt, -1) }), []);
        const claimed = await claim("w1", { now: runAt });
        assert.deepEqual(
          claimed.map((j) => j.id),
          [id],
        );
      });

      it("claims in priority order, lower first, then oldest runAt, then id", async () => {
        const t = new Date(Date.now() - 60_000);
        const p50 = await addJob(db.store, { priority: 50, runAt: t });
        const p0 = await addJob(db.store, { priority: 0, runAt: t });
        const p100late = await addJob(db.store, { priority: 100, runAt: addMs(t, 2) });
        const p100early = await addJob(db.store, { priority: 100, runAt: addMs(t, 1) });
        const p10a = await addJob(db.store, { priority: 10, runAt: t });
        const p10b = await addJob(db.store, { priority: 10, runAt: t });
        const claimed = await claim("w1");
        assert.deepEqual(
          claimed.map((j) => j.id),
          [p0, p10a, p10b, p50, p100early, p100late],
        );
      });

      it("claims no more than the limit, taking the most urgent first", async () => {
        const ids = [];
        for (const priority of [30, 20, 10, 40, 50]) ids.push(await addJob(db.store, { priority }));
        const first = await claim("w1", { limit: 2 });
        assert.deepEqual(
          first.map((j) => j.priority),
          [10, 20],
        );
        const second = await claim("w1", { limit: 2 });
        assert.deepEqual(
          second.map((j) => j.priority),
          [30, 40],
        );
        const third = await claim("w1", { limit: 2 });
        assert.deepEqual(
          third.map((j) => j.priority),
          [50],
        );
        assert.deepEqual(await claim("w1", { limit: 2 }), []);
        assert.deepEqual(await claim("w1", { limit: 0 }), []);
      });

      it("claims only the types asked for", async () => {
        const a = await addJob(db.store, { type: "triage" });
        await addJob(db.store, { type: "draft" });
        const c = await addJob(db.store, { type: "send" });
        const claimed = await claim("w1", { types: ["triage", "send"] });
        assert.deepEqual(claimed.map((j) => j.id).sort((x, y) => x - y), [a, c]);
        assert.deepEqual(await claim("w1", { types: [] }), []);
        assert.deepEqual(await claim("w1", { types: ["unknown"] }), []);
        const rows = await allJobs(db.store);
        assert.deepEqual(
          rows.map((r) => [r.type, r.state]),
          [
            ["triage", "running"],
            ["draft", "queued"],
            ["send", "running"],
          ],
        );
      });

      it("merges several types into one priority order (each type's queue walked apart)", async () => {
        const t = new Date(Date.now() - 60_000);
        const triage30 = await addJob(db.store, { type: "triage", priority: 30, runAt: t });
        const send5 = await addJob(db.store, { type: "send", priority: 5, runAt: addMs(t, 5) });
        const triage5 = await addJob(db.store, { type: "triage", priority: 5, runAt: t });
        const send20 = await addJob(db.store, { type: "send", priority: 20, runAt: t });
        await addJob(db.store, { type: "send", priority: 1, runAt: addMs(new Date(), 3_600_000) }); // not due
        const first = await claim("w1", { types: ["send", "triage"], limit: 3 });
        assert.deepEqual(
          first.map((j) => j.id),
          [triage5, send5, send20],
        );
        assert.deepEqual(
          (await claim("w1", { types: ["send", "triage"], limit: 3 })).map((j) => j.id),
          [triage30],
        );
      });

      it("finds its jobs behind a backlog of more urgent jobs of other types", async () => {
        // An outbound process next to a long LLM queue: the drafts are more urgent and not its to run.
        const backlog = Array.from({ length: 300 }, (_, i) => ({ type: "draft", payload: { i }, priority: 1, maxAttempts: 3 }));
        await db.store.tx((em) => enqueueNewJobs(em, backlog));
        const send = await addJob(db.store, { type: "send", priority: 50 });
        assert.deepEqual(
          (await claim("w1", { types: ["send", "record"], limit: 5 })).map((j) => j.id),
          [send],
        );
      });

      it("does not hand out a claimed job again while its lease holds", async () => {
        const id = await addJob(db.store);
        const t0 = addMs(new Date(), 1);
        assert.equal((await claim("w1", { now: t0 })).length, 1);
        assert.deepEqual(await claim("w2", { now: t0 }), []);
        assert.deepEqual(await claim("w2", { now: addMs(t0, LEASE / 2) }), []);
        assert.deepEqual(await claim("w2", { now: addMs(t0, LEASE) }), [], "the lease still holds at its last millisecond");
        const row = await getJob(db.store, id);
        assert.equal(row.leaseOwner, "w1");
        assert.equal(row.attempts, 1);
      });

      it("makes a job claimable again once its lease expired, counting another attempt", async () => {
        const id = await addJob(db.store, { maxAttempts: 3 });
        const t0 = addMs(new Date(), 1);
        await claim("w1", { now: t0 });
        const later = addMs(t0, LEASE + 1);
        const [job] = await claim("w2", { now: later });
        assert.equal(job?.id, id);
        assert.equal(job.attempts, 2);
        assert.equal(job.leaseOwner, "w2");
        assert.equal(job.leaseUntil!.getTime(), later.getTime() + LEASE);
        const row = await getJob(db.store, id);
        assert.equal(row.attempts, 2);
        assert.equal(row.leaseOwner, "w2");
      });

      it("dead-letters a job whose lease expired on its last attempt instead of running it again", async () => {
        const id = await addJob(db.store, { maxAttempts: 2 });
        const t0 = addMs(new Date(), 1);
        await claim("w1", { now: t0 });
        const t1 = addMs(t0, LEASE + 1);
        assert.equal((await claim("w2", { now: t1 }))[0]?.attempts, 2);
        const t2 = addMs(t1, LEASE + 1);
        assert.deepEqual(await claim("w3", { now: t2 }), []);
        const row = await getJob(db.store, id);
        assert.equal(row.state, "dead");
        assert.equal(row.attempts, 2);
        assert.equal(row.leaseOwner, null);
        assert.equal(row.leaseUntil, null);
        assert.match(row.lastError ?? "", /lease expired/);
        assert.deepEqual(await claim("w4", { now: addMs(t2, 10 * LEASE) }), [], "a dead job is never claimed");
      });
    });

    describe("lease ownership", () => {
      it("completeJob marks the job done for the lease owner", async () => {
        const id = await addJob(db.store);
        const [job] = await claim("w1");
        assert.equal(await completeJob(db.store, job!, "w1"), true);
        const row = await getJob(db.store, id);
        assert.equal(row.state, "done");
        assert.equal(row.leaseOwner, null);
        assert.equal(row.leaseUntil, null);
        assert.equal(row.attempts, 1);
        assert.deepEqual(await claim("w1", { now: addMs(new Date(), 10 * LEASE) }), [], "a done job is never claimed");
      });

      it("ignores completion, failure, release and renewal from an owner whose lease was stolen", async () => {
        const id = await addJob(db.store, { maxAttempts: 5 });
        const t0 = addMs(new Date(), 1);
        const [stale] = await claim("old", { now: t0 });
        const [current] = await claim("new", { now: addMs(t0, LEASE + 1) });
        assert.equal(current?.id, id);

        assert.equal(await completeJob(db.store, stale!, "old"), false);
        assert.equal(await failJob(db.store, stale!, "old", "boom", addMs(new Date(), 1000)), "lost");
        assert.equal(await failJob(db.store, stale!, "old", "boom", null), "lost");
        await releaseJob(db.store, stale!, "old");
        assert.equal(await renewJobLease(db.store, stale!, "old", LEASE), false);

        let row = await getJob(db.store, id);
        assert.equal(row.state, "running");
        assert.equal(row.leaseOwner, "new");
        assert.equal(row.attempts, 2);
        assert.equal(row.lastError, null);

        assert.equal(await renewJobLease(db.store, current, "new", LEASE), true);
        assert.equal(await completeJob(db.store, current, "new"), true);
        row = await getJob(db.store, id);
        assert.equal(row.state, "done");
        assert.equal(await completeJob(db.store, current, "new"), false, "a second completion is not applied");
      });

      it("renewJobLease pushes the lease forward for the owner", async () => {
        const past = new Date(Date.now() - 10 * LEASE);
        const id = await addJob(db.store, { runAt: past });
        const [job] = await claim("w1", { now: past });
        assert.equal(job?.id, id);
        assert.ok((await getJob(db.store, id)).leaseUntil!.getTime() < Date.now(), "the lease has run out");
        const before = Date.now();
        assert.equal(await renewJobLease(db.store, job, "w1", LEASE), true);
        const row = await getJob(db.store, id);
        assert.ok(row.leaseUntil!.getTime() >= before + LEASE);
        assert.deepEqual(await claim("w2"), [], "a renewed lease holds again");
      });

      it("releaseJob puts the job back in the queue at once without counting the attempt", async () => {
        const id = await addJob(db.store, { maxAttempts: 1 });
        const [job] = await claim("w1");
        await releaseJob(db.store, job!, "w1");
        const row = await getJob(db.store, id);
        assert.equal(row.state, "queued");
        assert.equal(row.attempts, 0);
        assert.equal(row.leaseOwner, null);
        const [again] = await claim("w2", { now: addMs(new Date(), 1) });
        assert.equal(again?.id, id, "the released job runs again even though it had a single attempt");
        assert.equal(again.attempts, 1);
      });
    });

    describe("failJob and retryDeadJob", () => {
      it("schedules a retry at the given time, keeping the error", async () => {
        const id = await addJob(db.store, { maxAttempts: 3 });
        const [job] = await claim("w1");
        const retryAt = addMs(new Date(), 5_000);
        assert.equal(await failJob(db.store, job!, "w1", "smtp said 451", retryAt), "retry");
        const row = await getJob(db.store, id);
        assert.equal(row.state, "queued");
        assert.equal(row.runAt.getTime(), retryAt.getTime());
        assert.equal(row.attempts, 1);
        assert.equal(row.leaseOwner, null);
        assert.equal(row.leaseUntil, null);
        assert.equal(row.lastError, "smtp said 451");
        assert.deepEqual(await claim("w1", { now: addMs(retryAt, -1) }), [], "not before its retry time");
        const [again] = await claim("w1", { now: retryAt });
        assert.equal(again?.id, id);
        assert.equal(again.attempts, 2);
      });

      it("dead-letters after maxAttempts even when a retry time is given", async () => {
        const id = await addJob(db.store, { maxAttempts: 3 });
        let now = addMs(new Date(), 1);
        const results: string[] = [];
        for (let i = 1; i <= 3; i++) {
          const [job] = await claim("w1", { now });
          assert.equal(job?.attempts, i);
          now = addMs(now, 1000);
          results.push(await failJob(db.store, job, "w1", `failure ${i}`, now));
        }
        assert.deepEqual(results, ["retry", "retry", "dead"]);
        const row = await getJob(db.store, id);
        assert.equal(row.state, "dead");
        assert.equal(row.attempts, 3);
        assert.equal(row.lastError, "failure 3");
        assert.equal(row.leaseOwner, null);
        assert.deepEqual(await claim("w1", { now: addMs(now, 10 * LEASE) }), []);
      });

      it("dead-letters at once when no retry time is given (a permanent failure)", async () => {
        const id = await addJob(db.store, { maxAttempts: 5 });
        const [job] = await claim("w1");
        assert.equal(await failJob(db.store, job!, "w1", "mailbox does not exist", null), "dead");
        const row = await getJob(db.store, id);
        assert.equal(row.state, "dead");
        assert.equal(row.attempts, 1);
        assert.equal(row.lastError, "mailbox does not exist");
      });

      it("keeps at most 4000 characters of the error", async () => {
        const id = await addJob(db.store);
        const [job] = await claim("w1");
        await failJob(db.store, job!, "w1", "x".repeat(10_000), null);
        assert.equal((await getJob(db.store, id)).lastError!.length, 4000);
      });

      it("retryDeadJob requeues a dead job with its attempts reset, and touches nothing else", async () => {
        const id = await addJob(db.store, { maxAttempts: 1 });
        const other = await addJob(db.store, { maxAttempts: 1 });
        const [job] = await claim("w1", { limit: 1 });
        assert.equal(job?.id, id);
        assert.equal(await failJob(db.store, job, "w1", "boom", addMs(new Date(), 1000)), "dead");

        assert.equal(await retryDeadJob(db.store, other), false, "a queued job is not dead");
        assert.equal(await retryDeadJob(db.store, id + other + 1000), false, "no such job");
        assert.equal(await retryDeadJob(db.store, id), true);
        const row = await getJob(db.store, id);
        assert.equal(row.state, "queued");
        assert.equal(row.attempts, 0);
        assert.equal(row.lastError, null);
        assert.equal(row.leaseOwner, null);
        assert.equal(await retryDeadJob(db.store, id), false, "it is no longer dead");

        const claimed = await claim("w2", { now: addMs(new Date(), 1) });
        assert.deepEqual(claimed.map((j) => [j.id, j.attempts]).sort((a, b) => a[0]! - b[0]!), [
          [id, 1],
          [other, 1],
        ]);
      });
    });
  });
}
