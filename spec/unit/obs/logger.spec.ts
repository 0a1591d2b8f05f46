import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { LogOptions } from "../../../src/obs/logger.js";

/**
 * The project's logger factory writes to a file descriptor (stderr by default, stdout on request), so
 * each case runs createLogger in a child process and reads what reached its stdout and stderr.
 */
const LOGGER_MODULE = new URL("../../../src/obs/logger.ts", import.meta.url).href;

type Entry = [level: "debug" | "info" | "warn", fields: Record<string, unknown>, msg: string];

function logWithFactory(options: LogOptions, entries: Entry[]): { stdout: string; stderr: string } {
  const code = [
    `import { createLogger } from ${JSON.stringify(LOGGER_MODULE)};`,
    `const { options, entries } = JSON.parse(process.env.DG_LOGGER_SPEC);`,
    `const log = createLogger(options);`,
    `for (const [level, fields, msg] of entries) log[level](fields, msg);`,
  ].join("\n");
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    encoding: "utf8",
    env: { ...process.env, DG_LOGGER_SPEC: JSON.stringify({ options, entries }), NO_COLOR: "1", FORCE_COLOR: "0" },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `the logging child failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const jsonLines = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Every kind of secret the factory must keep out of logs, at the top, nested, and in request headers. */
const SECRETS = {
  password: "pw-top",
  pass: "pass-top",
  secret: "secret-top",
  token: "token-top",
  accessToken: "access-top",
  refreshToken: "refresh-top",
  apiKey: "apikey-top",
  authorization: "auth-top",
  cookie: "cookie-top",
  databaseUrl: "mysql://root:db-pw@db/draftgate",
  imap: { host: "imap.example.com", user: "support@example.com", password: "pw-imap", pass: "pass-imap", accessToken: "access-imap" },
  smtp: { auth: { user: "u", password: "pw-smtp", secret: "secret-smtp", token: "token-smtp" } },
  webhook: { secret: "secret-hook", apiKey: "apikey-hook", refreshToken: "refresh-hook" },
  config: { databaseUrl: "sqlite:./secret-db-path.sqlite" },
  req: { method: "POST", headers: { authorization: "Bearer req-token", cookie: "sid=req-cookie" } },
};
const SECRET_VALUES = [
  "pw-top", "pass-top", "secret-top", "token-top", "access-top", "refresh-top", "apikey-top", "auth-top", "cookie-top", "db-pw",
  "pw-imap", "pass-imap", "access-imap", "pw-smtp", "secret-smtp", "token-smtp", "secret-hook", "apikey-hook", "refresh-hook",
  "secret-db-path", "req-token", "req-cookie",
];

describe("logger factory (createLogger)", function () {
  this.timeout(120_000);

  it("never writes passwords, tokens, secrets, cookies or database URLs, wherever they sit", () => {
    const { stdout, stderr } = logWithFactory({ level: "info", pretty: "never" }, [["info", SECRETS, "connecting"]]);
    for (const v of SECRET_VALUES) assert.ok(!stderr.includes(v), `${v} leaked: ${stderr}`);
    const [line, ...more] = jsonLines(stderr);
    assert.equal(more.length, 0);
    const l = line as typeof SECRETS & { msg: string };
    assert.equal(l.msg, "connecting");
    for (const k of ["password", "pass", "secret", "token", "accessToken", "refreshToken", "apiKey", "authorization", "cookie", "databaseUrl"] as const) {
      assert.equal(l[k], "[redacted]", `top-level ${k}`);
    }
    assert.deepEqual(l.imap, { host: "imap.example.com", user: "support@example.com", password: "[redacted]", pass: "[redacted]", accessToken: "[redacted]" });
    assert.deepEqual(l.smtp, { auth: { user: "u", password: "[redacted]", secret: "[redacted]", token: "[redacted]" } });
    assert.deepEqual(l.webhook, { secret: "[redacted]", apiKey: "[redacted]", refreshToken: "[redacted]" });
    assert.deepEqual(l.config, { databaseUrl: "[redacted]" });
    assert.deepEqual(l.req, { method: "POST", headers: { authorization: "[redacted]", cookie: "[redacted]" } });
    assert.equal(stdout, "", "nothing on stdout");
  });

  it("redacts in pretty output too", () => {
    const { stderr } = logWithFactory({ level: "info", pretty: "always" }, [["info", SECRETS, "connecting"]]);
    assert.match(stderr, /connecting/);
    assert.match(stderr, /\[redacted\]/);
    assert.match(stderr, /imap\.example\.com/);
    for (const v of SECRET_VALUES) assert.ok(!stderr.includes(v), `${v} leaked: ${stderr}`);
  });

  it("logs to stderr by default and to stdout only when asked, at the configured level", () => {
    const entries: Entry[] = [
      ["debug", { n: 1 }, "below the level"],
      ["info", { n: 2 }, "at the level"],
      ["warn", { n: 3 }, "above the level"],
    ];
    const byDefault = logWithFactory({ level: "info", pretty: "never" }, entries);
    assert.equal(byDefault.stdout, "", "stdout stays free for command output");
    assert.deepEqual(jsonLines(byDefault.stderr).map((l) => [l.level, l.msg, l.n]), [
      [30, "at the level", 2],
      [40, "above the level", 3],
    ]);
    assert.equal(typeof jsonLines(byDefault.stderr)[0]!.pid, "number");

    const toStdout = logWithFactory({ level: "warn", pretty: "never", destination: 1 }, entries);
    assert.equal(toStdout.stderr, "");
    assert.deepEqual(jsonLines(toStdout.stdout).map((l) => l.msg), ["above the level"]);
  });
});
