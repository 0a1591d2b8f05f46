import { Initial1795949339711 } from "./1795949339711-Initial.js";
// Ordered list of mysql migrations; src/store/migrations/generate.ts appends to it.
export const mysqlMigrations: Function[] = [Initial1795949339711];
