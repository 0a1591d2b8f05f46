import type { DataSource, EntityManager } from "typeorm";
import type { IsolationLevel } from "typeorm/driver/types/IsolationLevel.js";
import type { Dialect } from "./columns.js";
import { buildDataSource, parseDatabaseUrl } from "./dataSource.js";

/**
 * The opened database plus the one rule every writer follows: all writes go through `tx`.
 * better-sqlite3 cannot run two transactions at once on one connection (rows of both are lost), so on
 * SQLite `tx` queues callers; on MySQL each transaction gets its own pooled connection.
 */
export class Store {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly ds: DataSource,
    readonly dialect: Dialect,
  ) {}

  static async open(url: string, options: { logging?: boolean } = {}): Promise<Store> {
    const { dialect } = parseDatabaseUrl(url);
    const ds = await buildDataSource(url, options);
    await ds.initialize();
    if (dialect === "sqlite") beginImmediate(ds);
    return new Store(ds, dialect);
  }

  /**
   * Runs `fn` in one transaction; on SQLite, after every transaction queued before it. `isolation`
   * applies on MySQL only (SQLite transactions are serializable anyway).
   */
  tx<T>(fn: (em: EntityManager) => Promise<T>, options: { isolation?: IsolationLevel } = {}): Promise<T> {
    if (this.dialect !== "sqlite") return options.isolation ? this.ds.transaction(options.isolation, fn) : this.ds.transaction(fn);
    const run = this.chain.then(() => this.ds.transaction(fn));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Reads outside a transaction. On SQLite they wait for queued writes so they see them. */
  async read<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === "sqlite") await this.chain;
    return fn(this.ds.manager);
  }

  async migrate(): Promise<string[]> {
    const done = await this.ds.runMigrations({ transaction: "each" });
    return done.map((m) => m.name);
  }

  /** True when some migration has not run yet. */
  async hasPendingMigrations(): Promise<boolean> {
    return this.ds.showMigrations();
  }

  async ping(): Promise<void> {
    await this.ds.query("SELECT 1");
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/**
 * SQLite transactions begin IMMEDIATE: they take the write lock at BEGIN, waiting out the busy timeout
 * while another process (an import next to the gateway) writes. TypeORM begins them DEFERRED: such a
 * transaction reads first and then fails at its first write, without waiting, whenever another process
 * is writing (SQLITE_BUSY) or wrote since the read (SQLITE_BUSY_SNAPSHOT). Every `tx` writes (reads go
 * through `read`), so taking the lock up front costs nothing. better-sqlite3 has one query runner per
 * data source, so this one change covers every transaction, migrations included.
 */
function beginImmediate(ds: DataSource): void {
  const runner = ds.createQueryRunner();
  const query = runner.query.bind(runner);
  runner.query = ((sql: string, ...rest: unknown[]) =>
    (query as (sql: string, ...rest: unknown[]) => Promise<unknown>)(sql === "BEGIN TRANSACTION" ? "BEGIN IMMEDIATE TRANSACTION" : sql, ...rest)) as typeof runner.query;
}
