import { ImapSync1795951996204 } from "./1795951996204-ImapSync.js";
import { Initial1795951533850 } from "./1795951533850-Initial.js";
// Ordered list of sqlite migrations; src/store/migrations/generate.ts appends to it.
export const sqliteMigrations: Function[] = [Initial1795951533850, ImapSync1795951996204];
