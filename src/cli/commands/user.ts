import { hashPassword, newPassword } from "../../review/passwords.js";
import { addUser } from "../../store/users.js";
import { loadContext, openStore } from "../context.js";

/** draftgate user add EMAIL --role admin|reviewer: creates a reviewer login and prints its one-time password. */
export async function userAddCommand(email: string, opts: { role: string }): Promise<void> {
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new Error(`"${email}" is not an e-mail address`);
  if (opts.role !== "admin" && opts.role !== "reviewer") throw new Error(`--role must be admin or reviewer (got "${opts.role}")`);
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: true });
  try {
    const password = newPassword();
    const passwordHash = await hashPassword(password);
    const created = await addUser(store, { email, role: opts.role, passwordHash }, "cli");
    if (!created) {
      process.stderr.write(`draftgate: user ${email} already exists\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`created ${opts.role} ${email.toLowerCase()}\npassword (shown once): ${password}\n`);
  } finally {
    await store.close();
  }
}
