import type { EntityManager } from "typeorm";
import type { AuditRow, UserRow } from "./entities/review.js";
import type { Store } from "./store.js";

/** Reviewer logins. */

/**
 * Creates a login for an e-mail address (stored lowercased) and audits who did it, in one transaction;
 * false when a user with that address exists already.
 */
export async function addUser(
  store: Store,
  user: { email: string; role: UserRow["role"]; passwordHash: string },
  actor: string,
): Promise<boolean> {
  const email = user.email.toLowerCase();
  return store.tx(async (em) => {
    const repo = em.getRepository<UserRow>("User");
    if (await repo.findOneBy({ email })) return false;
    await repo.insert({ email, role: user.role, passwordHash: user.passwordHash });
    await em
      .getRepository<AuditRow>("Audit")
      .insert({ actor, action: "user.add", subjectType: "user", subjectId: email, detail: { role: user.role } });
    return true;
  });
}

/** The login for an e-mail address (compared lowercased), or null. */
export async function findUserByEmail(em: EntityManager, email: string): Promise<UserRow | null> {
  return em.getRepository<UserRow>("User").findOneBy({ email: email.trim().toLowerCase() });
}

/** The login with this id, or null. */
export async function findUserById(em: EntityManager, id: number): Promise<UserRow | null> {
  return em.getRepository<UserRow>("User").findOneBy({ id });
}

/**
 * Counts a failed log-in; after `lockAfter` in a row the account is locked for `lockMs` (the counter
 * starts again then). Returns when it is locked until, or null.
 */
export async function recordLoginFailure(
  store: Store,
  userId: number,
  lockAfter: number,
  lockMs: number,
  now = new Date(),
): Promise<Date | null> {
  return store.tx(async (em) => {
    const repo = em.getRepository<UserRow>("User");
    const u = await repo.findOneBy({ id: userId });
    if (!u) return null;
    const failed = u.failedLogins + 1;
    const lockedUntil = failed >= lockAfter ? new Date(now.getTime() + lockMs) : u.lockedUntil;
    await repo.update({ id: userId }, { failedLogins: failed >= lockAfter ? 0 : failed, lockedUntil });
    return lockedUntil && lockedUntil > now ? lockedUntil : null;
  });
}

export async function recordLoginSuccess(store: Store, userId: number): Promise<void> {
  await store.tx((em) => em.getRepository<UserRow>("User").update({ id: userId }, { failedLogins: 0, lockedUntil: null }));
}

export async function setPasswordHash(store: Store, userId: number, passwordHash: string, actor: string): Promise<void> {
  await store.tx(async (em) => {
    const u = await em.getRepository<UserRow>("User").findOneByOrFail({ id: userId });
    await em.getRepository<UserRow>("User").update({ id: userId }, { passwordHash, failedLogins: 0, lockedUntil: null });
    await em
      .getRepository<AuditRow>("Audit")
      .insert({ actor, action: "user.password", subjectType: "user", subjectId: u.email, detail: {} });
  });
}

/** Finds the user for an e-mail, creating a reviewer without a password (single sign-on) when there is none. */
export async function ensureSsoUser(store: Store, email: string, role: UserRow["role"], actor: string): Promise<UserRow> {
  const lower = email.trim().toLowerCase();
  return store.tx(async (em) => {
    const repo = em.getRepository<UserRow>("User");
    const found = await repo.findOneBy({ email: lower });
    if (found) {
      if (found.role !== role) {
        await repo.update({ id: found.id }, { role });
        await em
          .getRepository<AuditRow>("Audit")
          .insert({ actor, action: "user.role", subjectType: "user", subjectId: lower, detail: { role } });
      }
      return { ...found, role };
    }
    await repo.insert({ email: lower, role, passwordHash: null });
    await em
      .getRepository<AuditRow>("Audit")
      .insert({ actor, action: "user.add", subjectType: "user", subjectId: lower, detail: { role, via: "sso" } });
    return repo.findOneByOrFail({ email: lower });
  });
}
