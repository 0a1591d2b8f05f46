import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import { select } from "../../../src/store/sql.js";
import { freshSqlite, useStore } from "../../support/db.js";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3") as new (path: string) => {
  pragma(s: string): unknown;
  exec(sql: string): void;
  close(): void;
};

/**
 * Another process writing the same SQLite file (an `import` next to a running gateway). Its connection
 * is opened here without a busy timeout, so that a lock held by the store shows at once instead of
 * blocking this thread (better-sqlite3 waits synchronously).
 */
describe("SQLite store next to another writing process", () => {
  const db = useStore(freshSqlite);

  it("a transaction that reads before it writes holds the write lock from its start, so another writer cannot void its reads", async () => {
    await ensureMailbox(db.store, "support", null);
    const other = new Database(db.db.url.slice("sqlite:".length));
    other.pragma("busy_timeout = 0");
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let reading!: () => void;
      const hasRead = new Promise<void>((resolve) => (reading = resolve));
      // Intake reads (dedup keys, blobs, threads) before it writes; this stands for that.
      const tx = db.store.tx(async (em) => {
        const [row] = await select<{ n: number }>(em, "SELECT COUNT(*) AS `n` FROM `mailboxes`", []);
        reading();
        await gate;
        await em.query("INSERT INTO `mailboxes` (`name`, `address`, `createdAt`) VALUES (?, NULL, ?)", [`seen-${row!.n}`, "2026-01-01 00:00:00.000"]);
      });
      await hasRead;
      let otherError: unknown = null;
      try {
        other.exec("INSERT INTO `mailboxes` (`name`, `address`, `createdAt`) VALUES ('other', NULL, '2026-01-01 00:00:00.000')");
      } catch (err) {
        otherError = err;
      }
      release();
      await tx; // with a deferred transaction this fails: SQLITE_BUSY_SNAPSHOT, its snapshot is stale
      assert.match(String((otherError as { code?: string } | null)?.code), /^SQLITE_BUSY/, "the other writer waits for the store's transaction");
    } finally {
      other.close();
    }
  });
});
