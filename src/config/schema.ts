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
    secure: z.boolean().default(true),
    user: z.string().optional(),
    password: z.string().optional(),
    tls: tls.optional(),
  })
  .strict();

const mailbox = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, "a mailbox name is letters, digits, '.', '_' or '-' (64 at most)"),
    address: z.string().email(),
    imap: imap.optional(),
    smtp: smtp.optional(),
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
      .object({ host: z.string().default("0.0.0.0"), port: port.default(3000) })
      .strict()
      .prefault({}),
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
        pollIntervalMs: z.number().int().min(10).default(1000),
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
