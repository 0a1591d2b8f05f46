import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { REDACT_PATHS } from "../../../src/obs/logger.js";

describe("log redaction", () => {
  it("never writes passwords, tokens or secrets, wherever they sit", () => {
    let out = "";
    const sink = new Writable({ write: (chunk, _enc, cb) => ((out += chunk), cb()) });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, sink);
    log.info({ password: "p1", imap: { host: "h", password: "p2", accessToken: "t1" }, mailbox: { smtp: { secret: "s1" } }, req: { headers: { authorization: "Bearer t2", cookie: "c" } } }, "x");
    for (const secret of ["p1", "p2", "t1", "s1", "Bearer t2", '"c"']) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
    assert.ok(out.includes('"host":"h"'));
  });
});
