import type { UserRow } from "./entities/review.js";
import { appendAudit } from "./audit.js";
import { dbDate, placeholders, runChanges, select } from "./sql.js";
import type { Store } from "./store.js";

/**
 * Teams: which reviewers work on which mailboxes. An admin sees every mailbox; a reviewer only the
 * mailboxes of their teams (none without a team). Every route asks `visibleMailboxIds` on the server.
 */

/** Mailbox ids a user may see and act on; null means all (an admin). */
export async function visibleMailboxIds(store: Store, user: Pick<UserRow, "id" | "role">): Promise<number[] | null> {
  if (user.role === "admin") return null;
  return store.read(async (em) => {
    const rows = await select<{ mailboxId: number }>(
      em,
      "SELECT DISTINCT tm.`mailboxId` AS `mailboxId` FROM `team_mailboxes` tm JOIN `team_members` m ON m.`teamId` = tm.`teamId` WHERE m.`userId` = ?",
      [user.id],
    );
    return rows.map((r) => Number(r.mailboxId));
  });
}

/** Creates a team (idempotent by name); returns its id. */
export async function ensureTeam(store: Store, name: string, actor: string): Promise<number> {
  return store.tx(async (em) => {
    const found = await select<{ id: number }>(em, "SELECT `id` FROM `teams` WHERE `name` = ?", [name]);
    if (found[0]) return Number(found[0].id);
    await runChanges(em, "INSERT INTO `teams` (`name`, `createdAt`) VALUES (?, ?)", [name, dbDate(new Date())]);
    const [row] = await select<{ id: number }>(em, "SELECT `id` FROM `teams` WHERE `name` = ?", [name]);
    await appendAudit(em, { actor, action: "team.add", subjectType: "team", subjectId: name, detail: {} });
    return Number(row!.id);
  });
}

/** Adds a user (by e-mail) and/or a mailbox (by name) to a team; says what was not found. */
export async function addToTeam(
  store: Store,
  team: string,
  what: { email?: string; mailbox?: string },
  actor: string,
): Promise<{ ok: true } | { ok: false; missing: string }> {
  const teamId = await ensureTeam(store, team, actor);
  return store.tx(async (em) => {
    if (what.email) {
      const [u] = await select<{ id: number }>(em, "SELECT `id` FROM `users` WHERE `email` = ?", [what.email.trim().toLowerCase()]);
      if (!u) return { ok: false as const, missing: `user ${what.email}` };
      const has = await select(em, "SELECT 1 AS x FROM `team_members` WHERE `teamId` = ? AND `userId` = ?", [teamId, u.id]);
      if (has.length === 0) await runChanges(em, "INSERT INTO `team_members` (`teamId`, `userId`) VALUES (?, ?)", [teamId, u.id]);
      await appendAudit(em, { actor, action: "team.member", subjectType: "team", subjectId: team, detail: { user: what.email } });
    }
    if (what.mailbox) {
      const [m] = await select<{ id: number }>(em, "SELECT `id` FROM `mailboxes` WHERE `name` = ?", [what.mailbox]);
      if (!m) return { ok: false as const, missing: `mailbox ${what.mailbox}` };
      const has = await select(em, "SELECT 1 AS x FROM `team_mailboxes` WHERE `teamId` = ? AND `mailboxId` = ?", [teamId, m.id]);
      if (has.length === 0) await runChanges(em, "INSERT INTO `team_mailboxes` (`teamId`, `mailboxId`) VALUES (?, ?)", [teamId, m.id]);
      await appendAudit(em, { actor, action: "team.mailbox", subjectType: "team", subjectId: team, detail: { mailbox: what.mailbox } });
    }
    return { ok: true as const };
  });
}

/** Teams with their members' e-mails and mailbox names. */
export async function listTeams(store: Store): Promise<{ name: string; members: string[]; mailboxes: string[] }[]> {
  return store.read(async (em) => {
    const teams = await select<{ id: number; name: string }>(em, "SELECT `id`, `name` FROM `teams` ORDER BY `name`", []);
    if (teams.length === 0) return [];
    const ids = teams.map((t) => Number(t.id));
    const members = await select<{ teamId: number; email: string }>(
      em,
      `SELECT m.\`teamId\` AS \`teamId\`, u.\`email\` AS \`email\` FROM \`team_members\` m JOIN \`users\` u ON u.\`id\` = m.\`userId\` WHERE m.\`teamId\` IN ${placeholders(ids.length)} ORDER BY u.\`email\``,
      ids,
    );
    const boxes = await select<{ teamId: number; name: string }>(
      em,
      `SELECT t.\`teamId\` AS \`teamId\`, mb.\`name\` AS \`name\` FROM \`team_mailboxes\` t JOIN \`mailboxes\` mb ON mb.\`id\` = t.\`mailboxId\` WHERE t.\`teamId\` IN ${placeholders(ids.length)} ORDER BY mb.\`name\``,
      ids,
    );
    return teams.map((t) => ({
      name: t.name,
      members: members.filter((m) => Number(m.teamId) === Number(t.id)).map((m) => m.email),
      mailboxes: boxes.filter((b) => Number(b.teamId) === Number(t.id)).map((b) => b.name),
    }));
  });
}
