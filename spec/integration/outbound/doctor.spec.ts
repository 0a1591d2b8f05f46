import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../support/cli.js";
import { freshSqlite } from "../../support/db.js";
import { startSmtpPeer, type SmtpPeer } from "../../support/smtp.js";

describe("draftgate doctor with SMTP", function () {
  this.timeout(120_000);
  let peer: SmtpPeer;
  let dir: string;
  before(async () => {
    peer = await startSmtpPeer({ requireAuth: true });
    dir = mkdtempSync(join(tmpdir(), "draftgate-doctor-smtp-"));
  });
  after(async () => {
    await peer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const yaml = (password: string) =>
    [
      "mailboxes:",
      "  - name: support",
      "    address: support@example.com",
      `    smtp: { host: ${peer.host}, port: ${peer.port}, secure: false, user: ${peer.user}, password: ${password} }`,
      "",
    ].join("\n");

  it("logs in to each mailbox's SMTP server (nothing sent) and reports a wrong password as a failed check", async () => {
    const db = await freshSqlite();
    try {
      const good = join(dir, "good.yaml");
      writeFileSync(good, yaml(peer.password));
      const ok = await runCli(["doctor"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: good });
      assert.match(ok.stdout, /ok +smtp support: logged in as support@example\.com@127\.0\.0\.1:\d+/);
      assert.equal(peer.stats.logins, 1);
      assert.equal(peer.messages.length, 0);

      const bad = join(dir, "bad.yaml");
      writeFileSync(bad, yaml("wrong-pass"));
      const failed = await runCli(["doctor"], { DATABASE_URL: db.url, DRAFTGATE_CONFIG: bad });
      assert.equal(failed.code, 1);
      assert.match(failed.stdout, /FAIL +smtp support: .*authentication failed/i);
      assert.doesNotMatch(failed.stdout + failed.stderr, /wrong-pass/, "the password never reaches the output");
    } finally {
      await db.drop();
    }
  });
});
