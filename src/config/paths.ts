import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root (where package.json is), found from this file whether run from src/ or dist/. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("draftgate: cannot find package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

export const defaultConfigPath = join(packageRoot, "config", "default.yaml");
