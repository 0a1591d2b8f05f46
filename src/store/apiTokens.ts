import { createHash, randomBytes } from "node:crypto";
import type { ApiTokenRow, UserRow } from "./entities/review.js";
import { appendAudit } from "./audit.js";
import { dbDate, fromDbDate, runChanges, select } from "./sql.js";
import type { Store } from "./store.js";

/** API tokens: `dg_` + 32 random bytes (base64url), shown once; the database keeps its sha256. */

export type TokenScope = "read" | "write";
const hash = (token: string): string => createHash("sha256").update(token).digest("hex");

/** Creates a token for a user (by e-mail); returns it (the only time it is seen) and its id. */
export async function createApiToken(
  store: Store,
  input: { email: string; name: string; scope: TokenScope },
  actor: string,
): Promise<{ id: number; token: string } | null> {
  const token = `dg_${randomBytes(32).toString("base64url")}`;
  return store.tx(async (em) => {
    const [u] = await select<{ id: number }>(em, "SELECT `id` FROM `users` WHERE `email` = ?", [input.email.trim().toLowerCase()]);
    if (!u) return null;
    await runChanges(em, "INSERT INTO `api_tokens` (`userId`, `name`, `tokenHash`, `scope`, `createdAt`) VALUES (?, ?, ?, ?, ?)", [
      u.id,
      input.name.slice(0, 128),
      hash(token),
      input.scope,
      dbDate(new Date()),
    ]);
    const [row] = await select<{ id: number }>(em, "SELECT `id` FROM `api_tokens` WHERE `tokenHash` = ?", [hash(token)]);
    await appendAudit(em, { actor, action: "token.add", subjectType: "user", subjectId: input.email, detail: { tokenId: row!.id, name: input.name, scope: input.scope } });
    return { id: Number(row!.id), token };
  });
}

/** The user and scope of a live (not revoked) token, or null; records its use. */
export async function userOfToken(store: Store, token: string): Promise<{ user: Pick<UserRow, "id" | "email" | "role">; scope: TokenScope } | null> {
  if (!/^dg_[\w-]{20,100}$/u.test(token)) return null;
  const rows = await store.read((em) =>
    select<{ tid: number; id: number; email: string; role: UserRow["role"]; scope: TokenScope }>(
      em,
      "SELECT t.`id` AS tid, u.`id` AS id, u.`email` AS email, u.`role` AS role, t.`scope` AS scope FROM `api_tokens` t JOIN `users` u ON u.`id` = t.`userId` WHERE t.`tokenHash` = ? AND t.`revokedAt` IS NULL",
      [hash(token)],
    ),
  );
  const r = rows[0];
  if (!r) return null;
  await store.tx((em) => runChanges(em, "UPDATE `api_tokens` SET `lastUsedAt` = ? WHERE `id` = ?", [dbDate(new Date()), r.tid]));
  return { user: { id: Number(r.id), email: r.email, role: r.role }, scope: r.scope };
}

export async function revokeApiToken(store: Store, id: number, actor: string): Promise<boolean> {
  return store.tx(async (em) => {
    const n = await runChanges(em, "UPDATE `api_tokens` SET `revokedAt` = ? WHERE `id` = ? AND `revokedAt` IS NULL", [dbDate(new Date()), id]);
    if (n > 0) await appendAudit(em, { actor, action: "token.revoke", subjectType: "token", subjectId: String(id), detail: {} });
    return n > 0;
  });
}

export async function listApiTokens(store: Store): Promise<(Pick<ApiTokenRow, "id" | "name" | "scope" | "createdAt" | "lastUsedAt" | "revokedAt"> & { email: string })[]> {
  return store.read(async (em) => {
    const rows = await select<{ id: number; name: string; scope: string; createdAt: unknown; lastUsedAt: unknown; revokedAt: unknown; email: string }>(
      em,
      "SELECT t.`id` AS id, t.`name` AS name, t.`scope` AS scope, t.`createdAt` AS createdAt, t.`lastUsedAt` AS lastUsedAt, t.`revokedAt` AS revokedAt, u.`email` AS email FROM `api_tokens` t JOIN `users` u ON u.`id` = t.`userId` ORDER BY t.`id`",
      [],
    );
    const d = (v: unknown) => (v === null || v === undefined ? null : fromDbDate(v));
    return rows.map((r) => ({ id: Number(r.id), name: r.name, scope: r.scope, email: r.email, createdAt: fromDbDate(r.createdAt), lastUsedAt: d(r.lastUsedAt), revokedAt: d(r.revokedAt) }));
  });
}
