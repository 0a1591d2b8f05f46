import { availableParallelism } from "node:os";
import type { NormalizedMessage } from "../core/message.js";
import { normalizeMime, UnparseableMessageError } from "./normalize.js";
import { TaskError, ThreadPool } from "./threadPool.js";

/** raw MIME → NormalizedMessage, in this thread or in a pool. */
export type Normalizer = (raw: Buffer) => Promise<NormalizedMessage>;

/**
 * Parses MIME on worker threads so that parsing (CPU) overlaps with the database writes of the intake
 * transaction on the main thread. A worker that dies fails only its in-flight messages (they go to
 * quarantine like any parse failure) and is replaced.
 */
export class NormalizePool {
  private readonly pool: ThreadPool<Buffer, NormalizedMessage>;

  constructor(readonly size: number) {
    this.pool = new ThreadPool(new URL("./normalizeWorker.js", import.meta.url), size, "parser");
  }

  /**
   * Workers for bulk parsing: one per core (at most 4). The main thread mostly waits on the database
   * and on them, so a worker on every core measured faster than leaving one core to the main thread.
   */
  static defaultSize(): number {
    return Math.max(1, Math.min(4, availableParallelism()));
  }

  readonly normalize: Normalizer = (raw) =>
    this.pool.run(raw).catch((err: unknown) => {
      throw err instanceof TaskError && err.kind === "unparseable" ? new UnparseableMessageError(err.message) : err;
    });

  close(): Promise<void> {
    return this.pool.close();
  }
}

export const normalizeInProcess: Normalizer = normalizeMime;
