import { randomUUID } from "node:crypto";
import type { EntityManager } from "typeorm";
import { hostname } from "node:os";
import { retryDelayMs } from "../core/backoff.js";
import type { Logger } from "../obs/logger.js";
import type { Metrics } from "../obs/metrics.js";
import type { JobRow } from "../store/entities/work.js";
import { claimJobs, completeJob, completeJobIn, failJob, releaseJob, renewJobLease } from "../store/jobs.js";
import type { Store } from "../store/store.js";

/**
 * What a handler reports for expected branches; it throws only on faults (which are retried).
 * `completed`: the handler marked the job done in its own last transaction (JobContext.completeIn) and
 * that transaction committed, so the worker has nothing left to record.
 */
export type JobOutcome =
  { status: "done"; completed?: boolean } | { status: "skipped"; reason: string } | { status: "failed"; error: string; permanent: boolean };

export interface JobContext {
  /** Aborted when the worker shuts down past its grace period or loses the lease. */
  signal: AbortSignal;
  log: Logger;
  /**
   * Marks the job done inside the handler's transaction `em` (done exactly when its work commits);
   * false when this worker no longer holds it. After that transaction commits, return
   * `{ status: "done", completed: true }`. Absent when the handler runs without a worker.
   */
  completeIn?(em: EntityManager): Promise<boolean>;
}

export type JobHandler = (job: JobRow, ctx: JobContext) => Promise<JobOutcome | void>;

/** Job types that share a limit of their own (the LLM's sequences, the SMTP pools), apart from `concurrency`. */
export interface JobGroup {
  types: string[];
  concurrency: number;
}

export interface WorkerOptions {
  /** Jobs at once of the types in no group. */
  concurrency: number;
  /** Types with a limit of their own; a type in no group counts against `concurrency`. */
  groups?: JobGroup[];
  leaseMs: number;
  pollIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  graceMs: number;
  owner?: string;
}

interface Running {
  group: number;
  job: JobRow;
  abort: AbortController;
  done: Promise<void>;
  finished: boolean;
}

/**
 * Claims due jobs of the types it has handlers for and runs them, `concurrency` at a time. stop()
 * stops claiming, waits up to the grace period for running jobs, then aborts and releases the rest
 * so another worker takes them at once (their attempt is not counted).
 */
export class Worker {
  readonly owner: string;
  private readonly running = new Map<number, Running>();
  /** Index 0: the types in no group, under `concurrency`; then one per group. */
  private readonly groups: JobGroup[];
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly handlers: Record<string, JobHandler>,
    private readonly options: WorkerOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const grouped = (options.groups ?? []).map((g) => ({ types: g.types.filter((t) => t in handlers), concurrency: g.concurrency }));
    const inGroup = new Set(grouped.flatMap((g) => g.types));
    this.groups = [{ types: Object.keys(handlers).filter((t) => !inGroup.has(t)), concurrency: options.concurrency }, ...grouped];
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Looks for work now instead of at the next poll (in-process enqueue on SQLite). */
  wake(): void {
    this.wakeUp?.();
  }

  get activeJobs(): number {
    return this.running.size;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const pending = [...this.running.values()];
    if (pending.length > 0) {
      const grace = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), this.options.graceMs).unref());
      await Promise.race([Promise.all(pending.map((r) => r.done)), grace]);
    }
    for (const r of this.running.values()) r.abort.abort(new Error("worker shutting down"));
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let claimedAny = false;
      let full = true;
      for (const [group, g] of this.groups.entries()) {
        if (g.types.length === 0) continue;
        const free = g.concurrency - this.runningIn(group);
        if (free <= 0) continue;
        full = false;
        let claimed: JobRow[] = [];
        try {
          claimed = await claimJobs(this.store, { types: g.types, owner: this.owner, limit: free, leaseMs: this.options.leaseMs });
        } catch (err) {
          this.log.error({ err }, "claiming jobs failed; will retry");
        }
        for (const job of claimed) this.execute(job, group);
        if (claimed.length > 0) claimedAny = true;
      }
      if (!claimedAny || full) await this.idle();
    }
  }

  private runningIn(group: number): number {
    let n = 0;
    for (const r of this.running.values()) if (r.group === group) n++;
    return n;
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollIntervalMs);
      this.wakeUp = done;
    });
  }

  private execute(job: JobRow, group: number): void {
    const abort = new AbortController();
    const entry: Running = { group, job, abort, done: Promise.resolve(), finished: false };
    const log = this.log.child({ job: job.id, type: job.type, attempt: job.attempts });
    const renew = setInterval(
      () => {
        renewJobLease(this.store, job, this.owner, this.options.leaseMs)
          .then((held) => {
            if (!held && !entry.finished) abort.abort(new Error("lease lost"));
          })
          .catch((err) => log.warn({ err }, "lease renewal failed"));
      },
      Math.max(100, this.options.leaseMs / 3),
    );
    renew.unref();

    entry.done = (async () => {
      let outcome: JobOutcome | void = undefined;
      let fault: unknown = null;
      try {
        const completeIn = (em: EntityManager) => completeJobIn(em, job, this.owner);
        outcome = await this.handlers[job.type]!(job, { signal: abort.signal, log, completeIn });
      } catch (err) {
        fault = err;
      }
      entry.finished = true;
      clearInterval(renew);
      try {
        await this.settle(job, outcome, fault, abort.signal.aborted && this.stopping, log);
      } catch (err) {
        log.error({ err }, "could not record the job's result; its lease will expire and it will run again");
      } finally {
        this.running.delete(job.id);
        this.wake();
      }
    })();
    this.running.set(job.id, entry);
  }

  private async settle(job: JobRow, outcome: JobOutcome | void, fault: unknown, shutdown: boolean, log: Logger): Promise<void> {
    const count = (o: string) => this.metrics?.jobsFinished.inc({ type: job.type, outcome: o });
    if (shutdown && (fault || outcome?.status === "failed")) {
      await releaseJob(this.store, job, this.owner);
      count("released");
      return;
    }
    if (!fault && outcome?.status === "done" && outcome.completed) {
      count("done");
      return;
    }
    if (!fault && (!outcome || outcome.status !== "failed")) {
      if (await completeJob(this.store, job, this.owner)) {
        count("done");
        // A skip is an expected branch, not a fault: the job is done, and why it did nothing is logged.
        if (outcome?.status === "skipped") log.info({ reason: outcome.reason }, "job skipped");
      } else {
        count("lost");
        log.warn("job finished after its lease was taken by another worker; that worker's result stands");
      }
      return;
    }
    // A thrown non-Error (a string, mostly) is recorded as String() renders it.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    const error = fault ? (fault instanceof Error ? (fault.stack ?? fault.message) : String(fault)) : (outcome as { error: string }).error;
    const permanent = !fault && (outcome as { permanent: boolean }).permanent;
    const delay = retryDelayMs(job.attempts, this.options.backoffBaseMs, this.options.backoffMaxMs);
    const result = await failJob(this.store, job, this.owner, error, permanent ? null : new Date(Date.now() + delay));
    count(result);
    if (result === "dead") log.error({ error }, "job dead-lettered");
    else log.warn({ error, retryInMs: delay }, "job failed; will retry");
  }
}
