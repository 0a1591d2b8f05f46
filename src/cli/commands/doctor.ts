import type { Config } from "../../config/schema.js";
import { ConfigError } from "../../config/errors.js";
import { loadConfig } from "../../config/load.js";
import { redactUrl } from "../../store/dataSource.js";
import { Store } from "../../store/store.js";

interface Check {
  name: string;
  ok: boolean | "warn";
  detail: string;
}

/** draftgate doctor: checks configuration and database (later: IMAP, SMTP, model); exit 1 if any fails. */
export async function doctorCommand(opts: { json?: boolean }): Promise<void> {
  const checks: Check[] = [];
  let config: Config | null = null;
  try {
    config = loadConfig();
    checks.push({ name: "config", ok: true, detail: `valid (${config.mailboxes.length} mailbox(es), ${config.webhooks.length} webhook(s))` });
  } catch (err) {
    checks.push({ name: "config", ok: false, detail: err instanceof ConfigError ? err.problems.join("; ") : (err as Error).message });
  }
  if (config) {
    const url = redactUrl(config.database.url);
    let store: Store | null = null;
    try {
      store = await Store.open(config.database.url);
      await store.ping();
      checks.push({ name: "database", ok: true, detail: `${store.dialect} at ${url} reachable` });
      const pending = await store.hasPendingMigrations();
      checks.push({ name: "migrations", ok: pending ? "warn" : true, detail: pending ? "pending: run `draftgate migrate` (start also does)" : "current" });
    } catch (err) {
      checks.push({ name: "database", ok: false, detail: `${url}: ${(err as Error).message}` });
    } finally {
      await store?.close().catch(() => undefined);
    }
    for (const m of config.mailboxes) {
      checks.push({
        name: `mailbox ${m.name}`,
        ok: m.imap ? true : "warn",
        detail: m.imap ? `${m.address} via ${m.imap.host}:${m.imap.port} (login is checked by the IMAP ingest)` : `${m.address}: no imap settings (import-only)`,
      });
    }
    checks.push({
      name: "model",
      ok: config.llm.model ? true : "warn",
      detail: config.llm.model ? `configured: ${config.llm.model}` : "no model configured: triage by rules, drafts from templates",
    });
  }
  if (opts.json) process.stdout.write(JSON.stringify({ ok: checks.every((c) => c.ok !== false), checks }, null, 2) + "\n");
  else {
    for (const c of checks) process.stdout.write(`${c.ok === true ? "ok  " : c.ok === "warn" ? "warn" : "FAIL"}  ${c.name}: ${c.detail}\n`);
  }
  if (checks.some((c) => c.ok === false)) process.exitCode = 1;
}
