import type { ImapFlow } from "imapflow";
import type { EntityManager } from "typeorm";
import type { Config } from "../../config/schema.js";
import { saveCheckpoint, type Checkpoint } from "../../store/imapCheckpoints.js";
import type { Store } from "../../store/store.js";

/**
 * Creates or moves the checkpoint (first sync, UIDVALIDITY change) in its own transaction;
 * `inTransaction` runs in it too (the poller proves it still holds the mailbox lease).
 */
export async function resetCheckpoint(store: Store, mailboxId: number, folder: string, cp: Checkpoint, inTransaction?: (em: EntityManager) => Promise<void>): Promise<void> {
  await store.tx(async (em) => {
    await saveCheckpoint(em, mailboxId, folder, cp);
    await inTransaction?.(em);
  });
}

/**
 * Where a folder's first sync starts (imap.initialSync): everything ("all"), mail arriving from now on
 * ("new-only"), or mail from `since` days back on (from the lowest UID whose INTERNALDATE is in the window).
 * Everything from the returned checkpoint's firstUid on is taken by this gateway.
 */
export async function initialCheckpoint(
  client: Pick<ImapFlow, "search">,
  mode: Config["imap"]["initialSync"],
  uidValidity: string,
  uidNext: number,
  now: number = Date.now(),
): Promise<Checkpoint> {
  const first = mode === "all" ? 1 : mode === "new-only" ? uidNext : await lowestUidSince(client, new Date(now - mode.since * 86_400_000), uidNext);
  const lastUid = Math.max(0, first - 1);
  return { uidValidity, lastUid, firstUid: lastUid + 1, highestModseq: null };
}

/** The lowest UID matching SEARCH SINCE, or `none` without a match. */
async function lowestUidSince(client: Pick<ImapFlow, "search">, since: Date, none: number): Promise<number> {
  // ESEARCH (RFC 4731) answers MIN alone; other servers send every matching UID, possibly millions of
  // them: find the lowest in one pass (spreading them into Math.min overflows the stack).
  const found = await client.search({ since }, { uid: true, returnOptions: ["MIN"] });
  if (found === false || found === undefined) throw new Error("the server refused SEARCH SINCE for imap.initialSync");
  if (!Array.isArray(found)) return found.min ?? none;
  let lowest = none;
  for (const uid of found) if (uid < lowest) lowest = uid;
  return lowest;
}
