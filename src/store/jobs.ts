import type { EntityManager } from "typeorm";
import type { JobRow } from "./entities/work.js";
import { dbDate, dbJson, insertReturningId, isDeadlock, isUniqueViolation, run, type SqlValue } from "./sql.js";
import type { Store } from "./store.js";

/**
 * The jobs table: adding jobs, and the lease-guarded state changes of a run (claim, renew, complete,
 * fail, release). When to retry, how long to back off and how many run at once is the worker's policy
 * (src/queue).
 */

export interface NewJob {
  type: string;
  payload: Record<string, unknown>;
  /** Lower runs first; 0 is reserved for urgent work. */
  priority?: number;
  runAt?: Date;
  maxAttempts: number;
  /** A job with this key is created at most once, ever. */
  uniqueKey?: string;
}

const COLUMNS = "(`type`, `payload`, `state`, `priority`, `runAt`, `attempts`, `maxAttempts`, `uniqueKey`, `createdAt`, `updatedAt`)";
const ROW = "(?, ?, 'queued', ?, ?, 0, ?, ?, ?, ?)";

function jobParams(job: NewJob, now: string): SqlValue[] {
  return [job.type, dbJson(job.payload), job.priority ?? 100, dbDate(job.runAt ?? new Date()), job.maxAttempts, job.uniqueKey ?? null, now, now];
}

/**
 * Adds a job inside the caller's transaction (so it exists exactly when the work that needs it does).
 * Returns its id, or null when a job with the same uniqueKey exists already.
 */
export async function enqueueJob(em: EntityManager, job: NewJob): Promise<number | null> {
  try {
    return await insertReturningId(em, `INSERT INTO \`jobs\` ${COLUMNS} VALUES ${ROW}`, jobParams(job, dbDate(new Date())));
  } catch (err) {
    // The unique job exists already (maybe created by a concurrent transaction). A duplicate-key error
    // undoes only this statement, on MySQL and SQLite alike, so the caller's transaction carries on.
    if (job.uniqueKey && isUniqueViolation(err)) return null;
    throw err;
  }
}

/**
 * Adds many jobs in one statement. For jobs whose unique keys cannot exist yet (they name rows created
 * in the same transaction); a clash fails the whole statement.
 */
export async function enqueueNewJobs(em: EntityManager, jobs: NewJob[]): Promise<void> {
  if (jobs.length === 0) return;
  const now = dbDate(new Date());
  await run(em, `INSERT INTO \`jobs\` ${COLUMNS} VALUES ${jobs.map(() => ROW).join(", ")}`, jobs.flatMap((j) => jobParams(j, now)));
}

export interface ClaimOptions {
  types: string[];
  owner: string;
  limit: number;
  leaseMs: number;
  now?: Date;
}

/**
 * Claims up to `limit` due jobs of the given types for `owner` with a lease. A running job whose lease
 * ran out (its worker died) is due again. On MySQL concurrent workers skip each other's rows
 * (FOR UPDATE SKIP LOCKED); SQLite has one writer, and Store.tx serializes claims.
 */
export async function claimJobs(store: Store, o: ClaimOptions): Promise<JobRow[]> {
  if (o.types.length === 0 || o.limit <= 0) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await claimOnce(store, o);
    } catch (err) {
      // InnoDB may still pick a claim as a deadlock victim under load; it rolled back whole, so try again.
      if (!isDeadlock(err) || attempt >= 3) throw err;
    }
  }
}

async function claimOnce(store: Store, o: ClaimOptions): Promise<JobRow[]> {
  // READ COMMITTED on MySQL: at REPEATABLE READ the SKIP LOCKED scan also takes gap locks at the end of
  // the index, and two claimers then deadlock on their UPDATEs.
  return store.tx(async (em) => {
    const now = o.now ?? new Date();
    const qb = em
      .getRepository<JobRow>("Job")
      .createQueryBuilder("j")
      .where("j.type IN (:...types)", { types: o.types })
      .andWhere("((j.state = 'queued' AND j.runAt <= :now) OR (j.state = 'running' AND j.leaseUntil < :now))", { now })
      .orderBy("j.priority", "ASC")
      .addOrderBy("j.runAt", "ASC")
      .addOrderBy("j.id", "ASC")
      .limit(o.limit);
    if (store.dialect === "mysql") qb.setLock("pessimistic_write").setOnLocked("skip_locked");
    const rows = await qb.getMany();
    const claimed: JobRow[] = [];
    for (const job of rows) {
      if (job.state === "running" && job.attempts >= job.maxAttempts) {
        // Its last allowed run died mid-way (crash, kill -9): dead-letter rather than loop forever.
        await finish(em, job.id, { state: "dead", lastError: "lease expired on the last attempt (the worker died or hung)" });
        continue;
      }
      const leaseUntil = new Date(now.getTime() + o.leaseMs);
      await em.getRepository<JobRow>("Job").update(
        { id: job.id },
        { state: "running", leaseOwner: o.owner, leaseUntil, attempts: job.attempts + 1 },
      );
      claimed.push({ ...job, state: "running", leaseOwner: o.owner, leaseUntil, attempts: job.attempts + 1 });
    }
    return claimed;
  }, { isolation: "READ COMMITTED" });
}

async function finish(em: EntityManager, id: number, patch: { state: JobRow["state"]; lastError: string }): Promise<void> {
  await em.getRepository<JobRow>("Job").update({ id }, { leaseOwner: null, leaseUntil: null, ...patch });
}

/** Extends the lease of a job this owner still holds; false when it was lost. */
export async function renewJobLease(store: Store, job: JobRow, owner: string, leaseMs: number): Promise<boolean> {
  return store.tx(async (em) => {
    const res = await em
      .getRepository<JobRow>("Job")
      .update({ id: job.id, leaseOwner: owner, state: "running" }, { leaseUntil: new Date(Date.now() + leaseMs) });
    return (res.affected ?? 0) > 0;
  });
}

/**
 * Inside the caller's transaction: does the run that got `job` still hold it — same state, owner and
 * attempt as when it was claimed? A worker whose renewals stalled finds the job claimed again (a new
 * owner or a new attempt) and must not write its result. On MySQL the row stays locked until the
 * caller commits, so a claim racing the write skips the job and sees the result on its next poll. A job
 * run without a worker (never claimed) is held while nobody has claimed it.
 */
export async function holdsJob(em: EntityManager, job: JobRow): Promise<boolean> {
  const qb = em
    .getRepository<JobRow>("Job")
    .createQueryBuilder("j")
    .select("j.id", "id")
    .where("j.id = :id AND j.state = :state AND j.attempts = :attempts", { id: job.id, state: job.state, attempts: job.attempts })
    .andWhere(job.leaseOwner === null ? "j.leaseOwner IS NULL" : "j.leaseOwner = :owner", { owner: job.leaseOwner });
  const type = em.connection.driver.options.type;
  if (type === "mysql" || type === "mariadb") qb.setLock("pessimistic_write");
  return (await qb.getRawMany()).length === 1;
}

/** Completion updates only touch a job this owner still holds (a stolen lease wins). */
export async function completeJob(store: Store, job: JobRow, owner: string): Promise<boolean> {
  return store.tx(async (em) => {
    const res = await em
      .getRepository<JobRow>("Job")
      .update({ id: job.id, leaseOwner: owner, state: "running" }, { state: "done", leaseOwner: null, leaseUntil: null, lastError: null });
    return (res.affected ?? 0) > 0;
  });
}

export async function failJob(
  store: Store,
  job: JobRow,
  owner: string,
  error: string,
  retryAt: Date | null,
): Promise<"retry" | "dead" | "lost"> {
  return store.tx(async (em) => {
    const dead = retryAt === null || job.attempts >= job.maxAttempts;
    const res = await em.getRepository<JobRow>("Job").update(
      { id: job.id, leaseOwner: owner, state: "running" },
      dead
        ? { state: "dead", leaseOwner: null, leaseUntil: null, lastError: error.slice(0, 4000) }
        : { state: "queued", runAt: retryAt, leaseOwner: null, leaseUntil: null, lastError: error.slice(0, 4000) },
    );
    if ((res.affected ?? 0) === 0) return "lost";
    return dead ? "dead" : "retry";
  });
}

/** Gives a claimed job back untouched (shutdown): the attempt is not counted. */
export async function releaseJob(store: Store, job: JobRow, owner: string): Promise<void> {
  await store.tx(async (em) => {
    await em
      .getRepository<JobRow>("Job")
      .update(
        { id: job.id, leaseOwner: owner, state: "running" },
        { state: "queued", leaseOwner: null, leaseUntil: null, attempts: Math.max(0, job.attempts - 1), runAt: new Date() },
      );
  });
}

/** Puts a dead job back in the queue with a fresh set of attempts (a person decided to retry it). */
export async function retryDeadJob(store: Store, id: number): Promise<boolean> {
  return store.tx(async (em) => {
    const res = await em
      .getRepository<JobRow>("Job")
      .update({ id, state: "dead" }, { state: "queued", attempts: 0, runAt: new Date(), lastError: null });
    return (res.affected ?? 0) > 0;
  });
}
