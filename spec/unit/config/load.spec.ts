import assert from "node:assert/strict";
import fc from "fast-check";
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

  describe("DRAFTGATE_* values for keys the schema types as text", () => {
    const mailboxFile = () =>
      file("raw.yaml", "mailboxes:\n  - name: support\n    address: support@example.com\n    imap: { host: h, user: u, password: x }\n    smtp: { host: s }\n");
    // [what, the variable's value, the string the key must hold]
    const cases: Array<[string, string, string]> = [
      ["single quotes", "'abc'", "'abc'"],
      ["double quotes", '"abc"', '"abc"'],
      ["a space and #", "pa55 #x", "pa55 #x"],
      ["only digits", "123456", "123456"],
      ["digits with a leading zero", "007", "007"],
      ["a float", "1.50", "1.50"],
      ["a YAML boolean word", "true", "true"],
      ["a YAML null", "~", "~"],
      ["the word null", "null", "null"],
      ["a flow mapping", "{a: 1}", "{a: 1}"],
      ["a flow sequence", "[x, y]", "[x, y]"],
      ["a leading dash and colon", "- a: b", "- a: b"],
      ["an anchor", "&x", "&x"],
      ["a date", "2024-01-01", "2024-01-01"],
    ];
    for (const [what, value, expected] of cases) {
      it(`keeps a password with ${what} as it was typed`, () => {
        const c = loadConfig({
          env: {
            DRAFTGATE_CONFIG: mailboxFile(),
            DRAFTGATE_MAILBOXES__0__IMAP__PASSWORD: value,
            DRAFTGATE_MAILBOXES__0__SMTP__PASSWORD: value,
            DRAFTGATE_WEBHOOKS__0__NAME: "zendesk-main",
            DRAFTGATE_WEBHOOKS__0__KIND: "zendesk",
            DRAFTGATE_WEBHOOKS__0__SECRET: value,
          },
        });
        assert.equal(c.mailboxes[0]!.imap!.password, expected);
        assert.equal(c.mailboxes[0]!.smtp!.password, expected);
        assert.equal(c.webhooks[0]!.secret, expected);
      });
    }

    it("decides by the schema's type, not by the key's name: every string key takes the raw value", () => {
      const c = loadConfig({
        env: {
          DRAFTGATE_CONFIG: mailboxFile(),
          DRAFTGATE_MAILBOXES__0__IMAP__USER: "12345",
          DRAFTGATE_MAILBOXES__0__IMAP__FOLDERS__0: "2024",
          DRAFTGATE_MAIL__MESSAGE_ID_DOMAIN: "'quoted'.example",
          DRAFTGATE_LLM__MODEL: "hf:org/repo:Q4 #not-a-comment",
          DRAFTGATE_SLA__URGENT: "1",
          DRAFTGATE_TRIAGE__MAILBOX_DEFAULTS__SUPPORT__CATEGORY: "null",
          DRAFTGATE_LOG__LEVEL: "info",
        },
      });
      assert.equal(c.mailboxes[0]!.imap!.user, "12345");
      assert.deepEqual(c.mailboxes[0]!.imap!.folders, ["2024"]);
      assert.equal(c.mail.messageIdDomain, "'quoted'.example");
      assert.equal(c.llm.model, "hf:org/repo:Q4 #not-a-comment");
      assert.equal(c.sla.urgent, "1");
      assert.equal(c.triage.mailboxDefaults["support"]!.category, "null");
      assert.equal(c.log.level, "info");
    });

    it("still reads numbers, booleans, unions and lists as YAML", () => {
      const ok = loadConfig({
        env: {
          DRAFTGATE_CONFIG: mailboxFile(),
          DRAFTGATE_HTTP__PORT: "4001",
          DRAFTGATE_DATABASE__LOGGING: "true",
          DRAFTGATE_LLM__GPU: "false",
          DRAFTGATE_LLM__GPU_LAYERS: "20",
          DRAFTGATE_IMAP__INITIAL_SYNC: "{since: 7}",
          DRAFTGATE_MAILBOXES__0__IMAP__FOLDERS: "[INBOX, Support]",
        },
      });
      assert.equal(ok.http.port, 4001);
      assert.equal(ok.database.logging, true);
      assert.equal(ok.llm.gpu, false);
      assert.equal(ok.llm.gpuLayers, 20);
      assert.deepEqual(ok.imap.initialSync, { since: 7 });
      assert.deepEqual(ok.mailboxes[0]!.imap!.folders, ["INBOX", "Support"]);
    });

    it("keeps any typed password whole (property)", () => {
      const password = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes("\0"));
      fc.assert(
        fc.property(password, (pw) => {
          const c = loadConfig({ env: { DRAFTGATE_CONFIG: mailboxFile(), DRAFTGATE_MAILBOXES__0__IMAP__PASSWORD: pw } });
          assert.equal(c.mailboxes[0]!.imap!.password, pw);
        }),
        { numRuns: 300 },
      );
    });
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
