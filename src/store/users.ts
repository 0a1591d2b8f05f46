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
