/**
 * Running the real gateway (`node bin/draftgate.js …`) as a child process from a benchmark: building it
 * first, its environment, and the CPU profile it leaves with --cpu-prof.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { summarizeCpuProfile } from "../cpuprofile.js";
import type { BenchVoice } from "./cli.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `tsc -p tsconfig.build.json`, so dist/ (what bin/draftgate.js runs) is current. */
export function build(voice: BenchVoice): void {
  voice.log("building (tsc -p tsconfig.build.json) …");
  const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) voice.fail(`build failed (tsc exit ${r.status}):\n${r.stdout}${r.stderr}`);
}

/** The child's environment: ours without any Draftgate settings, log level warn, plus `settings`. */
function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("DRAFTGATE_") && k !== "DATABASE_URL") env[k] = v;
  return { ...env, DRAFTGATE_LOG__LEVEL: "warn", ...settings };
}

/**
 * `node [--cpu-prof --cpu-prof-dir DIR] bin/draftgate.js ARGS…` in the repository with the given
 * settings (DATABASE_URL, DRAFTGATE_CONFIG …); stdout and stderr are pipes.
 */
export function spawnDraftgate(args: string[], settings: Record<string, string>, profileDir: string | null): ChildProcessByStdio<null, Readable, Readable> {
  const nodeArgs = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
  return spawn(process.execPath, [...nodeArgs, join(repoRoot, "bin", "draftgate.js"), ...args], {
    cwd: repoRoot,
    env: childEnv(settings),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The newest .cpuprofile a child left in `dir`, if any. */
export function latestCpuProfile(dir: string | null): string | null {
  if (!dir) return null;
  const f = readdirSync(dir).filter((n) => n.endsWith(".cpuprofile")).sort();
  return f.length ? join(dir, f[f.length - 1]!) : null;
}

/** Prints `title`'s top 15 functions by self time (and the rest of bench/cpuprofile.ts's summary). */
export function printCpuProfile(title: string, file: string): void {
  process.stdout.write(`\n${title}, top 15 functions by self time (${file}):\n`);
  process.stdout.write(summarizeCpuProfile(readFileSync(file, "utf8"), 15, repoRoot) + "\n");
}
