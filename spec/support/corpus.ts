import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** ../shared/corpus beside the checkout (third-party mail, never copied into the repo). */
export const corpusDir = resolve(process.cwd(), "..", "shared", "corpus");

export function corpusPath(...parts: string[]): string {
  const p = join(corpusDir, ...parts);
  if (!existsSync(p)) throw new Error(`test corpus missing: ${p} (expected ../shared/corpus beside the repo)`);
  return p;
}
