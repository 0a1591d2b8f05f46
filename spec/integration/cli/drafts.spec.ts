import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dialects } from "../../support/db.js";
import { cliWorld, type CliWorld } from "../review/cliWorld.js";
import { ID_DOMAIN, outboxRows, pendingDraft, sha256 } from "../review/helpers.js";

/**
 * `draftgate drafts`, `drafts approve|reject`, `reply` and what `outbox --json` and `threads --json`
 * show afterwards, run as a user would (the built CLI). Contracts: DESIGN.md "Outside contracts".
 */

interface DraftJson {
  id: number;
  conversationId: number;
  status: string;
  origin: string;
  body: string;
  flags: string[];
  createdAt: string;
}
interface OutboxJson {
  id: number;
  conversationId: number;
  draftId: number | null;
  state: string;
  messageId: string;
  to: string[];
  subject: string;
  attempts: number;
  lastError: string | null;
  approvedBy: string;
}

for (const d of dialects) {
  describe(`draftgate drafts / reply (${d.name})`, function () {
    this.timeout(120_000);
    let w: CliWorld;
    before(async () => {
      w = await cliWorld(d.fresh);
      const added = await w.cli(["user", "add", "Rita@Team.example.com", "--role", "reviewer"]);
      assert.equal(added.code, 0, added.stderr);
    });
    after(async () => w?.close());

    it("--help lists drafts, reply and outbox", async () => {
      const help = await w.cli(["--help"]);
      assert.equal(help.code, 0);
      for (const cmd of ["drafts", "reply", "outbox"]) assert.match(help.stdout, new RegExp(`^  ${cmd} `, "m"));
      const sub = await w.cli(["drafts", "--help"]);
      for (const cmd of ["approve", "reject", "regenerate"]) assert.match(sub.stdout, new RegExp(`^  ${cmd} `, "m"));
    });

    it("lists pending drafts, approves one with an edited text, and outbox and threads show it", async () => {
      const c = await w.importMail();
      const draftId = await pendingDraft(w.store, c, "Drafted text.");
      const list = await w.cli(["drafts", "--json"]);
      assert.equal(list.code, 0, list.stderr);
      const drafts = JSON.parse(list.stdout) as DraftJson[];
      const mine = drafts.find((x) => x.id === draftId);
      assert.ok(mine, list.stdout);
      assert.deepEqual(
        { ...mine, createdAt: typeof mine.createdAt },
        {
          ...mine,
          id: draftId,
          conversationId: c.conversationId,
          status: "pending",
          origin: "model",
          body: "Drafted text.",
          flags: [],
          createdAt: "string",
        },
      );
      assert.ok(!Number.isNaN(Date.parse(mine.createdAt)));

      const edited = "Hi Jane,\n\nyour parcel left today.\n\nBest, Rita\n";
      const file = join(w.dir, "edited.txt");
      writeFileSync(file, edited);
      const ok = await w.cli(["drafts", "approve", String(draftId), "--body-file", file, "--as", "rita@team.example.com"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /queued as outbox #\d+/);

      const outbox = JSON.parse((await w.cli(["outbox", "--json"])).stdout) as OutboxJson[];
      const entry = outbox.find((e) => e.draftId === draftId);
      assert.ok(entry, JSON.stringify(outbox));
      assert.equal(entry.state, "queued");
      assert.equal(entry.conversationId, c.conversationId);
      assert.match(entry.messageId, new RegExp(`@${ID_DOMAIN.replace(/\./g, "\\.")}$`));
      assert.deepEqual(entry.to, ["jane@customer.example.net"]);
      assert.equal(entry.subject, "Re: Where is my order?");
      assert.equal(entry.attempts, 0);
      assert.equal(entry.lastError, null);
      assert.equal(entry.approvedBy, "rita@team.example.com");
      const [row] = (await outboxRows(w.store)).filter((r) => r.id === entry.id);
      assert.equal(row!.body, edited);
      assert.equal(row!.bodyHash, sha256(edited));

      const threads = JSON.parse((await w.cli(["threads", "--json"])).stdout) as {
        id: number;
        draft?: { status: string; body: string; origin: string };
      }[];
      const t = threads.find((x) => x.id === c.conversationId);
      assert.deepEqual(t?.draft && { status: t.draft.status, body: t.draft.body }, { status: "approved", body: edited });
      const after = JSON.parse((await w.cli(["drafts", "--json"])).stdout) as DraftJson[];
      assert.ok(!after.some((x) => x.id === draftId), "an approved draft is still listed as pending");
    });

    it("refuses with a clear message and exit 1: twice, unknown reviewer, wrong mailbox or conversation, no --as", async () => {
      const c = await w.importMail({ subject: "Refusals" });
      const draftId = String(await pendingDraft(w.store, c));
      const cases: [string[], RegExp][] = [
        [["drafts", "approve", draftId, "--as", "nobody@team.example.com"], /nobody@team\.example\.com is not a user.*\[EAPPROVAL\]/],
        [
          ["drafts", "approve", draftId, "--as", "rita@team.example.com", "--mailbox", "billing"],
          /mailbox support, not to mailbox billing.*\[EAPPROVAL\]/,
        ],
        [
          ["drafts", "approve", draftId, "--as", "rita@team.example.com", "--conversation", String(c.conversationId + 1000)],
          /belongs to conversation.*\[EAPPROVAL\]/,
        ],
        [["drafts", "approve", draftId], /required option '--as <email>'/],
        [["drafts", "approve", "x1", "--as", "rita@team.example.com"], /"x1" is not a draft id/],
      ];
      for (const [args, message] of cases) {
        const r = await w.cli(args);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, message);
      }
      const first = await w.cli(["drafts", "approve", draftId, "--as", "rita@team.example.com"]);
      assert.equal(first.code, 0, first.stderr);
      const twice = await w.cli(["drafts", "approve", draftId, "--as", "rita@team.example.com"]);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /already approved by rita@team\.example\.com.*\[EAPPROVAL\]/);
      assert.equal((await outboxRows(w.store)).filter((r) => r.draftId === Number(draftId)).length, 1);
    });

    it("reject keeps the draft from being sent; reply writes one by hand", async () => {
      const c = await w.importMail({ subject: "Reject me" });
      const draftId = String(await pendingDraft(w.store, c));
      const rejected = await w.cli(["drafts", "reject", draftId, "--reason", "wrong tone"]);
      assert.equal(rejected.code, 0, rejected.stderr);
      const late = await w.cli(["drafts", "approve", draftId, "--as", "rita@team.example.com"]);
      assert.equal(late.code, 1);
      assert.match(late.stderr, /was rejected.*\[EAPPROVAL\]/);

      const file = join(w.dir, "by-hand.txt");
      writeFileSync(file, "Hello Jane, written by hand.\n");
      const reply = await w.cli(["reply", String(c.conversationId), "--body-file", file, "--as", "rita@team.example.com", "--json"]);
      assert.equal(reply.code, 0, reply.stderr);
      const r = JSON.parse(reply.stdout) as { outboxId: number; draftId: number; to: string[] };
      assert.deepEqual(r.to, ["jane@customer.example.net"]);
      const outbox = JSON.parse((await w.cli(["outbox", "--json"])).stdout) as OutboxJson[];
      assert.deepEqual(
        outbox.filter((e) => e.conversationId === c.conversationId).map((e) => [e.id, e.draftId, e.state, e.approvedBy]),
        [[r.outboxId, r.draftId, "queued", "rita@team.example.com"]],
      );
      const missing = await w.cli(["reply", "999999", "--body-file", file, "--as", "rita@team.example.com"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /conversation 999999 does not exist.*\[EAPPROVAL\]/);
    });
  });
}
