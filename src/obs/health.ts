import type { Store } from "../store/store.js";

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Readiness: the database answers and its schema is current. Later roles add their checks (IMAP, model). */
export async function readiness(store: Store, extra: (() => Promise<ReadinessCheck>)[] = []): Promise<{ ready: boolean; checks: ReadinessCheck[] }> {
  const checks: ReadinessCheck[] = [];
  try {
    await store.ping();
    checks.push({ name: "database", ok: true });
    const pending = await store.hasPendingMigrations();
    checks.push({ name: "migrations", ok: !pending, detail: pending ? "pending migrations: run `draftgate migrate`" : "current" });
  } catch (err) {
    checks.push({ name: "database", ok: false, detail: (err as Error).message });
  }
  for (const check of extra) {
    try {
      checks.push(await check());
    } catch (err) {
      checks.push({ name: "unknown", ok: false, detail: (err as Error).message });
    }
  }
  return { ready: checks.every((c) => c.ok), checks };
}
