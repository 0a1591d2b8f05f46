import type { JobHandler } from "../queue/worker.js";
import type { LlmJobDeps } from "./deps.js";
import { draftHandler } from "./draftJob.js";
import { embedReplyHandler } from "./embedJob.js";
import { triageHandler } from "./triageJob.js";

/**
 * The job types an LLM worker runs. The composition root registers them on processes with the llm
 * role; a worker claims only types it has a handler for, so these jobs wait in the queue until a
 * process with that role runs (LLM workers run where the GPU is).
 */
export function llmJobHandlers(deps: LlmJobDeps): Record<string, JobHandler> {
  return {
    triage: triageHandler(deps),
    draft: draftHandler(deps),
    "embed-reply": embedReplyHandler(deps),
  };
}
