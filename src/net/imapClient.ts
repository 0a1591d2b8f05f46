import { ImapFlow, type ImapFlowOptions } from "imapflow";
import type { Config, MailboxConfig } from "../config/schema.js";
import type { Logger } from "../obs/logger.js";
import { AccessTokenSource } from "./oauth2.js";

type ImapSettings = NonNullable<MailboxConfig["imap"]>;

/**
 * Builds connected imapflow clients for one mailbox's settings (password, fixed token, or OAuth2 refresh).
 * Mailbox-agnostic: the IMAP poller (src/ingest) and the sender's Sent-folder and \Answered steps
 * (src/outbound) both connect through it.
 */
export class ImapClientFactory {
  private readonly tokens: AccessTokenSource | null;

  constructor(
    private readonly settings: ImapSettings,
    private readonly imapConfig: Config["imap"],
    private readonly log: Logger,
  ) {
    this.tokens = settings.oauth2 ? new AccessTokenSource(settings.oauth2, { service: "imap" }) : null;
  }

  async connect(extra: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
    const s = this.settings;
    const accessToken = this.tokens ? await this.tokens.token() : s.accessToken;
    const client = new ImapFlow({
      host: s.host,
      port: s.port,
      secure: s.secure,
      ...(s.requireTLS && !s.secure ? { doSTARTTLS: true } : {}),
      // The credential is marked sensitive where it is used: it goes to imapflow only, never to a log.
      auth: accessToken ? { user: s.user, accessToken } : { user: s.user, pass: s.password ?? "" },
      tls: { rejectUnauthorized: s.tls?.rejectUnauthorized ?? true, ...(s.tls?.ca ? { ca: s.tls.ca } : {}) },
      logger: imapLogger(this.log),
      connectionTimeout: this.imapConfig.connectTimeoutSeconds * 1000,
      greetingTimeout: this.imapConfig.connectTimeoutSeconds * 1000,
      // IDLE soon after our last command (new mail shows up within a round trip), and never longer
      // than maxIdleSeconds: a silently dead IDLE is the most common way IMAP pollers stall.
      autoIdleDelay: 200,
      maxIdleTime: this.imapConfig.maxIdleSeconds * 1000,
      clientInfo: { name: "Draftgate" },
      ...extra,
    });
    try {
      await client.connect();
    } catch (err) {
      if ((err as { authenticationFailed?: boolean }).authenticationFailed) this.tokens?.invalidate();
      client.close();
      throw err;
    }
    return client;
  }
}

/** imapflow logs at info for every command; keep its chatter at debug and its warnings as they are. */
function imapLogger(log: Logger): ImapFlowOptions["logger"] {
  const child = log.child({ component: "imapflow" });
  return {
    debug: (o: unknown) => child.trace(o as object),
    info: (o: unknown) => child.debug(o as object),
    warn: (o: unknown) => child.warn(o as object),
    error: (o: unknown) => child.error(o as object),
  };
}
