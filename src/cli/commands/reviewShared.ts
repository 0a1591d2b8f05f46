import { readFileSync } from "node:fs";
import { errorCodeOf } from "../../core/errors.js";
import type { Store } from "../../store/store.js";
import { loadContext, openStore, type AppContext } from "../context.js";

/**
 * What the review commands (drafts, reply, outbox) share: opening the store, reading a reply text,
 * and turning a refusal (a catalogued error: EAPPROVAL, EOUTBOX) into one clear line and exit code 1.
 */

/** Runs `fn` with the configuration and an open, migrated store; a refusal is printed as "draftgate: message [CODE]", exit 1. */
export async function withReviewStore(fn: (ctx: AppContext, store: Store) => Promise<void>): Promise<void> {
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: true });
  try {
    await fn(ctx, store);
  } catch (err) {
    const code = errorCodeOf(err);
    if (code !== "EAPPROVAL" && code !== "EOUTBOX") throw err;
    process.stderr.write(`draftgate: ${(err as Error).message} [${code}]\n`);
    process.exitCode = 1;
  } finally {
    await store.close();
  }
}

/** A positive integer id from the command line. */
export function parseId(raw: string, what: string): number {
  const id = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(id) || id <= 0) throw new Error(`"${raw}" is not a ${what} id`);
  return id;
}

/**
 * The reply text from a file ("-" reads standard input), exactly as it is: UTF-8 that does not decode
 * is refused rather than repaired, because the text approved must be the text sent.
 */
export function readBodyFile(path: string): string {
  const bytes = readFileSync(path === "-" ? 0 : path);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Error(`${path === "-" ? "standard input" : path} is not UTF-8 text`);
  }
}
