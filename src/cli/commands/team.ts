import { addToTeam, ensureTeam, listTeams } from "../../store/teams.js";
import { loadContext, openStore } from "../context.js";

/** draftgate team add NAME [--member EMAIL]… [--mailbox NAME]…: a team, its reviewers and the mailboxes they see. */
export async function teamAddCommand(name: string, opts: { member?: string[]; mailbox?: string[] }): Promise<void> {
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: true });
  try {
    await ensureTeam(store, name, "cli");
    for (const email of opts.member ?? []) {
      const r = await addToTeam(store, name, { email }, "cli");
      if (!r.ok) throw new Error(`no ${r.missing} (draftgate user add EMAIL first)`);
    }
    for (const mailbox of opts.mailbox ?? []) {
      const r = await addToTeam(store, name, { mailbox }, "cli");
      if (!r.ok) throw new Error(`no ${r.missing}: mailboxes exist once the gateway or an import has seen them`);
    }
    const team = (await listTeams(store)).find((t) => t.name === name);
    process.stdout.write(
      `team ${name}: members ${team?.members.join(", ") || "none"}; mailboxes ${team?.mailboxes.join(", ") || "none"}\n`,
    );
  } finally {
    await store.close();
  }
}

export async function teamListCommand(opts: { json?: boolean }): Promise<void> {
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: false });
  try {
    const teams = await listTeams(store);
    if (opts.json) process.stdout.write(`${JSON.stringify(teams, null, 2)}\n`);
    else if (teams.length === 0) process.stdout.write("no teams: reviewers see nothing until they are in one (admins see every mailbox)\n");
    else
      for (const t of teams)
        process.stdout.write(`${t.name}\tmembers: ${t.members.join(", ") || "-"}\tmailboxes: ${t.mailboxes.join(", ") || "-"}\n`);
  } finally {
    await store.close();
  }
}
