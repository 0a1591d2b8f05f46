/**
 * What a failed SMTP send means for the outbox: give up (`permanent`), try again later (`transient`),
 * or stop and ask a person (`uncertain`). EmailEngine's delivery-error idea: one small pure rule read
 * from the plain fields nodemailer puts on its errors, so the sender, `/metrics`, `outbox` and `doctor`
 * all tell the same story.
 *
 * What nodemailer 10 really sets (dist/esm/smtp-connection/index.js, `_formatError(message, code,
 * response, command)`; `responseCode` is parsed from the first digits of `response`):
 *
 * | phase                        | `code`                              | `command`                 | reply? |
 * |------------------------------|-------------------------------------|---------------------------|--------|
 * | DNS lookup                   | EDNS (`originalCode` ENOTFOUND …)   | CONN                      | no     |
 * | TCP/TLS connect, socket      | ESOCKET, ECONNECTION, ETIMEDOUT, ETLS | CONN                    | no     |
 * | greeting                     | EPROTOCOL ("Invalid greeting")      | CONN                      | yes    |
 * | EHLO / HELO / LHLO           | ECONNECTION / EPROTOCOL             | EHLO / HELO / LHLO        | yes    |
 * | STARTTLS                     | ETLS                                | STARTTLS                  | maybe  |
 * | AUTH                         | EAUTH (ENOAUTH, EOAUTH2 from the transport) | `AUTH PLAIN`, `AUTH LOGIN`, `AUTH CRAM-MD5`, `AUTH XOAUTH2`, or API (missing credentials) | maybe |
 * | MAIL FROM                    | EENVELOPE (EMESSAGE: too large per SIZE, EREQUIRETLS) | MAIL FROM | maybe |
 * | RCPT TO (all refused)        | EENVELOPE                           | RCPT TO                   | yes    |
 * | DATA command refused         | EENVELOPE                           | DATA                      | yes    |
 * | reply to the final dot       | EMESSAGE                            | DATA                      | yes    |
 * | 421 at any point             | the step's own code, or ECONNECTION | that step, or CONN        | 421    |
 * | connection lost at any point | ECONNECTION / ESOCKET / ETIMEDOUT / EPROTOCOL | CONN (whatever the step) | no |
 * | the message stream failed    | ESTREAM                             | API                       | no     |
 * | checks before any I/O        | EENVELOPE, EMESSAGE, EAUTH, ECONNECTION | API                   | no     |
 *
 * The row that matters most is "connection lost": nodemailer says `CONN` wherever it happened, so
 * the error alone cannot tell a drop before DATA (nothing delivered, safe to retry) from a drop after
 * the final dot (the server may have accepted and queued the message). Only the sender knows whether
 * the whole body was handed over, so it passes that in (`bodyFullySent`). A drop after it is
 * `uncertain`: never re-sent automatically (DESIGN.md promise 4).
 */

/** The plain fields of a nodemailer error (or anything shaped like one). */
export interface SmtpErrorFields {
  code?: string | null;
  /** Nodemailer keeps a system error's own code here when it replaced it (ECONNREFUSED, ENOTFOUND …). */
  originalCode?: string | null;
  responseCode?: number | null;
  command?: string | null;
  response?: string | null;
  message?: string | null;
}

/** What the outbox does with a failure. */
export type DeliveryOutcome = "permanent" | "transient" | "uncertain";

/** Where in the session the failure happened, as far as the error tells. */
export type SmtpPhase =
  "connection" | "greeting" | "starttls" | "auth" | "mail-from" | "rcpt-to" | "data-command" | "message" | "local" | "unknown";

export interface DeliveryClassification {
  outcome: DeliveryOutcome;
  /** True only for `transient`: the outbox may send again after a backoff. */
  retry: boolean;
  /** A configuration problem (credentials, TLS or auth policy): retrying alone will not fix it, an operator should look. */
  config: boolean;
  phase: SmtpPhase;
  /** The SMTP reply code (4xx/5xx) the server gave, or null when it gave none. */
  responseCode: number | null;
  /** One line for `outbox`, the audit log and events: the decision, then the server's words. */
  reason: string;
}

export interface SendProgress {
  /**
   * The whole message, final dot included, was handed to the connection before it failed. When
   * unsure, pass true: a wrongly `uncertain` entry costs a person a look, a wrongly `transient` one
   * can send the customer the reply twice.
   */
  bodyFullySent: boolean;
}

// Codes of the connection itself failing (nodemailer's own, and the system codes it wraps, in case
// an error reaches us unwrapped: from a proxy socket, the pool, or a custom transport).
const CONNECTION_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ETLS",
  "EPROTOCOL",
  "EPROXY",
  "EMAXLIMIT",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
const AUTH_CODES = new Set(["EAUTH", "ENOAUTH", "EOAUTH2"]);
// Replies that concern authentication (RFC 4954 §6, RFC 5321): 530 required, 534 mechanism too weak,
// 535 credentials invalid, 538 encryption required. A 5xx here is not a verdict on the message.
const AUTH_REPLIES = new Set([530, 534, 535, 538]);
// Settings our side must change: the server lacks REQUIRETLS, Node's permission model denies the
// network, the transport options are invalid.
const CONFIG_CODES = new Set(["EREQUIRETLS", "ERR_ACCESS_DENIED", "ECONFIG"]);
// Our own message or envelope is unusable: sending the same thing again fails the same way.
const LOCAL_PERMANENT_CODES = new Set(["EENVELOPE", "EMESSAGE", "EMAXRECIPIENTS", "EFILEACCESS", "EURLACCESS"]);

/** The reply code of a failure reply (4xx or 5xx), from `responseCode` or the start of `response`. */
export function failureReplyCode(err: SmtpErrorFields): number | null {
  const fromField = typeof err.responseCode === "number" ? err.responseCode : null;
  const fromText = typeof err.response === "string" ? Number(/^\s*([1-5]\d\d)(?=[\s-]|$)/u.exec(err.response)?.[1] ?? NaN) : NaN;
  const code = fromField ?? (Number.isNaN(fromText) ? null : fromText);
  return code !== null && Number.isInteger(code) && code >= 400 && code <= 599 ? code : null;
}

/** Where the session was, from nodemailer's `command` and `code` (see the table above). */
export function smtpPhase(err: SmtpErrorFields): SmtpPhase {
  const command = (err.command ?? "").trim().toUpperCase();
  const code = (err.code ?? "").toUpperCase();
  if (command.startsWith("AUTH") || AUTH_CODES.has(code)) return "auth";
  switch (command) {
    case "CONN":
      // A refused greeting is reported under CONN too; only its message tells it apart.
      return /^invalid greeting/iu.test(err.message ?? "") ? "greeting" : "connection";
    case "EHLO":
    case "HELO":
    case "LHLO":
      return "greeting";
    case "STARTTLS":
      return "starttls";
    case "MAIL FROM":
      return "mail-from";
    case "RCPT TO":
      return "rcpt-to";
    case "DATA":
      // The same command names the refused DATA command (EENVELOPE) and the reply to the final dot (EMESSAGE).
      return code === "EMESSAGE" ? "message" : "data-command";
    case "API":
      return "local";
    case "":
      return CONNECTION_CODES.has(code) ? "connection" : "unknown";
    default:
      return "unknown";
  }
}

/** Copies the plain fields off a thrown value; anything missing or of the wrong type becomes null. */
export function smtpErrorFields(err: unknown): SmtpErrorFields {
  const o = (typeof err === "object" && err !== null ? err : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    code: str(o.code),
    originalCode: str(o.originalCode),
    responseCode: typeof o.responseCode === "number" ? o.responseCode : null,
    command: str(o.command),
    response: str(o.response),
    message: str(o.message) ?? (typeof err === "string" ? err : null),
  };
}

/** The outbox's verdict on a failed send; see the module comment for the rules and their order. */
export function classifyDeliveryError(err: SmtpErrorFields, progress: SendProgress): DeliveryClassification {
  const code = (err.code ?? "").toUpperCase();
  const reply = failureReplyCode(err);
  const phase = smtpPhase(err);
  const said = serverWords(err, reply);
  const result = (outcome: DeliveryOutcome, config: boolean, why: string): DeliveryClassification => ({
    outcome,
    retry: outcome === "transient",
    config,
    phase,
    responseCode: reply,
    reason: said ? `${why}: ${said}` : why,
  });
  const isAuth = phase === "auth" || (reply !== null && AUTH_REPLIES.has(reply));

  // 1. The server answered: its reply code decides (RFC 5321 §4.2.1), wherever the session was. Even
  //    after the final dot a 4xx/5xx reply says the message was NOT accepted, so it is never uncertain.
  if (reply !== null) {
    if (isAuth) {
      // A 454 is the server's passing trouble; 5xx auth replies mean our credentials or policy are
      // wrong. Still transient: the fix is in the config, and the entry should go out once it is made
      // instead of failing for good while an operator rotates a password.
      return reply < 500
        ? result("transient", false, `temporary authentication failure (${reply}), will retry`)
        : result("transient", true, `authentication refused (${reply}), check mailboxes[].smtp credentials; will retry`);
    }
    // 503 "bad sequence of commands" is about the session, not the message (nodemailer's
    // isPermanentResponseCode agrees): a new connection can send the same message.
    if (reply >= 500 && reply !== 503) {
      // A 5xx to the greeting, EHLO or STARTTLS refuses the session before any message was offered
      // (wrong host or port, our IP blocked, TLS policy): it says nothing about this message, and
      // calling it permanent would fail every queued reply for good over one setting.
      if (phase === "greeting" || phase === "starttls") {
        return result(
          "transient",
          true,
          `the server refused the session (${reply}), check mailboxes[].smtp host, port and TLS; will retry`,
        );
      }
      return result("permanent", false, `rejected by the server (${reply}), not retried`);
    }
    return result("transient", false, `deferred by the server (${reply}), will retry`);
  }

  // 2. No reply and the whole message was on the wire: the server may have accepted it. Whatever
  //    the code (ECONNECTION, ETIMEDOUT, ESOCKET, EPROTOCOL, ...), only a person or the Sent-folder
  //    check may decide.
  if (progress.bodyFullySent) {
    return result(
      "uncertain",
      false,
      `the connection failed after the whole message was sent and before the server replied (${code || "no code"}); not re-sent until resolved`,
    );
  }

  // 3. No reply, message not complete: nothing can have been delivered, so the code decides.
  if (AUTH_CODES.has(code) || phase === "auth") {
    return result("transient", true, `authentication failed (${code || "no code"}), check mailboxes[].smtp credentials; will retry`);
  }
  if (CONFIG_CODES.has(code)) return result("transient", true, `configuration problem (${code}), will retry once fixed`);
  if (CONNECTION_CODES.has(code)) {
    const hint = (err.originalCode ?? "").toUpperCase() === "ENOTFOUND" ? ", check mailboxes[].smtp.host" : "";
    return result(
      "transient",
      false,
      `connection failed before the message was complete (${code}${originalSuffix(err)})${hint}, will retry`,
    );
  }
  if (LOCAL_PERMANENT_CODES.has(code))
    return result("permanent", false, `the message or its envelope cannot be sent (${code}), not retried`);
  // ESTREAM (our own message stream failed), EABORT (we stopped the send), and anything unknown:
  // nothing reached a recipient, and maxAttempts bounds the retries.
  return result("transient", false, `send failed (${code || "no code"}), will retry`);
}

function originalSuffix(err: SmtpErrorFields): string {
  const original = (err.originalCode ?? "").trim();
  return original && original.toUpperCase() !== (err.code ?? "").toUpperCase() ? `, ${original}` : "";
}

// The server's reply when there is one, else the error message; one line, bounded.
function serverWords(err: SmtpErrorFields, reply: number | null): string {
  const text = (reply !== null && err.response ? err.response : (err.message ?? "")).replace(/\s+/gu, " ").trim();
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
