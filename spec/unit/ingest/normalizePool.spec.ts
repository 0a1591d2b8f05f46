import assert from "node:assert/strict";
import { normalizeMime, UnparseableMessageError } from "../../../src/ingest/normalize.js";
import { NormalizePool } from "../../../src/ingest/normalizePool.js";
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
