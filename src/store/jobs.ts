import type { EntityManager } from "typeorm";
import { dbDate, dbJson, insertReturningId, isUniqueViolation, run, type SqlValue } from "../store/sql.js";

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
