import { ImapClientFactory } from "../../net/imapClient.js";
import { fetchAndIngest } from "../../ingest/imap/fetch.js";
import { intakeOptions } from "../../pipeline/intakeOptions.js";
import { Intake, type IntakeOutcome } from "../../pipeline/intake.js";
import { ensureMailbox } from "../../store/mailboxes.js";
import { loadContext, openStore } from "../context.js";

/**
 * draftgate backfill --mailbox NAME --since DATE: fetches older mail than the first sync took. Messages
 * already stored are recognised and skipped; the running poller's checkpoint is not touched.
 */
export async function backfillCommand(opts: { mailbox: string; since: string; folder?: string[]; json?: boolean }): Promise<void> {
  const since = new Date(opts.since);
  if (Number.isNaN(since.getTime())) throw new Error(`--since "${opts.since}" is not a date (use YYYY-MM-DD)`);
  const ctx = loadContext();
  const m = ctx.config.mailboxes.find((x) => x.name === opts.mailbox);
  if (!m) throw new Error(`no mailbox "${opts.mailbox}" in the configuration`);
  if (!m.imap) throw new Error(`mailbox "${opts.mailbox}" has no imap settings`);
  const store = await openStore(ctx, { migrate: true });
  const summary = { folders: 0, messages: 0, stored: 0, duplicate: 0, quarantined: 0 };
  const count = (o: IntakeOutcome) => summary[o.kind === "stored" ? "stored" : o.kind === "duplicate" ? "duplicate" : "quarantined"]++;
  const client = await new ImapClientFactory(m.imap, ctx.config.imap, ctx.log).connect({ disableAutoIdle: true });
  try {
    const row = await ensureMailbox(store, m.name, m.address);
    const intake = new Intake(store, intakeOptions(ctx.config), (o) => count(o));
    for (const folder of opts.folder?.length ? opts.folder : m.imap.folders) {
      const opened = await client.mailboxOpen(folder, { readOnly: true });
      const uids = ((await client.search({ since }, { uid: true })) || []).sort((a, b) => a - b);
      summary.folders++;
      summary.messages += uids.length;
      ctx.log.info({ folder, messages: uids.length, since: since.toISOString() }, "backfilling");
      await fetchAndIngest(client, {
        intake,
        mailbox: { id: row.id, name: m.name, address: m.address },
        folder,
        uidValidity: String(opened.uidValidity),
        uids,
        maxMessageBytes: ctx.config.ingest.maxMessageBytes,
        batchSize: ctx.config.imap.batchSize,
      });
    }
  } finally {
    await client.logout().catch(() => client.close());
    await store.close();
  }
  process.stdout.write(
    opts.json
      ? JSON.stringify(summary) + "\n"
      : `backfilled ${summary.messages} messages from ${summary.folders} folder(s): ${summary.stored} stored, ${summary.duplicate} already there, ${summary.quarantined} quarantined\n`,
  );
}
