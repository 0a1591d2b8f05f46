import { configSchema, type Config } from "../../src/config/schema.js";
import type { Dovecot } from "./dovecot.js";

/** A validated config with one mailbox per given user on the test Dovecot, plus overrides. */
export function imapTestConfig(
  dovecot: Dovecot,
  mailboxes: { name: string; user: string; password: string; folders?: string[]; markSeen?: boolean; moveTo?: string }[],
  overrides: { imap?: Partial<Config["imap"]>; ingest?: Partial<Config["ingest"]> } = {},
): Config {
  return configSchema.parse({
    mailboxes: mailboxes.map((m) => ({
      name: m.name,
      address: `${m.user}@example.com`,
      imap: {
        host: dovecot.host,
        port: dovecot.port,
        secure: false,
        user: m.user,
        password: m.password,
        folders: m.folders ?? ["INBOX"],
        markSeen: m.markSeen ?? false,
        ...(m.moveTo ? { moveTo: m.moveTo } : {}),
      },
    })),
    imap: { initialSync: "all", pollSeconds: 3600, reconnectBaseSeconds: 0.05, reconnectMaxSeconds: 0.5, connectTimeoutSeconds: 5, ...overrides.imap },
    ingest: { ...overrides.ingest },
  });
}

/** The same, as YAML text for a child `draftgate start` (DRAFTGATE_CONFIG). */
export function imapTestConfigYaml(dovecot: Dovecot, user: string, password: string, extra = ""): string {
  return [
    "mailboxes:",
    "  - name: support",
    `    address: ${user}@example.com`,
    `    imap: { host: ${dovecot.host}, port: ${dovecot.port}, secure: false, user: ${user}, password: ${password}, folders: [INBOX] }`,
    "imap: { initialSync: all, pollSeconds: 3600, reconnectBaseSeconds: 0.05, reconnectMaxSeconds: 1, leaseSeconds: 3 }",
    extra,
  ].join("\n");
}

let counter = 0;
/** A small distinct message. */
export function testMessage(subject: string, opts: { from?: string; messageId?: string | null; body?: string } = {}): string {
  const id = opts.messageId === undefined ? `<t${process.pid}.${Date.now()}.${counter++}@customers.example>` : opts.messageId;
  return [
    `From: ${opts.from ?? "Ann Example <ann@customers.example>"}`,
    "To: support@example.com",
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    ...(id ? [`Message-ID: ${id}`] : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    opts.body ?? `Body of ${subject}.`,
    "",
  ].join("\r\n");
}
