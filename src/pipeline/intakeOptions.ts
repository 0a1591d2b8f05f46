import type { Config } from "../config/schema.js";
import type { IntakeOptions } from "./intake.js";

/** Intake settings from the validated configuration. */
export function intakeOptions(config: Config): IntakeOptions {
  return {
    maxMessageBytes: config.ingest.maxMessageBytes,
    messageIdDomain: config.mail.messageIdDomain,
    thread: { subjectWindowMs: config.threading.subjectWindowDays * 86_400_000, minSubjectKeyLength: 4 },
    jobMaxAttempts: config.jobs.maxAttempts,
  };
}
