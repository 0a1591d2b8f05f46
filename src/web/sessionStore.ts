import session from "express-session";
import { deleteSession, readSession, touchSession, writeSession } from "../store/sessions.js";
import type { Store } from "../store/store.js";

/** What the page keeps in a session. */
declare module "express-session" {
  interface SessionData {
    userId: number;
    ip: string;
    userAgent: string;
    /** A one-time message for the next page (after a redirect). */
    flash: { kind: "ok" | "error"; text: string };
  }
}

/** express-session's store over the `sessions` table (src/store/sessions.ts), so every process sees every session. */
export class DbSessionStore extends session.Store {
  constructor(private readonly store: Store) {
    super();
  }

  override get(sid: string, cb: (err: unknown, session?: session.SessionData | null) => void): void {
    readSession(this.store, sid).then(
      (data) => cb(null, data as unknown as session.SessionData | null),
      (err: unknown) => cb(err),
    );
  }

  override set(sid: string, s: session.SessionData, cb?: (err?: unknown) => void): void {
    const expiresAt = s.cookie.expires ? new Date(s.cookie.expires) : new Date(Date.now() + 12 * 3600_000);
    writeSession(this.store, sid, {
      data: s as unknown as Record<string, unknown>,
      userId: s.userId ?? null,
      expiresAt,
      ip: s.ip ?? null,
      userAgent: s.userAgent ?? null,
    }).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    deleteSession(this.store, sid).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }

  override touch(sid: string, s: session.SessionData, cb?: () => void): void {
    const expiresAt = s.cookie.expires ? new Date(s.cookie.expires) : new Date(Date.now() + 12 * 3600_000);
    touchSession(this.store, sid, expiresAt).then(
      () => cb?.(),
      () => cb?.(),
    );
  }
}
