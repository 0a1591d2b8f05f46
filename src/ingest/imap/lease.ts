import type { MailboxLeaseRow } from "../../store/entities/imap.js";
import type { Store } from "../../store/store.js";

/**
 * One poller per mailbox across processes: a lease row that the holder renews. Another process takes
 * the mailbox once the lease has run out (its holder died or hung). On MySQL the row is locked while
 * deciding, so two processes never both win.
 */
export async function acquireLease(store: Store, mailboxId: number, owner: string, ttlMs: number): Promise<boolean> {
  try {
    return await store.tx(async (em) => {
      const repo = em.getRepository<MailboxLeaseRow>("MailboxLease");
      const qb = repo.createQueryBuilder("l").where("l.mailboxId = :mailboxId", { mailboxId });
      if (store.dialect === "mysql") qb.setLock("pessimistic_write");
      const row = await qb.getOne();
      const now = new Date();
      const leaseUntil = new Date(now.getTime() + ttlMs);
      if (!row) {
        await repo.insert({ mailboxId, owner, leaseUntil });
        return true;
      }
      if (row.owner !== owner && row.leaseUntil > now) return false;
      await repo.update({ mailboxId }, { owner, leaseUntil });
      return true;
    });
  } catch (err) {
    // Two processes inserted the first lease row at once: the other one won.
    const code = (err as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (err as { code?: string }).code ?? "";
    if (code === "ER_DUP_ENTRY" || code.startsWith("SQLITE_CONSTRAINT")) return false;
    throw err;
  }
}

/**
 * Extends a lease this owner holds and records its health for other processes (doctor, readiness);
 * false when the lease was lost (then stop polling at once).
 */
export async function renewLease(store: Store, mailboxId: number, owner: string, ttlMs: number, status?: Record<string, unknown>): Promise<boolean> {
  return store.tx(async (em) => {
    const res = await em
      .getRepository<MailboxLeaseRow>("MailboxLease")
      .update({ mailboxId, owner }, { leaseUntil: new Date(Date.now() + ttlMs), ...(status ? { status: status as never } : {}) });
    return (res.affected ?? 0) > 0;
  });
}

/** The lease row of a mailbox: who polls it and its last reported health. */
export async function readLease(store: Store, mailboxId: number): Promise<MailboxLeaseRow | null> {
  return store.read((em) => em.getRepository<MailboxLeaseRow>("MailboxLease").findOneBy({ mailboxId }));
}

/** Gives the mailbox up now (clean shutdown), so another process need not wait for the TTL. */
export async function releaseLease(store: Store, mailboxId: number, owner: string): Promise<void> {
  await store.tx(async (em) => {
    await em.getRepository<MailboxLeaseRow>("MailboxLease").update({ mailboxId, owner }, { leaseUntil: new Date(0) });
  });
}
