import { redactUrl } from "../../store/dataSource.js";
import { loadContext, openStore } from "../context.js";

/** draftgate migrate: brings the database schema up to date (start does this too). */
export async function migrateCommand(): Promise<void> {
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: false });
  try {
    const ran = await store.migrate();
    process.stdout.write(
      ran.length > 0
        ? `applied ${ran.length} migration(s) to ${redactUrl(ctx.config.database.url)}: ${ran.join(", ")}\n`
        : `database ${redactUrl(ctx.config.database.url)} is up to date\n`,
    );
  } finally {
    await store.close();
  }
}
