import { isAutomatedAddress } from "../core/automation.js";
import { afterSendWork } from "../core/outbound/afterSend.js";
import { retryDelayMs } from "../core/backoff.js";
import { classifyDeliveryError, smtpErrorFields } from "../core/outbound/deliveryError.js";
import { failureEvent, isClaimable } from "../core/outbound/outboxState.js";
import { checkRecipientRate, HOUR_MS, recipientKey } from "../core/outbound/rateCap.js";
import { isSendableAddress } from "../core/outbound/recipients.js";
import type { Config, MailboxConfig } from "../config/schema.js";
import type { Logger } from "../obs/logger.js";
import type { Metrics } from "../obs/metrics.js";
import { intakeOptions } from "../pipeline/intakeOptions.js";
import { Intake } from "../pipeline/intake.js";
import type { JobContext, JobHandler, JobOutcome } from "../queue/worker.js";
import { readBlob, sha256 } from "../store/blobs.js";
import { mailboxOf } from "../store/conversations.js";
import type { MailboxRow, MessageRow } from "../store/entities/mail.js";
import type { OutboxRow } from "../store/entities/review.js";
import type { JobRow } from "../store/entities/work.js";
import { appendEvent } from "../store/events.js";
import { claimOutboxForSend, enqueueSend, moveOutbox, orphanedOutboxIds, SEND_JOB, sendTimesByRecipient } from "../store/outbox.js";
import {
  AFTER_SEND_JOBS,
  answeredMessage,
  sendContext,
  deferOutbox,
  enqueueAfterSend,
  interruptedSends,
  markWaitingOnCustomer,
  uncertainEntries,
} from "../store/outboxSend.js";
import type { Store } from "../store/store.js";
import { fileInSent, foundInSent, markAnswered } from "./imapSteps.js";
import { replyBuilder, type ReplyBuilder } from "./replyBuilder.js";
import { SmtpPool, SmtpSendError } from "./smtp.js";

export interface OutboundDeps {
  store: Store;
  config: Config;
  log: Logger;
  metrics?: Metrics;
  /** Where replies are composed and checked (default: a worker thread where there is a second core). */
  builder?: ReplyBuilder;
}

/** A mailbox without SMTP settings is looked at again this much later (its entries wait, visibly). */
const NO_SMTP_RETRY_MS = 15 * 60 * 1000;

const done: JobOutcome = { status: "done" };
const skipped = (reason: string): JobOutcome => ({ status: "skipped", reason });

/**
 * The outbound role: sends approved replies (job `send`) over per-mailbox SMTP pools, then files,
 * flags and records them (the after-send jobs), and at start settles what a dead process left behind.
 *
 * Exactly once (DESIGN.md promise 4): an entry is claimed (`sending`) and its bytes stored before a
 * single byte goes to the server; a failure is classified (src/core/outbound/deliveryError.ts) into a
 * retry, a permanent failure, or `uncertain` when the whole message may have reached the server; an
 * `uncertain` entry is never sent again by this code — only the Sent-folder check (it went out) or a
 * person (`outbox resolve`) moves it.
 */
/** How often the outbound role looks for replies whose send job died (see Outbound.requeueOrphans). */
const ORPHAN_SWEEP_MS = 5 * 60_000;

export class Outbound {
  private readonly pools = new Map<string, SmtpPool>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly intake: Intake;
  private readonly log: Logger;
  private readonly builder: ReplyBuilder;

  constructor(private readonly deps: OutboundDeps) {
    this.log = deps.log.child({ component: "outbound" });
    this.builder = deps.builder ?? replyBuilder();
    this.intake = new Intake(deps.store, intakeOptions(deps.config), (outcome, input) =>
      deps.metrics?.ingested.inc({
        outcome: outcome.kind === "stored" && outcome.automated ? "automated" : outcome.kind,
        source: input.source,
      }),
    );
  }

  /** The job types of the outbound role. */
  handlers(): Record<string, JobHandler> {
    return {
      [SEND_JOB]: (job, ctx) => this.send(job, ctx),
      [AFTER_SEND_JOBS.fileSent]: (job) => this.fileSent(job),
      [AFTER_SEND_JOBS.markAnswered]: (job) => this.markAnswered(job),
      [AFTER_SEND_JOBS.record]: (job) => this.record(job),
    };
  }

  /**
   * Before the worker claims anything: entries left `sending` by a process that died are `uncertain`
   * (never re-sent). On MySQL only those untouched for longer than a live send can take.
   */
  async recoverInterrupted(now: Date = new Date()): Promise<number[]> {
    const staleMs = 2 * (this.deps.config.outbound.smtpTimeoutSeconds * 4 + this.deps.config.jobs.leaseSeconds) * 1000;
    const staleBefore = this.deps.store.dialect === "sqlite" ? null : new Date(now.getTime() - staleMs);
    const ids = await this.deps.store.read((em) => interruptedSends(em, staleBefore));
    const moved: number[] = [];
    for (const id of ids) {
      const ok = await this.deps.store.tx(async (em) => {
        const m = await moveOutbox(em, id, "crash-recovery", {
          lastError:
            "the process sending it stopped mid-send: it may have gone out; checked against the Sent folder, else resolve it (draftgate outbox resolve ID --sent|--resend)",
        });
        return m.ok;
      });
      if (ok) moved.push(id);
    }
    if (moved.length > 0)
      this.log.warn({ outboxIds: moved }, "replies interrupted mid-send are now uncertain (never re-sent automatically)");
    return moved;
  }

  /**
   * Looks for each `uncertain` reply in its mailbox's Sent folder by Message-ID; a reply found there
   * went out and becomes `sent` (its after-send jobs follow, filing excepted). Errors are logged: an
   * entry not checked stays uncertain for a person.
   */
  async checkUncertain(): Promise<{ resolved: number[]; open: number[] }> {
    const resolved: number[] = [];
    const open: number[] = [];
    for (const e of await uncertainEntries(this.deps.store)) {
      try {
        const mailbox = await this.mailboxConfig(e);
        const hit = mailbox ? await foundInSent(this.deps.config, mailbox.config, e.messageId, this.log) : null;
        if (!hit?.found) {
          open.push(e.id);
          continue;
        }
        const ok = await this.deps.store.tx(async (em) => {
          const m = await moveOutbox(em, e.id, "found-in-sent", { sentAt: new Date(), lastError: null });
          if (m.ok) {
            const work = afterSendWork(mailbox?.config, await answeredMessage(em, e.answeredMessageRowId), { inSentAlready: true });
            await enqueueAfterSend(em, e.id, { ...work, maxAttempts: this.deps.config.jobs.maxAttempts });
          }
          return m.ok;
        });
        if (ok) {
          resolved.push(e.id);
          this.log.info({ outboxId: e.id, folder: hit.folder }, "uncertain reply found in the Sent folder: sent");
        } else open.push(e.id);
      } catch (err) {
        open.push(e.id);
        this.log.warn({ err, outboxId: e.id }, "could not check the Sent folder for an uncertain reply");
      }
    }
    if (open.length > 0) this.log.warn({ outboxIds: open }, "uncertain replies need a person: draftgate outbox resolve ID --sent|--resend");
    return { resolved, open };
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
    await this.builder.close();
  }

  /**
   * A reply whose send job was dead-lettered (its handler failed on every attempt, say while the
   * database was failing) would wait in `queued` forever: it gets a new send job. Nothing can go out
   * twice through this: the job sends the entry's stored bytes only after claiming it from
   * queued/retrying, which a second job for the same entry finds already done.
   */
  async requeueOrphans(now: Date = new Date()): Promise<number[]> {
    // In a transaction: its two reads see one snapshot.
    const ids = await this.deps.store.tx((em) => orphanedOutboxIds(em));
    const requeued: number[] = [];
    for (const id of ids) {
      const jobId = await this.deps.store.tx((em) =>
        enqueueSend(em, id, { maxAttempts: this.deps.config.outbound.maxAttempts, uniqueKey: `send:outbox:${id}:requeued:${now.getTime()}` }),
      );
      if (jobId !== null) requeued.push(id);
    }
    if (requeued.length > 0) this.log.warn({ outboxIds: requeued }, "replies whose send job had died are queued for sending again");
    return requeued;
  }

  /** Runs requeueOrphans now and every `everyMs` until close(); a failed sweep is logged and tried again later. */
  startSweeps(everyMs = ORPHAN_SWEEP_MS): void {
    const sweep = () => void this.requeueOrphans().catch((err: unknown) => this.log.warn({ err }, "the sweep for replies without a send job failed"));
    sweep();
    this.sweeper = setInterval(sweep, everyMs);
    this.sweeper.unref();
  }

  private pool(mailbox: MailboxConfig): SmtpPool {
    let p = this.pools.get(mailbox.name);
    if (!p) {
      const o = this.deps.config.outbound;
      p = new SmtpPool(mailbox.smtp!, { maxConnections: o.maxConnections, timeoutMs: o.smtpTimeoutSeconds * 1000, log: this.log });
      this.pools.set(mailbox.name, p);
    }
    return p;
  }

  private async mailboxConfig(entry: Pick<OutboxRow, "mailboxId">): Promise<{ row: MailboxRow; config: MailboxConfig } | null> {
    const row = await this.deps.store.read((em) => mailboxOf(em, entry));
    const config = this.deps.config.mailboxes.find((m) => m.name === row.name);
    return config ? { row, config } : null;
  }

  private count(mailbox: string, outcome: string): void {
    this.deps.metrics?.outboxAttempts.inc({ mailbox, outcome });
  }

  /** The `send` job: one attempt at one entry. Its outcome is recorded on the entry; the job itself is done. */
  private async send(job: JobRow, ctx: JobContext): Promise<JobOutcome> {
    const { store, config } = this.deps;
    const id = Number(job.payload.outboxId);
    if (!Number.isInteger(id)) return { status: "failed", error: "send job without an outboxId", permanent: true };
    // What the send needs, in one read: the entry, its mailbox and the message it answers.
    const loaded = await store.read((em) => sendContext(em, id));
    if (!loaded) return skipped(`outbox entry ${id} does not exist`);
    const entry = loaded.entry;
    if (entry.state === "sending") {
      // A run of this very job got the entry that far and then died or lost its lease: whether the
      // server got the message is unknown.
      if (job.attempts <= 1) return skipped(`outbox entry ${id} is being sent by another worker`);
      await store.tx((em) =>
        moveOutbox(em, id, "crash-recovery", {
          lastError: "the send was interrupted (its worker died or lost the job): it may have gone out",
        }),
      );
      this.log.warn({ outboxId: id }, "an interrupted send is now uncertain");
      return done;
    }
    if (!isClaimable(entry.state)) return skipped(`outbox entry ${id} is ${entry.state}`);
    const now = new Date();
    if (entry.nextAttemptAt && entry.nextAttemptAt.getTime() > now.getTime())
      return skipped(`outbox entry ${id} is not due before ${entry.nextAttemptAt.toISOString()}`);

    const mailboxConfig = this.deps.config.mailboxes.find((m) => m.name === loaded.mailbox.name);
    const mailbox = mailboxConfig ? { row: loaded.mailbox, config: mailboxConfig } : null;
    const name = mailbox?.row.name ?? String(entry.mailboxId);
    if (!mailbox?.config.smtp) {
      const at = new Date(now.getTime() + NO_SMTP_RETRY_MS);
      await store.tx(async (em) => {
        if (await deferOutbox(em, id, at, `mailbox ${name} has no smtp settings in the configuration; the reply waits until it has`)) {
          await enqueueSend(em, id, {
            maxAttempts: config.outbound.maxAttempts,
            runAt: at,
            uniqueKey: `send:outbox:${id}:nosmtp:${at.getTime()}`,
          });
        }
      });
      this.count(name, "deferred");
      return skipped(`mailbox ${name} has no smtp settings`);
    }

    const answered = loaded.answered;
    const refusal = refusalReason(entry, mailbox.config, answered);
    if (refusal) return this.refuse(entry, name, refusal);

    // The exact bytes: built once and stored; a retry or a resend sends the stored bytes again.
    let raw: Buffer;
    let envelope = { from: entry.fromAddress, to: [...entry.to, ...entry.cc].map((a) => a.address) };
    let carriesBody: boolean;
    if (entry.rawBlobId !== null) {
      raw = await store.read((em) => readBlob(em, entry.rawBlobId!));
      carriesBody = await this.builder.check(raw, entry.body);
    } else {
      const built = await this.builder.build(entry, mailbox.config, answered, now);
      raw = built.raw;
      envelope = built.envelope;
      carriesBody = built.carriesBody;
    }
    if (!carriesBody) {
      return this.refuse(
        entry,
        name,
        "the message built for sending does not contain the approved text unchanged (check templates/replies/reply.txt.hbs keeps {{text}})",
      );
    }

    const cap = config.outbound.maxPerRecipientPerHour;
    const claimed = await store.tx(async (em) => {
      if (cap > 0) {
        const recipients = [...entry.to, ...entry.cc].map((a) => recipientKey(a.address));
        const times = await sendTimesByRecipient(em, new Date(now.getTime() - HOUR_MS), { recipients, except: id });
        let until: Date | null = null;
        const capped: string[] = [];
        for (const a of [...entry.to, ...entry.cc]) {
          const d = checkRecipientRate(times.get(recipientKey(a.address)) ?? [], now, cap);
          if (d.allowed) continue;
          capped.push(a.address);
          if (!until || d.nextAllowedAt > until) until = d.nextAllowedAt;
        }
        if (until) {
          const why = `per-recipient cap: ${capped.join(", ")} got ${cap} replies in the last hour (outbound.maxPerRecipientPerHour); waits until ${until.toISOString()}`;
          if (await deferOutbox(em, id, until, why)) {
            await enqueueSend(em, id, {
              maxAttempts: config.outbound.maxAttempts,
              runAt: until,
              uniqueKey: `send:outbox:${id}:capped:${until.getTime()}`,
            });
            await appendEvent(em, "outbox.deferred", entry.conversationId, {
              outboxId: id,
              until: until.toISOString(),
              recipients: capped,
            });
          }
          return { kind: "deferred" as const, until };
        }
      }
      // The bytes are stored with the claim, before a byte goes out: the Sent folder, the conversation
      // and any later check get these bytes.
      const row = await claimOutboxForSend(em, id, now, raw);
      if (!row) return null;
      return { kind: "claimed" as const, row };
    });
    if (!claimed) return skipped(`outbox entry ${id} was claimed by another worker or changed state`);
    if (claimed.kind === "deferred") {
      this.count(name, "deferred");
      return skipped(`per-recipient cap: deferred until ${claimed.until.toISOString()}`);
    }
    const row = claimed.row;

    try {
      const accepted = await this.pool(mailbox.config).send(envelope, raw, ctx.signal);
      // The entry is sent, its after-send jobs exist and this job is done: one commit.
      let completed = false;
      const moved = await store.tx(async (em) => {
        const m = await moveOutbox(em, id, "accepted", { sentAt: new Date(), lastError: null });
        if (m.ok) await enqueueAfterSend(em, id, { ...afterSendWork(mailbox.config, answered), maxAttempts: config.jobs.maxAttempts });
        completed = ctx.completeIn ? await ctx.completeIn(em) : false;
        return m;
      });
      if (!moved.ok)
        this.log.error(
          { outboxId: id, state: moved.state },
          "the server accepted a reply whose entry left `sending` meanwhile; it stays as it is",
        );
      this.count(name, "sent");
      this.log.info({ outboxId: id, messageId: entry.messageId, attempt: row.attempts, response: accepted.response }, "reply sent");
      return { status: "done", completed };
    } catch (err) {
      const fullySent = err instanceof SmtpSendError ? err.bodyFullySent : true;
      const c = classifyDeliveryError(smtpErrorFields(err), { bodyFullySent: fullySent });
      const event = failureEvent(c.outcome, row.attempts, config.outbound.maxAttempts);
      const gaveUp = c.outcome === "transient" && event === "permanent-failure";
      const reason = gaveUp ? `${c.reason} — gave up after ${row.attempts} attempts (outbound.maxAttempts)` : c.reason;
      const retryAt =
        event === "transient-failure"
          ? new Date(
              Date.now() + retryDelayMs(row.attempts, config.outbound.backoffBaseSeconds * 1000, config.outbound.backoffMaxSeconds * 1000),
            )
          : null;
      await store.tx(async (em) => {
        const m = await moveOutbox(em, id, event, { lastError: reason.slice(0, 4000), nextAttemptAt: retryAt });
        if (!m.ok) return;
        if (retryAt)
          await enqueueSend(em, id, {
            maxAttempts: config.outbound.maxAttempts,
            runAt: retryAt,
            uniqueKey: `send:outbox:${id}:attempt:${row.attempts + 1}`,
          });
        await appendEvent(em, "outbox.send-failed", entry.conversationId, {
          outboxId: id,
          attempt: row.attempts,
          outcome: c.outcome,
          state: m.row.state,
          phase: c.phase,
          responseCode: c.responseCode,
          configProblem: c.config,
          reason: reason.slice(0, 1000),
          ...(retryAt ? { retryAt: retryAt.toISOString() } : {}),
        });
      });
      const state = event === "transient-failure" ? "retrying" : event === "outcome-unknown" ? "uncertain" : "failed";
      this.count(name, state);
      const fields = { outboxId: id, attempt: row.attempts, reason, ...(retryAt ? { retryAt } : {}) };
      if (state === "retrying") this.log.warn(fields, "reply not sent; will retry");
      else
        this.log.error(
          fields,
          state === "uncertain" ? "reply may or may not have gone out: uncertain, not re-sent" : "reply failed for good",
        );
      return done;
    }
  }

  /** Refuses an entry before anything is sent: claimed and failed at once, with the reason shown by `outbox`. */
  private async refuse(entry: OutboxRow, mailbox: string, reason: string): Promise<JobOutcome> {
    const moved = await this.deps.store.tx(async (em) => {
      const row = await claimOutboxForSend(em, entry.id);
      if (!row) return false;
      const m = await moveOutbox(em, entry.id, "permanent-failure", { lastError: `refused, nothing sent: ${reason}`.slice(0, 4000) });
      if (m.ok)
        await appendEvent(em, "outbox.send-failed", entry.conversationId, {
          outboxId: entry.id,
          outcome: "refused",
          state: "failed",
          reason,
        });
      return m.ok;
    });
    if (!moved) return skipped(`outbox entry ${entry.id} changed state meanwhile`);
    this.count(mailbox, "refused");
    this.log.error({ outboxId: entry.id, reason }, "reply refused; nothing was sent");
    return done;
  }

  /** The sent entry, its bytes and its mailbox's settings, for the after-send jobs; a reason when there is nothing to do. */
  private async sentEntry(
    job: JobRow,
  ): Promise<{ entry: OutboxRow; raw: Buffer; mailbox: { row: MailboxRow; config: MailboxConfig | null } } | string> {
    const id = Number(job.payload.outboxId);
    const loaded = await this.deps.store.read((em) => sendContext(em, id));
    if (!loaded) return `outbox entry ${id} does not exist`;
    const { entry, mailbox: row } = loaded;
    if (entry.state !== "sent") return `outbox entry ${id} is ${entry.state}, not sent`;
    if (entry.rawBlobId === null) return `outbox entry ${id} has no stored bytes`;
    const raw = await this.deps.store.read((em) => readBlob(em, entry.rawBlobId!));
    return { entry, raw, mailbox: { row, config: this.deps.config.mailboxes.find((m) => m.name === row.name) ?? null } };
  }

  /** After-send: the exact bytes into the Sent folder (once, even when the job runs again). */
  private async fileSent(job: JobRow): Promise<JobOutcome> {
    const s = await this.sentEntry(job);
    if (typeof s === "string") return skipped(s);
    if (!s.mailbox.config) return skipped(`mailbox ${s.mailbox.row.name} is not configured`);
    const r = await fileInSent(this.deps.config, s.mailbox.config, s.raw, s.entry.messageId, s.entry.sentAt ?? new Date(), this.log);
    if (!r.filed) return skipped(r.reason);
    this.log.debug({ outboxId: s.entry.id, folder: r.folder, already: r.already }, "reply filed in Sent");
    return done;
  }

  /** After-send: \Answered on the customer's message, when it came over IMAP. */
  private async markAnswered(job: JobRow): Promise<JobOutcome> {
    const s = await this.sentEntry(job);
    if (typeof s === "string") return skipped(s);
    if (!s.mailbox.config) return skipped(`mailbox ${s.mailbox.row.name} is not configured`);
    const answered: MessageRow | null = await this.deps.store.read((em) => answeredMessage(em, s.entry.answeredMessageRowId));
    if (!answered) return skipped("the reply answers no stored message");
    const r = await markAnswered(this.deps.config, s.mailbox.config, answered, this.log);
    return r.flagged ? done : skipped(r.reason);
  }

  /** After-send: the reply into its conversation (so the customer's answer threads to it); the conversation waits on the customer. */
  private async record(job: JobRow): Promise<JobOutcome> {
    const s = await this.sentEntry(job);
    if (typeof s === "string") return skipped(s);
    const { entry, raw } = s;
    const [outcome] = await this.intake.ingest({ id: entry.mailboxId, address: s.mailbox.row.address }, [
      { raw, source: "outbound", sourceRef: `outbox:${entry.id}`, receivedAt: entry.sentAt ?? new Date() },
    ]);
    if (outcome?.kind === "quarantined")
      return { status: "failed", error: `the reply could not be stored: ${outcome.reason}`, permanent: true };
    const conversationId = outcome?.kind === "stored" ? outcome.conversationId : entry.conversationId;
    if (outcome?.kind === "stored" && outcome.conversationId !== entry.conversationId) {
      this.log.warn(
        { outboxId: entry.id, conversationId: entry.conversationId, storedIn: outcome.conversationId },
        "the reply threaded into another conversation than the one answered",
      );
    }
    await this.deps.store.tx((em) => markWaitingOnCustomer(em, conversationId, entry.answeredMessageRowId));
    return done;
  }
}

/**
 * Why an entry must not be sent at all, or null. Approval already decided the recipients; this is the
 * last look before the wire: never to a null, daemon, postmaster or no-reply address, never to
 * ourselves, never in answer to an automated message, and only the body that was approved.
 */
export function refusalReason(entry: OutboxRow, mailbox: MailboxConfig, answered: Pick<MessageRow, "automated"> | null): string | null {
  if (answered?.automated) return "the message answered is automated (bounce, auto-reply, list or our own mail): no reply to robots";
  if (entry.to.length === 0) return "the reply has no recipient";
  const own = new Set([mailbox.address, ...mailbox.aliases].map((a) => a.trim().toLowerCase()));
  for (const a of [...entry.to, ...entry.cc]) {
    const address = (a.address ?? "").trim();
    if (address === "" || !isSendableAddress(address))
      return `recipient ${JSON.stringify(address || "<>")} is not a usable address (null sender?)`;
    if (isAutomatedAddress(address))
      return `recipient ${address} is an automated address (MAILER-DAEMON, postmaster, no-reply or a list robot)`;
    if (own.has(address.toLowerCase())) return `recipient ${address} is this mailbox's own address`;
  }
  if (sha256(entry.body) !== entry.bodyHash) return "the body does not match the hash recorded at approval";
  return null;
}
