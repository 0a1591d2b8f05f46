import assert from "node:assert/strict";
import fc from "fast-check";
import {
  classifyDeliveryError,
  failureReplyCode,
  smtpErrorFields,
  smtpPhase,
  type DeliveryOutcome,
  type SmtpErrorFields,
  type SmtpPhase,
} from "../../../../src/core/outbound/deliveryError.js";

type Row = [string, SmtpErrorFields, boolean, DeliveryOutcome, SmtpPhase, boolean?];

// Field values as nodemailer 10.6.1 sets them (dist/esm/smtp-connection/index.js, `_formatError`):
// the code, the command, and the server's reply with its code. deliveryError.nodemailer.spec.ts
// produces the connection rows with a real SMTPConnection.
const reply = (code: string, command: string, response: string, message = "x"): SmtpErrorFields => ({
  code,
  command,
  response,
  responseCode: Number(response.slice(0, 3)),
  message: `${message}: ${response}`,
});
const conn = (code: string, originalCode: string | null = null, message = "Connection closed unexpectedly"): SmtpErrorFields => ({
  code,
  originalCode,
  command: "CONN",
  message,
});

const rows: Row[] = [
  // [description, fields, bodyFullySent, outcome, phase, config?]
  ["DNS lookup failed", conn("EDNS", "ENOTFOUND", "getaddrinfo ENOTFOUND smtp.example"), false, "transient", "connection"],
  ["connection refused", conn("ESOCKET", "ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:25"), false, "transient", "connection"],
  ["connection timeout", conn("ETIMEDOUT", null, "Connection timeout"), false, "transient", "connection"],
  ["TLS handshake failed", conn("ETLS", null, "Error initiating TLS"), false, "transient", "connection"],
  ["reset by peer", conn("ESOCKET", "ECONNRESET", "read ECONNRESET"), false, "transient", "connection"],
  ["an unwrapped ECONNRESET", { code: "ECONNRESET", message: "socket hang up" }, false, "transient", "connection"],
  ["closed before the greeting", conn("ECONNECTION"), false, "transient", "connection"],
  [
    "greeting 554",
    { ...reply("EPROTOCOL", "CONN", "554 no SMTP service here", "Invalid greeting. response=554 no SMTP service here") },
    false,
    "transient",
    "greeting",
    true,
  ],
  [
    "greeting 421",
    { ...reply("EPROTOCOL", "CONN", "421 too busy", "Invalid greeting. response=421 too busy") },
    false,
    "transient",
    "greeting",
  ],
  [
    "EHLO 421",
    reply("ECONNECTION", "EHLO", "421 closing", "Server terminates connection. response=421 closing"),
    false,
    "transient",
    "greeting",
  ],
  ["STARTTLS 454", reply("ETLS", "STARTTLS", "454 4.7.0 TLS not available"), false, "transient", "starttls"],
  ["STARTTLS 554", reply("ETLS", "STARTTLS", "554 5.7.3 no TLS for you"), false, "transient", "starttls", true],
  [
    "AUTH PLAIN 535",
    reply("EAUTH", "AUTH PLAIN", "535 5.7.8 Authentication credentials invalid", "Invalid login"),
    false,
    "transient",
    "auth",
    true,
  ],
  ["AUTH LOGIN 535", reply("EAUTH", "AUTH LOGIN", "535 5.7.8 bad"), false, "transient", "auth", true],
  [
    "AUTH XOAUTH2 without a reply",
    { code: "EAUTH", command: "AUTH XOAUTH2", message: "token refresh failed" },
    false,
    "transient",
    "auth",
    true,
  ],
  ["AUTH 454 (temporary)", reply("EAUTH", "AUTH PLAIN", "454 4.7.0 Temporary authentication failure"), false, "transient", "auth", false],
  ["missing credentials", { code: "EAUTH", command: "API", message: 'Missing credentials for "PLAIN"' }, false, "transient", "auth", true],
  ["ENOAUTH from the transport", { code: "ENOAUTH", message: "Authentication info was not provided" }, false, "transient", "auth", true],
  ["EOAUTH2", { code: "EOAUTH2", message: "invalid_grant" }, false, "transient", "auth", true],
  [
    "MAIL FROM 530 auth required",
    reply("EENVELOPE", "MAIL FROM", "530 5.7.0 Authentication required"),
    false,
    "transient",
    "mail-from",
    true,
  ],
  [
    "MAIL FROM 553 sender refused",
    reply("EENVELOPE", "MAIL FROM", "553 5.7.1 Sender address rejected: not owned by user"),
    false,
    "permanent",
    "mail-from",
  ],
  ["MAIL FROM 451", reply("EENVELOPE", "MAIL FROM", "451 4.3.0 try later"), false, "transient", "mail-from"],
  [
    "message larger than SIZE",
    { code: "EMESSAGE", command: "MAIL FROM", message: "Message size larger than allowed 1000" },
    false,
    "permanent",
    "mail-from",
  ],
  [
    "server lacks REQUIRETLS",
    { code: "EREQUIRETLS", command: "MAIL FROM", message: "Server does not support REQUIRETLS" },
    false,
    "transient",
    "mail-from",
    true,
  ],
  [
    "RCPT TO 550 user unknown",
    reply("EENVELOPE", "RCPT TO", "550 5.1.1 user unknown", "Can't send mail - all recipients were rejected"),
    false,
    "permanent",
    "rcpt-to",
  ],
  ["RCPT TO 450 greylisted", reply("EENVELOPE", "RCPT TO", "450 4.2.0 greylisted"), false, "transient", "rcpt-to"],
  ["RCPT TO 452 too many recipients", reply("EENVELOPE", "RCPT TO", "452 4.5.3 too many"), false, "transient", "rcpt-to"],
  [
    "DATA command 554",
    reply("EENVELOPE", "DATA", "554 5.5.1 no valid recipients", "Data command failed"),
    false,
    "permanent",
    "data-command",
  ],
  ["DATA command 421", reply("EENVELOPE", "DATA", "421 closing", "Data command failed"), false, "transient", "data-command"],
  ["503 bad sequence", reply("EENVELOPE", "DATA", "503 5.5.1 bad sequence of commands"), false, "transient", "data-command"],
  ["final dot 554 spam", reply("EMESSAGE", "DATA", "554 5.7.1 message rejected as spam", "Message failed"), true, "permanent", "message"],
  ["final dot 451", reply("EMESSAGE", "DATA", "451 4.3.0 queue full", "Message failed"), true, "transient", "message"],
  ["final dot 421 then close", reply("EMESSAGE", "DATA", "421 4.4.2 closing", "Message failed"), true, "transient", "message"],
  ["final dot 552 too big", reply("EMESSAGE", "DATA", "552 5.3.4 message too big", "Message failed"), true, "permanent", "message"],
  [
    "an unterminated 554 before close after the dot",
    reply("ECONNECTION", "CONN", "554 5.7.1 rejected", "Connection closed unexpectedly"),
    true,
    "permanent",
    "connection",
  ],
  ["connection closed before DATA", conn("ECONNECTION"), false, "transient", "connection"],
  ["connection closed after the final dot", conn("ECONNECTION"), true, "uncertain", "connection"],
  ["socket timeout after the final dot", conn("ETIMEDOUT", null, "Timeout"), true, "uncertain", "connection"],
  ["socket error after the final dot", conn("ESOCKET", "ECONNRESET", "read ECONNRESET"), true, "uncertain", "connection"],
  [
    "overlong reply after the final dot",
    conn("EPROTOCOL", null, "Server response exceeds maximum allowed size"),
    true,
    "uncertain",
    "connection",
  ],
  ["an unknown error after the final dot", { message: "boom" }, true, "uncertain", "unknown"],
  [
    "pool gave up after requeues",
    { code: "ECONNECTION", message: "Reached maximum number of retries after connection was closed" },
    false,
    "transient",
    "connection",
  ],
  ["pool connection limit", { code: "EMAXLIMIT", message: "Resource exhausted" }, false, "transient", "connection"],
  ["no recipients", { code: "EENVELOPE", command: "API", message: "No recipients defined" }, false, "permanent", "local"],
  ["invalid sender", { code: "EENVELOPE", command: "API", message: 'Invalid sender "a b"' }, false, "permanent", "local"],
  ["message stream failed", { code: "ESTREAM", command: "API", message: "read error" }, false, "transient", "local"],
  ["aborted", { code: "EABORT", message: "Message sending aborted" }, false, "transient", "unknown"],
  [
    "send on a destroyed connection",
    { code: "ECONNECTION", command: "API", message: "Cannot send message - smtp connection is already destroyed." },
    false,
    "transient",
    "local",
  ],
  ["an unknown error", { message: "something odd" }, false, "transient", "unknown"],
  [
    "permission model denial",
    { code: "ERR_ACCESS_DENIED", command: "CONN", message: "Access to this API has been restricted" },
    false,
    "transient",
    "connection",
    true,
  ],
];

describe("classifyDeliveryError", () => {
  for (const [name, fields, bodyFullySent, outcome, phase, config] of rows) {
    it(`${name}${bodyFullySent ? " (body sent)" : ""}: ${outcome}${config ? ", config" : ""}`, () => {
      const c = classifyDeliveryError(fields, { bodyFullySent });
      assert.equal(c.outcome, outcome, c.reason);
      assert.equal(c.phase, phase);
      assert.equal(c.retry, outcome === "transient");
      if (config !== undefined) assert.equal(c.config, config, c.reason);
      assert.ok(c.reason.length > 0 && !/[\r\n]/u.test(c.reason));
    });
  }

  it("says where to look for an authentication failure", () => {
    const c = classifyDeliveryError(reply("EAUTH", "AUTH PLAIN", "535 5.7.8 bad"), { bodyFullySent: false });
    assert.match(c.reason, /authentication refused \(535\), check mailboxes\[\]\.smtp credentials; will retry: 535 5\.7\.8 bad/u);
  });

  it("says an uncertain send is not re-sent", () => {
    assert.match(classifyDeliveryError(conn("ECONNECTION"), { bodyFullySent: true }).reason, /not re-sent until resolved/u);
  });

  it("reads the reply code from the response when responseCode is missing", () => {
    assert.equal(failureReplyCode({ response: "550-5.1.1 first line\n550 5.1.1 last" }), 550);
    assert.equal(failureReplyCode({ response: "250 ok" }), null);
    assert.equal(failureReplyCode({ response: "5505 nonsense" }), null);
    assert.equal(failureReplyCode({ responseCode: 421, response: "550 conflicting" }), 421);
    assert.equal(
      classifyDeliveryError({ code: "EMESSAGE", command: "DATA", response: "550 no" }, { bodyFullySent: true }).outcome,
      "permanent",
    );
  });

  it("picks the plain fields off anything thrown", () => {
    const err = Object.assign(new Error("Invalid login: 535 bad"), {
      code: "EAUTH",
      responseCode: 535,
      command: "AUTH PLAIN",
      response: "535 bad",
    });
    assert.deepEqual(smtpErrorFields(err), {
      code: "EAUTH",
      originalCode: null,
      responseCode: 535,
      command: "AUTH PLAIN",
      response: "535 bad",
      message: "Invalid login: 535 bad",
    });
    assert.deepEqual(smtpErrorFields("text"), {
      code: null,
      originalCode: null,
      responseCode: null,
      command: null,
      response: null,
      message: "text",
    });
    assert.deepEqual(smtpErrorFields(null).code, null);
    assert.deepEqual(smtpErrorFields({ code: 42, responseCode: "550" }), {
      code: null,
      originalCode: null,
      responseCode: null,
      command: null,
      response: null,
      message: null,
    });
  });

  it("names the phase from the command", () => {
    assert.equal(smtpPhase({ command: "LHLO" }), "greeting");
    assert.equal(smtpPhase({ command: "AUTH CRAM-MD5" }), "auth");
    assert.equal(smtpPhase({ command: "RSET" }), "unknown");
  });

  describe("properties", () => {
    const codes = fc.constantFrom(
      "ECONNECTION",
      "ETIMEDOUT",
      "ESOCKET",
      "EDNS",
      "ETLS",
      "EPROTOCOL",
      "EENVELOPE",
      "EMESSAGE",
      "EAUTH",
      "ESTREAM",
      "EABORT",
      "ENOAUTH",
      "EMAXLIMIT",
      "ECONNRESET",
      "WHATEVER",
      "",
    );
    const commands = fc.constantFrom(
      "CONN",
      "API",
      "EHLO",
      "HELO",
      "STARTTLS",
      "AUTH PLAIN",
      "AUTH XOAUTH2",
      "MAIL FROM",
      "RCPT TO",
      "DATA",
      "RSET",
      "",
    );
    const fields = fc.record(
      {
        code: fc.option(codes, { nil: undefined }),
        command: fc.option(commands, { nil: undefined }),
        responseCode: fc.option(fc.integer({ min: 200, max: 599 }), { nil: undefined }),
        response: fc.option(fc.string(), { nil: undefined }),
        message: fc.option(fc.string(), { nil: undefined }),
      },
      { requiredKeys: [] },
    );

    it("a failure without a 4xx/5xx reply after the whole message is always uncertain, and never retried", () => {
      fc.assert(
        fc.property(fields, (f) => {
          const c = classifyDeliveryError(f, { bodyFullySent: true });
          if (failureReplyCode(f) === null) {
            assert.equal(c.outcome, "uncertain");
            assert.equal(c.retry, false);
          } else {
            assert.notEqual(c.outcome, "uncertain");
          }
        }),
        { numRuns: 3000 },
      );
    });

    it("before the message is complete nothing is uncertain", () => {
      fc.assert(
        fc.property(fields, (f) => assert.notEqual(classifyDeliveryError(f, { bodyFullySent: false }).outcome, "uncertain")),
        { numRuns: 2000 },
      );
    });

    it("the reply code decides: 4xx transient, 5xx permanent unless it is about the session or authentication", () => {
      fc.assert(
        fc.property(fields, fc.integer({ min: 400, max: 599 }), fc.boolean(), (f, code, sent) => {
          const c = classifyDeliveryError({ ...f, responseCode: code }, { bodyFullySent: sent });
          const sessionLevel = ["auth", "greeting", "starttls"].includes(c.phase) || [503, 530, 534, 535, 538].includes(code);
          assert.equal(c.outcome, code < 500 || sessionLevel ? "transient" : "permanent", `${JSON.stringify(f)} ${code}: ${c.reason}`);
          assert.equal(c.responseCode, code);
        }),
        { numRuns: 3000 },
      );
    });
  });
});
