import type { EntityManager } from "typeorm";
import type { AuditRow } from "./entities/review.js";
import { dbDate, dbJson, run } from "./sql.js";

/** One audit entry: who (an e-mail address, or "cli" for an operator at the shell) did what to which subject. */
export type NewAudit = Pick<AuditRow, "actor" | "action" | "subjectType" | "subjectId" | "detail">;

/** Appends an audit entry inside the caller's transaction, so it exists exactly when the change it records does. */
export async function appendAudit(em: EntityManager, entry: NewAudit): Promise<void> {
  await run(
    em,
    "INSERT INTO `audit_log` (`actor`, `action`, `subjectType`, `subjectId`, `detail`, `createdAt`) VALUES (?, ?, ?, ?, ?, ?)",
    [entry.actor, entry.action, entry.subjectType, entry.subjectId, dbJson(entry.detail), dbDate(new Date())],
  );
}

/** Audit entries about one subject, oldest first. */
export async function auditOf(em: EntityManager, subjectType: string, subjectId: string): Promise<AuditRow[]> {
  return em.getRepository<AuditRow>("Audit").find({ where: { subjectType, subjectId }, order: { id: "ASC" } });
}
