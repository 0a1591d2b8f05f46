import { DraftgateError } from "../core/errors.js";

/** A model call that ran past `llm.timeoutSeconds`: the job fails with this and is retried (or dead-lettered). */
export class ModelTimeoutError extends DraftgateError {
  constructor(readonly seconds: number) {
    super("ETIMEOUT", `model call timed out after ${seconds} s (llm.timeoutSeconds); it was aborted`);
  }
}

/**
 * Runs one model call with a wall-clock limit. At the limit `abort` is aborted (the engine stops and
 * frees its sequence) and the call is given up at once with a ModelTimeoutError, even if the engine
 * never returns: a hung inference would otherwise renew its job's lease forever and hold a worker slot.
 */
export async function withTimeLimit<T>(seconds: number, abort: AbortController, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ModelTimeoutError(seconds);
      abort.abort(err);
      reject(err);
    }, seconds * 1000);
  });
  try {
    return await Promise.race([call(abort.signal), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A controller that aborts when `parent` does (the job's signal), and can also be aborted on its own. */
export function childAbort(parent: AbortSignal): AbortController {
  const abort = new AbortController();
  if (parent.aborted) abort.abort(parent.reason);
  else parent.addEventListener("abort", () => abort.abort(parent.reason), { once: true });
  return abort;
}
