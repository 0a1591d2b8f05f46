import { readFile } from "node:fs/promises";
import type { ImportItem } from "./types.js";

/** A single RFC 5322 message in a file (.eml, a Maildir entry, or any file that is not an mbox). */
export async function* readEml(path: string): AsyncGenerator<ImportItem> {
  const raw = await readFile(path);
  yield { raw, sourceRef: `file:${path}`, bytesRead: raw.length };
}
