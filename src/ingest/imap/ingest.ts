import type { Config } from "../../config/schema.js";
import type { Logger } from "../../obs/logger.js";
import type { Intake } from "../../pipeline/intake.js";
import { ensureMailbox } from "../../store/mailboxes.js";
import type { Store } from "../../store/store.js";
import type { MailboxHealth } from "../../obs/mailboxHealth.js";
import { MailboxPoller } from "./poller.js";

/** The ingest role's IMAP side: one poller per configured mailbox that has IMAP settings. */
export class ImapIngest {
  private readonly pollers: MailboxPoller[] = [];

  private constructor() {}

  static async start(deps: { store: Store; intake: Intake; config: Config; log: Logger }): Promise<ImapIngest> {
    const ingest = new ImapIngest();
    for (const m of deps.config.mailboxes) {
      if (!m.imap) continue;
      const row = await ensureMailbox(deps.store, m.name, m.address);
      const poller = new MailboxPoller({
        store: deps.store,
        intake: deps.intake,
        mailbox: { id: row.id, name: m.name, address: m.address },
        settings: m.imap,
        config: deps.config,
        log: deps.log,
      });
      poller.start();
      ingest.pollers.push(poller);
    }
    return ingest;
  }

  health(): MailboxHealth[] {
    return this.pollers.map((p) => ({ ...p.health }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
  }
}
