import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { Metrics } from "../../../src/obs/metrics.js";
import { configSchema } from "../../../src/config/schema.js";
import { createApp } from "../../../src/web/app.js";
import { listen } from "../../../src/web/listen.js";
import { Store } from "../../../src/store/store.js";
import { freshSqlite } from "../../support/db.js";

describe("readiness", () => {
  it("is 503 with the reason while migrations are pending, 200 once they ran, 503 when the database is gone", async () => {
    const db = await freshSqlite();
    const store = await Store.open(db.url);
    const server = await listen(
      createApp({ store, config: configSchema.parse({}), metrics: new Metrics(null), log: pino({ level: "silent" }) }),
      "127.0.0.1",
      0,
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
    try {
      let res = await fetch(url);
      assert.equal(res.status, 503);
      assert.match(JSON.stringify(await res.json()), /pending migrations/);
      await store.migrate();
      res = await fetch(url);
      assert.equal(res.status, 200);
      await store.ds.destroy();
      res = await fetch(url);
      assert.equal(res.status, 503);
    } finally {
      server.close();
      await store.close();
      await db.drop();
    }
  });
});
