import type { EntityManager } from "typeorm";
import type { EventRow } from "./entities/work.js";

/** Appends to the change feed inside the caller's transaction, so readers never see uncommitted work. */
export async function appendEvent(
  em: EntityManager,
  type: string,
  conversationId: number | null,
  payload: Record<string, unknown> = {},
): Promise<void> {
  await em.getRepository<EventRow>("Event").insert({ type, conversationId, payload: payload as never });
}
