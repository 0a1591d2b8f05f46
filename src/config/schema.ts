import { z } from "zod";

/**
 * The configuration schema. Every key is documented in config/default.yaml; names may grow, not change.
 * Unknown keys are rejected so that a typo is an error, not a silently ignored setting.
 */

const port = z.number().int().min(0).max(65535);
const duration = z.number().positive();

const tls = z
  .object({
    rejectUnauthorized: z.boolean().default(true),
    ca: z.string().optional(),
  })
  .strict();

const oauth2 = z
  .object({
    /** google and microsoft know their token endpoints; custom needs tokenUrl. */
    provider: z.enum(["google", "microsoft", "custom"]),
    clientId: z.string().min(1),
    clientSecret: z.string().optional(),
    refreshToken: z.string().min(1),
    tokenUrl: z.string().url().optional(),
    /** Microsoft 365 tenant (default "common"). */
    tenant: z.string().optional(),
    scope: z.string().optional(),
  })
  .strict()
  .refine((o) => o.provider !== "custom" || o.tokenUrl, { message: "a custom provider needs tokenUrl", path: ["tokenUrl"] });

const imap = z
  .object({
    host: z.string().min(1),
    port: port.default(993),
    /** true: TLS from the start (993); false: plain, upgraded with STARTTLS when the server offers it. */
    secure: z.boolean().default(true),
    /** Refuse to log in without TLS (STARTTLS required on a non-secure port). */
    requireTLS: z.boolean().default(false),
    user: z.string().min(1),
    password: z.string().optional(),
    /** A fixed XOAUTH2 access token (e.g. from a sidecar); or oauth2 to refresh one. */
    accessToken: z.string().optional(),
    oauth2: oauth2.optional(),
    folders: z.array(z.string().min(1)).min(1).default(["INBOX"]),
    /** After a message is committed: add \\Seen. Off by default: the mailbox is left as it is. */
    markSeen: z.boolean().default(false),
    /** After a message is committed: move it to this folder. */
    moveTo: z.string().min(1).optional(),
    tls: tls.optional(),
  })
  .strict()
  .refine((i) => i.password !== undefined || i.accessToken !== undefined || i.oauth2 !== undefined, {
    message: "imap needs password (or password_FILE), accessToken or oauth2",
    path: ["password"],
  });

const smtp = z
  .object({
    host: z.string().min(1),
    port: port.default(465),
    /** true: TLS from the start (465); false: plain, upgraded with STARTTLS when the server offers it (587). */
    secure: z.boolean().default(true),
    /** Refuse to send without TLS (STARTTLS required on a non-secure port). */
    requireTLS: z.boolean().default(false),
    /** No user: no AUTH (a relay that trusts our address); credentials without a user are not used. */
    user: z.string().optional(),
    password: z.string().optional(),
    /** A fixed XOAUTH2 access token; or oauth2 to refresh one (the same settings as imap.oauth2). */
    accessToken: z.string().optional(),
    oauth2: oauth2.optional(),
    tls: tls.optional(),
    /** Sign replies with DKIM (nodemailer's signer): the selector's public key must be in DNS at <keySelector>._domainkey.<domainName>. */
    dkim: z
      .object({
        domainName: z.string().min(1),
        keySelector: z.string().min(1),
        /** PEM; usually privateKey_FILE. */
        privateKey: z.string().min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

/** How replies from a mailbox look and whom they copy (recipients and headers are always set by code). */
const reply = z
  .object({
    /** Shown before the address in From ("Acme Support" <support@…>); empty for the bare address. */
    displayName: z.string().max(200).default(""),
    /** none: only the customer (Reply-To honoured); reply-all: also the other people on the message answered, minus our own and automated addresses. */
    cc: z.enum(["none", "reply-all"]).default("none"),
    /** Appended under the body after the "-- " separator; empty for none. */
    signature: z.string().default(""),
    /** Quote the customer's message under the reply ("On …, … wrote:"). */
    quoteHistory: z.boolean().default(false),
    /** Put the conversation's ticket tag [#id] at the end of the subject. */
    subjectTag: z.boolean().default(false),
  })
  .strict();

const mailbox = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, "a mailbox name is letters, digits, '.', '_' or '-' (64 at most)"),
    address: z.string().email(),
    /** Other addresses that deliver to this mailbox: never copied on a reply (no mail to ourselves). */
    aliases: z.array(z.string().email()).default([]),
    imap: imap.optional(),
    smtp: smtp.optional(),
    /**
     * Where sent replies are filed over IMAP (needs imap): "auto" = the folder marked \Sent (special-use),
     * a folder name, or "none" when the provider files sent mail itself (Gmail, Microsoft 365). The
     * check of an `uncertain` reply searches this folder (auto and none: the \Sent one) by Message-ID.
     */
    sentFolder: z.string().min(1).default("auto"),
    reply: reply.prefault({}),
  })
  .strict();

const webhook = z
  .object({
    name: z.string().min(1),
    kind: z.string().min(1),
    secret: z.string().optional(),
    mailbox: z.string().optional(),
  })
  .strict();

export const configSchema = z
  .object({
    http: z
      .object({
        host: z.string().default("0.0.0.0"),
        port: port.default(3000),
        /**
         * Express's "trust proxy": false (default, the page is reached directly), true, a hop count or a
         * list of proxy addresses. Behind a TLS-terminating proxy this makes cookies Secure and logs the
         * client's address.
         */
        trustProxy: z.union([z.boolean(), z.number().int().min(0), z.string()]).default(false),
        /** How long a reviewer stays logged in without using the page. */
        sessionHours: z.number().positive().max(24 * 90).default(12),
        /** Failed log-ins in a row before an account is locked, and for how long. */
        loginMaxFailures: z.number().int().min(1).default(5),
        loginLockMinutes: z.number().positive().default(15),
      })
      .strict()
      .prefault({}),
    /**
     * Single sign-on with OpenID Connect (absent: local passwords only). Users are matched by the
     * verified e-mail claim, created as they first log in; the role comes from `roleClaim`.
     */
    oidc: z
      .object({
        issuer: z.string().url(),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        /** Where the provider sends the browser back: <public URL of the page>/auth/oidc/callback. */
        redirectUri: z.string().url(),
        /** A claim holding a string or a list of strings (groups, roles). */
        roleClaim: z.string().default("groups"),
        /** Values of roleClaim that make an admin; everyone else is a reviewer. */
        adminValues: z.array(z.string()).default([]),
        /** Allows an http:// issuer (a provider on the same machine); never for a real one. */
        allowHttp: z.boolean().default(false),
        /** Button text on the log-in page. */
        label: z.string().default("Log in with single sign-on"),
      })
      .strict()
      .optional(),
    database: z
      .object({
        url: z.string().min(1).default("sqlite:./data/draftgate.sqlite"),
        logging: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        pretty: z.enum(["auto", "always", "never"]).default("auto"),
      })
      .strict()
      .prefault({}),
    mail: z
      .object({ messageIdDomain: z.string().min(1).default("draftgate.invalid") })
      .strict()
      .prefault({}),
    mailboxes: z.array(mailbox).default([]),
    ingest: z
      .object({
        maxMessageBytes: z.number().int().positive().default(25 * 1024 * 1024),
        batchSize: z.number().int().min(1).max(1000).default(50),
        parseWorkers: z.union([z.literal("auto"), z.number().int().min(0).max(64)]).default("auto"),
      })
      .strict()
      .prefault({}),
    imap: z
      .object({
        /** IDLE is restarted at least this often: a silently dead IDLE must not stall a mailbox. */
        maxIdleSeconds: duration.default(600),
        /** Folders without IDLE (and a safety net for all) are checked this often. */
        pollSeconds: duration.default(60),
        /** Messages fetched and committed per transaction. */
        batchSize: z.number().int().min(1).max(1000).default(50),
        /** First start of a folder: "new-only", "all", or { since: <days> }. */
        initialSync: z.union([z.enum(["new-only", "all"]), z.object({ since: z.number().positive() }).strict()]).default("new-only"),
        leaseSeconds: duration.default(30),
        reconnectBaseSeconds: duration.default(1),
        reconnectMaxSeconds: duration.default(300),
        /** After repeated authentication failures the retry slows to this cap: no login storms. */
        authFailureMaxSeconds: duration.default(1800),
        connectTimeoutSeconds: duration.default(30),
      })
      .strict()
      .prefault({}),
    threading: z
      .object({
        subjectWindowDays: duration.default(14),
        maxReferences: z.number().int().min(2).max(200).default(20),
      })
      .strict()
      .prefault({}),
    jobs: z
      .object({
        maxAttempts: z.number().int().min(1).default(5),
        leaseSeconds: duration.default(120),
        backoffBaseSeconds: duration.default(5),
        backoffMaxSeconds: duration.default(3600),
        pollIntervalMs: z.number().int().min(10).default(250),
        concurrency: z.number().int().min(1).max(64).default(2),
        shutdownGraceSeconds: duration.default(20),
      })
      .strict()
      .prefault({}),
    llm: z
      .object({
        model: z.string().default("hf:Qwen/Qwen3-4B-GGUF:Q4_K_M"),
        gpu: z.union([z.enum(["auto", "cuda", "vulkan"]), z.literal(false)]).default("auto"),
        gpuLayers: z.union([z.literal("auto"), z.number().int().min(0)]).default("auto"),
        parallel: z.number().int().min(1).max(64).default(4),
        threads: z.number().int().min(0).default(0),
        contextSize: z.number().int().min(256).default(8192),
        /** Where `model pull` puts models (relative to the working directory). */
        modelsDir: z.string().min(1).default("./models"),
        maxDraftTokens: z.number().int().min(16).default(768),
        maxTriageTokens: z.number().int().min(64).default(1400),
        /** Past approved replies given to the model as examples. */
        retrievalK: z.number().int().min(0).max(10).default(3),
        /** Wall-clock limit of one triage or draft call; a call past it is aborted and its job retried. */
        timeoutSeconds: duration.default(300),
      })
      .strict()
      .prefault({}),
    triage: z
      .object({
        categories: z.array(z.string().min(1).max(40)).min(1).default(["billing", "technical", "account", "shipping", "sales", "feedback", "other"]),
        vipSenders: z.array(z.string().min(3)).default([]),
        keywords: z.array(z.object({ pattern: z.string().min(1), priority: z.enum(["urgent", "high", "normal", "low"]).optional(), category: z.string().optional() }).strict()).default([]),
        mailboxDefaults: z.record(z.string(), z.object({ priority: z.enum(["urgent", "high", "normal", "low"]).optional(), category: z.string().optional() }).strict()).default({}),
      })
      .strict()
      .prefault({}),
    sla: z
      .object({
        urgent: z.string().default("1h"),
        high: z.string().default("4h"),
        normal: z.string().default("1d"),
        low: z.string().default("3d"),
      })
      .strict()
      .prefault({}),
    webhooks: z.array(webhook).default([]),
    outbound: z
      .object({
        /** Send attempts per reply; a transient failure on the last one fails the entry (visible, never sent). */
        maxAttempts: z.number().int().min(1).default(8),
        /** Replies to one recipient per hour at most (0 = no cap): stops ping-pong with another robot. */
        maxPerRecipientPerHour: z.number().int().min(0).default(5),
        /** Retry delay: base * 2^(attempt-1) seconds with full jitter, capped at backoffMaxSeconds. */
        backoffBaseSeconds: duration.default(30),
        backoffMaxSeconds: duration.default(3600),
        /** SMTP connections per mailbox, reused across replies (nodemailer SMTP connections, pooled). */
        maxConnections: z.number().int().min(1).max(32).default(2),
        /**
         * Send and after-send jobs one process runs at once (default: 4 × maxConnections, so that the
         * next replies are being prepared while the connections carry others).
         */
        sendConcurrency: z.number().int().min(1).max(256).optional(),
        /** Connect, greeting and per-command socket timeout of an SMTP session. */
        smtpTimeoutSeconds: duration.default(60),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.mailboxes.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: "custom", path: ["mailboxes", i, "name"], message: `duplicate mailbox name "${m.name}"` });
      seen.add(m.name);
    });
  });

export type Config = z.infer<typeof configSchema>;
export type MailboxConfig = Config["mailboxes"][number];
