import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../src/config/errors.js";
import { loadConfig } from "../../../src/config/load.js";

const dir = mkdtempSync(join(tmpdir(), "draftgate-config-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

describe("configuration loading", () => {
  it("gives the documented defaults with no overrides", () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.http.port, 3000);
    assert.equal(c.database.url, "sqlite:./data/draftgate.sqlite");
    assert.equal(c.ingest.maxMessageBytes, 25 * 1024 * 1024);
    assert.deepEqual(c.mailboxes, []);
    assert.equal(c.llm.gpu, "auto");
  });

  it("merges the file named in DRAFTGATE_CONFIG over the defaults", () => {
    const path = file(
      "a.yaml",
      "http: { port: 8080 }\nmailboxes:\n  - name: support\n    address: support@example.com\n    imap: { host: imap.example.com, user: support@example.com, password: pw }\n",
    );
    const c = loadConfig({ env: { DRAFTGATE_CONFIG: path } });
    assert.equal(c.http.port, 8080);
    assert.equal(c.http.host, "0.0.0.0");
    assert.equal(c.mailboxes[0]!.imap!.port, 993);
    assert.deepEqual(c.mailboxes[0]!.imap!.folders, ["INBOX"]);
  });

  it("applies DRAFTGATE_* variables with __ nesting, loose key matching and YAML scalars", () => {
    const path = file("b.yaml", "mailboxes:\n  - name: support\n    address: support@example.com\n    imap: { host: h, user: u }\n");
    const c = loadConfig({
      env: {
        DRAFTGATE_CONFIG: path,
        DRAFTGATE_HTTP__PORT: "4001",
        DRAFTGATE_LLM__GPU_LAYERS: "20",
        DRAFTGATE_LLM__GPU: "false",
        DRAFTGATE_MAILBOXES__0__IMAP__PASSWORD: "from-env",
      },
    });
    assert.equal(c.http.port, 4001);
    assert.equal(c.llm.gpuLayers, 20);
    assert.equal(c.llm.gpu, false);
    assert.equal(c.mailboxes[0]!.imap!.password, "from-env");
    assert.equal(c.mailboxes[0]!.imap!.host, "h");
  });

  it("reads secrets from NAME_FILE variables and key_FILE entries", () => {
    const secret = file("pw.txt", "s3cret\n");
    const dbUrl = file("db.txt", "mysql://u:p@db:3306/x\n");
    const path = file("c.yaml", `mailboxes:\n  - name: s\n    address: s@example.com\n    smtp: { host: smtp.example.com, password_FILE: ${secret} }\n`);
    const c = loadConfig({ env: { DRAFTGATE_CONFIG: path, DATABASE_URL_FILE: dbUrl, DRAFTGATE_MAILBOXES__0__SMTP__USER_FILE: secret } });
    assert.equal(c.mailboxes[0]!.smtp!.password, "s3cret");
    assert.equal(c.mailboxes[0]!.smtp!.user, "s3cret");
    assert.equal(c.database.url, "mysql://u:p@db:3306/x");
  });

  it("lets DATABASE_URL pick the store", () => {
    assert.equal(loadConfig({ env: { DATABASE_URL: "mysql://root@127.0.0.1:3306/test" } }).database.url, "mysql://root@127.0.0.1:3306/test");
  });

  it("lists every bad value at once, each with its path", () => {
    const path = file(
      "bad.yaml",
      "http: { port: 99999 }\nmailboxes:\n  - name: 'bad name!'\n    address: not-an-address\n  - name: x\n    address: x@example.com\n    imap: { port: 1 }\njobs: { maxAtempts: 3 }\n",
    );
    const problems = problemsOf(() => loadConfig({ env: { DRAFTGATE_CONFIG: path, DRAFTGATE_LLM__PARALLEL: "0" } }));
    const paths = problems.map((p) => p.split(":")[0]);
    for (const expected of ["http.port", "mailboxes.0.name", "mailboxes.0.address", "mailboxes.1.imap.host", "mailboxes.1.imap.user", "jobs", "llm.parallel"]) {
      assert.ok(paths.includes(expected), `missing ${expected} in ${JSON.stringify(problems)}`);
    }
  });

  it("reports unreadable files and bad YAML as problems, not crashes", () => {
    const problems = problemsOf(() => loadConfig({ env: { DRAFTGATE_CONFIG: join(dir, "missing.yaml"), DATABASE_URL_FILE: join(dir, "nope") } }));
    assert.equal(problems.length, 2);
    const bad = file("syntax.yaml", "http: [unclosed\n");
    assert.equal(problemsOf(() => loadConfig({ env: { DRAFTGATE_CONFIG: bad } })).length, 1);
  });

  it("rejects duplicate mailbox names", () => {
    const path = file("dup.yaml", "mailboxes:\n  - { name: a, address: a@example.com }\n  - { name: a, address: b@example.com }\n");
    assert.match(problemsOf(() => loadConfig({ env: { DRAFTGATE_CONFIG: path } })).join("\n"), /mailboxes\.1\.name: duplicate/);
  });
});
