import type { EntityManager } from "typeorm";
import type { ImapCheckpointRow } from "../../store/entities/imap.js";
import { dbDate, run } from "../../store/sql.js";
import type { Store } from "../../store/store.js";

export interface Checkpoint {
  uidValidity: string;
  lastUid: number;
  highestModseq: string | null;
}

export async function readCheckpoint(store: Store, mailboxId: number, folder: string): Promise<Checkpoint | null> {
  const row = await store.read((em) => em.getRepository<ImapCheckpointRow>("ImapCheckpoint").findOneBy({ mailboxId, folder }));
  return row ? { uidValidity: row.uidValidity, lastUid: Number(row.lastUid), highestModseq: row.highestModseq } : null;
}

/** Creates or moves the checkpoint (first sync, UIDVALIDITY change) in its own transaction. */
export async function resetCheckpoint(store: Store, mailboxId: number, folder: string, cp: Checkpoint): Promise<void> {
  await store.tx(async (em) => {
    const repo = em.getRepository<ImapCheckpointRow>("ImapCheckpoint");
    const existing = await repo.findOneBy({ mailboxId, folder });
    if (existing) await repo.update({ id: existing.id }, { uidValidity: cp.uidValidity, lastUid: cp.lastUid, highestModseq: cp.highestModseq });
    else await repo.insert({ mailboxId, folder, uidValidity: cp.uidValidity, lastUid: cp.lastUid, highestModseq: cp.highestModseq });
  });
}

/**
 * Advances the checkpoint inside the intake transaction that stored the messages up to `uid`; it never
 * moves backwards, and only for the UIDVALIDITY it was fetched under.
 */
export async function advanceCheckpoint(em: EntityManager, mailboxId: number, folder: string, uidValidity: string, uid: number): Promise<void> {
  await run(
    em,
    "UPDATE `imap_checkpoints` SET `lastUid` = ?, `updatedAt` = ? WHERE `mailboxId` = ? AND `folder` = ? AND `uidValidity` = ? AND `lastUid` < ?",
    [uid, dbDate(new Date()), mailboxId, folder, uidValidity, uid],
  );
}
