import type { Config } from "../config/schema.js";
import type { LlmService } from "../llm/service.js";
import { draftHandler } from "../llm/draftJob.js";
import { embedReplyHandler } from "../llm/embedJob.js";
import { triageHandler } from "../llm/triageJob.js";
import type { Logger } from "../obs/logger.js";
import type { Store } from "../store/store.js";
import type { JobHandler } from "./worker.js";

export interface HandlerDeps {
  store: Store;
  log: Logger;
  config: Config;
  /** The model of this process (present on processes with the llm role). */
  llm: LlmService | null;
}

/**
 * The job types this process runs, by role: one entry per job type. A worker claims only types it has a
 * handler for, so a job waits in the queue until a process with the right role runs (LLM workers run
 * where the GPU is and claim triage and draft jobs).
 */
export function jobHandlers(roles: string[], deps: HandlerDeps): Record<string, JobHandler> {
  const handlers: Record<string, JobHandler> = {};
  if (roles.includes("llm") && deps.llm) {
    const llmDeps = { store: deps.store, llm: deps.llm, config: deps.config, log: deps.log };
    handlers.triage = triageHandler(llmDeps);
    handlers.draft = draftHandler(llmDeps);
    handlers["embed-reply"] = embedReplyHandler(llmDeps);
  }
  return handlers;
}
