import type { Request } from "express";
import type { Config } from "../config/schema.js";
import type { MailboxHealth } from "../obs/mailboxHealth.js";
import type { Logger } from "../obs/logger.js";
import type { Metrics } from "../obs/metrics.js";
import type { UserRow } from "../store/entities/review.js";
import type { Store } from "../store/store.js";

export interface WebDeps {
  store: Store;
  config: Config;
  metrics: Metrics;
  log: Logger;
  /** IMAP pollers of this process, shown in the readiness detail. */
  imapHealth?: () => MailboxHealth[];
  /** The clock (tests). */
  now?: () => Date;
}

/** The logged-in user of a request (set by requireUser). */
export type WebUser = Pick<UserRow, "id" | "email" | "role">;

export function userOf(req: Request): WebUser {
  const u = (req as Request & { user?: WebUser }).user;
  if (!u) throw new Error("route reached without requireUser");
  return u;
}

/** The client's address as the audit log records it (honours http.trustProxy). */
export const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? "";

/** A form or JSON field of a request's body as text ("" when absent or not text). */
export function field(req: Request, name: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === "string" ? v : "";
}

/** Like field, but undefined when the field is absent. */
export function optionalField(req: Request, name: string): string | undefined {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === "string" ? v : undefined;
}
