/**
 * Reads third-party mail from ../shared/corpus (never copied into this repository) into the shapes core takes.
 * Parsing goes through src/ingest/normalize (never a copy of it in the test).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";
import type { AutomationInput } from "../../../src/core/automation.js";
import type { NormalizedMessage } from "../../../src/core/message.js";
import { normalizeMime } from "../../../src/pipeline/normalize.js";

/** Absolute path of the shared corpus: spec/unit/core → repo root → its parent → shared/corpus. */
export const corpusRoot = fileURLToPath(new URL("../../../../shared/corpus/", import.meta.url));

export const corpusAvailable = existsSync(corpusRoot);

/** Corpus-relative paths of the files under `dir` whose file name matches `pattern`, sorted. */
export function corpusFiles(dir: string, pattern: RegExp): string[] {
  const root = join(corpusRoot, dir);
  if (!existsSync(root)) return [];
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  return walk(root)
    .filter((f) => pattern.test(f.slice(f.lastIndexOf("/") + 1)))
    .map((f) => relative(corpusRoot, f))
    .sort();
}

export interface CorpusMail {
  message: NormalizedMessage;
  automation: AutomationInput;
}

/** Parses one corpus file with the production normalizer, so these tests see what intake sees. */
export async function loadCorpusMail(path: string): Promise<CorpusMail> {
  const message = await normalizeMime(readFileSync(join(corpusRoot, path)));
  return { message, automation: message };
}
