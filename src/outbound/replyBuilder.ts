import { availableParallelism } from "node:os";
import type { MailboxConfig } from "../config/schema.js";
import { ThreadPool } from "../pipeline/threadPool.js";
import type { OutboxRow } from "../store/entities/review.js";
import { buildReply, carriesApprovedBody, type AnsweredRow, type BuiltReply } from "./message.js";

/** A reply's bytes, and whether they carry the approved body unchanged (see carriesApprovedBody). */
export interface CheckedReply extends BuiltReply {
  carriesBody: boolean;
}

/** The two CPU-heavy steps of a send: composing the MIME and parsing it back to check the approved text. */
export interface ReplyBuilder {
  build(entry: OutboxRow, mailbox: MailboxConfig, answered: AnsweredRow | null, now: Date): Promise<CheckedReply>;
  /** For bytes stored by an earlier attempt: do they still carry the approved body? */
  check(raw: Buffer, body: string): Promise<boolean>;
  close(): Promise<void>;
}

export type BuildTask =
  | { kind: "build"; entry: OutboxRow; mailbox: MailboxConfig; answered: AnsweredRow | null; now: Date }
  | { kind: "check"; raw: Uint8Array; body: string };

export type BuildResult = { raw: Uint8Array; envelope: BuiltReply["envelope"]; carriesBody: boolean } | { carriesBody: boolean };

/** Runs a task (in a worker thread or here). */
export async function runBuildTask(task: BuildTask): Promise<BuildResult> {
  if (task.kind === "check") return { carriesBody: await carriesApprovedBody(asBuffer(task.raw), task.body) };
  const built = await buildReply(task.entry, task.mailbox, task.answered, task.now);
  return { ...built, carriesBody: await carriesApprovedBody(built.raw, task.entry.body) };
}

/** A Uint8Array that crossed a thread (structured clone drops the Buffer prototype) as a Buffer, not copied. */
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** Builds on the calling thread. */
export const inProcessBuilder: ReplyBuilder = {
  async build(entry, mailbox, answered, now) {
    const r = (await runBuildTask({ kind: "build", entry, mailbox, answered, now })) as CheckedReply;
    return r;
  },
  async check(raw, body) {
    return (await runBuildTask({ kind: "check", raw, body })).carriesBody;
  },
  close: () => Promise.resolve(),
};

/**
 * Builds on a worker thread: composing and re-parsing a reply costs about 2 ms of CPU, which on the main
 * thread held up the database work and SMTP I/O of every other send (bench:outbound). One thread is
 * enough for one process's SMTP pools; on a single core the main thread does it itself.
 */
export function replyBuilder(threads = availableParallelism() > 1 ? 1 : 0): ReplyBuilder {
  if (threads <= 0) return inProcessBuilder;
  const pool = new ThreadPool<BuildTask, BuildResult>(new URL("./replyBuildWorker.js", import.meta.url), threads, "reply builder");
  return {
    async build(entry, mailbox, answered, now) {
      const r = (await pool.run({ kind: "build", entry, mailbox, answered, now })) as Extract<BuildResult, { raw: Uint8Array }>;
      return { raw: asBuffer(r.raw), envelope: r.envelope, carriesBody: r.carriesBody };
    },
    async check(raw, body) {
      return (await pool.run({ kind: "check", raw, body })).carriesBody;
    },
    close: () => pool.close(),
  };
}
