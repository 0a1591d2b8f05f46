import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "mysql2/promise";
import { Store } from "../../src/store/store.js";

/**
 * Test databases. MariaDB is required (CI has it on 127.0.0.1:3306); set DRAFTGATE_TEST_MYSQL=off to
 * run only the SQLite half on a machine without it. Each call makes a fresh database and drops it after.
 */
export const MYSQL_SERVER = process.env.DRAFTGATE_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
export const mysqlEnabled = process.env.DRAFTGATE_TEST_MYSQL !== "off";

export interface TestDatabase {
  dialect: "sqlite" | "mysql";
  url: string;
  drop(): Promise<void>;
}

export async function freshSqlite(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "draftgate-test-"));
  return {
    dialect: "sqlite",
    url: `sqlite:${join(dir, "test.sqlite")}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function freshMysql(): Promise<TestDatabase> {
  const name = `dg_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await createConnection(MYSQL_SERVER);
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  return {
    dialect: "mysql",
    url: `${MYSQL_SERVER.replace(/\/$/, "")}/${name}`,
    drop: async () => {
      const c = await createConnection(MYSQL_SERVER);
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}

export const dialects: { name: "sqlite" | "mysql"; fresh: () => Promise<TestDatabase> }[] = [
  { name: "sqlite", fresh: freshSqlite },
  ...(mysqlEnabled ? [{ name: "mysql" as const, fresh: freshMysql }] : []),
];

/**
 * Registers hooks giving each test of a describe block a fresh migrated store of one dialect.
 * Usage: `const db = useStore(dialect)` then `db.store` inside tests.
 */
export function useStore(fresh: () => Promise<TestDatabase>, scope: "each" | "all" = "each") {
  const state = {} as { store: Store; db: TestDatabase };
  const setup = async () => {
    state.db = await fresh();
    state.store = await Store.open(state.db.url);
    await state.store.migrate();
  };
  const teardown = async () => {
    await state.store?.close();
    await state.db?.drop();
  };
  if (scope === "each") {
    beforeEach(setup);
    afterEach(teardown);
  } else {
    before(setup);
    after(teardown);
  }
  return state;
}
