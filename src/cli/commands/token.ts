import { createApiToken, listApiTokens, revokeApiToken } from "../../store/apiTokens.js";
import { loadContext, openStore } from "../context.js";

/** draftgate token add --user EMAIL --name NAME [--scope read|write]: prints the token once. */
export async function tokenAddCommand(opts: { user: string; name: string; scope: string }): Promise<void> {
  if (opts.scope !== "read" && opts.scope !== "write") throw new Error(`--scope must be read or write (got "${opts.scope}")`);
  const store = await openStore(loadContext(), { migrate: true });
  try {
    const made = await createApiToken(store, { email: opts.user, name: opts.name, scope: opts.scope }, "cli");
    if (!made) throw new Error(`no user ${opts.user} (draftgate user add EMAIL first)`);
    process.stdout.write(
      `token ${made.id} for ${opts.user} (${opts.scope}), shown once:\n${made.token}\nuse it as: Authorization: Bearer <token>\n`,
    );
  } finally {
    await store.close();
  }
}

export async function tokenListCommand(opts: { json?: boolean }): Promise<void> {
  const store = await openStore(loadContext(), { migrate: false });
  try {
    const tokens = await listApiTokens(store);
    if (opts.json) process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
    else
      for (const t of tokens)
        process.stdout.write(
          `${t.id}\t${t.email}\t${t.name}\t${t.scope}\t${t.revokedAt ? "revoked" : t.lastUsedAt ? `used ${t.lastUsedAt.toISOString()}` : "never used"}\n`,
        );
  } finally {
    await store.close();
  }
}

export async function tokenRevokeCommand(id: string): Promise<void> {
  const store = await openStore(loadContext(), { migrate: false });
  try {
    if (!(await revokeApiToken(store, Number(id), "cli"))) throw new Error(`no live token ${id}`);
    process.stdout.write(`token ${id} revoked\n`);
  } finally {
    await store.close();
  }
}
