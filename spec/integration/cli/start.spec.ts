import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, waitFor } from "../../support/cli.js";
import { dialects } from "../../support/db.js";

for (const d of dialects) {
  describe(`draftgate start (${d.name})`, function () {
    this.timeout(120_000);

    it("migrates, serves /healthz, /readyz and /metrics, and exits cleanly on SIGTERM", async () => {
      const db = await d.fresh();
      try {
        const run = runCli(["start"], { DATABASE_URL: db.url, DRAFTGATE_HTTP__PORT: "0", DRAFTGATE_HTTP__HOST: "127.0.0.1", DRAFTGATE_LOG__LEVEL: "info", DRAFTGATE_LOG__PRETTY: "never" });
        let url = "";
        let stderr = "";
        run.child.stderr!.on("data", (chunk) => {
          stderr += chunk;
          const m = /"url":"(http:[^"]+)"/.exec(stderr);
          if (m) url = m[1]!;
        });
        await waitFor(() => url !== "" || run.child.exitCode !== null, 60_000, "the web server to listen");
        assert.ok(url, `no url in log: ${stderr}`);

        const health = await fetch(new URL("/healthz", url));
        assert.equal(health.status, 200);
        const ready = await fetch(new URL("/readyz", url));
        const readyBody = (await ready.json()) as { ready: boolean; checks: { name: string; ok: boolean }[] };
        assert.equal(ready.status, 200, JSON.stringify(readyBody));
        assert.deepEqual(readyBody.checks.map((c) => [c.name, c.ok]), [["database", true], ["migrations", true]]);
        const metrics = await (await fetch(new URL("/metrics", url))).text();
        for (const name of ["draftgate_messages_ingested_total", "draftgate_jobs", "draftgate_queue_depth", "draftgate_quarantine_open"]) {
          assert.match(metrics, new RegExp(`^# TYPE ${name} `, "m"));
        }

        run.child.kill("SIGTERM");
        const result = await run;
        assert.equal(result.code, 0, result.stderr);
      } finally {
        await db.drop();
      }
    });
  });
}

describe("configuration errors at start", () => {
  it("lists every bad value with its path and exits non-zero", async () => {
    const dir = mkdtempSync(join(tmpdir(), "draftgate-badcfg-"));
    try {
      const cfg = join(dir, "bad.yaml");
      writeFileSync(cfg, "http: { port: -1 }\nmailboxes:\n  - { name: ok, address: nope }\n");
      const result = await runCli(["start"], { DRAFTGATE_CONFIG: cfg, DATABASE_URL: `sqlite:${join(dir, "x.sqlite")}` });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /http\.port/);
      assert.match(result.stderr, /mailboxes\.0\.address/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
