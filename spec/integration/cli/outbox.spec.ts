import assert from "node:assert/strict";
import { claimOutboxForSend, moveOutbox } from "../../../src/store/outbox.js";
import { dialects } from "../../support/db.js";
import { cliWorld, type CliWorld } from "../review/cliWorld.js";
import { jobsOf, outboxRows, pendingDraft } from "../review/helpers.js";

/** `draftgate outbox [--json]` and `outbox resolve ID --sent|--resend`, run as a user would (the built CLI). */

for (const d of dialects) {
  describe(`draftgate outbox (${d.name})`, function () {
    this.timeout(120_000);
    let w: CliWorld;
    before(async () => {
      w = await cliWorld(d.fresh);
      assert.equal((await w.cli(["user", "add", "ada@team.example.com", "--role", "admin"])).code, 0);
      assert.equal((await w.cli(["user", "add", "rex@team.example.com", "--role", "reviewer"])).code, 0);
    });
    after(async () => w?.close());

    /** An approved reply whose send died after the final dot. */
    async function uncertainEntry(subject: string): Promise<number> {
      const c = await w.importMail({ subject });
      const draftId = await pendingDraft(w.store, c);
      const approved = await w.cli(["drafts", "approve", String(draftId), "--as", "rex@team.example.com", "--json"]);
      assert.equal(approved.code, 0, approved.stderr);
      const { outboxId } = JSON.parse(approved.stdout) as { outboxId: number };
      await w.store.tx(async (em) => {
        assert.ok(await claimOutboxForSend(em, outboxId));
        await moveOutbox(em, outboxId, "outcome-unknown", { lastError: "connection closed after the final dot" });
      });
      return outboxId;
    }

    it("lists entries with their state and says how to settle an uncertain one", async () => {
      const id = await uncertainEntry("Listed");
      const human = await w.cli(["outbox"]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`outbox #${id} \\[uncertain\\]`));
      assert.match(human.stdout, /last error: connection closed after the final dot/);
      assert.match(human.stdout, /draftgate outbox resolve ID --sent \| --resend/);
      const json = JSON.parse((await w.cli(["outbox", "--json", "--state", "uncertain"])).stdout) as Record<string, unknown>[];
      const entry = json.find((e) => e.id === id);
      assert.ok(entry);
      for (const key of ["id", "conversationId", "draftId", "state", "messageId", "to", "subject", "attempts", "lastError", "approvedBy"]) {
        assert.ok(key in entry, `outbox --json lacks ${key}`);
      }
      assert.deepEqual([entry.state, entry.attempts, entry.approvedBy], ["uncertain", 1, "rex@team.example.com"]);
      assert.ok(json.every((e) => e.state === "uncertain"));
    });

    it("resolve: only uncertain entries, --sent or --resend (same Message-ID, a new send job), admins or the operator", async () => {
      const a = await uncertainEntry("Resolve sent");
      const b = await uncertainEntry("Resolve resend");
      const messageIdOf = async (id: number) => (await outboxRows(w.store)).find((r) => r.id === id)!.messageId;
      const before = await messageIdOf(b);

      const neither = await w.cli(["outbox", "resolve", String(a)]);
      assert.equal(neither.code, 1);
      assert.match(neither.stderr, /--sent .* or --resend/);
      const notAdmin = await w.cli(["outbox", "resolve", String(a), "--sent", "--as", "rex@team.example.com"]);
      assert.equal(notAdmin.code, 1);
      assert.match(notAdmin.stderr, /only an admin resolves.*\[EOUTBOX\]/);

      const sent = await w.cli(["outbox", "resolve", String(a), "--sent"]);
      assert.equal(sent.code, 0, sent.stderr);
      const sendJobs = (await jobsOf(w.store, "send")).length;
      const resend = await w.cli(["outbox", "resolve", String(b), "--resend", "--as", "ada@team.example.com"]);
      assert.equal(resend.code, 0, resend.stderr);
      assert.equal((await jobsOf(w.store, "send")).length, sendJobs + 1);

      const rows = await outboxRows(w.store);
      const ra = rows.find((r) => r.id === a)!;
      const rb = rows.find((r) => r.id === b)!;
      assert.deepEqual([ra.state, ra.resolution, ra.resolvedBy], ["sent", "sent", "cli"]);
      assert.deepEqual([rb.state, rb.resolution, rb.resolvedBy, rb.messageId], ["queued", "resend", "ada@team.example.com", before]);

      // Neither is uncertain any more: resolving again is refused, and nothing else ever is resolvable.
      for (const id of [a, b]) {
        const again = await w.cli(["outbox", "resolve", String(id), "--resend"]);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /only an uncertain entry can be resolved.*\[EOUTBOX\]/);
      }
      const missing = await w.cli(["outbox", "resolve", "424242", "--sent"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /does not exist.*\[EOUTBOX\]/);
    });
  });
}
