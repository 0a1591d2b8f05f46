import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { ConfigError } from "../config/errors.js";
import { createLogger, type Logger } from "../obs/logger.js";
import { redactUrl } from "../store/dataSource.js";
import { Store } from "../store/store.js";

export interface AppContext {
  config: Config;
  log: Logger;
}

/** Loads and validates the configuration once; on problems prints every one of them and exits 78 (EX_CONFIG). */
export function loadContext(): AppContext {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`draftgate: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  return { config, log: createLogger({ level: config.log.level, pretty: config.log.pretty }) };
}

/** Opens the store; with `migrate` it also brings the schema up to date. */
export async function openStore(ctx: AppContext, options: { migrate: boolean }): Promise<Store> {
  const store = await Store.open(ctx.config.database.url, { logging: ctx.config.database.logging });
  if (options.migrate) {
    const ran = await store.migrate();
    if (ran.length > 0) ctx.log.info({ migrations: ran }, "database migrated");
  }
  ctx.log.debug({ database: redactUrl(ctx.config.database.url), dialect: store.dialect }, "database open");
  return store;
}
