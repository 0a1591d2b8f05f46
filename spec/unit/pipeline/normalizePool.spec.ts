import assert from "node:assert/strict";
import type { Worker } from "node:worker_threads";
import { normalizeMime, UnparseableMessageError } from "../../../src/pipeline/normalize.js";
import { NormalizePool } from "../../../src/pipeline/normalizePool.js";
import { compose } from "../../support/compose.js";

describe("normalize pool (worker threads)", function () {
  this.timeout(60_000);
  let pool: NormalizePool;
  before(() => (pool = new NormalizePool(2)));
  after(() => pool.close());

  it("gives the same result as parsing in this thread, attachments included", async () => {
    const raws = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        compose({
          messageId: `<pool-${i}@example.org>`,
          from: "a@example.org",
          to: "support@example.com",
          subject: `Pool ${i}`,
          text: `Hello ${i}\n\nOn Mon, someone wrote:\n> old\n`,
          html: `<p>Hello ${i}</p><script>x()</script>`,
          attachments: [{ filename: "f.bin", content: Buffer.from([i, 1, 2, 3]) }],
        }),
      ),
    );
    const viaPool = await Promise.all(raws.map((r) => pool.normalize(r)));
    const local = await Promise.all(raws.map((r) => normalizeMime(r)));
    for (let i = 0; i < raws.length; i++) {
      const { attachments: a, ...rest } = viaPool[i]!;
      const { attachments: b, ...expected } = local[i]!;
      assert.deepEqual(rest, expected);
      assert.deepEqual(a.map((x) => [x.filename, x.sha256, Buffer.from(x.content).toString("hex")]), b.map((x) => [x.filename, x.sha256, Buffer.from(x.content).toString("hex")]));
    }
  });

  it("reports unparseable input as UnparseableMessageError", async () => {
    await assert.rejects(pool.normalize(Buffer.from("no headers here\n")), UnparseableMessageError);
  });
});

describe("normalize pool: a worker that crashes", function () {
  this.timeout(60_000);

  /** The pool's worker slots (private, in its ThreadPool): a crash must leave exactly `size` of them, each a live worker. */
  const slotsOf = (pool: NormalizePool) => (pool as unknown as { pool: { slots: { worker: Worker }[] } }).pool.slots;

  it("fails its in-flight message once, is replaced by exactly one worker, and close() ends them all", async () => {
    const pool = new NormalizePool(1);
    try {
      const raw = await compose({ messageId: "<crash@example.org>", from: "a@example.org", to: "support@example.com", subject: "crash", text: "hi" });
      const crashed = slotsOf(pool)[0]!.worker;
      const exited = new Promise<void>((resolve) => crashed.once("exit", () => resolve()));
      const errored = new Promise<void>((resolve) => crashed.once("error", () => resolve()));
      const inFlight = pool.normalize(raw);
      // A job the worker cannot read throws outside its try/catch: an uncaught error ends the thread,
      // which emits "error" and then "exit".
      crashed.postMessage(null);
      await assert.rejects(inFlight, /parser worker failed/);
      await Promise.all([errored, exited]);
      // Let both handlers run before looking at the slots.
      await new Promise((resolve) => setImmediate(resolve));

      assert.deepEqual(Object.keys(slotsOf(pool)), ["0"], "one slot, no stray worker outside the slots");
      assert.notEqual(slotsOf(pool)[0]!.worker, crashed);
      assert.equal((await pool.normalize(raw)).messageId, "crash@example.org", "the replacement parses");

      const ended = slotsOf(pool).map((s) => new Promise<void>((resolve) => s.worker.once("exit", () => resolve())));
      await pool.close();
      await Promise.all(ended);
    } finally {
      await pool.close();
      // Cleanup only: a stray worker (the bug this pins) would otherwise outlive the test.
      await Promise.all(Object.values(slotsOf(pool)).map((s) => s.worker.terminate()));
    }
  });
});
