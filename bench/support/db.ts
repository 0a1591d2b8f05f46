/**
 * Fresh databases for benchmark runs: SQLite in a temp folder (spec/support/db.ts's), MariaDB as a new
 * database `<prefix>_<pid>_<random>` on BENCH_MYSQL_URL (or DRAFTGATE_TEST_MYSQL_URL), dropped afterwards.
 */
import { createConnection } from "mysql2/promise";
import { freshSqlite, type TestDatabase } from "../../spec/support/db.js";

export type Dialect = TestDatabase["dialect"];
export type FreshDatabase = TestDatabase;
export const DIALECT_LABEL: Record<Dialect, string> = { sqlite: "SQLite", mysql: "MariaDB" };

export const BENCH_MYSQL_SERVER = (process.env.BENCH_MYSQL_URL ?? process.env.DRAFTGATE_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306").replace(/\/$/, "");

/** One statement on the MariaDB server (no database selected); an unreachable server says how to avoid it. */
async function onServer(sql: string): Promise<void> {
  let conn;
  try {
    conn = await createConnection(BENCH_MYSQL_SERVER);
  } catch (err) {
    throw new Error(`cannot reach MariaDB at ${BENCH_MYSQL_SERVER} (${(err as Error).message}); set BENCH_MYSQL_URL or use --only sqlite`, { cause: err });
  }
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

async function freshMysql(prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await onServer(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  return { dialect: "mysql", url: `${BENCH_MYSQL_SERVER}/${name}`, drop: () => onServer(`DROP DATABASE IF EXISTS \`${name}\``) };
}

/** A new empty database of `dialect`; `mysqlPrefix` names the MariaDB one (e.g. `dg_bench`). */
export function freshDatabase(dialect: Dialect, mysqlPrefix: string): Promise<FreshDatabase> {
  return dialect === "sqlite" ? freshSqlite() : freshMysql(mysqlPrefix);
}

/** Fails fast, before any building or generating, when a MariaDB run is asked for and the server is not there. */
export async function checkMysqlReachable(dialects: readonly Dialect[]): Promise<void> {
  if (dialects.includes("mysql")) await (await freshMysql("dg_bench_probe")).drop();
}

/** The file behind a `sqlite:<file>` URL. */
export function sqliteFile(db: FreshDatabase): string {
  return db.url.slice("sqlite:".length);
}
