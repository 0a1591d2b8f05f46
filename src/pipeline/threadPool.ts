import { Worker } from "node:worker_threads";

/** What a task's worker answers: a result, or an error with a kind the caller may map to its own type. */
export type TaskReply<R> = { id: number; ok: true; result: R } | { id: number; ok: false; kind: string; message: string };

/** A task that failed in its worker (or whose worker died): `kind` as the worker reported it, else "crash". */
export class TaskError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = "TaskError";
  }
}

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * A fixed pool of worker threads running one module's task handler (see serveTasks): CPU-heavy work
 * (MIME parsing, composing replies) off the main thread, where it would stall the event loop and the
 * database work beside it. Each task goes to the least busy thread. A thread that dies fails only its
 * in-flight tasks and is replaced; close() settles whatever is still waiting.
 */
export class ThreadPool<T, R> {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 1;
  private closed = false;

  /**
   * @param moduleUrl the worker module, as `new URL("./x.js", import.meta.url)` of the caller; under tsx
   *   (tests, dev) the sibling `.ts` file runs, after registering tsx in the thread.
   */
  constructor(
    private readonly moduleUrl: URL,
    readonly size: number,
    private readonly label: string,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  run(task: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error(`${this.label} pool is closed`));
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, task });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    // Nothing answers these any more; settle them rather than leave their callers waiting forever.
    for (const p of this.pending.values()) p.reject(new Error(`${this.label} pool is closed`));
    this.pending.clear();
  }

  private spawn(): Slot {
    const ts = import.meta.url.endsWith(".ts");
    const worker = ts
      ? new Worker(
          `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(this.moduleUrl.href.replace(/\.js$/u, ".ts"))}); });`,
          { eval: true },
        )
      : new Worker(this.moduleUrl);
    const slot: Slot = { worker, busy: 0 };
    worker.unref();
    worker.on("message", (reply: TaskReply<R>) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      slot.busy--;
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new TaskError(reply.kind, reply.message));
    });
    // A crash emits "error" and then "exit": the first one fails the slot, the second finds it gone
    // (replacing it twice would start a thread that no slot holds and close() never ends).
    const fail = (err: Error) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(new TaskError("crash", `${this.label} worker failed: ${err.message}`));
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
