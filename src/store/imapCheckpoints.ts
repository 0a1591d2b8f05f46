import type { EntityManager } from "typeorm";
import type { ImapCheckpointRow } from "./entities/imap.js";
import { dbDate, run } from "./sql.js";
import type { Store } from "./store.js";

/** Where IMAP sync stands in one folder of a mailbox (see ImapCheckpointRow). */
export interface Checkpoint {
  uidValidity: string;
  lastUid: number;
  /** The first UID this gateway took (see ImapCheckpointRow.firstUid); null: unknown, so nothing is moved. */
  firstUid: number | null;
  highestModseq: string | null;
}

export async function readCheckpoint(store: Store, mailboxId: number, folder: string): Promise<Checkpoint | null> {
  const row = await store.read((em) => em.getRepository<ImapCheckpointRow>("ImapCheckpoint").findOneBy({ mailboxId, folder }));
  return row
    ? {
        uidValidity: row.uidValidity,
        lastUid: Number(row.lastUid),
        firstUid: row.firstUid === null ? null : Number(row.firstUid),
        highestModseq: row.highestModseq,
      }
    : null;
}

/** Every folder's checkpoint of a mailbox, by folder name (doctor). */
export async function listCheckpoints(store: Store, mailboxId: number): Promise<ImapCheckpointRow[]> {
  return store.read((em) => em.getRepository<ImapCheckpointRow>("ImapCheckpoint").find({ where: { mailboxId }, order: { folder: "ASC" } }));
}

/** Creates the folder's checkpoint or overwrites it, inside the caller's transaction. */
export async function saveCheckpoint(em: EntityManager, mailboxId: number, folder: string, cp: Checkpoint): Promise<void> {
  const repo = em.getRepository<ImapCheckpointRow>("ImapCheckpoint");
  const existing = await repo.findOneBy({ mailboxId, folder });
  const values = { uidValidity: cp.uidValidity, lastUid: cp.lastUid, firstUid: cp.firstUid, highestModseq: cp.highestModseq };
  if (existing) await repo.update({ id: existing.id }, values);
  else await repo.insert({ mailboxId, folder, ...values });
}

/**
 * Advances the checkpoint inside the intake transaction that stored the messages up to `uid`; it never
 * moves backwards, and only for the UIDVALIDITY it was fetched under.
 */
export async function advanceCheckpoint(
  em: EntityManager,
  mailboxId: number,
  folder: string,
  uidValidity: string,
  uid: number,
): Promise<void> {
  await run(
    em,
    "UPDATE `imap_checkpoints` SET `lastUid` = ?, `updatedAt` = ? WHERE `mailboxId` = ? AND `folder` = ? AND `uidValidity` = ? AND `lastUid` < ?",
    [uid, dbDate(new Date()), mailboxId, folder, uidValidity, uid],
  );
}
