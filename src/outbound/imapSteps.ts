import type { ImapFlow } from "imapflow";
import type { Config, MailboxConfig } from "../config/schema.js";
import { formatMessageId } from "../core/replyHeaders.js";
import { ImapClientFactory } from "../net/imapClient.js";
import { parseImapSourceRef } from "../net/imapSourceRef.js";
import type { Logger } from "../obs/logger.js";

/**
 * The IMAP side of sending: filing the exact bytes sent in the Sent folder, finding a reply there by
 * its Message-ID (the check that resolves an `uncertain` entry), and \Answered on the customer's
 * message. Each call opens its own short connection (not the poller's, which idles on INBOX).
 */

type ImapSettings = NonNullable<MailboxConfig["imap"]>;

/** Where a mailbox's sent mail is: the configured folder, else the one marked (or named) \Sent. */
async function sentFolder(client: ImapFlow, mailbox: MailboxConfig, create: boolean): Promise<string | null> {
  const configured = mailbox.sentFolder;
  const folders = await client.list();
  if (configured !== "auto" && configured !== "none") {
    if (!folders.some((f) => f.path === configured)) {
      if (!create) return null;
      await client.mailboxCreate(configured);
    }
    return configured;
  }
  // imapflow marks \Sent from SPECIAL-USE, or from a well-known localized name ("Sent", "Sent Items", …).
  const marked = folders.find((f) => f.specialUse === "\\Sent");
  if (marked) return marked.path;
  if (!create || configured === "none") return null;
  await client.mailboxCreate("Sent");
  return "Sent";
}

async function withClient<T>(settings: ImapSettings, config: Config, log: Logger, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = await new ImapClientFactory(settings, config.imap, log).connect({ disableAutoIdle: true });
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** UIDs in the open folder of messages whose Message-ID header is `messageId` (without brackets). */
async function findByMessageId(client: ImapFlow, messageId: string): Promise<number[]> {
  const found = await client.search({ header: { "message-id": formatMessageId(messageId) } }, { uid: true });
  return Array.isArray(found) ? found : [];
}

export type FileOutcome = { filed: true; folder: string; already: boolean } | { filed: false; reason: string };

/**
 * APPENDs the bytes sent to the Sent folder (flagged \Seen), unless a message with this Message-ID is
 * there already (a retried job, or a provider that files sent mail itself).
 */
export async function fileInSent(
  config: Config,
  mailbox: MailboxConfig,
  raw: Buffer,
  messageId: string,
  sentAt: Date,
  log: Logger,
): Promise<FileOutcome> {
  if (!mailbox.imap) return { filed: false, reason: `mailbox ${mailbox.name} has no imap settings` };
  if (mailbox.sentFolder === "none")
    return { filed: false, reason: `mailbox ${mailbox.name} has sentFolder: none (the provider files sent mail)` };
  return withClient(mailbox.imap, config, log, async (client) => {
    const folder = (await sentFolder(client, mailbox, true))!;
    await client.mailboxOpen(folder);
    if ((await findByMessageId(client, messageId)).length > 0) return { filed: true, folder, already: true };
    const res = await client.append(folder, raw, ["\\Seen"], sentAt);
    if (res === false) throw new Error(`APPEND to "${folder}" failed`);
    return { filed: true, folder, already: false };
  });
}

/** Whether the Sent folder holds a message with this Message-ID; null when it cannot be checked (no imap, no Sent folder). */
export async function foundInSent(
  config: Config,
  mailbox: MailboxConfig,
  messageId: string,
  log: Logger,
): Promise<{ folder: string; found: boolean } | null> {
  if (!mailbox.imap) return null;
  return withClient(mailbox.imap, config, log, async (client) => {
    const folder = await sentFolder(client, mailbox, false);
    if (!folder) return null;
    await client.mailboxOpen(folder, { readOnly: true });
    return { folder, found: (await findByMessageId(client, messageId)).length > 0 };
  });
}

export type AnsweredOutcome = { flagged: true; folder: string; uids: number[] } | { flagged: false; reason: string };

/**
 * Sets \Answered on the customer's message: where ingest found it (folder, UIDVALIDITY, UID from its
 * sourceRef), else — the folder was recreated or the message moved (imap.moveTo) — by its Message-ID
 * in that folder and the moveTo folder.
 */
export async function markAnswered(
  config: Config,
  mailbox: MailboxConfig,
  answered: { sourceRef: string | null; messageId: string | null },
  log: Logger,
): Promise<AnsweredOutcome> {
  const src = parseImapSourceRef(answered.sourceRef);
  if (!src) return { flagged: false, reason: "the message answered did not come over IMAP" };
  if (!mailbox.imap) return { flagged: false, reason: `mailbox ${mailbox.name} has no imap settings` };
  return withClient(mailbox.imap, config, log, async (client) => {
    const opened = await client.mailboxOpen(src.folder).catch(() => null);
    if (opened && String(opened.uidValidity) === src.uidValidity) {
      const there = await client.search({ uid: String(src.uid) }, { uid: true });
      if (Array.isArray(there) && there.includes(src.uid)) {
        await client.messageFlagsAdd(String(src.uid), ["\\Answered"], { uid: true });
        return { flagged: true, folder: src.folder, uids: [src.uid] };
      }
    }
    if (!answered.messageId)
      return { flagged: false, reason: `the message is no longer at ${answered.sourceRef} and has no Message-ID to look for` };
    for (const folder of [...new Set([src.folder, ...(mailbox.imap!.moveTo ? [mailbox.imap!.moveTo] : [])])]) {
      if (!(await client.mailboxOpen(folder).catch(() => null))) continue;
      const uids = await findByMessageId(client, answered.messageId);
      if (uids.length === 0) continue;
      await client.messageFlagsAdd(uids.join(","), ["\\Answered"], { uid: true });
      return { flagged: true, folder, uids };
    }
    return { flagged: false, reason: `the message is no longer at ${answered.sourceRef} nor found by its Message-ID` };
  });
}
