import { randomBytes, scrypt } from "node:crypto";
import { promisify } from "node:util";
import { addUser } from "../../store/users.js";
import { loadContext, openStore } from "../context.js";

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number) => Promise<Buffer>;

/** scrypt$<salt>$<hash>, both base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32);
  return `scrypt$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** draftgate user add EMAIL --role admin|reviewer: creates a reviewer login and prints its one-time password. */
export async function userAddCommand(email: string, opts: { role: string }): Promise<void> {
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new Error(`"${email}" is not an e-mail address`);
  if (opts.role !== "admin" && opts.role !== "reviewer") throw new Error(`--role must be admin or reviewer (got "${opts.role}")`);
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: true });
  try {
    const password = randomBytes(12).toString("base64url");
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
