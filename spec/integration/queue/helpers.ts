import { pino } from "pino";
import { enqueueJob, type NewJob } from "../../../src/store/jobs.js";
import type { JobRow } from "../../../src/store/entities/work.js";
import type { Store } from "../../../src/store/store.js";

/** Shared helpers for the job-queue specs (not a spec file itself). */
export const log = pino({ level: "silent" });

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` until it holds; fails with `what` after `timeoutMs`. Never asserts on elapsed time. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition", everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Like waitFor, but reports whether the condition was seen instead of failing. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<boolean> {
  try {
    await waitFor(cond, timeoutMs, "condition", everyMs);
    return true;
  } catch {
    return false;
  }
}

export function addMs(d: Date, ms: number): Date {
  return new Date(d.getTime() + ms);
}

/** Enqueues one job in its own transaction. */
export async function addJob(store: Store, job: Partial<NewJob> = {}): Promise<number> {
  const id = await store.tx((em) => enqueueJob(em, { type: "test", payload: {}, maxAttempts: 3, ...job }));
  if (id === null) throw new Error("enqueue was deduplicated unexpectedly");
  return id;
}

export async function getJob(store: Store, id: number): Promise<JobRow> {
  return store.read((em) => em.getRepository<JobRow>("Job").findOneByOrFail({ id }));
}

export async function allJobs(store: Store): Promise<JobRow[]> {
  return store.read((em) => em.getRepository<JobRow>("Job").find({ order: { id: "ASC" } }));
}

export async function countJobs(store: Store): Promise<number> {
  return store.read((em) => em.getRepository<JobRow>("Job").count());
}

/** Empties the jobs table (specs share one migrated database per describe block to stay fast). */
export async function clearJobs(store: Store): Promise<void> {
  await store.tx((em) => em.createQueryBuilder().delete().from("Job").execute());
}
