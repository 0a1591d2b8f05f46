import cliProgress from "cli-progress";
import { expandImportPaths, readImportFiles } from "../../ingest/import/sources.js";
import { NormalizePool } from "../../pipeline/normalizePool.js";
import { Intake, type IntakeOutcome, type PreparedBatch, type RawInput } from "../../pipeline/intake.js";
import { intakeOptions } from "../../pipeline/intakeOptions.js";
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
  let pool: NormalizePool | null = null;
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

    const workers = ctx.config.ingest.parseWorkers === "auto" ? NormalizePool.defaultSize() : ctx.config.ingest.parseWorkers;
    pool = workers > 0 ? new NormalizePool(workers) : null;
    const intake = new Intake(store, intakeOptions(ctx.config), undefined, pool?.normalize);
    const target = { id: mailbox.id, address: mailbox.address };
    const batchSize = ctx.config.ingest.batchSize;
    let batch: RawInput[] = [];
    let progress = 0;
    // Stages overlap: the next batches are read and parsed (on the pool) while the oldest one commits
    // on the main thread, in order. At most `AHEAD` batches wait, which bounds memory.
    const AHEAD = 3;
    const waiting: { prepared: Promise<PreparedBatch>; at: number }[] = [];
    const commitOldest = async () => {
      const next = waiting.shift()!;
      tally(summary, await intake.commit(target, await next.prepared));
      bar?.update(next.at, { ...summary });
    };
    const submit = async () => {
      if (batch.length > 0) {
        const prepared = intake.prepare(batch);
        prepared.catch(() => undefined); // awaited in order by commitOldest; never unhandled meanwhile
        waiting.push({ prepared, at: progress });
        batch = [];
      }
      while (waiting.length >= AHEAD) await commitOldest();
    };
    let doneBytes = 0;
    for (const file of files) {
      const items = readImportFiles([file])[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<{ raw: Buffer; sourceRef: string; bytesRead: number }>;
        try {
          next = await items.next();
        } catch (err) {
          // A file we cannot read is reported and counted; a database failure (from submit) aborts.
          summary.errors++;
          log.error({ err, file: file.path }, "could not read file; its remaining messages were not imported");
          break;
        }
        if (next.done) break;
        summary.messages++;
        batch.push({ raw: next.value.raw, source: "import", sourceRef: next.value.sourceRef });
        progress = doneBytes + next.value.bytesRead;
        if (batch.length >= batchSize) await submit();
      }
      doneBytes += file.size;
      progress = doneBytes;
    }
    await submit();
    while (waiting.length > 0) await commitOldest();
    bar?.update(totalBytes, { ...summary });
    bar?.stop();
  } finally {
    await pool?.close();
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
