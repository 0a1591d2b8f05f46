import { pino, type Logger } from "pino";

export type { Logger };

/** Keys whose values never reach a log, wherever they sit (imapflow/nodemailer style). */
export const REDACT_PATHS = [
  "password",
  "pass",
  "secret",
  "token",
  "accessToken",
  "refreshToken",
  "authorization",
  "cookie",
  "apiKey",
  "*.password",
  "*.pass",
  "*.secret",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.authorization",
  "*.cookie",
  "*.apiKey",
  "*.*.password",
  "*.*.secret",
  "*.*.token",
  "headers.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "databaseUrl",
  "*.databaseUrl",
];

export interface LogOptions {
  level: string;
  pretty: "auto" | "always" | "never";
  /** Where log lines go: stderr keeps stdout free for command output (threads --json, import --json). */
  destination?: 1 | 2;
}

/** The one root logger; components take children bound to {component, mailbox}. */
export function createLogger(options: LogOptions): Logger {
  const fd = options.destination ?? 2;
  const tty = fd === 2 ? process.stderr.isTTY : process.stdout.isTTY;
  const pretty = options.pretty === "always" || (options.pretty === "auto" && tty);
  const base = { level: options.level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { pid: process.pid } };
  if (pretty) {
    return pino({
      ...base,
      transport: { target: "pino-pretty", options: { destination: fd, colorize: true, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l" } },
    });
  }
  return pino(base, pino.destination({ fd, sync: true }));
}
