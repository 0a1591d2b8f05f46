import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { readEml } from "./eml.js";
import { looksLikeMbox, readMbox } from "./mbox.js";
import type { ImportItem, ImportReader } from "./types.js";

/** The import formats, by name. A file's format is decided by its first bytes, not its extension. */
export const importReaders: Record<"eml" | "mbox", ImportReader> = { eml: readEml, mbox: readMbox };

export interface ImportFile {
  path: string;
  format: keyof typeof importReaders;
  size: number;
}

/**
 * Expands the paths a user gave into files to read: a file as itself; a Maildir (cur/ and new/, and
 * Maildir++ subfolders) as its messages; any other folder recursively, in name order.
 */
export async function expandImportPaths(paths: string[]): Promise<ImportFile[]> {
  const out: ImportFile[] = [];
  for (const p of paths) await walk(p, out, true);
  return out;
}

async function walk(path: string, out: ImportFile[], explicit: boolean): Promise<void> {
  const st = await stat(path);
  if (st.isFile()) {
    out.push({ path, format: (await sniffMbox(path)) ? "mbox" : "eml", size: st.size });
    return;
  }
  if (!st.isDirectory()) {
    if (explicit) throw new Error(`${path} is neither a file nor a folder`);
    return;
  }
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = new Set(entries.map((e) => e.name));
  const isMaildir = names.has("cur") || names.has("new");
  for (const e of entries) {
    if (e.name === ".git" || e.name === ".gitattributes" || e.name === ".DS_Store") continue;
    if (isMaildir && e.name === "tmp") continue; // deliveries in progress, not messages yet
    if (!isMaildir && e.isFile() && e.name.startsWith(".")) continue;
    await walk(join(path, e.name), out, false);
  }
}

async function sniffMbox(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(5);
    const { bytesRead } = await fh.read(head, 0, 5, 0);
    return looksLikeMbox(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** Every message of every file, in order. */
export async function* readImportFiles(files: ImportFile[]): AsyncGenerator<ImportItem & { file: ImportFile }> {
  for (const file of files) {
    for await (const item of importReaders[file.format](file.path)) yield { ...item, file };
  }
}
