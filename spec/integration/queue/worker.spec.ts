import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import type { JobRow } from "../../../src/store/entities/work.js";
import { claimJobs } from "../../../src/store/jobs.js";
import { Worker, type JobHandler, type WorkerOptions } from "../../../src/queue/worker.js";
import type { Store } from "../../../src/store/store.js";
import { dialects, useStore } from "../../support/db.js";
import { addJob, allJobs, clearJobs, getJob, log, sleep, waitFor } from "./helpers.js";

const FAST: WorkerOptions = {
  concurrency: 2,
  leaseMs: 30_000,
  pollIntervalMs: 20,
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  graceMs: 5_000,
};

/** A promise with its resolve function, for handlers the test releases by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A logger whose JSON lines the test can read. */
function capturingLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  let out = "";
  const sink = new Writable({ write: (chunk, _enc, cb) => ((out += String(chunk)), cb()) });
  const lines = () =>
    out
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log: pino({ level: "info" }, sink), lines };
}

/** Lets every pending microtask and I/O callback that is already due run (one turn of the event loop). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves when the signal aborts; rejects with its reason like a well-behaved handler would. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    // An AbortSignal's reason is an Error unless the caller passed something else (none here does).
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) abort();
    signal.addEventListener("abort", abort, { once: true });
  });
}

for (const d of dialects) {
  describe(`job queue: worker (${d.name})`, () => {
    const workers: Worker[] = [];
    const db = useStore(d.fresh, "all");
    beforeEach(() => clearJobs(db.store));
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
    });

    function worker(handlers: Record<string, JobHandler>, options: Partial<WorkerOptions> = {}, using: { logger?: Logger; store?: Store } = {}): Worker {
      const w = new Worker(using.store ?? db.store, handlers, { ...FAST, ...options }, using.logger ?? log);
      workers.push(w);
      w.start();
      return w;
    }

    const stateOf = async (id: number) => (await getJob(db.store, id)).state;

    it("runs queued jobs to done, handing each handler its job", async () => {
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await addJob(db.store, { payload: { i } }));
      const seen: unknown[] = [];
      worker({
        test: async (job) => {
          seen.push(job.payload.i);
          assert.equal(job.state, "running");
          assert.equal(job.attempts, 1);
        },
      });
      await waitFor(async () => (await allJobs(db.store)).every((j) => j.state === "done"), 10_000, "all jobs done");
      assert.deepEqual(
        [...seen].sort(),
        [0, 1, 2, 3, 4],
      );
      for (const row of await allJobs(db.store)) {
        assert.equal(row.attempts, 1);
        assert.equal(row.leaseOwner, null);
        assert.equal(row.lastError, null);
      }
    });

    it("records a skipped outcome as done, with the skip reason in the log", async () => {
      const id = await addJob(db.store);
      const captured = capturingLogger();
      const w = worker({ test: async () => ({ status: "skipped", reason: "nothing to do" }) }, {}, { logger: captured.log });
      // The worker lets go of a job only after recording its outcome.
      await waitFor(async () => (await stateOf(id)) === "done" && w.activeJobs === 0, 10_000, "job done and let go");
      assert.deepEqual(
        captured.lines().filter((l) => l.msg === "job skipped").map((l) => ({ job: l.job, type: l.type, reason: l.reason, level: l.level })),
        [{ job: id, type: "test", reason: "nothing to do", level: 30 }],
      );
      const row = await getJob(db.store, id);
      assert.equal(row.state, "done", "a skip is not a failure: it is not retried");
      assert.equal(row.attempts, 1);
      assert.equal(row.lastError, null);
      assert.equal(row.leaseOwner, null);
    });

    it("claims only the job types it has handlers for", async () => {
      const mine = await addJob(db.store, { type: "mine" });
      const theirs = await addJob(db.store, { type: "theirs", priority: 0 });
      worker({ mine: async () => undefined });
      await waitFor(async () => (await stateOf(mine)) === "done", 10_000, "own job done");
      const other = await getJob(db.store, theirs);
      assert.equal(other.state, "queued");
      assert.equal(other.attempts, 0);
    });

    it("retries a handler that throws with backoff and dead-letters it after maxAttempts with the error recorded", async () => {
      const id = await addJob(db.store, { maxAttempts: 3 });
      const attempts: number[] = [];
      worker({
        test: async (job) => {
          attempts.push(job.attempts);
          throw new Error(`kaput on attempt ${job.attempts}`);
        },
      });
      await waitFor(async () => (await stateOf(id)) === "dead", 10_000, "job dead");
      const row = await getJob(db.store, id);
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.equal(row.attempts, 3);
      assert.match(row.lastError ?? "", /kaput on attempt 3/);
      assert.equal(row.leaseOwner, null);
      await sleep(100);
      assert.equal(attempts.length, 3, "a dead job is not run again");
    });

    it("finishes a job that fails and then succeeds on a later attempt", async () => {
      const id = await addJob(db.store, { maxAttempts: 5 });
      let calls = 0;
      worker({
        test: async () => {
          calls++;
          if (calls < 3) throw new Error("transient");
        },
      });
      await waitFor(async () => (await stateOf(id)) === "done", 10_000, "job done");
      const row = await getJob(db.store, id);
      assert.equal(calls, 3);
      assert.equal(row.attempts, 3);
      assert.equal(row.lastError, null, "a success clears the last error");
    });

    it("schedules the retry after a backoff delay drawn from [base/10, base] for the first attempt", async () => {
      const base = 60_000;
      const id = await addJob(db.store, { maxAttempts: 3 });
      let failedAt = 0;
      let calls = 0;
      worker(
        {
          test: async () => {
            calls++;
            failedAt = Date.now();
            throw new Error("try later");
          },
        },
        { backoffBaseMs: base, backoffMaxMs: 10 * base },
      );
      await waitFor(async () => {
        const j = await getJob(db.store, id);
        return j.state === "queued" && j.lastError !== null;
      }, 10_000, "the failed job back in the queue");
      const observedAt = Date.now();
      const row = await getJob(db.store, id);
      assert.equal(row.attempts, 1);
      assert.ok(row.runAt.getTime() >= failedAt + base / 10 - 1, "the retry waits at least base/10");
      assert.ok(row.runAt.getTime() <= observedAt + base, "the first retry waits at most base");
      await sleep(100);
      assert.equal(calls, 1, "the job is not run again before its retry time");
    });

    it("dead-letters at once on a permanent failed outcome", async () => {
      const id = await addJob(db.store, { maxAttempts: 5 });
      let calls = 0;
      worker({
        test: async () => {
          calls++;
          return { status: "failed", error: "recipient rejected permanently", permanent: true };
        },
      });
      await waitFor(async () => (await stateOf(id)) === "dead", 10_000, "job dead");
      const row = await getJob(db.store, id);
      assert.equal(calls, 1);
      assert.equal(row.attempts, 1);
      assert.equal(row.lastError, "recipient rejected permanently");
    });

    it("retries a non-permanent failed outcome until maxAttempts", async () => {
      const id = await addJob(db.store, { maxAttempts: 2 });
      let calls = 0;
      worker({
        test: async () => {
          calls++;
          return { status: "failed", error: `busy ${calls}`, permanent: false };
        },
      });
      await waitFor(async () => (await stateOf(id)) === "dead", 10_000, "job dead");
      const row = await getJob(db.store, id);
      assert.equal(calls, 2);
      assert.equal(row.attempts, 2);
      assert.equal(row.lastError, "busy 2");
    });

    it("never runs more than `concurrency` jobs at once", async () => {
      for (let i = 0; i < 9; i++) await addJob(db.store);
      let inFlight = 0;
      let maxInFlight = 0;
      const release = gate();
      const w = worker(
        {
          test: async () => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            try {
              await release.promise;
            } finally {
              inFlight--;
            }
          },
        },
        { concurrency: 3 },
      );
      await waitFor(() => inFlight === 3, 10_000, "three jobs in flight");
      // A few poll intervals pass with every slot taken: nothing more is claimed.
      await sleep(150);
      assert.equal(inFlight, 3);
      assert.equal(w.activeJobs, 3);
      assert.equal((await allJobs(db.store)).filter((j) => j.state === "running").length, 3);
      release.open();
      await waitFor(async () => (await allJobs(db.store)).every((j) => j.state === "done"), 10_000, "all jobs done");
      assert.equal(maxInFlight, 3);
    });

    it("runs a group's types up to the group's own limit, beside the jobs of the other types", async () => {
      for (let i = 0; i < 6; i++) await addJob(db.store, { type: "send" });
      for (let i = 0; i < 6; i++) await addJob(db.store);
      const inFlight = { send: 0, test: 0 };
      const release = gate();
      const hold = (type: "send" | "test") => async () => {
        inFlight[type]++;
        try {
          await release.promise;
        } finally {
          inFlight[type]--;
        }
      };
      worker({ test: hold("test"), send: hold("send") }, { concurrency: 1, groups: [{ types: ["send"], concurrency: 4 }] });
      try {
        await waitFor(() => inFlight.send === 4 && inFlight.test === 1, 10_000, "four sends and one other job in flight");
        await sleep(150);
        assert.deepEqual(inFlight, { send: 4, test: 1 }, "no group takes more than its limit");
      } finally {
        release.open();
      }
      await waitFor(async () => (await allJobs(db.store)).every((j) => j.state === "done"), 10_000, "all jobs done");
    });

    it("takes a job marked done in the handler's own transaction as done, and a rolled-back one as not", async () => {
      const committed = await addJob(db.store, { payload: { commit: true }, maxAttempts: 1 });
      const rolledBack = await addJob(db.store, { payload: { commit: false }, maxAttempts: 1 });
      worker({
        test: async (job, ctx) => {
          let held = false;
          await db.store.tx(async (em) => {
            held = await ctx.completeIn!(em);
            if (!job.payload.commit) throw new Error("the handler's write failed");
          });
          return { status: "done", completed: held };
        },
      });
      await waitFor(async () => (await stateOf(committed)) === "done" && (await stateOf(rolledBack)) === "dead", 10_000, "both settled");
      assert.match(String((await getJob(db.store, rolledBack)).lastError), /the handler's write failed/);
    });

    it("keeps running jobs when handlers take turns finishing (each freed slot is refilled)", async () => {
      for (let i = 0; i < 8; i++) await addJob(db.store);
      let inFlight = 0;
      let maxInFlight = 0;
      worker(
        {
          test: async () => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await sleep(15);
            inFlight--;
          },
        },
        { concurrency: 2 },
      );
      await waitFor(async () => (await allJobs(db.store)).every((j) => j.state === "done"), 10_000, "all jobs done");
      assert.ok(maxInFlight <= 2, `max in flight was ${maxInFlight}`);
    });

    it("stop() with a short grace period aborts a long job and releases it to the queue without counting the attempt", async () => {
      const id = await addJob(db.store, { maxAttempts: 1 });
      let signal: AbortSignal | null = null;
      let handlerSettled: "pending" | "resolved" | "rejected" = "pending";
      const w = worker(
        {
          test: async (_job, ctx) => {
            signal = ctx.signal;
            try {
              await untilAborted(ctx.signal);
              handlerSettled = "resolved";
            } catch (err) {
              handlerSettled = "rejected";
              throw err;
            }
          },
        },
        { graceMs: 50 },
      );
      await waitFor(() => signal !== null, 10_000, "the handler to start");
      assert.equal(signal!.aborted, false);
      await w.stop();
      assert.equal(signal!.aborted, true, "the job's signal is aborted after the grace period");
      assert.equal(handlerSettled, "rejected");
      assert.equal(w.activeJobs, 0);
      const row = await getJob(db.store, id);
      assert.equal(row.state, "queued");
      assert.equal(row.attempts, 0, "the interrupted attempt is not counted");
      assert.equal(row.leaseOwner, null);
      assert.equal(row.leaseUntil, null);
      // Another worker can take it at once, even though it had a single attempt.
      const [again] = await claimJobs(db.store, { types: ["test"], owner: "next", limit: 1, leaseMs: 30_000 });
      assert.equal(again?.id, id);
      assert.equal(again.attempts, 1);
    });

    it("stop() waits for a job that finishes inside the grace period and records it done", async () => {
      const id = await addJob(db.store);
      let signal: AbortSignal | null = null;
      const release = gate();
      const w = worker(
        {
          test: async (_job, ctx) => {
            signal = ctx.signal;
            await release.promise;
          },
        },
        { graceMs: 10_000 },
      );
      await waitFor(() => signal !== null, 10_000, "the handler to start");
      let stopped = false;
      const stopping = w.stop().then(() => {
        stopped = true;
      });
      await sleep(50);
      assert.equal(stopped, false, "stop() waits for the running job");
      release.open();
      await stopping;
      assert.equal(signal!.aborted, false, "a job finishing in time is not aborted");
      const row = await getJob(db.store, id);
      assert.equal(row.state, "done");
      assert.equal(row.attempts, 1);
    });

    it("aborts a running job whose lease was taken over by another worker and records nothing for it", async () => {
      const id = await addJob(db.store, { maxAttempts: 5 });
      let signal: AbortSignal | null = null;
      const w = worker(
        {
          test: async (_job, ctx) => {
            signal = ctx.signal;
            await untilAborted(ctx.signal);
          },
        },
        // The lease is renewed every max(1 s, leaseMs/3): keep it short so the loss is noticed quickly.
        { leaseMs: 1500 },
      );
      await waitFor(() => signal !== null, 10_000, "the handler to start");
      // Another worker takes the job over (as if this one had hung past its lease).
      // On MySQL the claim skips a row locked right then (the owner renewing its lease): try again.
      let stolen: JobRow | undefined;
      for (let i = 0; i < 20 && !stolen; i++) {
        [stolen] = await claimJobs(db.store, { types: ["test"], owner: "thief", limit: 1, leaseMs: 60_000, now: new Date(Date.now() + 10_000) });
        if (!stolen) await sleep(50);
      }
      assert.equal(stolen?.id, id);
      await waitFor(() => signal!.aborted, 10_000, "the job's signal to abort");
      assert.match(String((signal!.reason as Error)?.message), /lease lost/);
      await waitFor(() => w.activeJobs === 0, 10_000, "the worker to let go of the job");
      const row = await getJob(db.store, id);
      assert.equal(row.state, "running");
      assert.equal(row.leaseOwner, "thief");
      assert.equal(row.attempts, 2);
      assert.equal(row.lastError, null, "the old owner's failure is not recorded");
    });

    it("claims nothing more once stop() was called", async () => {
      const w = worker({ test: async () => undefined });
      await w.stop();
      const id = await addJob(db.store);
      await sleep(100);
      const row = await getJob(db.store, id);
      assert.equal(row.state, "queued");
      assert.equal(row.attempts, 0);
    });

    it("stop() on a worker with nothing running returns promptly and can be called twice", async () => {
      // "Promptly" without a clock: poll interval and grace period are a minute, and the worker is idle
      // (its claim came back empty, it sleeps until the next poll). stop() must then resolve within one
      // turn of the event loop: waking the sleeping loop and finding nothing to wait for takes no timer
      // and no I/O, so waiting for either the poll interval or the grace period leaves it pending.
      let storeCallsDone = 0;
      const counting = new Proxy(db.store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== "tx" && prop !== "read") return typeof v === "function" ? (v as (...x: unknown[]) => unknown).bind(target) : v;
          return async (...a: unknown[]) => {
            try {
              return await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
            } finally {
              storeCallsDone++;
            }
          };
        },
      });
      const w = worker({ test: async () => undefined }, { pollIntervalMs: 60_000, graceMs: 60_000 }, { store: counting });
      await waitFor(() => storeCallsDone > 0, 10_000, "the worker's first claim");
      await nextTurn();
      for (const call of ["first", "second"]) {
        let stopped = false;
        const stopping = w.stop().then(() => {
          stopped = true;
        });
        await nextTurn();
        assert.equal(stopped, true, `the ${call} stop() resolves at once, without waiting for the poll interval or the grace period`);
        await stopping;
      }
      assert.equal(storeCallsDone, 1, "the idle worker did not claim again");
      assert.equal(w.activeJobs, 0);
    });
  });
}
