import type { EntityManager } from "typeorm";
import { readBlob } from "./blobs.js";
import type { MailboxRow, QuarantineRow } from "./entities/mail.js";
import { dbDate, insertReturningId } from "./sql.js";
import type { Store } from "./store.js";

/** Messages that could not be stored, kept with why (reason, errorCode) and where they came from. */

/** A new entry: the row's facts, without what the database and later decisions fill in. */
export type NewQuarantine = Omit<QuarantineRow, "id" | "status" | "createdAt" | "resolvedAt" | "declaredSize"> & { declaredSize?: number | null };

/** Adds an open entry inside the intake transaction; returns its id. */
export function insertQuarantine(em: EntityManager, q: NewQuarantine): Promise<number> {
  return insertReturningId(
    em,
    "INSERT INTO `quarantine` (`mailboxId`, `source`, `sourceRef`, `reason`, `errorCode`, `sha256`, `size`, `declaredSize`, `blobId`, `status`, `createdAt`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
    [q.mailboxId, q.source, q.sourceRef, q.reason, q.errorCode, q.sha256, q.size, q.declaredSize ?? null, q.blobId, dbDate(new Date())],
  );
}

/** Entries by id, the open ones only unless `all`. */
export async function listQuarantine(store: Store, options: { all?: boolean } = {}): Promise<QuarantineRow[]> {
  return store.read((em) =>
    em.getRepository<QuarantineRow>("Quarantine").find({ where: options.all ? {} : { status: "open" }, order: { id: "ASC" } }),
  );
}

/** An entry with its mailbox and the bytes it kept; null when there is no such entry. */
export async function readQuarantined(store: Store, id: number): Promise<{ row: QuarantineRow; mailbox: MailboxRow; raw: Buffer } | null> {
  return store.read(async (em) => {
    const row = await em.getRepository<QuarantineRow>("Quarantine").findOneBy({ id });
    if (!row) return null;
    const mailbox = await em.getRepository<MailboxRow>("Mailbox").findOneByOrFail({ id: row.mailboxId });
    return { row, mailbox, raw: await readBlob(em, row.blobId) };
  });
}

/** Where the open entries of a mailbox from one source came from (their sourceRef). */
export async function openQuarantineSourceRefs(store: Store, mailboxId: number, source: string): Promise<(string | null)[]> {
  const rows = await store.read((em) =>
    em.getRepository<QuarantineRow>("Quarantine").find({ select: { sourceRef: true }, where: { mailboxId, status: "open", source } }),
  );
  return rows.map((r) => r.sourceRef);
}

/** The entry stays open with the reason it was rejected for this time. */
export async function updateQuarantineReason(em: EntityManager, id: number, errorCode: string, reason: string): Promise<void> {
  await em.getRepository<QuarantineRow>("Quarantine").update({ id }, { reason, errorCode });
}

/** The entry's message went through intake: closed as "retried". */
export async function markQuarantineRetried(em: EntityManager, id: number): Promise<void> {
  await em.getRepository<QuarantineRow>("Quarantine").update({ id }, { status: "retried", resolvedAt: new Date() });
}
