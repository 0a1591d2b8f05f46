import cliProgress from "cli-progress";
import { expandImportPaths, readImportFiles } from "../../ingest/import/sources.js";
import { Intake, type IntakeOutcome, type RawInput } from "../../pipeline/intake.js";
import { intakeOptions } from "../../pipeline/fromConfig.js";
import { ensureMailbox } from "../../store/mailboxes.js";
import { loadContext, openStore } from "../context.js";

export interface ImportSummary {
  files: number;
  messages: number;
  stored: number;
  duplicate: number;
  quarantined: number;
  automated: number;
  errors: number;
}

/** draftgate import --mailbox NAME PATH…: .eml files, mbox files, Maildir folders, folders of those. */
export async function importCommand(paths: string[], opts: { mailbox: string; json?: boolean }): Promise<void> {
  const ctx = loadContext();
  const log = ctx.log.child({ component: "import", mailbox: opts.mailbox });
  const configured = ctx.config.mailboxes.find((m) => m.name === opts.mailbox);
  const store = await openStore(ctx, { migrate: true });
  const summary: ImportSummary = { files: 0, messages: 0, stored: 0, duplicate: 0, quarantined: 0, automated: 0, errors: 0 };
  try {
    if (!configured) log.info(`mailbox "${opts.mailbox}" is not in the configuration; importing into it as an import-only mailbox`);
    const mailbox = await ensureMailbox(store, opts.mailbox, configured?.address ?? null);
    const files = await expandImportPaths(paths);
    summary.files = files.length;
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: "importing [{bar}] {percentage}% | {messages} messages | {stored} stored, {duplicate} duplicate, {quarantined} quarantined", hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
    bar?.start(totalBytes, 0, { messages: 0, stored: 0, duplicate: 0, quarantined: 0 });

    const intake = new Intake(store, intakeOptions(ctx.config));
    const batchSize = ctx.config.ingest.batchSize;
    let batch: RawInput[] = [];
    let doneBytes = 0;
    let fileBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      tally(summary, await intake.ingest({ id: mailbox.id, address: mailbox.address }, batch));
      batch = [];
      bar?.update(doneBytes + fileBytes, { ...summary });
    };
    for (const file of files) {
      try {
        for await (const item of readImportFiles([file])) {
          summary.messages++;
          batch.push({ raw: item.raw, source: "import", sourceRef: item.sourceRef });
          fileBytes = item.bytesRead;
          if (batch.length >= batchSize) await flush();
        }
        await flush();
      } catch (err) {
        await flush();
        summary.errors++;
        log.error({ err, file: file.path }, "could not read file; its remaining messages were not imported");
      }
      doneBytes += file.size;
      fileBytes = 0;
    }
    await flush();
    bar?.update(totalBytes, { ...summary });
    bar?.stop();
  } finally {
    await store.close();
  }
  if (opts.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else
    process.stdout.write(
      `imported ${summary.messages} messages from ${summary.files} files: ${summary.stored} stored (${summary.automated} automated), ` +
        `${summary.duplicate} duplicate, ${summary.quarantined} quarantined${summary.errors ? `, ${summary.errors} files failed` : ""}\n`,
    );
  if (summary.errors > 0) process.exitCode = 1;
}

function tally(s: ImportSummary, outcomes: IntakeOutcome[]): void {
  for (const o of outcomes) {
    if (o.kind === "stored") {
      s.stored++;
      if (o.automated) s.automated++;
    } else if (o.kind === "duplicate") s.duplicate++;
    else s.quarantined++;
  }
}
