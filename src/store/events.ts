import type { EntityManager } from "typeorm";
import { dbDate, dbJson, run } from "./sql.js";

export interface NewEvent {
  type: string;
  conversationId: number | null;
  payload: Record<string, unknown>;
}

/** Appends to the change feed inside the caller's transaction, so readers never see uncommitted work. */
export async function appendEvent(
  em: EntityManager,
  type: string,
  conversationId: number | null,
  payload: Record<string, unknown> = {},
): Promise<void> {
  await appendEvents(em, [{ type, conversationId, payload }]);
}

export async function appendEvents(em: EntityManager, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const now = dbDate(new Date());
  await run(em, 
    `INSERT INTO \`events\` (\`type\`, \`conversationId\`, \`payload\`, \`createdAt\`) VALUES ${events.map(() => "(?, ?, ?, ?)").join(", ")}`,
    events.flatMap((e) => [e.type, e.conversationId, dbJson(e.payload), now]),
  );
}
