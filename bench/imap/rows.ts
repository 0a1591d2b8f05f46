/**
 * Watching the gateway's database from the benchmark process, without going through Draftgate's code:
 * how many rows `messages` holds, and which rows arrived since a given id.
 *
 * SQLite: a read-only better-sqlite3 connection (the gateway runs the database in WAL mode, so reading
 * never blocks its writes). The file only appears once the gateway opened it and the table only once
 * its migrations ran: until then count() answers null. MariaDB: a mysql2 connection to the same database.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createConnection, type Connection, type RowDataPacket } from "mysql2/promise";

export interface NewRow {
  id: number;
  messageId: string | null;
}

export interface RowWatcher {
  /** Rows in `messages`; null while the database or the table does not exist yet. */
  count(): Promise<number | null>;
  /** Rows in `quarantine` (0 while the table does not exist). */
  quarantined(): Promise<number>;
  /** The highest `messages.id` (0 when empty). */
  maxId(): Promise<number>;
  /** Rows with id > afterId, in id order. */
  rowsAfter(afterId: number): Promise<NewRow[]>;
  close(): Promise<void>;
}

/** The little of better-sqlite3 used here (the project has no @types/better-sqlite3). */
interface SqliteDb {
  prepare(sql: string): { get(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
  close(): void;
}
const Database = createRequire(import.meta.url)("better-sqlite3") as new (file: string, options: { readonly: boolean; fileMustExist: boolean }) => SqliteDb;

const missingTable = (e: unknown) => /no such table|doesn't exist|ER_NO_SUCH_TABLE/i.test(String((e as Error)?.message ?? e));

export function sqliteWatcher(file: string): RowWatcher {
  let db: SqliteDb | null = null;
  const open = (): SqliteDb | null => {
    if (db) return db;
    if (!existsSync(file)) return null;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      return db;
    } catch {
      return null; // being created right now: try again on the next poll
    }
  };
  /** Runs a query; null when the database or table is not there yet. */
  const run = <T>(fn: (d: SqliteDb) => T): T | null => {
    const d = open();
    if (!d) return null;
    try {
      return fn(d);
    } catch (e) {
      if (missingTable(e) || /not a database|SQLITE_CANTOPEN|unable to open|disk image/i.test(String((e as Error).message))) {
        // Not migrated yet (or the file is being created): reopen next time, so no stale schema is kept.
        d.close();
        db = null;
        return null;
      }
      throw e;
    }
  };
  return {
    count: async () => run((d) => (d.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n),
    quarantined: async () => run((d) => (d.prepare("SELECT count(*) AS n FROM quarantine").get() as { n: number }).n) ?? 0,
    maxId: async () => run((d) => (d.prepare("SELECT coalesce(max(id), 0) AS m FROM messages").get() as { m: number }).m) ?? 0,
    rowsAfter: async (afterId) => run((d) => d.prepare("SELECT id, messageId FROM messages WHERE id > ? ORDER BY id").all(afterId) as NewRow[]) ?? [],
    close: async () => {
      db?.close();
      db = null;
    },
  };
}

export async function mysqlWatcher(url: string): Promise<RowWatcher> {
  const conn: Connection = await createConnection(url);
  const scalar = async (sql: string): Promise<number | null> => {
    try {
      const [rows] = await conn.query<RowDataPacket[]>(sql);
      return Number(rows[0]!.n);
    } catch (e) {
      if (missingTable(e)) return null;
      throw e;
    }
  };
  return {
    count: () => scalar("SELECT count(*) AS n FROM messages"),
    quarantined: async () => (await scalar("SELECT count(*) AS n FROM quarantine")) ?? 0,
    maxId: async () => (await scalar("SELECT coalesce(max(id), 0) AS n FROM messages")) ?? 0,
    rowsAfter: async (afterId) => {
      try {
        const [rows] = await conn.query<RowDataPacket[]>("SELECT id, messageId FROM messages WHERE id > ? ORDER BY id", [afterId]);
        return rows.map((r) => ({ id: Number(r.id), messageId: (r.messageId as string | null) ?? null }));
      } catch (e) {
        if (missingTable(e)) return [];
        throw e;
      }
    },
    close: () => conn.end(),
  };
}
