import type { Config } from "../../config/schema.js";
import type { Logger } from "../../obs/logger.js";
import { ImapClientFactory } from "../../net/imapClient.js";
import { imapSourceRef, parseImapSourceRef } from "./fetch.js";

/**
 * Fetches the whole message that a quarantine entry names (imap:<mailbox>/<folder>;UIDVALIDITY=…;UID=…)
 * from the server again: an oversized message was quarantined with its head only, and a retry after
 * raising ingest.maxMessageBytes needs all of it. Refuses with a clear message when the message is no
 * longer there (folder recreated, message moved or deleted by someone else).
 */
export async function fetchWholeMessage(config: Config, log: Logger, entry: { sourceRef: string | null; mailboxName: string }): Promise<Buffer> {
  const src = parseImapSourceRef(entry.sourceRef);
  if (!src) throw new Error(`"${entry.sourceRef}" names no IMAP message: cannot fetch the whole message again`);
  const where = imapSourceRef(src);
  const m = config.mailboxes.find((x) => x.name === entry.mailboxName);
  if (!m?.imap) throw new Error(`mailbox "${entry.mailboxName}" has no imap settings in the configuration: cannot fetch ${where} again`);
  const client = await new ImapClientFactory(m.imap, config.imap, log).connect({ disableAutoIdle: true });
  try {
    const opened = await client.mailboxOpen(src.folder, { readOnly: true }).catch((err: Error) => {
      throw new Error(`folder "${src.folder}" of mailbox ${m.name} cannot be opened (${err.message}): ${where} is no longer there`);
    });
    if (String(opened.uidValidity) !== src.uidValidity) {
      throw new Error(`folder "${src.folder}" of mailbox ${m.name} was recreated (UIDVALIDITY is ${opened.uidValidity} now): ${where} is no longer there`);
    }
    const msg = await client.fetchOne(String(src.uid), { uid: true, source: true }, { uid: true });
    if (!msg || !msg.source) throw new Error(`${where} is no longer in folder "${src.folder}" (moved or deleted)`);
    return msg.source;
  } finally {
    await client.logout().catch(() => client.close());
  }
}
