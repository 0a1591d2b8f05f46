import { performance } from "node:perf_hooks";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds since `fromMs` (a performance.now() reading). */
export const secondsSince = (fromMs: number) => (performance.now() - fromMs) / 1000;

/** Runs `fn` over every buffer in turn; returns the seconds the loop took. */
export async function timeLoop(buffers: readonly Buffer[], fn: (b: Buffer) => Promise<unknown>): Promise<number> {
  const t = performance.now();
  for (const b of buffers) await fn(b);
  return secondsSince(t);
}

/** The gateway's own parse step (normalizeMime) over messages in memory, in this process: seconds. */
export async function timeNormalize(buffers: readonly Buffer[]): Promise<number> {
  const { normalizeMime } = await import("../../src/pipeline/normalize.js");
  return timeLoop(buffers, (b) => normalizeMime(b));
}
