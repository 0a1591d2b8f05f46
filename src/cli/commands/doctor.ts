import type { Config } from "../../config/schema.js";
import { ConfigError } from "../../config/errors.js";
import { loadConfig } from "../../config/load.js";
import { ImapClientFactory } from "../../net/imapClient.js";
import type { MailboxHealth } from "../../obs/mailboxHealth.js";
import { LlmService } from "../../llm/service.js";
import { SmtpPool } from "../../outbound/smtp.js";
import { outboxCounts } from "../../store/outbox.js";
import { attentionEntries } from "../../store/outboxSend.js";
import { listCheckpoints } from "../../store/imapCheckpoints.js";
import { findMailbox } from "../../store/mailboxes.js";
import { readMailboxLease } from "../../store/mailboxLeases.js";
import { createLogger } from "../../obs/logger.js";
import { redactUrl } from "../../store/dataSource.js";
import { Store } from "../../store/store.js";

/** Logs in to a mailbox, lists what matters of its capabilities and folders, logs out. */
async function checkImap(config: Config, name: string, imap: NonNullable<Config["mailboxes"][number]["imap"]>): Promise<Check> {
  const where = `${imap.user}@${imap.host}:${imap.port}${imap.secure ? " (TLS)" : ""}`;
  const log = createLogger({ level: "silent", pretty: "never" });
  try {
    const client = await new ImapClientFactory(imap, config.imap, log).connect({ disableAutoIdle: true });
    try {
      const caps = ["IDLE", "CONDSTORE", "QRESYNC", "UIDPLUS", "MOVE"].filter((c) => client.capabilities.has(c));
      const folders: string[] = [];
      for (const folder of imap.folders) {
        const st = await client.status(folder, { messages: true, uidValidity: true, uidNext: true });
        folders.push(st ? `${folder}: ${st.messages ?? "?"} messages` : `${folder}: cannot open`);
      }
      const noIdle = caps.includes("IDLE") ? "" : "; no IDLE: new mail is found by polling every imap.pollSeconds";
      return { name: `mailbox ${name}`, ok: caps.includes("IDLE") ? true : "warn", detail: `logged in as ${where}; ${caps.join(" ")}; ${folders.join(", ")}${noIdle}` };
    } finally {
      await client.logout().catch(() => client.close());
    }
  } catch (err) {
    const e = err as { authenticationFailed?: boolean; responseText?: string; message?: string; code?: string };
    const why = e.authenticationFailed ? `authentication failed: ${e.responseText ?? e.message}` : `${e.code ? `${e.code}: ` : ""}${e.message}`;
    return { name: `mailbox ${name}`, ok: false, detail: `${where}: ${why}` };
  }
}

/** Logs in to a mailbox's SMTP server (nothing is sent) and logs out. */
async function checkSmtp(config: Config, name: string, smtp: NonNullable<Config["mailboxes"][number]["smtp"]>): Promise<Check> {
  const where = `${smtp.user ? `${smtp.user}@` : ""}${smtp.host}:${smtp.port}${smtp.secure ? " (TLS)" : smtp.requireTLS ? " (STARTTLS required)" : ""}`;
  const pool = new SmtpPool(smtp, { maxConnections: 1, timeoutMs: config.outbound.smtpTimeoutSeconds * 1000, log: createLogger({ level: "silent", pretty: "never" }) });
  try {
    const r = await pool.verify();
    const how = smtp.user ? (r.authenticated ? `logged in as ${where}` : `connected to ${where} (the server offers no AUTH)`) : `connected to ${where} (no login configured)`;
    return { name: `smtp ${name}`, ok: true, detail: `${how}${r.secure ? ", encrypted" : ", not encrypted"}` };
  } catch (err) {
    const e = err as { code?: string | null; response?: string | null; message?: string };
    const why = e.code === "EAUTH" ? `authentication failed: ${e.response ?? e.message}` : `${e.code ? `${e.code}: ` : ""}${e.message}`;
    return { name: `smtp ${name}`, ok: false, detail: `${where}: ${why}` };
  } finally {
    pool.close();
  }
}

/** Replies that need a person: uncertain (resolve them) and failed (never went out). */
async function outboxStatus(store: Store): Promise<Check> {
  const counts = await outboxCounts(store);
  const uncertain = counts.uncertain ?? 0;
  const failed = counts.failed ?? 0;
  const waiting = (counts.queued ?? 0) + (counts.retrying ?? 0) + (counts.sending ?? 0);
  const summary = `${counts.sent ?? 0} sent, ${waiting} waiting to send, ${failed} failed, ${uncertain} uncertain`;
  if (uncertain === 0 && failed === 0) return { name: "outbox", ok: true, detail: summary };
  const latest = (await attentionEntries(store, 3)).map((e) => `#${e.id} ${e.state}: ${e.lastError ?? "no reason recorded"}`).join("; ");
  return { name: "outbox", ok: "warn", detail: `${summary}; see draftgate outbox${uncertain ? ", resolve uncertain ones with draftgate outbox resolve ID --sent|--resend" : ""}; latest: ${latest}` };
}

/** What the running gateway last reported for a mailbox (through its lease row) and where sync stands. */
async function pollerStatus(store: Store, name: string): Promise<Check> {
  const row = await findMailbox(store, name);
  const lease = row ? await readMailboxLease(store, row.id) : null;
  const checkpoints = row ? await listCheckpoints(store, row.id) : [];
  const synced = checkpoints.map((c) => `${c.folder} at UID ${c.lastUid} (${c.updatedAt.toISOString()})`).join(", ") || "not synced yet";
  if (!lease || lease.leaseUntil.getTime() < Date.now()) {
    return { name: `poller ${name}`, ok: "warn", detail: `no running gateway polls it now; checkpoints: ${synced}` };
  }
  const s = (lease.status ?? {}) as Partial<Record<keyof MailboxHealth, unknown>>;
  const state = s.connected ? (s.idling ? "connected, idling" : "connected") : "disconnected";
  const error = s.lastError ? `; last error ${text(s.lastErrorAt)}: ${text(s.lastError)}` : "";
  return {
    name: `poller ${name}`,
    ok: s.connected ? true : "warn",
    detail: `polled by ${lease.owner}: ${state}; last sync ${text(s.lastSyncAt ?? "never")}; backlog ${Number(s.backlog ?? 0)}; failures in a row ${Number(s.consecutiveFailures ?? 0)}${error}; checkpoints: ${synced}`,
  };
}

interface Check {
  name: string;
  ok: boolean | "warn";
  detail: string;
}

/** draftgate doctor: checks configuration, database, IMAP and SMTP logins, the outbox and the model; exit 1 if any fails. */
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
    let current = false;
    try {
      store = await Store.open(config.database.url);
      await store.ping();
      checks.push({ name: "database", ok: true, detail: `${store.dialect} at ${url} reachable` });
      const pending = await store.hasPendingMigrations();
      current = !pending;
      checks.push({ name: "migrations", ok: pending ? "warn" : true, detail: pending ? "pending: run `draftgate migrate` (start also does)" : "current" });
    } catch (err) {
      checks.push({ name: "database", ok: false, detail: `${url}: ${(err as Error).message}` });
    }
    try {
      for (const m of config.mailboxes) {
        if (m.smtp) checks.push(await checkSmtp(config, m.name, m.smtp));
        if (!m.imap) {
          checks.push({ name: `mailbox ${m.name}`, ok: "warn", detail: `${m.address}: no imap settings (import-only)` });
          continue;
        }
        checks.push(await checkImap(config, m.name, m.imap));
        if (store && current) checks.push(await pollerStatus(store, m.name));
      }
      if (store && current) checks.push(await outboxStatus(store));
    } finally {
      await store?.close().catch(() => undefined);
    }
    const llm = await LlmService.start(config, createLogger({ level: "silent", pretty: "never" }));
    const fallback = "; triage runs on rules and drafts come from templates";
    checks.push({
      name: "model",
      ok: llm.status.state === "ready" ? true : llm.status.state === "error" ? false : "warn",
      detail: llm.status.state === "ready" ? llm.status.message : `${llm.status.message}${fallback}`,
    });
    await llm.dispose();
  }
  if (opts.json) process.stdout.write(JSON.stringify({ ok: checks.every((c) => c.ok !== false), checks }, null, 2) + "\n");
  else {
    for (const c of checks) process.stdout.write(`${c.ok === true ? "ok  " : c.ok === "warn" ? "warn" : "FAIL"}  ${c.name}: ${c.detail}\n`);
  }
  if (checks.some((c) => c.ok === false)) process.exitCode = 1;
}

/** A value from the lease row's JSON status (strings and ISO dates), as text. */
function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}
