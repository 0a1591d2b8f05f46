import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { MailboxHealth } from "./mailboxHealth.js";
import { outboxCounts } from "../store/outbox.js";
import { countDueJobs, countJobsByTypeAndState, countOpenQuarantine } from "../store/stats.js";
import type { Store } from "../store/store.js";

/** Prometheus metrics of one process. Gauges that need the database are read on scrape. */
export class Metrics {
  readonly registry = new Registry();
  readonly ingested: Counter<"outcome" | "source">;
  readonly jobsFinished: Counter<"type" | "outcome">;
  readonly outboxAttempts: Counter<"mailbox" | "outcome">;

  constructor(store: Store | null) {
    collectDefaultMetrics({ register: this.registry, prefix: "draftgate_" });
    this.ingested = new Counter({
      name: "draftgate_messages_ingested_total",
      help: "Messages through the intake pipeline, by outcome (stored, duplicate, quarantined, automated).",
      labelNames: ["outcome", "source"],
      registers: [this.registry],
    });
    this.jobsFinished = new Counter({
      name: "draftgate_jobs_finished_total",
      help: "Job runs by type and outcome (done, retry, dead, released).",
      labelNames: ["type", "outcome"],
      registers: [this.registry],
    });
    this.outboxAttempts = new Counter({
      name: "draftgate_outbox_send_attempts_total",
      help: "Send attempts of approved replies by outcome (sent, retrying, failed, uncertain, deferred by the per-recipient cap, refused before sending).",
      labelNames: ["mailbox", "outcome"],
      registers: [this.registry],
    });
    if (store) {
      new Gauge({
        name: "draftgate_outbox_entries",
        help: "Outbox entries by state (queued, sending, retrying, sent, failed, uncertain, cancelled); failed and uncertain need a person.",
        labelNames: ["state"],
        registers: [this.registry],
        async collect() {
          const counts = await outboxCounts(store);
          this.reset();
          for (const state of ["queued", "sending", "retrying", "sent", "failed", "uncertain", "cancelled"] as const) this.set({ state }, counts[state] ?? 0);
        },
      });
      const jobs = new Gauge({
        name: "draftgate_jobs",
        help: "Jobs in the queue by type and state.",
        labelNames: ["type", "state"],
        registers: [this.registry],
        async collect() {
          const rows = await countJobsByTypeAndState(store);
          this.reset();
          for (const r of rows) this.set({ type: r.type, state: r.state }, r.count);
        },
      });
      void jobs;
      new Gauge({
        name: "draftgate_queue_depth",
        help: "Jobs queued and due now (waiting for a worker).",
        registers: [this.registry],
        async collect() {
          this.set(await countDueJobs(store));
        },
      });
      new Gauge({
        name: "draftgate_quarantine_open",
        help: "Quarantined messages waiting for a person.",
        registers: [this.registry],
        async collect() {
          this.set(await countOpenQuarantine(store));
        },
      });
    }
  }
}

/** Per-mailbox IMAP health as gauges, read from the pollers at scrape time. */
export function registerImapMetrics(metrics: Metrics, health: () => MailboxHealth[]): void {
  const gauge = (name: string, help: string, value: (h: MailboxHealth) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["mailbox"],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const h of health()) this.set({ mailbox: h.mailbox }, value(h));
      },
    });
  gauge("draftgate_imap_polling", "1 while this process holds the mailbox's lease and polls it.", (h) => Number(h.polling));
  gauge("draftgate_imap_connected", "1 while the IMAP connection is up.", (h) => Number(h.connected));
  gauge("draftgate_imap_idling", "1 while the connection waits in IDLE.", (h) => Number(h.idling));
  gauge("draftgate_imap_backlog", "Messages found on the server and not committed yet.", (h) => h.backlog);
  gauge("draftgate_imap_consecutive_failures", "Failed sessions in a row (0 when healthy).", (h) => h.consecutiveFailures);
  gauge("draftgate_imap_last_sync_timestamp_seconds", "When the last sync finished (Unix time).", (h) => (h.lastSyncAt ? h.lastSyncAt.getTime() / 1000 : 0));
}
