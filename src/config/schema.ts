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

const imap = z
  .object({
    host: z.string().min(1),
    port: port.default(993),
    secure: z.boolean().default(true),
    user: z.string().min(1),
    password: z.string().optional(),
    folders: z.array(z.string().min(1)).min(1).default(["INBOX"]),
    tls: tls.optional(),
  })
  .strict();

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
        model: z.string().default(""),
        gpu: z.union([z.enum(["auto", "cuda", "vulkan"]), z.literal(false)]).default("auto"),
        gpuLayers: z.union([z.literal("auto"), z.number().int().min(0)]).default("auto"),
        parallel: z.number().int().min(1).max(64).default(4),
        threads: z.number().int().min(0).default(0),
        contextSize: z.number().int().min(256).default(8192),
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
