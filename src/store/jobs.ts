import type { EntityManager } from "typeorm";
import type { JobRow } from "./entities/work.js";
import {
  dbDate,
  dbJson,
  fromDbDate,
  insertReturningId,
  isDeadlock,
  isUniqueViolation,
  placeholders,
  run,
  runChanges,
  select,
  type SqlValue,
} from "./sql.js";
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
  return [
    job.type,
    dbJson(job.payload),
    job.priority ?? 100,
    dbDate(job.runAt ?? new Date()),
    job.maxAttempts,
    job.uniqueKey ?? null,
    now,
    now,
  ];
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
  await run(
    em,
    `INSERT INTO \`jobs\` ${COLUMNS} VALUES ${jobs.map(() => ROW).join(", ")}`,
    jobs.flatMap((j) => jobParams(j, now)),
  );
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

const JOB_COLUMNS =
  "`id`, `type`, `payload`, `state`, `priority`, `runAt`, `attempts`, `maxAttempts`, `leaseOwner`, `leaseUntil`, `lastError`, `uniqueKey`, `createdAt`, `updatedAt`";

type RawJob = Omit<JobRow, "payload" | "runAt" | "leaseUntil" | "createdAt" | "updatedAt"> & {
  payload: unknown;
  runAt: unknown;
  leaseUntil: unknown;
  createdAt: unknown;
  updatedAt: unknown;
};

/** A jobs row read with plain SQL: JSON text on SQLite (an object from mysql2), datetimes as Dates. */
function toJob(r: RawJob): JobRow {
  return {
    ...r,
    id: Number(r.id),
    payload: (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    runAt: fromDbDate(r.runAt),
    leaseUntil: r.leaseUntil === null ? null : fromDbDate(r.leaseUntil),
    createdAt: fromDbDate(r.createdAt),
    updatedAt: fromDbDate(r.updatedAt),
  };
}

/**
 * One claim, in plain SQL (this runs once per job; the query builder cost more than the statements).
 * Candidates in one statement: running jobs whose lease ran out (their worker died; IDX_job_lease),
 * then, for each type the worker handles, its first `limit` due queued jobs by (priority, runAt, id) —
 * an ordered walk of IDX_job_queue (state, type, priority, runAt; every index ends with the primary
 * key) that stops at the limit — merged, and the first `limit` taken. Neither a long queue nor
 * thousands of queued jobs of types this worker does not handle (an LLM backlog next to the outbound
 * role) make a claim read more than (types + 1) × limit rows; a single OR-ed, sorted select collected
 * and sorted every due job. The chosen rows are then read by primary key, re-checked and, on MySQL,
 * locked FOR UPDATE SKIP LOCKED (a row another worker holds is skipped; the worker finds the rest on
 * its next poll), at READ COMMITTED: at REPEATABLE READ the scan would also take gap locks, and two
 * claimers then deadlock on their UPDATEs.
 */
async function claimOnce(store: Store, o: ClaimOptions): Promise<JobRow[]> {
  const mysql = store.dialect === "mysql";
  return store.tx(
    async (em) => {
      const now = dbDate(o.now ?? new Date());
      const candidates = await claimCandidates(em, o.types, now, mysql ? o.limit * 2 : o.limit);
      if (candidates.length === 0) return [];
      const rows = (
        await select<RawJob>(
          em,
          `SELECT ${JOB_COLUMNS} FROM \`jobs\` WHERE \`id\` IN ${placeholders(candidates.length)} ` +
            "AND (`state` = 'queued' OR (`state` = 'running' AND `leaseUntil` < ?)) " +
            `ORDER BY \`state\` = 'queued', \`priority\`, \`runAt\`, \`id\` LIMIT ?${mysql ? " FOR UPDATE SKIP LOCKED" : ""}`,
          [...candidates, now, o.limit],
        )
      ).map(toJob);
      const take: JobRow[] = [];
      for (const job of rows) {
        if (job.state === "running" && job.attempts >= job.maxAttempts) {
          // Its last allowed run died mid-way (crash, kill -9): dead-letter rather than loop forever.
          await finish(em, job.id, "dead", "lease expired on the last attempt (the worker died or hung)");
        } else take.push(job);
      }
      if (take.length === 0) return [];
      const leaseUntil = new Date((o.now ?? new Date()).getTime() + o.leaseMs);
      await run(
        em,
        `UPDATE \`jobs\` SET \`state\` = 'running', \`leaseOwner\` = ?, \`leaseUntil\` = ?, \`attempts\` = \`attempts\` + 1, \`updatedAt\` = ? WHERE \`id\` IN ${placeholders(take.length)}`,
        [o.owner, dbDate(leaseUntil), now, ...take.map((j) => j.id)],
      );
      return take.map((job) => ({ ...job, state: "running" as const, leaseOwner: o.owner, leaseUntil, attempts: job.attempts + 1 }));
    },
    { isolation: "READ COMMITTED" },
  );
}

/**
 * Ids of up to `want` claimable jobs of `types`, most urgent first: expired leases (ahead of
 * everything), then due queued jobs by priority, runAt, id. Not locked; claimOnce re-checks them.
 */
async function claimCandidates(em: EntityManager, types: string[], now: string, want: number): Promise<number[]> {
  const expired =
    `SELECT * FROM (SELECT \`id\`, -1 AS \`priority\`, \`leaseUntil\` AS \`runAt\` FROM \`jobs\` WHERE \`state\` = 'running' ` +
    `AND \`leaseUntil\` < ? AND \`type\` IN ${placeholders(types.length)} ORDER BY \`leaseUntil\` LIMIT ?) x`;
  const perType = types.map(
    (_, i) =>
      `SELECT * FROM (SELECT \`id\`, \`priority\`, \`runAt\` FROM \`jobs\` WHERE \`state\` = 'queued' AND \`type\` = ? ` +
      `AND \`runAt\` <= ? ORDER BY \`priority\`, \`runAt\`, \`id\` LIMIT ?) t${i}`,
  );
  const rows = await select<{ id: number }>(
    em,
    `SELECT u.\`id\` AS \`id\` FROM (${[expired, ...perType].join(" UNION ALL ")}) u ORDER BY u.\`priority\`, u.\`runAt\`, u.\`id\` LIMIT ?`,
    [now, ...types, want, ...types.flatMap((t) => [t, now, want]), want],
  );
  return rows.map((r) => Number(r.id));
}

async function finish(em: EntityManager, id: number, state: JobRow["state"], lastError: string): Promise<void> {
  await run(
    em,
    "UPDATE `jobs` SET `state` = ?, `leaseOwner` = NULL, `leaseUntil` = NULL, `lastError` = ?, `updatedAt` = ? WHERE `id` = ?",
    [state, lastError, dbDate(new Date()), id],
  );
}

/** The WHERE of a state change that only touches a job this owner still holds (a stolen lease wins). */
const HELD = "`id` = ? AND `leaseOwner` = ? AND `state` = 'running'";

/** Extends the lease of a job this owner still holds; false when it was lost. */
export async function renewJobLease(store: Store, job: JobRow, owner: string, leaseMs: number): Promise<boolean> {
  return store.tx(
    async (em) =>
      (await runChanges(em, `UPDATE \`jobs\` SET \`leaseUntil\` = ?, \`updatedAt\` = ? WHERE ${HELD}`, [
        dbDate(new Date(Date.now() + leaseMs)),
        dbDate(new Date()),
        job.id,
        owner,
      ])) > 0,
  );
}

/**
 * Inside the caller's transaction: does the run that got `job` still hold it — same state, owner and
 * attempt as when it was claimed? A worker whose renewals stalled finds the job claimed again (a new
 * owner or a new attempt) and must not write its result. On MySQL the row stays locked until the
 * caller commits, so a claim racing the write skips the job and sees the result on its next poll. A job
 * run without a worker (never claimed) is held while nobody has claimed it.
 */
export async function holdsJob(em: EntityManager, job: JobRow): Promise<boolean> {
  const type = em.connection.driver.options.type;
  const lock = type === "mysql" || type === "mariadb" ? " FOR UPDATE" : "";
  const owner = job.leaseOwner === null ? "`leaseOwner` IS NULL" : "`leaseOwner` = ?";
  const rows = await select<{ id: number }>(
    em,
    `SELECT \`id\` FROM \`jobs\` WHERE \`id\` = ? AND \`state\` = ? AND \`attempts\` = ? AND ${owner}${lock}`,
    [job.id, job.state, job.attempts, ...(job.leaseOwner === null ? [] : [job.leaseOwner])],
  );
  return rows.length === 1;
}

/** Completion updates only touch a job this owner still holds (a stolen lease wins). */
export async function completeJob(store: Store, job: JobRow, owner: string): Promise<boolean> {
  return store.tx((em) => completeJobIn(em, job, owner));
}

/**
 * Marks a job done inside the caller's transaction, so that it is done exactly when the work it did
 * commits (and one commit fewer per job). Only a job this owner still holds; false when it was lost.
 */
export async function completeJobIn(em: EntityManager, job: JobRow, owner: string): Promise<boolean> {
  const sql = `UPDATE \`jobs\` SET \`state\` = 'done', \`leaseOwner\` = NULL, \`leaseUntil\` = NULL, \`lastError\` = NULL, \`updatedAt\` = ? WHERE ${HELD}`;
  return (await runChanges(em, sql, [dbDate(new Date()), job.id, owner])) > 0;
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
    const now = dbDate(new Date());
    const n = dead
      ? await runChanges(
          em,
          `UPDATE \`jobs\` SET \`state\` = 'dead', \`leaseOwner\` = NULL, \`leaseUntil\` = NULL, \`lastError\` = ?, \`updatedAt\` = ? WHERE ${HELD}`,
          [error.slice(0, 4000), now, job.id, owner],
        )
      : await runChanges(
          em,
          `UPDATE \`jobs\` SET \`state\` = 'queued', \`runAt\` = ?, \`leaseOwner\` = NULL, \`leaseUntil\` = NULL, \`lastError\` = ?, \`updatedAt\` = ? WHERE ${HELD}`,
          [dbDate(retryAt), error.slice(0, 4000), now, job.id, owner],
        );
    if (n === 0) return "lost";
    return dead ? "dead" : "retry";
  });
}

/** Gives a claimed job back untouched (shutdown): the attempt is not counted. */
export async function releaseJob(store: Store, job: JobRow, owner: string): Promise<void> {
  await store.tx(async (em) => {
    const now = dbDate(new Date());
    await runChanges(
      em,
      `UPDATE \`jobs\` SET \`state\` = 'queued', \`leaseOwner\` = NULL, \`leaseUntil\` = NULL, \`attempts\` = ?, \`runAt\` = ?, \`updatedAt\` = ? WHERE ${HELD}`,
      [Math.max(0, job.attempts - 1), now, now, job.id, owner],
    );
  });
}

/** Puts a dead job back in the queue with a fresh set of attempts (a person decided to retry it). */
export async function retryDeadJob(store: Store, id: number): Promise<boolean> {
  return store.tx(async (em) => {
    const now = dbDate(new Date());
    const sql =
      "UPDATE `jobs` SET `state` = 'queued', `attempts` = 0, `runAt` = ?, `lastError` = NULL, `updatedAt` = ? WHERE `id` = ? AND `state` = 'dead'";
    return (await runChanges(em, sql, [now, now, id])) > 0;
  });
}
