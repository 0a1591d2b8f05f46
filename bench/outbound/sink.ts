/**
 * The outbound benchmark's SMTP server: spec/support/smtp.ts's smtp-server peer (127.0.0.1, port 0, no
 * auth, no TLS, accepting every message) in a worker thread, so that it has its own thread beside the
 * sender it measures, bare nodemailer in this thread or the gateway in its own process alike. It keeps
 * no message bytes: only counts, sizes, the time of the first connection and of each acceptance (per
 * envelope recipient), all on `clock()`, which every thread and the gateway's process read alike.
 */
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

/** Milliseconds since the epoch, sub-millisecond: comparable across threads and processes. */
export const clock = (): number => performance.timeOrigin + performance.now();

export interface SinkStats {
  /** Messages accepted since the last reset. */
  accepted: number;
  /** Their bytes as received (DATA, after dot-unstuffing). */
  bytes: number;
  /** Connections opened since the last reset. */
  connections: number;
  /** clock() of the first connection and of the first and last acceptance since the last reset. */
  firstConnectionAt: number | null;
  firstAcceptedAt: number | null;
  lastAcceptedAt: number | null;
}

export type SinkRequest =
  | { op: "reset" }
  | { op: "stats" }
  /** Answered (with the stats) once `count` messages were accepted since the last reset. */
  | { op: "until"; count: number }
  /** clock() of the acceptance of the message to each address since the last reset (null: none yet). */
  | { op: "times"; addresses: string[] }
  | { op: "stop" };

export interface Sink {
  host: "127.0.0.1";
  port: number;
  reset(): Promise<void>;
  stats(): Promise<SinkStats>;
  until(count: number): Promise<SinkStats>;
  times(addresses: string[]): Promise<(number | null)[]>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  // Under tsx the worker is .ts and registers tsx first (as src/pipeline/normalizePool.ts does).
  const entry = new URL("./sinkWorker.ts", import.meta.url).href;
  const worker = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, {
    eval: true,
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let failure: Error | null = null;
  const failAll = (err: Error) => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (m: { ready: number }) => resolve(m.ready));
  });
  worker.on("error", (err) => failAll(err));
  worker.on("exit", (code) => failAll(new Error(`the SMTP server's worker thread exited (${code})`)));
  worker.on("message", (m: { id: number; result: unknown }) => {
    pending.get(m.id)?.resolve(m.result);
    pending.delete(m.id);
  });
  const ask = <T>(req: SinkRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, ...req });
    });
  return {
    host: "127.0.0.1",
    port,
    reset: () => ask({ op: "reset" }),
    stats: () => ask({ op: "stats" }),
    until: (count) => ask({ op: "until", count }),
    times: (addresses) => ask({ op: "times", addresses }),
    stop: async () => {
      if (!failure) await ask({ op: "stop" }).catch(() => undefined);
      await worker.terminate();
    },
  };
}
