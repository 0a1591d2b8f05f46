import type { EntityManager } from "typeorm";
import type { JobRow } from "../store/entities/work.js";

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

/** Adds a job inside the caller's transaction (so it exists exactly when the work that needs it does). */
export async function enqueueJob(em: EntityManager, job: NewJob): Promise<number | null> {
  const jobs = em.getRepository<JobRow>("Job");
  if (job.uniqueKey) {
    const existing = await jobs.findOne({ where: { uniqueKey: job.uniqueKey }, select: { id: true } });
    if (existing) return null;
  }
  let res;
  try {
    res = await jobs.insert({
      type: job.type,
      payload: job.payload as never,
      state: "queued",
      priority: job.priority ?? 100,
      runAt: job.runAt ?? new Date(),
      attempts: 0,
      maxAttempts: job.maxAttempts,
      uniqueKey: job.uniqueKey ?? null,
    });
  } catch (err) {
    // A concurrent transaction created the same unique job between our check and insert. On MySQL a
    // duplicate-key error undoes only this statement, so the caller's transaction carries on.
    if (job.uniqueKey && isUniqueViolation(err)) return null;
    throw err;
  }
  return Number(res.identifiers[0]!.id);
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e.driverError?.code ?? e.code ?? "";
  return code === "ER_DUP_ENTRY" || code.startsWith("SQLITE_CONSTRAINT");
}
