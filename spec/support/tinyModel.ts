import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema, type Config } from "../../src/config/schema.js";
import { TINY_SHAPE, writeTinyGguf } from "../../src/llm/tinyGguf.js";

/** The tiny random-weight model, written once per test run (real llama.cpp inference, noise output). */
export function tinyModelPath(): string {
  const dir = join(tmpdir(), `draftgate-tiny-${process.pid}`);
  const path = join(dir, "tiny.gguf");
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeTinyGguf(path, TINY_SHAPE);
  }
  return path;
}

/** A config for inference tests: CPU, one thread (the default thread count is ~250× slower here). */
export function llmTestConfig(overrides: { model?: string; parallel?: number; llm?: Partial<Config["llm"]>; triage?: Partial<Config["triage"]> } = {}): Config {
  return configSchema.parse({
    llm: {
      model: overrides.model ?? tinyModelPath(),
      gpu: false,
      threads: 1,
      parallel: overrides.parallel ?? 4,
      contextSize: 4096,
      maxDraftTokens: 48,
      // Random weights: room for the longest answer the schema allows, so a test never sees it cut off.
      maxTriageTokens: 2600,
      ...overrides.llm,
    },
    triage: { ...overrides.triage },
    mail: { messageIdDomain: "draftgate.test" },
  });
}
