import { createHash, createVerify } from "node:crypto";
import type { ImapFlow } from "imapflow";
import { pino } from "pino";
import { configSchema, type Config } from "../../../src/config/schema.js";
import { Metrics } from "../../../src/obs/metrics.js";
import { Outbound } from "../../../src/outbound/service.js";
import { Worker } from "../../../src/queue/worker.js";
import { approveDraft } from "../../../src/review/approveDraft.js";
import type { ConversationRow, MessageRow } from "../../../src/store/entities/mail.js";
import type { DraftRow, OutboxRow } from "../../../src/store/entities/review.js";
import type { EventRow, JobRow } from "../../../src/store/entities/work.js";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import { Store } from "../../../src/store/store.js";
import { addUser } from "../../../src/store/users.js";
import { waitFor } from "../../support/cli.js";
import type { TestDatabase } from "../../support/db.js";
import type { Dovecot } from "../../support/dovecot.js";
import { startPoller } from "../../support/imap.js";
import type { SmtpPeer } from "../../support/smtp.js";

/** Shared setup of the outbound specs (not a spec file itself). */

export const log = pino({ level: "silent" });
export const REVIEWER = "reviewer@example.com";

/** A mailbox `<user>@example.com` reading `user`'s Dovecot INBOX and sending through the SMTP peer. */
export function outboundConfig(
  dovecot: Dovecot,
  peer: SmtpPeer,
  user: string,
  extra: {
    outbound?: Partial<Config["outbound"]>;
    reply?: Record<string, unknown>;
    sentFolder?: string;
    smtp?: Record<string, unknown>;
  } = {},
): Config {
  return configSchema.parse({
    mail: { messageIdDomain: "draftgate.test" },
    mailboxes: [
      {
        name: "support",
        address: `${user}@example.com`,
        imap: { host: dovecot.host, port: dovecot.port, secure: false, user, password: "secret", folders: ["INBOX"] },
        smtp: { host: peer.host, port: peer.port, secure: false, user: peer.user, password: peer.password, ...extra.smtp },
        sentFolder: extra.sentFolder ?? "auto",
        reply: { displayName: "Acme Support", signature: "Acme Support team\nhttps://help.example.com", cc: "reply-all", ...extra.reply },
      },
    ],
    imap: { initialSync: "all", pollSeconds: 3600, reconnectBaseSeconds: 0.05, reconnectMaxSeconds: 0.5, connectTimeoutSeconds: 5 },
    jobs: { pollIntervalMs: 20, backoffBaseSeconds: 0.05, backoffMaxSeconds: 0.2, leaseSeconds: 30 },
    outbound: { maxAttempts: 5, backoffBaseSeconds: 0.05, backoffMaxSeconds: 0.2, smtpTimeoutSeconds: 10, ...extra.outbound },
  });
}

/** An in-process outbound role on a fresh store: the Outbound service and a worker running its jobs. */
export class Harness {
  outbound!: Outbound;
  worker!: Worker;
  metrics!: Metrics;
  private constructor(
    readonly store: Store,
    readonly config: Config,
  ) {}

  static async open(db: TestDatabase, config: Config): Promise<Harness> {
    const store = await Store.open(db.url);
    await store.migrate();
    await ensureMailbox(store, "support", config.mailboxes[0]!.address);
    await addUser(store, { email: REVIEWER, role: "reviewer", passwordHash: "x" }, "test");
    const h = new Harness(store, config);
    h.metrics = new Metrics(store);
    h.outbound = new Outbound({ store, config, log, metrics: h.metrics });
    return h;
  }

  /** Starts the worker (after the start-up recovery, as `draftgate start` does). */
  async start(): Promise<void> {
    await this.outbound.recoverInterrupted();
    this.worker = new Worker(
      this.store,
      this.outbound.handlers(),
      { concurrency: 2, leaseMs: 30_000, pollIntervalMs: 20, backoffBaseMs: 50, backoffMaxMs: 200, graceMs: 2000 },
      log,
    );
    this.worker.start();
  }

  async close(): Promise<void> {
    await this.worker?.stop();
    await this.outbound.close();
    await this.store.close();
  }

  /** Lets the IMAP poller store what the INBOX holds (at least `count` messages in all), then stops it. */
  async poll(count: number): Promise<void> {
    const poller = await startPoller(this.store, this.config);
    try {
      await waitFor(
        async () => (await this.store.read((em) => em.getRepository<MessageRow>("Message").count())) >= count,
        30_000,
        `${count} stored messages`,
      );
    } finally {
      await poller.stop();
    }
  }

  message(messageId: string): Promise<MessageRow> {
    return this.store.read((em) => em.getRepository<MessageRow>("Message").findOneByOrFail({ messageId }));
  }

  conversation(id: number): Promise<ConversationRow> {
    return this.store.read((em) => em.getRepository<ConversationRow>("Conversation").findOneByOrFail({ id }));
  }

  /** A pending draft answering the message, approved by the reviewer: returns the outbox id. */
  async approve(messageId: string, body: string): Promise<number> {
    const m = await this.message(messageId);
    const draftId = await this.store.tx(async (em) => {
      const res = await em
        .getRepository<DraftRow>("Draft")
        .insert({ conversationId: m.conversationId, messageRowId: m.id, status: "pending", body, origin: "model", flags: [] });
      return Number(res.identifiers[0]!.id);
    });
    const r = await approveDraft({ store: this.store, config: this.config }, { draftId, actor: REVIEWER });
    return r.outboxId;
  }

  entry(id: number): Promise<OutboxRow> {
    return this.store.read((em) => em.getRepository<OutboxRow>("Outbox").findOneByOrFail({ id }));
  }

  jobs(): Promise<JobRow[]> {
    return this.store.read((em) => em.getRepository<JobRow>("Job").find({ order: { id: "ASC" } }));
  }

  /** Waits until the entry is in one of `states` and no outbound job is queued or running (embed-reply is the llm role's). */
  async settle(id: number, states: OutboxRow["state"][]): Promise<OutboxRow> {
    await waitFor(
      async () => {
        const mine = new Set(Object.keys(this.outbound.handlers()));
        return (
          states.includes((await this.entry(id)).state) &&
          (await this.jobs()).every((j) => !mine.has(j.type) || j.state === "done" || j.state === "dead")
        );
      },
      20_000,
      `outbox entry ${id} to be ${states.join("|")} with its jobs finished`,
    );
    return this.entry(id);
  }

  events(type: string): Promise<EventRow[]> {
    return this.store.read((em) => em.getRepository<EventRow>("Event").find({ where: { type }, order: { id: "ASC" } }));
  }
}

/** A customer message to `to`. */
export function customerMessage(o: {
  to: string;
  messageId: string;
  subject: string;
  body: string;
  from?: string;
  cc?: string;
  inReplyTo?: string;
  references?: string;
}): string {
  return [
    `From: ${o.from ?? "Ann O'Brien <ann@customers.example>"}`,
    `To: ${o.to}`,
    ...(o.cc ? [`Cc: ${o.cc}`] : []),
    `Subject: ${o.subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${o.messageId}>`,
    ...(o.inReplyTo ? [`In-Reply-To: <${o.inReplyTo}>`] : []),
    ...(o.references ? [`References: ${o.references}`] : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    o.body,
    "",
  ].join("\r\n");
}

/** Opens a user's folder on the test Dovecot (plain text) for a look; closes it again. */
export function withFolder<T>(dovecot: Dovecot, user: string, folder: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  return dovecot.withClient(user, async (c) => {
    await c.mailboxOpen(folder);
    return fn(c);
  });
}

/** The raw sources of a folder's messages (empty when the folder does not exist). */
export function folderSources(dovecot: Dovecot, user: string, folder: string): Promise<Buffer[]> {
  return dovecot.withClient(user, async (c) => {
    if (!(await c.list()).some((f) => f.path === folder)) return [];
    const box = await c.mailboxOpen(folder, { readOnly: true });
    if (box.exists === 0) return [];
    const out: Buffer[] = [];
    for await (const m of c.fetch("1:*", { source: true })) if (m.source) out.push(m.source);
    return out;
  });
}

/**
 * Checks a DKIM-Signature (rsa-sha256, relaxed/relaxed, the only kind we make) independently of the
 * signer: the body hash over the bytes as received, and the signature over the listed headers.
 */
export function verifyDkim(raw: Buffer, publicKeyPem: string): { domain: string; selector: string; bodyHash: boolean; signature: boolean } {
  const text = raw.toString("latin1");
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split + 2);
  const body = text.slice(split + 4);
  // Header fields, unfolded lines kept as they are (name, whole field text).
  const fields = head
    .split(/\r\n(?![ \t])/)
    .filter(Boolean)
    .map((f) => ({ name: f.slice(0, f.indexOf(":")).trim().toLowerCase(), text: f }));
  const relaxed = (f: string) => {
    const i = f.indexOf(":");
    return `${f.slice(0, i).trim().toLowerCase()}:${f
      .slice(i + 1)
      .replace(/\r\n/g, "")
      .replace(/[ \t]+/g, " ")
      .trim()}`;
  };
  const sig = fields.find((f) => f.name === "dkim-signature");
  if (!sig) throw new Error("no DKIM-Signature header");
  const tags = new Map(
    relaxed(sig.text)
      .slice("dkim-signature:".length)
      .split(";")
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1).replace(/\s+/g, "")]),
  );
  const canonBody =
    body
      .split("\r\n")
      .map((l) => l.replace(/[ \t]+/g, " ").replace(/ $/, ""))
      .join("\r\n")
      .replace(/(\r\n)*$/, "") + "\r\n";
  const bodyHash = createHash("sha256").update(Buffer.from(canonBody, "latin1")).digest("base64") === tags.get("bh");
  const used = new Map<string, number>();
  let data = "";
  for (const name of tags.get("h")!.toLowerCase().split(":")) {
    const all = fields.filter((f) => f.name === name && f !== sig);
    const k = used.get(name) ?? 0;
    used.set(name, k + 1);
    const f = all[all.length - 1 - k];
    if (f) data += `${relaxed(f.text)}\r\n`;
  }
  data += relaxed(sig.text)
    .replace(/b=[^;]*$/, "b=")
    .replace(/(;\s*b=)[^;]*/, "$1");
  const signature = createVerify("RSA-SHA256")
    .update(Buffer.from(data, "latin1"))
    .verify(publicKeyPem, Buffer.from(tags.get("b")!, "base64"));
  return { domain: tags.get("d")!, selector: tags.get("s")!, bodyHash, signature };
}
