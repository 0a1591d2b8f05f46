import assert from "node:assert/strict";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import { Store } from "../../../src/store/store.js";
import { dialects } from "../../support/db.js";

// On SQLite every write transaction begins IMMEDIATE (src/store/store.ts), so the read and the insert of
// two processes never interleave; the race exists where connections run concurrently: MariaDB.
for (const d of dialects.filter((x) => x.name === "mysql")) {
  describe(`ensureMailbox (${d.name})`, function () {
    this.timeout(60_000);

    it("gives every caller the same row when several connections create one new mailbox at once", async () => {
      const db = await d.fresh();
      const stores: Store[] = [];
      try {
        // Separate stores = separate connections (on MariaDB, separate sessions racing on the unique name).
        for (let i = 0; i < 4; i++) stores.push(await Store.open(db.url));
        await stores[0]!.migrate();
        for (let round = 0; round < 10; round++) {
          const name = `new-${round}`;
          const rows = await Promise.all(stores.flatMap((s) => [ensureMailbox(s, name, null), ensureMailbox(s, name, `${name}@example.com`)]));
          assert.equal(new Set(rows.map((r) => r.id)).size, 1, `one row for ${name}`);
        }
      } finally {
        for (const s of stores) await s.close();
        await db.drop();
      }
    });
  });
}
