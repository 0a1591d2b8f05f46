import { createHash, randomBytes } from "node:crypto";
import type { SessionRow } from "./entities/review.js";
import { dbDate, dbJson, fromDbDate, isUniqueViolation, runChanges, select } from "./sql.js";
import type { Store } from "./store.js";

/**
 * Web sessions (src/web/sessionStore.ts adapts these to express-session). Rows are keyed by the sha256
 * of the session id: a copy of the database lets nobody take over a live session.
 */

export const sessionKey = (sid: string): string => createHash("sha256").update(sid).digest("hex");

export interface SessionData {
  data: Record<string, unknown>;
  userId: number | null;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** The session's data while it has not expired; null otherwise. */
export async function readSession(store: Store, sid: string, now = new Date()): Promise<Record<string, unknown> | null> {
  return store.read(async (em) => {
    const rows = await select<{ data: unknown }>(em, "SELECT `data` FROM `sessions` WHERE `id` = ? AND `expiresAt` > ?", [
      sessionKey(sid),
      dbDate(now),
    ]);
    const raw = rows[0]?.data;
    if (raw === undefined) return null;
    return (typeof raw === "string" ? JSON.parse(raw) : raw) as Record<string, unknown>;
  });
}

/** Creates or replaces a session. */
export async function writeSession(store: Store, sid: string, s: SessionData): Promise<void> {
  const key = sessionKey(sid);
  const now = dbDate(new Date());
  await store.tx(async (em) => {
    const changed = await runChanges(
      em,
      "UPDATE `sessions` SET `data` = ?, `userId` = ?, `expiresAt` = ?, `ip` = ?, `userAgent` = ?, `lastSeenAt` = ? WHERE `id` = ?",
      [dbJson(s.data), s.userId, dbDate(s.expiresAt), s.ip, s.userAgent?.slice(0, 255) ?? null, now, key],
    );
    if (changed > 0) return;
    await runChanges(
      em,
      "INSERT INTO `sessions` (`id`, `userId`, `expiresAt`, `data`, `ip`, `userAgent`, `lastSeenAt`, `createdAt`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [key, s.userId, dbDate(s.expiresAt), dbJson(s.data), s.ip, s.userAgent?.slice(0, 255) ?? null, now, now],
    );
  });
}

/** Moves a session's expiry (a request used it). */
export async function touchSession(store: Store, sid: string, expiresAt: Date): Promise<void> {
  await store.tx((em) =>
    runChanges(em, "UPDATE `sessions` SET `expiresAt` = ?, `lastSeenAt` = ? WHERE `id` = ?", [
      dbDate(expiresAt),
      dbDate(new Date()),
      sessionKey(sid),
    ]),
  );
}

export async function deleteSession(store: Store, sid: string): Promise<void> {
  await store.tx((em) => runChanges(em, "DELETE FROM `sessions` WHERE `id` = ?", [sessionKey(sid)]));
}

/** Ends every session of a user (log out everywhere, password change); returns how many. */
export async function deleteUserSessions(store: Store, userId: number, exceptSid?: string): Promise<number> {
  return store.tx((em) =>
    exceptSid
      ? runChanges(em, "DELETE FROM `sessions` WHERE `userId` = ? AND `id` <> ?", [userId, sessionKey(exceptSid)])
      : runChanges(em, "DELETE FROM `sessions` WHERE `userId` = ?", [userId]),
  );
}

/** Removes expired sessions (a periodic sweep). */
export async function purgeExpiredSessions(store: Store, now = new Date()): Promise<number> {
  return store.tx((em) => runChanges(em, "DELETE FROM `sessions` WHERE `expiresAt` <= ?", [dbDate(now)]));
}

/** A user's live sessions, newest first (the account page lists them). */
export async function userSessions(
  store: Store,
  userId: number,
): Promise<Pick<SessionRow, "ip" | "userAgent" | "lastSeenAt" | "createdAt">[]> {
  return store.read(async (em) => {
    const rows = await select<{ ip: string | null; userAgent: string | null; lastSeenAt: unknown; createdAt: unknown }>(
      em,
      "SELECT `ip`, `userAgent`, `lastSeenAt`, `createdAt` FROM `sessions` WHERE `userId` = ? AND `expiresAt` > ? ORDER BY `lastSeenAt` DESC",
      [userId, dbDate(new Date())],
    );
    return rows.map((r) => ({
      ip: r.ip,
      userAgent: r.userAgent,
      lastSeenAt: fromDbDate(r.lastSeenAt),
      createdAt: fromDbDate(r.createdAt),
    }));
  });
}

/** A named secret shared by every process, made (random, 32 bytes) the first time one asks. */
export async function appSecret(store: Store, name: string): Promise<string> {
  const read = () => store.read((em) => select<{ value: string }>(em, "SELECT `value` FROM `app_secrets` WHERE `name` = ?", [name]));
  const found = (await read())[0];
  if (found) return found.value;
  try {
    await store.tx((em) =>
      runChanges(em, "INSERT INTO `app_secrets` (`name`, `value`, `createdAt`) VALUES (?, ?, ?)", [
        name,
        randomBytes(32).toString("base64url"),
        dbDate(new Date()),
      ]),
    );
  } catch (err) {
    // Another process made it first: use theirs.
    if (!isUniqueViolation(err)) throw err;
  }
  return (await read())[0]!.value;
}
