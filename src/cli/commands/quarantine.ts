import { fetchWholeMessage } from "../../ingest/imap/refetch.js";
import { Intake } from "../../pipeline/intake.js";
import { intakeOptions } from "../../pipeline/intakeOptions.js";
import { listQuarantine } from "../../store/quarantine.js";
import { loadContext, openStore } from "../context.js";

/** draftgate quarantine list: what could not be stored, why, and where it came from. */
export async function quarantineListCommand(opts: { json?: boolean; all?: boolean }): Promise<void> {
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: true });
  try {
    const rows = await listQuarantine(store, { all: opts.all });
    if (opts.json) {
      process.stdout.write(JSON.stringify(rows.map(({ blobId: _b, ...r }) => r), null, 2) + "\n");
      return;
    }
    for (const r of rows) {
      const size = r.declaredSize !== null && Number(r.declaredSize) > r.size ? `${r.size} of ${r.declaredSize} bytes` : `${r.size} bytes`;
      process.stdout.write(`#${r.id} [${r.status}] ${r.errorCode} ${size} from ${r.sourceRef ?? r.source}: ${r.reason}\n`);
    }
    if (rows.length === 0) process.stdout.write("quarantine is empty\n");
  } finally {
    await store.close();
  }
}

/**
 * draftgate quarantine retry ID…: runs quarantined messages through intake again. An entry that holds
 * only the head of an oversized IMAP message is fetched whole from its folder again (when the limit
 * allows it now), using the mailbox's IMAP settings.
 */
export async function quarantineRetryCommand(ids: string[], opts: { json?: boolean }): Promise<void> {
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: true });
  const results: { id: number; outcome: string; detail?: string }[] = [];
  try {
    const intake = new Intake(store, intakeOptions(ctx.config));
    for (const raw of ids) {
      const id = Number(raw);
      if (!Number.isInteger(id) || id <= 0) throw new Error(`"${raw}" is not a quarantine id`);
      try {
        const o = await intake.retryQuarantined(id, { refetch: (e) => fetchWholeMessage(ctx.config, ctx.log, { sourceRef: e.row.sourceRef, mailboxName: e.mailboxName }) });
        results.push({ id, outcome: o.kind, detail: o.kind === "quarantined" ? o.reason : o.kind === "stored" ? `conversation ${o.conversationId}` : undefined });
      } catch (err) {
        results.push({ id, outcome: "error", detail: (err as Error).message });
      }
    }
  } finally {
    await store.close();
  }
  if (opts.json) process.stdout.write(JSON.stringify(results) + "\n");
  else for (const r of results) process.stdout.write(`#${r.id}: ${r.outcome}${r.detail ? ` (${r.detail})` : ""}\n`);
  if (results.some((r) => r.outcome === "error" || r.outcome === "quarantined")) process.exitCode = 1;
}
