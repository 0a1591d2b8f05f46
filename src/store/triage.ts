import type { EntityManager } from "typeorm";
import type { TriageRow } from "./entities/review.js";

/** A triage to store: everything but what the database assigns. */
export type NewTriage = Omit<TriageRow, "id" | "createdAt">;

/** Whether the message has been triaged (a message is triaged at most once: the column is unique). */
export async function isTriaged(em: EntityManager, messageRowId: number): Promise<boolean> {
  return (await em.getRepository<TriageRow>("Triage").countBy({ messageRowId })) > 0;
}

export async function findTriage(em: EntityManager, messageRowId: number): Promise<TriageRow | null> {
  return em.getRepository<TriageRow>("Triage").findOneBy({ messageRowId });
}

export async function insertTriage(em: EntityManager, triage: NewTriage): Promise<void> {
  await em.getRepository<TriageRow>("Triage").insert(triage);
}
