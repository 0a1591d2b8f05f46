import assert from "node:assert/strict";
import type { EntityManager } from "typeorm";
import type { InTransaction, RawInput } from "../../../src/pipeline/intake.js";
import type { MessageRow, QuarantineRow } from "../../../src/store/entities/mail.js";
import type { Store } from "../../../src/store/store.js";
import { compose } from "../../support/compose.js";
import { dialects, useStore } from "../../support/db.js";
import { testIntake } from "../../support/intake.js";

/** Errors as the drivers raise them (mysql2 through sql.ts's execute; better-sqlite3 through TypeORM). */
function driverError(code: string, errno?: number): Error {
  return Object.assign(new Error(`${code}: simulated`), { code, ...(errno ? { errno } : {}) });
}
const wrapped = (e: Error): Error => Object.assign(new Error(e.message), { name: "QueryFailedError", driverError: e, code: (e as { code?: string }).code });

const TRANSIENT: Record<"sqlite" | "mysql", Error[]> = {
  sqlite: [wrapped(driverError("SQLITE_BUSY")), wrapped(driverError("SQLITE_BUSY_SNAPSHOT"))],
  mysql: [driverError("ER_LOCK_DEADLOCK", 1213), driverError("ER_LOCK_WAIT_TIMEOUT", 1205)],
};

/**
 * Makes the next `failures` transactions of the store fail with `error` after their writes ran, so the
 * database really rolls them back (as a deadlock victim or a busy SQLite database would).
 */
function failTransactions(store: Store, errors: Error[]): { calls: () => number } {
  const real = store.tx.bind(store);
  let calls = 0;
  store.tx = (<T>(fn: (em: EntityManager) => Promise<T>, options?: Parameters<Store["tx"]>[1]) =>
    real(async (em) => {
      const result = await fn(em);
      const error = errors[calls++];
      if (error) throw error;
      return result;
    }, options));
  return { calls: () => calls };
}

const FAST_RETRY = { attempts: 5, baseMs: 1, maxMs: 5 };

for (const d of dialects) {
  describe(`intake under concurrent database work (${d.name})`, () => {
    const db = useStore(d.fresh);
    const message = (id: string) => compose({ messageId: `<${id}@example.org>`, from: "a@example.org", to: "support@example.com", subject: id, text: "hello" });
    const input = async (id: string): Promise<RawInput> => ({ raw: await message(id), source: "test", sourceRef: id });
    const quarantined = () => db.store.read((em) => em.getRepository<QuarantineRow>("Quarantine").find());
    const storedIds = async () => (await db.store.read((em) => em.getRepository<MessageRow>("Message").find({ order: { id: "ASC" } }))).map((m) => m.messageId);

    it("retries a batch that failed for lock contention (in the batch and alone) instead of quarantining its messages", async () => {
      const { mailbox, intake } = await testIntake(db.store, { transientRetry: FAST_RETRY });
      const errors = TRANSIENT[d.name];
      failTransactions(db.store, [errors[0]!, errors[1]!]);
      const out = await intake.ingest(mailbox, [await input("one"), await input("two")]);
      assert.deepEqual(out.map((o) => o.kind), ["stored", "stored"]);
      assert.deepEqual(await quarantined(), []);
      assert.deepEqual(await storedIds(), ["one@example.org", "two@example.org"]);
    });

    it("gives up on lasting contention by throwing, and quarantines nothing (an IMAP checkpoint stays where it was)", async () => {
      const { mailbox, intake } = await testIntake(db.store, { transientRetry: FAST_RETRY });
      const lasting = TRANSIENT[d.name][0]!;
      failTransactions(db.store, Array(100).fill(lasting));
      let checkpointMoved = 0;
      const advance: InTransaction = async () => void checkpointMoved++;
      await assert.rejects(intake.ingest(mailbox, [await input("three")], advance), (err) => err === lasting);
      assert.deepEqual(await quarantined(), []);
      assert.deepEqual(await storedIds(), []);
      // The callback ran inside transactions that were all rolled back: nothing of it committed.
      assert.ok(checkpointMoved > 0);
    });

    it("retries a duplicate key filled by a concurrent writer: the retry reads the row and uses it", async () => {
      const { mailbox, intake } = await testIntake(db.store, { transientRetry: FAST_RETRY });
      const dup = d.name === "mysql" ? driverError("ER_DUP_ENTRY", 1062) : wrapped(driverError("SQLITE_CONSTRAINT_UNIQUE"));
      failTransactions(db.store, [dup, dup]);
      const out = await intake.ingest(mailbox, [await input("four")]);
      assert.deepEqual(out.map((o) => o.kind), ["stored"]);
      assert.deepEqual(await quarantined(), []);
    });

    it("passes an error of the in-transaction callback (a lost lease) to the caller and quarantines nothing", async () => {
      const { mailbox, intake } = await testIntake(db.store, { transientRetry: FAST_RETRY });
      class LeaseLost extends Error {}
      let calls = 0;
      const lease: InTransaction = async () => {
        calls++;
        if (calls <= 2) throw new LeaseLost("lease lost");
      };
      await assert.rejects(intake.ingest(mailbox, [await input("five"), await input("six")], lease), LeaseLost);
      assert.equal(calls, 1, "not run again: the caller decides what a lost lease means");
      assert.deepEqual(await quarantined(), []);
      assert.deepEqual(await storedIds(), []);
    });

    it("still quarantines a message whose own transaction fails for a reason that is not contention", async () => {
      const { mailbox, intake } = await testIntake(db.store, { transientRetry: FAST_RETRY });
      failTransactions(db.store, [new Error("value out of range"), new Error("value out of range")]);
      const out = await intake.ingest(mailbox, [await input("seven")]);
      assert.deepEqual(out.map((o) => o.kind), ["quarantined"]);
      const [row] = await quarantined();
      assert.equal(row!.errorCode, "ESTORE");
      assert.match(row!.reason, /value out of range/);
    });
  });
}
