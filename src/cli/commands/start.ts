import type { Server } from "node:http";
import { ImapIngest } from "../../ingest/imap/ingest.js";
import { NormalizePool } from "../../pipeline/normalizePool.js";
import { Metrics, registerImapMetrics } from "../../obs/metrics.js";
import { intakeOptions } from "../../pipeline/intakeOptions.js";
import { Intake } from "../../pipeline/intake.js";
import { llmJobHandlers } from "../../llm/handlers.js";
import { LlmService } from "../../llm/service.js";
import { Outbound } from "../../outbound/service.js";
import { Worker } from "../../queue/worker.js";
import { createApp } from "../../web/app.js";
import { listen } from "../../web/listen.js";
import { ensureMailbox } from "../../store/mailboxes.js";
import { loadContext, openStore } from "../context.js";

export const ROLES = ["web", "ingest", "llm", "outbound"] as const;
export type Role = (typeof ROLES)[number];

export function parseRoles(value: string): Role[] {
  const roles = value.split(",").map((r) => r.trim()).filter(Boolean);
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length > 0 || roles.length === 0) throw new Error(`unknown role(s): ${bad.join(", ") || "(none)"}; roles are ${ROLES.join(", ")}`);
  return roles as Role[];
}

/** draftgate start: migrate, then run the chosen roles in this process until SIGTERM/SIGINT. */
export async function startCommand(opts: { roles: string }): Promise<void> {
  const roles = parseRoles(opts.roles);
  const ctx = loadContext();
  const log = ctx.log.child({ component: "start" });
  const store = await openStore(ctx, { migrate: true });
  if (store.dialect === "sqlite" && roles.length < ROLES.length) {
    log.warn("SQLite serves one process: run every role in it, or use MySQL (DATABASE_URL=mysql://…) to split roles");
  }
  for (const m of ctx.config.mailboxes) await ensureMailbox(store, m.name, m.address);
  const metrics = new Metrics(store);

  let imap: ImapIngest | null = null;
  let pool: NormalizePool | null = null;
  if (roles.includes("ingest")) {
    // MIME parsing runs on worker threads so it overlaps with fetching and committing.
    const workers = ctx.config.ingest.parseWorkers === "auto" ? NormalizePool.defaultSize() : ctx.config.ingest.parseWorkers;
    pool = workers > 0 ? new NormalizePool(workers) : null;
    const intake = new Intake(
      store,
      intakeOptions(ctx.config),
      (outcome, input) => metrics.ingested.inc({ outcome: outcome.kind === "stored" && outcome.automated ? "automated" : outcome.kind, source: input.source }),
      pool?.normalize,
    );
    imap = await ImapIngest.start({ store, intake, config: ctx.config, log: ctx.log });
    registerImapMetrics(metrics, () => imap!.health());
  }

  let server: Server | null = null;
  if (roles.includes("web")) {
    const web = { store, config: ctx.config, metrics, log: ctx.log.child({ component: "web" }), imapHealth: imap ? () => imap.health() : undefined };
    server = await listen(createApp(web), ctx.config.http.host, ctx.config.http.port);
    const addr = server.address();
    log.info({ url: `http://${ctx.config.http.host === "0.0.0.0" ? "127.0.0.1" : ctx.config.http.host}:${typeof addr === "object" && addr ? addr.port : ctx.config.http.port}/` }, "web server listening");
  }

  let llm: LlmService | null = null;
  if (roles.includes("llm")) {
    llm = await LlmService.start(ctx.config, ctx.log);
    if (llm.engine) log.info({ model: llm.status.message }, "model loaded");
    else log.warn(`${llm.status.message}. Triage runs on rules only and drafts come from reply templates until a model is available; ingest is not affected.`);
  }
  let outbound: Outbound | null = null;
  if (roles.includes("outbound")) {
    outbound = new Outbound({ store, config: ctx.config, log: ctx.log, metrics });
    // Before any send job is claimed: what a dead process left `sending` is uncertain, never re-sent.
    await outbound.recoverInterrupted();
  }
  // Each role's capability brings its job handlers; this is the one place that registers them.
  const llmHandlers = llm ? llmJobHandlers({ store, log: ctx.log, config: ctx.config, llm }) : {};
  const outboundHandlers = outbound ? outbound.handlers() : {};
  const handlers = { ...llmHandlers, ...outboundHandlers };
  const j = ctx.config.jobs;
  const worker = new Worker(
    store,
    handlers,
    {
      concurrency: j.concurrency,
      groups: [
        // An LLM worker runs as many jobs as its context has sequences, so the pool is used whole.
        { types: Object.keys(llmHandlers), concurrency: Math.max(j.concurrency, llm?.engine ? ctx.config.llm.parallel : 0) },
        // Sends keep every pooled SMTP connection busy with the next reply already prepared: the
        // database work and composing of one overlap with the SMTP round trips of others
        // (outbound.sendConcurrency; bench:outbound measured 4 per connection).
        { types: Object.keys(outboundHandlers), concurrency: ctx.config.outbound.sendConcurrency ?? 4 * ctx.config.outbound.maxConnections },
      ],
      leaseMs: j.leaseSeconds * 1000,
      pollIntervalMs: j.pollIntervalMs,
      backoffBaseMs: j.backoffBaseSeconds * 1000,
      backoffMaxMs: j.backoffMaxSeconds * 1000,
      graceMs: j.shutdownGraceSeconds * 1000,
    },
    ctx.log.child({ component: "worker" }),
    metrics,
  );
  if (Object.keys(handlers).length > 0) worker.start();
  // Uncertain replies found in the Sent folder went out; the rest wait for a person. Not awaited: IMAP
  // may be slow or down, and sending must not wait for it.
  if (outbound) void outbound.checkUncertain().catch((err: unknown) => log.warn({ err }, "the Sent-folder check of uncertain replies failed"));
  // Replies whose send job was dead-lettered get a new one, now and every few minutes.
  outbound?.startSweeps();
  log.info({ roles, jobTypes: Object.keys(handlers), mailboxes: ctx.config.mailboxes.map((m) => m.name) }, "draftgate started");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: no new work; finishing or releasing running jobs");
    const closing = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    server?.closeIdleConnections();
    await Promise.all([worker.stop(), imap?.stop()]);
    await outbound?.close();
    await pool?.close();
    await llm?.dispose();
    await closing;
    await store.close();
    log.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
