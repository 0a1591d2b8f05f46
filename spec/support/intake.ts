import { defaultThreadOptions } from "../../src/core/threading.js";
import { Intake, type IntakeOptions } from "../../src/pipeline/intake.js";
import { ensureMailbox } from "../../src/store/mailboxes.js";
import type { Store } from "../../src/store/store.js";

export const testIntakeOptions: IntakeOptions = {
  maxMessageBytes: 25 * 1024 * 1024,
  messageIdDomain: "draftgate.test",
  thread: defaultThreadOptions,
  jobMaxAttempts: 5,
};

/** An intake bound to a mailbox named `name` (address support@example.com unless given). */
export async function testIntake(store: Store, options: Partial<IntakeOptions> = {}, name = "support", address = "support@example.com") {
  const mailbox = await ensureMailbox(store, name, address);
  const intake = new Intake(store, { ...testIntakeOptions, ...options });
  return { mailbox, intake, ingest: (inputs: Parameters<Intake["ingest"]>[1]) => intake.ingest(mailbox, inputs) };
}
