import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Config } from "../config/schema.js";

/** Where a configured model lives on this machine, or why it is not there. */
export type ModelLocation =
  | { state: "none" }
  | { state: "present"; path: string; uri: string }
  | { state: "missing"; uri: string; reason: string };

const INDEX = "models.json";

const isRemote = (uri: string) => /^(hf:|https?:\/\/)/.test(uri);

function readIndex(dir: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(join(dir, INDEX), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Resolves llm.model without any network: a path, or an hf:/https: URI that `model pull` downloaded. */
export function locateModel(llm: Config["llm"], uri = llm.model): ModelLocation {
  if (!uri) return { state: "none" };
  const dir = resolve(llm.modelsDir);
  if (!isRemote(uri)) {
    const path = isAbsolute(uri) ? uri : resolve(uri);
    return existsSync(path) ? { state: "present", path, uri } : { state: "missing", uri, reason: `no file at ${path}` };
  }
  const path = readIndex(dir)[uri];
  if (path && existsSync(path)) return { state: "present", path, uri };
  return { state: "missing", uri, reason: `not downloaded yet: run \`draftgate model pull\` (into ${dir})` };
}

/** Records where `model pull` put a URI's file, so start and doctor find it offline. */
export function rememberModel(llm: Config["llm"], uri: string, path: string): void {
  const dir = resolve(llm.modelsDir);
  mkdirSync(dir, { recursive: true });
  const index = readIndex(dir);
  index[uri] = path;
  writeFileSync(join(dir, INDEX), JSON.stringify(index, null, 2) + "\n");
}

export { isRemote };
