import assert from "node:assert/strict";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import type { Store } from "../../../src/store/store.js";
import { waitFor } from "../../support/cli.js";
import { freshSqlite, useStore } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { imapTestConfig, startPoller, testMessage } from "../../support/imap.js";

const count = (store: Store) => store.read((em) => em.getRepository("Message").count());

describe("stopping an IMAP poller in the middle of a backlog", function () {
  this.timeout(180_000);
  let dovecot: Dovecot;
  const db = useStore(freshSqlite);

  before(async () => {
    dovecot = await startDovecot({ users: [{ user: "support", password: "secret" }] });
  });
  after(async () => dovecot?.stop());

  it("stops after the batch in flight, and the next start takes the rest exactly once", async () => {
    const TOTAL = 600;
    const BATCH = 5;
    await dovecot.appendMany("support", "INBOX", Array.from({ length: TOTAL }, (_, i) => testMessage(`backlog ${i}`)));
    const config = imapTestConfig(dovecot, [{ name: "support", user: "support", password: "secret" }], { imap: { batchSize: BATCH } });
    const first = await startPoller(db.store, config);
    await waitFor(async () => (await count(db.store)) >= 4 * BATCH, 30_000, "the backlog to start");
    const atStop = await count(db.store);
    await first.stop();
    const afterStop = await count(db.store);
    assert.ok(afterStop < TOTAL, `stop() waited for the whole backlog (${afterStop} of ${TOTAL} stored)`);
    assert.ok(afterStop <= atStop + 3 * BATCH, `committed ${afterStop - atStop} messages after stop() was called`);

    const second = await startPoller(db.store, config);
    try {
      await waitFor(async () => (await count(db.store)) >= TOTAL, 60_000, "the rest of the backlog");
      await waitFor(() => second.health.backlog === 0, 10_000, "the sync to finish");
    } finally {
      await second.stop();
    }
    const subjects = await db.store.read(async (em) => (await em.getRepository<MessageRow>("Message").find({ select: { subject: true } })).map((m) => m.subject));
    assert.equal(subjects.length, TOTAL);
    assert.equal(new Set(subjects).size, TOTAL, "every message exactly once");
  });
});
