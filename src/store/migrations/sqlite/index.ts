import { Initial1795949328785 } from "./1795949328785-Initial.js";
// Ordered list of sqlite migrations; src/store/migrations/generate.ts appends to it.
export const sqliteMigrations: Function[] = [Initial1795949328785];
