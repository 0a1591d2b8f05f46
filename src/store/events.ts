import type { EntityManager } from "typeorm";
import { dbDate, dbJson, fromDbDate, run, select } from "./sql.js";

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

/** An event as the live feed reads it, with the mailbox of its conversation (null: none). */
export interface FeedEvent {
  id: number;
  type: string;
  conversationId: number | null;
  mailboxId: number | null;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** Events after `afterId`, oldest first, at most `limit`. */
export async function eventsAfter(em: EntityManager, afterId: number, limit = 200): Promise<FeedEvent[]> {
  const rows = await select<{ id: number; type: string; conversationId: number | null; mailboxId: number | null; payload: unknown; createdAt: unknown }>(
    em,
    "SELECT e.`id` AS id, e.`type` AS type, e.`conversationId` AS conversationId, c.`mailboxId` AS mailboxId, e.`payload` AS payload, e.`createdAt` AS createdAt " +
      "FROM `events` e LEFT JOIN `conversations` c ON c.`id` = e.`conversationId` WHERE e.`id` > ? ORDER BY e.`id` LIMIT ?",
    [afterId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    type: r.type,
    conversationId: r.conversationId === null ? null : Number(r.conversationId),
    mailboxId: r.mailboxId === null ? null : Number(r.mailboxId),
    payload: (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    createdAt: fromDbDate(r.createdAt),
  }));
}

/** The newest event id (0 when there are none): where a new live feed starts. */
export async function lastEventId(em: EntityManager): Promise<number> {
  const rows = await select<{ id: number | null }>(em, "SELECT MAX(`id`) AS id FROM `events`", []);
  return Number(rows[0]?.id ?? 0);
}

/**
 * Who else is editing a conversation's draft right now: the latest presence of each user (events of
 * the last minute), where it is "editing" and its `until` has not passed. `except`: the asking user.
 */
export async function editorsOf(em: EntityManager, conversationId: number, except: string, now = new Date()): Promise<string[]> {
  const rows = await select<{ id: number; payload: unknown }>(
    em,
    "SELECT `id`, `payload` FROM `events` WHERE `conversationId` = ? AND `type` = 'presence' AND `createdAt` > ? ORDER BY `id`",
    [conversationId, dbDate(new Date(now.getTime() - 60_000))],
  );
  const latest = new Map<string, { state: string; until: string }>();
  for (const r of rows) {
    const p = (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload) as { user: string; state: string; until: string };
    latest.set(p.user, p);
  }
  return [...latest.entries()].filter(([u, p]) => u !== except && p.state === "editing" && new Date(p.until) > now).map(([u]) => u);
}
