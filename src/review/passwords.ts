import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** Password hashes: scrypt (N=2^15, r=8, p=1), `scrypt$<salt>$<hash>` both base64url. */
const N = 1 << 15;
const KEYLEN = 32;

function derive(password: string, salt: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEYLEN, { N: n, r: 8, p: 1, maxmem: 128 * n * 8 * 2 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString("base64url")}$${(await derive(password, salt, N)).toString("base64url")}$${N}`;
}

/** Whether `password` matches `stored` (constant-time). Hashes written before the cost was recorded used scrypt's default N=16384. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const [scheme, salt, hash, n] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const got = await derive(password, Buffer.from(salt, "base64url"), n ? Number(n) : 16384);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** A one-time password for a new user: 16 random bytes, base64url. */
export const newPassword = (): string => randomBytes(16).toString("base64url");
