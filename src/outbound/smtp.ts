import { PassThrough } from "node:stream";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { MailboxConfig } from "../config/schema.js";
import { AccessTokenSource } from "../net/oauth2.js";
import type { Logger } from "../obs/logger.js";

export type SmtpSettings = NonNullable<MailboxConfig["smtp"]>;

export interface SmtpPoolOptions {
  /** Connections open at once (each sends one message at a time). */
  maxConnections: number;
  /** Connect, greeting and per-command socket timeout. */
  timeoutMs: number;
  /** An idle connection is closed after this long. */
  idleMs?: number;
  log: Logger;
}

export interface SmtpEnvelope {
  from: string;
  to: string[];
}

export interface SmtpAccepted {
  /** The server's reply to the final dot (e.g. "250 2.0.0 Ok: queued as …"). */
  response: string;
  accepted: string[];
  rejected: string[];
}

/**
 * A failed send, with what only the sender knows: whether the whole message (final dot included)
 * was handed to the connection before it failed. The rest are nodemailer's fields (code, command,
 * responseCode, response), read by src/core/outbound/deliveryError.ts.
 */
export class SmtpSendError extends Error {
  readonly code: string | null;
  readonly command: string | null;
  readonly responseCode: number | null;
  readonly response: string | null;
  readonly originalCode: string | null;

  constructor(
    cause: unknown,
    readonly bodyFullySent: boolean,
    /** Not a byte of the message was offered (the session failed before DATA was answered). */
    readonly untouched = !bodyFullySent,
  ) {
    const e = (cause ?? {}) as {
      message?: string;
      code?: string;
      command?: string;
      responseCode?: number;
      response?: string;
      originalCode?: string;
    };
    super(e.message ?? String(cause), { cause });
    this.name = "SmtpSendError";
    this.code = typeof e.code === "string" ? e.code : null;
    this.command = typeof e.command === "string" ? e.command : null;
    this.responseCode = typeof e.responseCode === "number" ? e.responseCode : null;
    this.response = typeof e.response === "string" ? e.response : null;
    this.originalCode = typeof e.originalCode === "string" ? e.originalCode : null;
  }
}

/** What `verify` learned: the server's EHLO extensions and whether it logged in. */
export interface SmtpVerifyResult {
  secure: boolean;
  authenticated: boolean;
}

interface Conn {
  c: SMTPConnection;
  idleTimer: NodeJS.Timeout | null;
}

/**
 * SMTP for one mailbox: nodemailer's SMTP connections, pooled (up to maxConnections, reused, closed
 * when idle). Not nodemailer's pool transport: that one may queue a message again on its own when a
 * connection closes, and cannot say whether the final dot went out before a connection died — the
 * one fact that separates "retry" from "uncertain" (DESIGN.md promise 4). Here every send is tried
 * exactly once; retrying is the outbox's decision. An idle connection the server closed is noticed
 * (nodemailer marks it destroyed on the server's FIN) and replaced before it is used again.
 */
export class SmtpPool {
  private readonly idle: Conn[] = [];
  private open = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly tokens: AccessTokenSource | null;
  private closed = false;

  constructor(
    private readonly settings: SmtpSettings,
    private readonly options: SmtpPoolOptions,
  ) {
    this.tokens = settings.oauth2 ? new AccessTokenSource(settings.oauth2, { service: "smtp" }) : null;
  }

  /** Sends `raw` exactly as given; resolves once the server accepted it, else throws SmtpSendError. */
  async send(envelope: SmtpEnvelope, raw: Buffer, signal?: AbortSignal): Promise<SmtpAccepted> {
    const conn = await this.acquire();
    const abort = () => conn.c.close();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      const result = await this.sendOn(conn, envelope, raw);
      this.release(conn, true);
      return result;
    } catch (err) {
      this.release(conn, false);
      throw err;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  /** Connects and logs in once (doctor); closes the connection again. */
  async verify(): Promise<SmtpVerifyResult> {
    const c = await this.connect();
    const result = { secure: c.secure, authenticated: c.authenticated };
    c.quit();
    return result;
  }

  /** Closes idle connections and refuses new sends; sends in flight finish. */
  close(): void {
    this.closed = true;
    for (const conn of this.idle.splice(0)) this.destroy(conn);
    for (const w of this.waiters.splice(0)) w();
  }

  private sendOn(conn: Conn, envelope: SmtpEnvelope, raw: Buffer): Promise<SmtpAccepted> {
    // The message goes through a stream we watch: its end means every byte was handed to nodemailer,
    // which writes the final dot right after; not a byte read means the session failed before DATA.
    const body = new PassThrough();
    let ended = false;
    body.once("end", () => (ended = true));
    body.end(raw);
    return new Promise<SmtpAccepted>((resolve, reject) => {
      conn.c.send({ from: envelope.from, to: envelope.to }, body, (err, info) => {
        if (err) {
          reject(new SmtpSendError(err, ended, !body.readableDidRead));
          return;
        }
        resolve({ response: info?.response ?? "", accepted: info?.accepted ?? [], rejected: info?.rejected ?? [] });
      });
    });
  }

  private async acquire(): Promise<Conn> {
    for (;;) {
      if (this.closed)
        throw new SmtpSendError(Object.assign(new Error("SMTP pool closed"), { code: "EABORT", command: "API" }), false, true);
      const conn = this.idle.pop();
      if (conn) {
        if (conn.idleTimer) clearTimeout(conn.idleTimer);
        conn.idleTimer = null;
        const destroyed = (conn.c as unknown as { _destroyed?: boolean })._destroyed === true || conn.c.destroyed;
        if (!destroyed) return conn;
        this.open--;
        continue;
      }
      if (this.open < this.options.maxConnections) {
        this.open++;
        try {
          return { c: await this.connect(), idleTimer: null };
        } catch (err) {
          this.open--;
          this.wake();
          throw new SmtpSendError(err, false, true);
        }
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private release(conn: Conn, reusable: boolean): void {
    const destroyed = (conn.c as unknown as { _destroyed?: boolean })._destroyed === true || conn.c.destroyed;
    if (!reusable || destroyed || this.closed) {
      this.destroy(conn);
    } else {
      conn.idleTimer = setTimeout(() => {
        const i = this.idle.indexOf(conn);
        if (i >= 0) {
          this.idle.splice(i, 1);
          this.destroy(conn);
        }
      }, this.options.idleMs ?? 30_000);
      conn.idleTimer.unref();
      this.idle.push(conn);
    }
    this.wake();
  }

  private destroy(conn: Conn): void {
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    this.open = Math.max(0, this.open - 1);
    try {
      conn.c.quit();
    } catch {
      conn.c.close();
    }
  }

  private wake(): void {
    this.waiters.shift()?.();
  }

  /** A connected, logged-in nodemailer SMTP connection. */
  private async connect(): Promise<SMTPConnection> {
    const s = this.settings;
    const t = this.options.timeoutMs;
    const c = new SMTPConnection({
      host: s.host,
      port: s.port,
      secure: s.secure,
      requireTLS: s.requireTLS,
      tls: { rejectUnauthorized: s.tls?.rejectUnauthorized ?? true, ...(s.tls?.ca ? { ca: s.tls.ca } : {}) },
      connectionTimeout: t,
      greetingTimeout: t,
      socketTimeout: t,
      logger: false,
    });
    // Errors also reach the callback of the operation in flight; an idle connection's error just ends it.
    c.on("error", (err: Error) => this.options.log.debug({ err: err.message }, "smtp connection error"));
    await settled(c, (done) => c.connect(done));
    if (s.user !== undefined) {
      try {
        await settled(c, (done) => c.login(this.auth(s.user!), done));
      } catch (err) {
        // A refused token may be stale: the next login fetches a fresh one.
        this.tokens?.invalidate();
        c.close();
        throw err;
      }
    }
    return c;
  }

  private auth(user: string): SMTPConnection.AuthenticationType {
    const s = this.settings;
    if (!this.tokens && s.accessToken === undefined) return { user, pass: s.password ?? "" };
    const tokens = this.tokens;
    // nodemailer's XOAUTH2 asks a token provider; ours is the shared OAuth2 token source (src/net).
    const provider = {
      getToken: (renew: boolean, cb: (err: Error | null, token?: string) => void) => {
        if (!tokens) return cb(null, s.accessToken);
        if (renew) tokens.invalidate();
        tokens.token().then(
          (token) => cb(null, token),
          (err: Error) => cb(err),
        );
      },
      buildXOAuth2Token: (token: string) => Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`, "utf8").toString("base64"),
    };
    return { type: "OAuth2", user, oauth2: provider } as unknown as SMTPConnection.AuthenticationType;
  }
}

/**
 * Runs one connection step (connect, login) to its end. nodemailer calls connect()'s callback only on
 * success and for a silent close before the greeting: a refused or reset socket, a DNS, TLS or greeting
 * failure is emitted as 'error' (then 'end') and the callback never runs, so a send would wait forever
 * on a server that is down. The step ends at whichever comes first.
 */
function settled(c: SMTPConnection, step: (done: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: Error | null) => {
      c.removeListener("error", finish);
      c.removeListener("end", closed);
      if (err) reject(err);
      else resolve();
    };
    const closed = () => finish(Object.assign(new Error("SMTP connection closed before it was ready"), { code: "ECONNECTION", command: "CONN" }));
    c.once("error", finish);
    c.once("end", closed);
    step(finish);
  });
}
