import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ImapFlow } from "imapflow";
import type { EntityManager } from "typeorm";
import type { Config, MailboxConfig } from "../../config/schema.js";
import { retryDelayMs } from "../../core/backoff.js";
import type { Logger } from "../../obs/logger.js";
import type { Intake, MailboxRef } from "../../pipeline/intake.js";
import { advanceCheckpoint, readCheckpoint, type Checkpoint } from "../../store/imapCheckpoints.js";
import { acquireMailboxLease, releaseMailboxLease, renewMailboxLease } from "../../store/mailboxLeases.js";
import { openQuarantineSourceRefs } from "../../store/quarantine.js";
import type { Store } from "../../store/store.js";
import { initialCheckpoint, resetCheckpoint } from "./checkpoint.js";
import { ImapClientFactory } from "../../net/imapClient.js";
import { emptyHealth, type MailboxHealth } from "../../obs/mailboxHealth.js";
import { fetchAndIngest, parseImapSourceRef, uidRangeExcept } from "./fetch.js";
import { assertLeaseHeld, LeaseLostError } from "./lease.js";

type ImapSettings = NonNullable<MailboxConfig["imap"]>;

export interface PollerDeps {
  store: Store;
  intake: Intake;
  mailbox: MailboxRef & { name: string };
  settings: ImapSettings;
  config: Config;
  log: Logger;
  /** Identifies this process in lease rows. */
  owner?: string;
}

/** Consecutive authentication failures after which the slower retry cap applies. */
const AUTH_FAILURES_BEFORE_SLOWDOWN = 3;

class SessionEnded extends Error {}

/**
 * Polls one mailbox: holds its lease, keeps one IMAP connection, syncs every configured folder from its
 * checkpoint, then waits in IDLE (restarted every imap.maxIdleSeconds) on the first folder and polls the
 * others every imap.pollSeconds. Any failure ends the session; it reconnects with exponential backoff
 * and jitter (slower after repeated authentication failures). It never throws out of its loop, so one
 * broken mailbox never stops the others.
 */
export class MailboxPoller {
  private readonly state: MailboxHealth;
  private readonly factory: ImapClientFactory;
  private readonly owner: string;
  private readonly log: Logger;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private client: ImapFlow | null = null;
  private wakeSleep: (() => void) | null = null;
  private wakeSession: ((reason: "exists" | "closed" | "lease-lost" | "stop") => void) | null = null;
  /** Aborted when the current session must end (stop, lost lease, closed connection): syncing stops after the batch in flight. */
  private halt = new AbortController();
  private failures = 0;
  private authFailures = 0;

  constructor(private readonly deps: PollerDeps) {
    this.state = emptyHealth(deps.mailbox.name);
    this.log = deps.log.child({ component: "imap", mailbox: deps.mailbox.name });
    this.factory = new ImapClientFactory(deps.settings, deps.config.imap, this.log);
    this.owner = deps.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** A snapshot; `idling` is read live from the connection. */
  get health(): MailboxHealth {
    return { ...this.state, idling: Boolean(this.client?.idling) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.halt.abort();
    this.wakeSleep?.();
    this.wakeSession?.("stop");
    await this.loop;
  }

  private get ttlMs(): number {
    return this.deps.config.imap.leaseSeconds * 1000;
  }

  private async run(): Promise<void> {
    const { store, mailbox } = this.deps;
    // Renewal runs for as long as the lease is held, backoff waits included, and carries the health
    // snapshot other processes read (doctor, readiness on other nodes).
    const renew = setInterval(() => {
      if (!this.state.polling) return;
      renewMailboxLease(store, mailbox.id, this.owner, this.ttlMs, this.health)
        .then((ok) => {
          if (!ok && this.state.polling) {
            this.state.polling = false;
            this.halt.abort();
            this.log.warn("lost the mailbox lease to another process; stopping this poller's session");
            this.wakeSession?.("lease-lost");
          }
        })
        .catch((err) => this.log.warn({ err }, "lease renewal failed"));
    }, this.ttlMs / 3);
    renew.unref();
    try {
      while (!this.stopped) {
        if (!this.state.polling) {
          try {
            this.state.polling = await acquireMailboxLease(store, mailbox.id, this.owner, this.ttlMs);
          } catch (err) {
            this.log.error({ err }, "could not read the mailbox lease");
          }
          if (!this.state.polling) {
            await this.sleep(this.ttlMs / 3);
            continue;
          }
        }
        try {
          await this.session();
          this.failures = 0;
        } catch (err) {
          if (err instanceof LeaseLostError) {
            // Found at commit time (renewals had stalled): nothing of that batch was committed.
            if (this.state.polling) this.log.warn("lost the mailbox lease to another process while committing; nothing more is committed by this poller");
            this.state.polling = false;
          } else if (!this.stopped && this.state.polling) this.recordFailure(err);
        } finally {
          this.closeClient();
        }
        if (this.stopped || this.failures === 0 || !this.state.polling) continue;
        const cap = this.authFailures >= AUTH_FAILURES_BEFORE_SLOWDOWN ? this.deps.config.imap.authFailureMaxSeconds : this.deps.config.imap.reconnectMaxSeconds;
        const delay = retryDelayMs(this.failures, this.deps.config.imap.reconnectBaseSeconds * 1000, cap * 1000);
        this.state.retryAt = new Date(Date.now() + delay);
        this.log.info({ retryInMs: delay, failures: this.failures }, "reconnecting after a delay");
        await this.sleep(delay);
        this.state.retryAt = null;
      }
    } finally {
      clearInterval(renew);
      const held = this.state.polling;
      this.state.polling = false;
      if (held) await releaseMailboxLease(store, mailbox.id, this.owner).catch(() => undefined);
    }
  }

  private recordFailure(err: unknown): void {
    const e = err as { message?: string; authenticationFailed?: boolean; code?: string; responseText?: string };
    this.failures++;
    this.authFailures = e.authenticationFailed ? this.authFailures + 1 : 0;
    this.state.lastError = `${e.authenticationFailed ? "authentication failed: " : ""}${e.responseText ?? e.message ?? String(err)}`.slice(0, 500);
    this.state.lastErrorAt = new Date();
    this.state.consecutiveFailures = this.failures;
    this.log.warn({ err: { message: e.message, code: e.code, authenticationFailed: e.authenticationFailed }, failures: this.failures }, "IMAP session failed");
  }

  /** One connection's life: sync everything, then react to new mail until something ends it. */
  private async session(): Promise<void> {
    const halt = (this.halt = new AbortController());
    if (this.stopped || !this.state.polling) return;
    const client = await this.factory.connect();
    this.client = client;
    this.authFailures = 0;
    this.state.connected = true;
    this.state.capabilities = [...client.capabilities.keys()];
    this.log.info({ capabilities: this.state.capabilities.length }, "connected");

    let pending: "exists" | null = null;
    let ended: "closed" | "lease-lost" | "stop" | null = null;
    let notify: (() => void) | null = null;
    const signal = (reason: "exists" | "closed" | "lease-lost" | "stop") => {
      if (reason === "exists") pending = "exists";
      else {
        ended ??= reason;
        halt.abort();
      }
      notify?.();
    };
    this.wakeSession = signal;
    if (this.stopped) signal("stop");
    const primary = this.deps.settings.folders[0]!;
    client.on("exists", (ev: { path: string }) => {
      if (ev.path === primary) signal("exists");
    });
    client.on("close", () => signal("closed"));
    client.on("error", (err: Error) => this.log.warn({ err: { message: err.message } }, "IMAP connection error"));

    await this.syncFolders(client, this.deps.settings.folders);
    let nextPoll = Date.now() + this.deps.config.imap.pollSeconds * 1000;
    for (;;) {
      if (!pending && !ended) {
        await new Promise<void>((resolve) => {
          notify = resolve;
          const timer = setTimeout(resolve, Math.max(0, nextPoll - Date.now()));
          timer.unref();
        });
        notify = null;
      }
      const reason = ended as "closed" | "lease-lost" | "stop" | null;
      if (reason === "stop") return;
      if (reason !== null) throw new SessionEnded(reason === "closed" ? "connection closed" : "lease lost");
      if (pending) {
        pending = null;
        await this.syncFolders(client, [primary]);
      } else if (Date.now() >= nextPoll) {
        // Safety net: a missed EXISTS or a folder without IDLE is caught here.
        await this.syncFolders(client, this.deps.settings.folders);
        nextPoll = Date.now() + this.deps.config.imap.pollSeconds * 1000;
      }
    }
  }

  /** Syncs folders in order and leaves the first configured folder selected (that is where IDLE waits). */
  private async syncFolders(client: ImapFlow, folders: string[]): Promise<void> {
    for (const folder of folders) {
      if (this.halt.signal.aborted) return;
      await this.syncFolder(client, folder);
    }
    if (this.halt.signal.aborted) return;
    const primary = this.deps.settings.folders[0]!;
    if (folders.length > 1 || folders[0] !== primary) await client.mailboxOpen(primary, { readOnly: this.readOnly });
    this.state.lastSyncAt = new Date();
  }

  private get readOnly(): boolean {
    return !this.deps.settings.markSeen && !this.deps.settings.moveTo;
  }

  private async syncFolder(client: ImapFlow, folder: string): Promise<void> {
    const { store, mailbox, config } = this.deps;
    const opened = await client.mailboxOpen(folder, { readOnly: this.readOnly });
    const uidValidity = String(opened.uidValidity);
    let cp = await readCheckpoint(store, mailbox.id, folder);
    if (!cp) {
      cp = await initialCheckpoint(client, config.imap.initialSync, uidValidity, opened.uidNext);
      await resetCheckpoint(store, mailbox.id, folder, cp, this.holdsLease);
      this.log.info({ folder, lastUid: cp.lastUid, initialSync: config.imap.initialSync }, "first sync of folder");
    } else if (cp.uidValidity !== uidValidity) {
      // The folder was recreated: UIDs mean nothing now. Fetch everything again; intake recognises what
      // it has by Message-ID (or content), so nothing is stored twice and new mail comes in.
      this.log.warn({ folder, was: cp.uidValidity, now: uidValidity }, "UIDVALIDITY changed: resyncing the folder by Message-ID");
      cp = { uidValidity, lastUid: 0, firstUid: 1, highestModseq: null };
      await resetCheckpoint(store, mailbox.id, folder, cp, this.holdsLease);
    }
    if (opened.uidNext - 1 > cp.lastUid) await this.fetchNew(client, folder, cp);
    if (this.deps.settings.moveTo && !this.halt.signal.aborted && opened.exists > 0) await this.moveCommitted(client, folder, cp);
  }

  /**
   * Moves what this gateway committed in the folder: UIDs from the checkpoint's firstUid up to its
   * lastUid (mail below firstUid was there before the first sync and was never taken), except messages
   * in open quarantine entries: their reason names this folder and UID, and a retry fetches them from
   * there. Idempotent: a crash between commit and move is caught up by the next sync.
   */
  private async moveCommitted(client: ImapFlow, folder: string, cp: Checkpoint): Promise<void> {
    if (cp.firstUid === null || cp.lastUid < cp.firstUid) return;
    const { store, mailbox } = this.deps;
    const open = await openQuarantineSourceRefs(store, mailbox.id, "imap");
    const kept = open
      .map((ref) => parseImapSourceRef(ref))
      .filter((s) => s !== null && s.folder === folder && s.uidValidity === cp.uidValidity)
      .map((s) => s!.uid);
    const range = uidRangeExcept(cp.firstUid, cp.lastUid, kept);
    if (range) await client.messageMove(range, this.deps.settings.moveTo!, { uid: true });
  }

  /** In every transaction that writes for this poller: proves it still holds the mailbox lease (else nothing commits). */
  private readonly holdsLease = (em: EntityManager): Promise<void> => assertLeaseHeld(em, this.deps.mailbox.id, this.owner);

  /** Fetches and commits every message above the checkpoint, in UID order, in bounded batches. */
  private async fetchNew(client: ImapFlow, folder: string, cp: Checkpoint): Promise<void> {
    const { store, intake, mailbox, config } = this.deps;
    const found = (await client.search({ uid: `${cp.lastUid + 1}:*` }, { uid: true })) || [];
    const uids = found.filter((u) => u > cp.lastUid).sort((a, b) => a - b);
    this.state.backlog = uids.length;
    const target = { intake, mailbox, folder, uidValidity: cp.uidValidity, uids, maxMessageBytes: config.ingest.maxMessageBytes, batchSize: config.imap.batchSize, signal: this.halt.signal };
    const advance = async (em: EntityManager, lastUid: number) => {
      await advanceCheckpoint(em, mailbox.id, folder, cp.uidValidity, lastUid);
      // Last statement before COMMIT: on MySQL it locks the lease row for the shortest time.
      await this.holdsLease(em);
    };
    await fetchAndIngest(client, target, {
      inTransaction: advance,
      // Everything in a batch vanished before it could be fetched: move past it all the same.
      emptyBatch: (lastUid) => store.tx((em) => advance(em, lastUid)),
      committed: async (batch) => {
        cp.lastUid = batch[batch.length - 1]!;
        this.state.backlog -= batch.length;
        if (this.deps.settings.markSeen) await client.messageFlagsAdd(batch.join(","), ["\\Seen"], { uid: true });
      },
    });
  }

  private closeClient(): void {
    this.wakeSession = null;
    this.state.connected = false;
    this.state.idling = false;
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners("exists");
      client.on("error", () => undefined);
      try {
        client.close();
      } catch {
        // already closed
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleep = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleep = done;
    });
  }
}
