import type { Config } from "../config/schema.js";
import type { Logger } from "../obs/logger.js";
import type { Store } from "../store/store.js";
import type { JobHandler } from "./worker.js";

export interface HandlerDeps {
  store: Store;
  log: Logger;
  config: Config;
}

/**
 * The job types this process runs, by role. A worker claims only types it has a handler for, so a
 * job waits in the queue until a process with the right role (e.g. an `llm` worker for triage) runs.
 * Registry, one entry per job type; the LLM and outbound issues add theirs here.
 */
export function jobHandlers(roles: string[], deps: HandlerDeps): Record<string, JobHandler> {
  const handlers: Record<string, JobHandler> = {};
  void roles;
  void deps;
  return handlers;
}
