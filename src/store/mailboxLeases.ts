import type { EntityManager } from "typeorm";
import type { Dialect } from "./columns.js";
import type { MailboxLeaseRow } from "./entities/imap.js";
import { isUniqueViolation, type SqlValue } from "./sql.js";
import type { Store } from "./store.js";

/**
 * Mailbox leases: one poller per mailbox across processes, a lease row that the holder renews. Another
 * process takes the mailbox once the lease has run out (its holder died or hung). On MySQL the row is
 * locked while deciding, so two processes never both win.
 *
 * Expiry is judged by the database's clock, never a node's: with nodes' clocks apart, a node ahead
 * would take live leases and one behind would keep dead ones. Every lease time is written and compared
 * in SQL.
 */

/** SQL for "now" and "now + ms" on the database's clock, in the form datetimes are stored (UTC, ms). */
function dbClock(dialect: Dialect): { now: string; plus: string; arg: (ms: number) => SqlValue } {
  if (dialect === "mysql")
    return { now: "UTC_TIMESTAMP(3)", plus: "TIMESTAMPADD(MICROSECOND, ?, UTC_TIMESTAMP(3))", arg: (ms) => Math.round(ms) * 1000 };
  // TypeORM stores SQLite datetimes as "YYYY-MM-DD HH:MM:SS.SSS" UTC text; %f gives SS.SSS.
  return {
    now: "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    plus: "strftime('%Y-%m-%d %H:%M:%f', 'now', ?)",
    arg: (ms) => `+${(ms / 1000).toFixed(3)} seconds`,
  };
}

const dialectOf = (em: EntityManager): Dialect => (em.connection.driver.options.type === "better-sqlite3" ? "sqlite" : "mysql");

/** Rows an UPDATE matched (mysql2 connects with FOUND_ROWS), on both dialects; inside a transaction. */
async function affected(em: EntityManager, sql: string, params: SqlValue[]): Promise<number> {
  if (!em.queryRunner) throw new Error("lease writes run inside a transaction");
  const result = await em.queryRunner.query(sql, params, true);
  return result.affected ?? 0;
}

/** Takes the mailbox for `owner` unless another owner holds a live lease; true when `owner` holds it now. */
export async function acquireMailboxLease(store: Store, mailboxId: number, owner: string, ttlMs: number): Promise<boolean> {
  const clock = dbClock(store.dialect);
  try {
    return await store.tx(async (em) => {
      const rows = await em.query<{ owner: string; live: number | string }[]>(
        `SELECT \`owner\`, CASE WHEN \`leaseUntil\` > ${clock.now} THEN 1 ELSE 0 END AS \`live\` FROM \`mailbox_leases\` WHERE \`mailboxId\` = ?${store.dialect === "mysql" ? " FOR UPDATE" : ""}`,
        [mailboxId],
      );
      const row = rows[0];
      if (!row) {
        await em.query(
          `INSERT INTO \`mailbox_leases\` (\`mailboxId\`, \`owner\`, \`leaseUntil\`, \`updatedAt\`) VALUES (?, ?, ${clock.plus}, ${clock.now})`,
          [mailboxId, owner, clock.arg(ttlMs)],
        );
        return true;
      }
      if (row.owner !== owner && Number(row.live) === 1) return false;
      await em.query(
        `UPDATE \`mailbox_leases\` SET \`owner\` = ?, \`leaseUntil\` = ${clock.plus}, \`updatedAt\` = ${clock.now} WHERE \`mailboxId\` = ?`,
        [owner, clock.arg(ttlMs), mailboxId],
      );
      return true;
    });
  } catch (err) {
    // Two processes inserted the first lease row at once: the other one won.
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/**
 * Extends a lease this owner holds and records its health for other processes (doctor, readiness);
 * false when the lease was lost (then stop polling at once).
 */
export async function renewMailboxLease(store: Store, mailboxId: number, owner: string, ttlMs: number, status?: object): Promise<boolean> {
  const clock = dbClock(store.dialect);
  return store.tx(async (em) => {
    const statusSql = status ? ", `status` = ?" : "";
    const params: SqlValue[] = [clock.arg(ttlMs), ...(status ? [JSON.stringify(status)] : []), mailboxId, owner];
    return (
      (await affected(
        em,
        `UPDATE \`mailbox_leases\` SET \`leaseUntil\` = ${clock.plus}, \`updatedAt\` = ${clock.now}${statusSql} WHERE \`mailboxId\` = ? AND \`owner\` = ?`,
        params,
      )) > 0
    );
  });
}

/**
 * Inside the caller's transaction: is the lease still this owner's and unexpired by the database's
 * clock? On MySQL the UPDATE also locks the row until commit, so a takeover waits for this commit and
 * cannot slip in between the check and the commit.
 */
export async function mailboxLeaseHeld(em: EntityManager, mailboxId: number, owner: string): Promise<boolean> {
  const clock = dbClock(dialectOf(em));
  const n = await affected(
    em,
    `UPDATE \`mailbox_leases\` SET \`owner\` = \`owner\` WHERE \`mailboxId\` = ? AND \`owner\` = ? AND \`leaseUntil\` > ${clock.now}`,
    [mailboxId, owner],
  );
  return n === 1;
}

/** The lease row of a mailbox: who polls it and its last reported health. */
export async function readMailboxLease(store: Store, mailboxId: number): Promise<MailboxLeaseRow | null> {
  return store.read((em) => em.getRepository<MailboxLeaseRow>("MailboxLease").findOneBy({ mailboxId }));
}

/** Gives the mailbox up now (clean shutdown), so another process need not wait for the TTL. */
export async function releaseMailboxLease(store: Store, mailboxId: number, owner: string): Promise<void> {
  await store.tx(async (em) => {
    await em.getRepository<MailboxLeaseRow>("MailboxLease").update({ mailboxId, owner }, { leaseUntil: new Date(0) });
  });
}
