import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

export const BIN = resolve(process.cwd(), "bin", "draftgate.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds dist/ first) as a user would, with its own environment. */
export function runCli(args: string[], env: Record<string, string>, cwd?: string): Promise<CliResult> & { child: ChildProcess } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", DRAFTGATE_LOG__LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolvePromise) => {
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  }) as Promise<CliResult> & { child: ChildProcess };
  done.child = child;
  return done;
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
