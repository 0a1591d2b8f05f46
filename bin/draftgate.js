#!/usr/bin/env node
// The installed entry point runs the compiled CLI (npm run build writes dist/).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error("draftgate: dist/ is missing; run `npm run build` (npm install does it for you).");
  process.exit(1);
}
await import(entry.href);
