import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createConnection } from "mysql2/promise";
import { DataSource, type DataSourceOptions } from "typeorm";
import type { Dialect } from "./columns.js";
import { imapEntities } from "./entities/imap.js";
import { mailEntities } from "./entities/mail.js";
import { reviewEntities } from "./entities/review.js";
import { workEntities } from "./entities/work.js";
import { mysqlMigrations } from "./migrations/mysql/index.js";
import { sqliteMigrations } from "./migrations/sqlite/index.js";

export interface StoreLocation {
  dialect: Dialect;
  /** File path for SQLite; the URL for MySQL. */
  target: string;
}

/** `sqlite:./data/x.sqlite`, `sqlite::memory:`, `mysql://…` or `mariadb://…`. */
export function parseDatabaseUrl(url: string): StoreLocation {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (!path) throw new Error(`database url "${url}" names no file`);
    return { dialect: "sqlite", target: path };
  }
  if (/^(mysql|mariadb):\/\//.test(url)) return { dialect: "mysql", target: url };
  throw new Error(`database url must start with sqlite: or mysql:// (got "${redactUrl(url)}")`);
}

/**
 * The URL with its password shown as `***`, for logs and messages. The URL parser reads it; but people
 * type passwords into DATABASE_URL as they are, and a raw "/", "?" or "#" in one ends the parser's
 * authority early, so the rest of the password would show as a host or path. Whenever an "@" lies beyond
 * what the parser took as the authority (or it cannot parse the URL), the credentials run to the last
 * "@" instead: hiding a rare "@" in a query string as well is the safe mistake.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z\d+.-]*:\/\//iu.exec(url)?.[0];
  if (!scheme) return url; // sqlite:… and other forms without an authority carry no credentials
  let parsed: URL | null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (parsed && !`${parsed.pathname}${parsed.search}${parsed.hash}`.includes("@")) {
    if (!parsed.password) return url;
    parsed.password = "***";
    return parsed.href;
  }
  const at = url.lastIndexOf("@");
  if (at < scheme.length) return url;
  const userinfo = url.slice(scheme.length, at);
  const colon = userinfo.indexOf(":");
  if (colon < 0) return url; // a user name only
  return `${scheme}${userinfo.slice(0, colon)}:***@${url.slice(at + 1)}`;
}

export function entitiesFor(dialect: Dialect) {
  return [...mailEntities(dialect), ...workEntities(dialect), ...reviewEntities(dialect), ...imapEntities(dialect)];
}

/** Builds (does not open) the TypeORM data source for a database URL. */
export async function buildDataSource(url: string, options: { logging?: boolean } = {}): Promise<DataSource> {
  const loc = parseDatabaseUrl(url);
  const common = {
    entities: entitiesFor(loc.dialect),
    migrationsRun: false,
    synchronize: false,
    logging: options.logging ?? false,
    migrationsTransactionMode: "each" as const,
  };
  let config: DataSourceOptions;
  if (loc.dialect === "sqlite") {
    const memory = loc.target === ":memory:";
    if (!memory) mkdirSync(dirname(resolve(loc.target)), { recursive: true });
    config = {
      ...common,
      type: "better-sqlite3",
      database: memory ? ":memory:" : resolve(loc.target),
      enableWAL: !memory,
      // Every hot statement is prepared once and kept (TypeORM's default keeps 100, first in first out,
      // and the query builder's texts pushed the hot ones out).
      statementCacheSize: 1000,
      // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commit.
      prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
        db.pragma("synchronous = NORMAL");
        db.pragma("busy_timeout = 5000");
      },
      migrations: sqliteMigrations,
    };
  } else {
    config = {
      ...common,
      type: await mysqlFlavour(loc.target),
      url: loc.target.replace(/^mariadb:/, "mysql:"),
      charset: "utf8mb4_unicode_ci",
      timezone: "Z",
      supportBigNumbers: true,
      // Plain-SQL statements are server-side prepared (see sql.ts); keep each connection's cache well
      // under the server-wide max_prepared_stmt_count (16382) even with many processes.
      extra: { connectionLimit: 10, maxPreparedStatements: 200 },
      migrations: mysqlMigrations,
    };
  }
  return new DataSource(config);
}

/** TypeORM writes some SQL differently for MariaDB; ask the server which one it is. */
async function mysqlFlavour(url: string): Promise<"mysql" | "mariadb"> {
  if (url.startsWith("mariadb:")) return "mariadb";
  const conn = await createConnection(url);
  try {
    const [rows] = await conn.query("SELECT VERSION() AS v");
    return /mariadb/i.test(String((rows as { v: string }[])[0]?.v)) ? "mariadb" : "mysql";
  } finally {
    await conn.end();
  }
}
