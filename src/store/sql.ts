import type { EntityManager } from "typeorm";

/**
 * Plain SQL for the hot intake path, portable between SQLite and MySQL/MariaDB. The query builder
 * costs more CPU than SQLite itself spends on these statements; plain SQL text is also prepared once
 * and cached by the driver. Rules that keep it portable (each one a dialect quirk):
 * - identifiers in backticks (SQLite accepts MySQL's quoting);
 * - `?` placeholders (better-sqlite3 and mysql2 both take them);
 * - datetimes as "YYYY-MM-DD HH:MM:SS.mmm" UTC text, the format TypeORM writes, so entities read them back
 *   (better-sqlite3 cannot bind a Date; mysql2 would format it in the connection's zone);
 * - booleans as 1/0 and JSON columns as JSON text (better-sqlite3 binds neither booleans nor objects);
 * - on MySQL, statements go through mysql2's execute (binary protocol, server-side prepared): TypeORM's
 *   query() escapes every value into the SQL text client-side, sending a Buffer as hex (twice its size)
 *   and making the server parse it again, which measured as most of an import's time there.
 */

export type SqlValue = string | number | bigint | Buffer | Uint8Array | null;

export function dbDate(d: Date): string {
  return d.toISOString().replace("T", " ").replace("Z", "");
}

/** A datetime read with plain SQL: text on SQLite, a Date from mysql2. */
export function fromDbDate(v: unknown): Date {
  if (v instanceof Date) return v;
  const s = String(v);
  return new Date(/^\d{4}-\d\d-\d\d \d/.test(s) ? `${s.replace(" ", "T")}Z` : s);
}

export const dbBool = (b: boolean): number => (b ? 1 : 0);
export const dbJson = (v: unknown): string => JSON.stringify(v);

interface Mysql2Connection {
  execute(sql: string, params: SqlValue[], cb: (err: Error | null, result: unknown) => void): void;
}

/** Runs one statement: mysql2 execute on MySQL inside a transaction, the query runner otherwise. */
export async function run(em: EntityManager, sql: string, params: SqlValue[]): Promise<unknown> {
  const type = em.connection.driver.options.type;
  const runner = em.queryRunner;
  if (runner && (type === "mysql" || type === "mariadb")) {
    const conn = (await runner.connect()) as Mysql2Connection;
    // The callback API: mysql2's promise wrapper captures a stack trace for every statement, which
    // measured as 4 % of the outbound role's CPU. A failure still says which statement failed.
    return new Promise((resolve, reject) =>
      conn.execute(sql, params, (err, result) => {
        if (err) reject(Object.assign(err, { sql: sql.slice(0, 200) }));
        else resolve(result);
      }),
    );
  }
  return em.query(sql, params);
}

/**
 * Runs an UPDATE or DELETE and returns how many rows it changed: mysql2's `affectedRows`, better-sqlite3's
 * `changes` (TypeORM's plain query() returns the last insert id there, so the structured result is asked for).
 */
export async function runChanges(em: EntityManager, sql: string, params: SqlValue[]): Promise<number> {
  const type = em.connection.driver.options.type;
  if (em.queryRunner && (type === "mysql" || type === "mariadb")) {
    const raw = (await run(em, sql, params)) as { affectedRows?: number };
    return raw.affectedRows ?? 0;
  }
  const runner = em.queryRunner ?? em.connection.createQueryRunner();
  try {
    const res = (await runner.query(sql, params, true)) as { affected?: number; raw?: { affectedRows?: number } };
    return res.affected ?? res.raw?.affectedRows ?? 0;
  } finally {
    if (!em.queryRunner) await runner.release();
  }
}

/** Runs an INSERT and returns the new auto-increment id (lastInsertRowid / insertId). */
export async function insertReturningId(em: EntityManager, sql: string, params: SqlValue[]): Promise<number> {
  const raw = (await run(em, sql, params)) as number | bigint | { insertId?: number };
  const id = typeof raw === "number" || typeof raw === "bigint" ? raw : raw?.insertId;
  if (id === undefined || id === null) throw new Error(`insert returned no id: ${sql.slice(0, 60)}`);
  return Number(id);
}

/** `(?, ?, ?)` for a list; callers never pass an empty list. */
export const placeholders = (n: number): string => `(${Array(n).fill("?").join(", ")})`;

export async function select<T>(em: EntityManager, sql: string, params: SqlValue[]): Promise<T[]> {
  return (await run(em, sql, params)) as T[];
}

/** The driver's error code (mysql2's `ER_…`, better-sqlite3's extended `SQLITE_…`), also when TypeORM wrapped it. */
export function dbErrorCode(err: unknown): string {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === "string" ? code : "";
}

/** A unique key (or primary key) already holds the value. Only the statement failed; the transaction carries on. */
export function isUniqueViolation(err: unknown): boolean {
  const code = dbErrorCode(err);
  return code === "ER_DUP_ENTRY" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/** The transaction was chosen as a deadlock victim (MySQL/MariaDB) and rolled back whole: run it again. */
export function isDeadlock(err: unknown): boolean {
  return dbErrorCode(err) === "ER_LOCK_DEADLOCK";
}

/**
 * Why a transaction failed for concurrent work rather than for what it wrote; null when it did not.
 * - "contention": a lock could not be had in time (a deadlock victim, a lock-wait timeout, a read
 *   snapshot that changed under us, on SQLite a database another process keeps busy). The same
 *   transaction is expected to succeed when run again a little later.
 * - "duplicate": a unique key that another transaction filled since ours read it (two processes storing
 *   the same content-addressed blob or the same message). Run again, the transaction reads that row and
 *   uses it; a duplicate that survives re-reading is no race but a fault of what was written.
 */
export function transientDbError(err: unknown): "contention" | "duplicate" | null {
  const code = dbErrorCode(err);
  // 1213 ER_LOCK_DEADLOCK, 1205 ER_LOCK_WAIT_TIMEOUT, 1020 ER_CHECKREAD (MariaDB snapshot isolation).
  if (isDeadlock(err) || code === "ER_LOCK_WAIT_TIMEOUT" || code === "ER_CHECKREAD") return "contention";
  // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_TIMEOUT, SQLITE_LOCKED, SQLITE_LOCKED_SHAREDCACHE …
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "contention";
  return isUniqueViolation(err) ? "duplicate" : null;
}
