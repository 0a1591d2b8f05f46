import { parentPort } from "node:worker_threads";
import type { TaskReply } from "./threadPool.js";

/**
 * The worker-thread side of a ThreadPool: answers each task with `handler`'s result, or with the error's
 * kind (`kindOf`, "error" by default) and message.
 */
export function serveTasks<T, R>(handler: (task: T) => Promise<R>, kindOf: (err: unknown) => string = () => "error"): void {
  parentPort!.on("message", (msg: { id: number; task: T }) => {
    handler(msg.task).then(
      (result) => parentPort!.postMessage({ id: msg.id, ok: true, result } satisfies TaskReply<R>),
      (err: unknown) =>
        parentPort!.postMessage({
          id: msg.id,
          ok: false,
          kind: kindOf(err),
          message: err instanceof Error ? err.message : String(err),
        } satisfies TaskReply<R>),
    );
  });
}
