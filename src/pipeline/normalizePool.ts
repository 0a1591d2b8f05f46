import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { NormalizedMessage } from "../core/message.js";
import { normalizeMime, UnparseableMessageError } from "./normalize.js";

/** raw MIME → NormalizedMessage, in this thread or in a pool. */
export type Normalizer = (raw: Buffer) => Promise<NormalizedMessage>;

type Reply =
  | { id: number; ok: true; msg: NormalizedMessage }
  | { id: number; ok: false; unparseable: boolean; message: string };

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Parses MIME on worker threads so that parsing (CPU) overlaps with the database writes of the intake
 * transaction on the main thread. A worker that dies fails only its in-flight messages (they go to
 * quarantine like any parse failure) and is replaced.
 */
export class NormalizePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (m: NormalizedMessage) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /**
   * Workers for bulk parsing: one per core (at most 4). The main thread mostly waits on the database
   * and on them, so a worker on every core measured faster than leaving one core to the main thread.
   */
  static defaultSize(): number {
    return Math.max(1, Math.min(4, availableParallelism()));
  }

  readonly normalize: Normalizer = (raw) => {
    if (this.closed) return Promise.reject(new Error("normalize pool is closed"));
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise<NormalizedMessage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, raw });
    });
  };

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    // Nothing answers these any more; settle them rather than leave their callers waiting forever.
    for (const p of this.pending.values()) p.reject(new Error("normalize pool is closed"));
    this.pending.clear();
  }

  private spawn(): Slot {
    // Built code runs the .js worker. Under tsx (tests, dev) the worker is .ts and registers tsx first.
    const ts = import.meta.url.endsWith(".ts");
    const worker = ts
      ? new Worker(
          `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL("./normalizeWorker.ts", import.meta.url).href)}); });`,
          { eval: true },
        )
      : new Worker(new URL("./normalizeWorker.js", import.meta.url));
    const slot: Slot = { worker, busy: 0 };
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      slot.busy--;
      if (reply.ok) p.resolve(reply.msg);
      else p.reject(reply.unparseable ? new UnparseableMessageError(reply.message) : new Error(reply.message));
    });
    // A crash emits "error" and then "exit": the first one fails the slot, the second finds it gone
    // (replacing it twice would start a thread that no slot holds and close() never ends).
    const fail = (err: Error) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(new Error(`parser worker failed: ${err.message}`));
      }
      if (!this.closed) this.slots[index] = this.spawn();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (!this.closed) fail(new Error(`exited with code ${code}`));
    });
    return slot;
  }
}

export const normalizeInProcess: Normalizer = normalizeMime;
