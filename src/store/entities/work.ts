import { EntitySchema } from "typeorm";
import { columns, type Dialect } from "../columns.js";

export type JobState = "queued" | "running" | "done" | "dead";

export interface JobRow {
  id: number;
  type: string;
  payload: Record<string, unknown>;
  state: JobState;
  /** Lower runs first (0 = urgent). */
  priority: number;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
  /** Set for jobs that must exist once (e.g. "triage:message:42"); unique when present. */
  uniqueKey: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Append-only change feed; readers follow it by id (the cursor) across processes. */
export interface EventRow {
  id: number;
  type: string;
  conversationId: number | null;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export function workEntities(dialect: Dialect) {
  const c = columns(dialect);
  const Job = new EntitySchema<JobRow>({
    name: "Job",
    tableName: "jobs",
    columns: {
      id: c.id(),
      type: c.string(64),
      payload: c.json(),
      state: c.string(16, { default: "queued" }),
      priority: c.int({ default: 100 }),
      runAt: c.date(),
      attempts: c.int({ default: 0 }),
      maxAttempts: c.int(),
      leaseOwner: c.string(128, { nullable: true }),
      leaseUntil: c.date({ nullable: true }),
      lastError: c.text({ nullable: true }),
      uniqueKey: c.string(191, { nullable: true, unique: true }),
      createdAt: c.date({ createDate: true }),
      updatedAt: c.date({ updateDate: true }),
    },
    indices: [
      // The claim walks queued jobs in this order and stops at its limit (src/store/jobs.ts).
      { name: "IDX_job_queue", columns: ["state", "type", "priority", "runAt"] },
      { name: "IDX_job_lease", columns: ["state", "leaseUntil"] },
    ],
  });

  const Event = new EntitySchema<EventRow>({
    name: "Event",
    tableName: "events",
    columns: {
      id: c.id(),
      type: c.string(64),
      conversationId: c.int({ nullable: true }),
      payload: c.json(),
      createdAt: c.date({ createDate: true }),
    },
    indices: [{ name: "IDX_event_conversation", columns: ["conversationId"] }],
  });

  return [Job, Event];
}
