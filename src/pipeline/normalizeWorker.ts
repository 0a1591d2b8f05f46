// Worker-thread side of NormalizePool: parses MIME off the main thread.
import { parentPort } from "node:worker_threads";
import { normalizeMime, UnparseableMessageError } from "./normalize.js";

parentPort!.on("message", (job: { id: number; raw: Uint8Array }) => void parse(job));

async function parse(job: { id: number; raw: Uint8Array }): Promise<void> {
  try {
    const msg = await normalizeMime(Buffer.from(job.raw.buffer, job.raw.byteOffset, job.raw.byteLength));
    parentPort!.postMessage({ id: job.id, ok: true, msg });
  } catch (err) {
    parentPort!.postMessage({
      id: job.id,
      ok: false,
      unparseable: err instanceof UnparseableMessageError,
      message: (err as Error)?.message ?? String(err),
    });
  }
}
