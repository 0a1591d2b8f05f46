import { createLogger } from "../../obs/logger.js";
import { LlmService } from "../../llm/service.js";
import { pullModel } from "../../llm/pull.js";
import { TINY_SHAPE, writeTinyGguf } from "../../llm/tinyGguf.js";
import { loadContext } from "../context.js";

/** draftgate model pull [URI]: downloads the configured model (or URI) with a progress bar; resumes. */
export async function modelPullCommand(uri: string | undefined): Promise<void> {
  const ctx = loadContext();
  const target = uri ?? ctx.config.llm.model;
  if (!target) throw new Error("no model to pull: give a URI or set llm.model");
  const path = await pullModel(ctx.config.llm, target, ctx.log);
  process.stdout.write(`${target} is at ${path}\n`);
  if (uri && uri !== ctx.config.llm.model) process.stdout.write(`to use it, set llm.model: "${uri}" (or DRAFTGATE_LLM__MODEL)\n`);
}

/** draftgate model info: path, size, architecture, trained context, GPU and layers offloaded. */
export async function modelInfoCommand(opts: { json?: boolean }): Promise<void> {
  const ctx = loadContext();
  const llm = await LlmService.start(ctx.config, createLogger({ level: "silent", pretty: "never" }));
  try {
    if (opts.json) {
      process.stdout.write(JSON.stringify({ state: llm.status.state, message: llm.status.message, ...(llm.status.info ?? {}) }, null, 2) + "\n");
    } else if (llm.status.info) {
      const i = llm.status.info;
      process.stdout.write(
        [
          `path:             ${i.path}`,
          `size:             ${(i.sizeBytes / 1024 / 1024).toFixed(1)} MiB`,
          `name:             ${i.name}`,
          `architecture:     ${i.architecture}`,
          `trained context:  ${i.trainedContext} tokens`,
          `gpu:              ${i.gpu || "none (CPU)"}`,
          `layers offloaded: ${i.gpuLayers} of ${i.totalLayers}`,
          `context:          ${i.parallel} sequences × ${i.contextSize} tokens`,
        ].join("\n") + "\n",
      );
    } else process.stdout.write(`no model available: ${llm.status.message}\n`);
    if (llm.status.state === "error") process.exitCode = 1;
  } finally {
    await llm.dispose();
  }
}

/** draftgate model make-test PATH: writes a tiny random-weight GGUF (noise output; for tests and trying things offline). */
export async function modelMakeTestCommand(path: string): Promise<void> {
  writeTinyGguf(path, TINY_SHAPE);
  process.stdout.write(`wrote a tiny random-weight model to ${path} (its text is noise; it exercises the pipeline, not the language)\n`);
}
