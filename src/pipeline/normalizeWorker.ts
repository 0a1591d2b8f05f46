// Worker-thread side of NormalizePool: parses MIME off the main thread.
import { normalizeMime, UnparseableMessageError } from "./normalize.js";
import { serveTasks } from "./threadTask.js";

serveTasks(
  (raw: Uint8Array) => normalizeMime(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)),
  (err) => (err instanceof UnparseableMessageError ? "unparseable" : "error"),
);
