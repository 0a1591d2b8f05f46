import assert from "node:assert/strict";
import { Store } from "../../../src/store/store.js";
import { dialects } from "../../support/db.js";

for (const d of dialects) {
  describe(`migrations (${d.name})`, () => {
    it("leave no difference between the entities and the migrated schema", async () => {
      const db = await d.fresh();
      const store = await Store.open(db.url);
      try {
        assert.equal(await store.hasPendingMigrations(), true);
        const ran = await store.migrate();
        assert.ok(ran.length > 0);
        assert.equal(await store.hasPendingMigrations(), false);
        const drift = await store.ds.driver.createSchemaBuilder().log();
        assert.deepEqual(
          drift.upQueries.map((q) => q.query),
          [],
          "entities changed without a migration: run src/store/migrations/generate.ts for this dialect",
        );
      } finally {
        await store.close();
        await db.drop();
      }
    });

    it("revert cleanly with down and apply again", async () => {
      const db = await d.fresh();
      const store = await Store.open(db.url);
      try {
        const ran = await store.migrate();
        for (let i = 0; i < ran.length; i++) await store.ds.undoLastMigration({ transaction: "each" });
        const runner = store.ds.createQueryRunner();
        const left: string[] = [];
        for (const meta of store.ds.entityMetadatas) if (await runner.hasTable(meta.tableName)) left.push(meta.tableName);
        await runner.release();
        assert.deepEqual(left, [], "down migrations left tables behind");
        await store.migrate();
        assert.equal(await store.hasPendingMigrations(), false);
      } finally {
        await store.close();
        await db.drop();
      }
    });
  });
}
