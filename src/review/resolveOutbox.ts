import type { Config } from "../config/schema.js";
import { DraftgateError } from "../core/errors.js";
import { afterSendWork } from "../core/outbound/afterSend.js";
import { outboxEventsFrom } from "../core/outbound/outboxState.js";
import { appendAudit } from "../store/audit.js";
import type { OutboxRow } from "../store/entities/review.js";
import { enqueueSend, lockOutbox, moveOutbox } from "../store/outbox.js";
import { answeredMessage, enqueueAfterSend } from "../store/outboxSend.js";
import { mailboxOf } from "../store/conversations.js";
import type { Store } from "../store/store.js";
import { findUserByEmail } from "../store/users.js";
import { OPERATOR } from "./approveDraft.js";

/**
 * A person settles an `uncertain` outbox entry (the process died mid-send, or the connection died after
 * the final dot, and the Sent-folder check did not find it): `sent` (the customer got it) or `resend`
 * (it did not go out: back to `queued` with the SAME Message-ID, so a copy that did arrive after all
 * threads as one message in the customer's client). Only `uncertain` entries can be resolved; nothing
 * else is ever re-sent by hand. Who resolved it, how and when is kept on the entry and in the audit log.
 */

export class OutboxActionError extends DraftgateError {
  constructor(
    readonly state: OutboxRow["state"] | null,
    message: string,
  ) {
    super("EOUTBOX", message);
  }
}

export interface ResolveResult {
  outboxId: number;
  state: OutboxRow["state"];
  messageId: string;
  /** The send job queued by `resend`. */
  jobId: number | null;
}

/** `actor`: an admin's e-mail address, or "cli" for the operator at the shell. */
export async function resolveOutbox(
  deps: { store: Store; config: Config; now?: () => Date },
  input: { outboxId: number; actor: string; resolution: "sent" | "resend" },
): Promise<ResolveResult> {
  const now = (deps.now ?? (() => new Date()))();
  return deps.store.tx(async (em) => {
    let actor = OPERATOR;
    if (input.actor !== OPERATOR) {
      const user = await findUserByEmail(em, input.actor);
      if (!user) throw new OutboxActionError(null, `${input.actor} is not a user (draftgate user add EMAIL --role admin)`);
      if (user.role !== "admin")
        throw new OutboxActionError(null, `${user.email} is a ${user.role}; only an admin resolves outbox entries`);
      actor = user.email;
    }
    const entry = await lockOutbox(em, input.outboxId);
    if (!entry) throw new OutboxActionError(null, `outbox entry ${input.outboxId} does not exist`);
    if (entry.state !== "uncertain") {
      const can = outboxEventsFrom(entry.state);
      throw new OutboxActionError(
        entry.state,
        `outbox entry ${entry.id} is ${entry.state}, not uncertain: only an uncertain entry can be resolved` +
          (can.length ? ` (from ${entry.state} it can: ${can.join(", ")})` : ` (${entry.state} is final)`),
      );
    }
    const marks = { resolvedBy: actor, resolution: input.resolution, resolvedAt: now };
    const moved =
      input.resolution === "sent"
        ? await moveOutbox(em, entry.id, "resolve-sent", { ...marks, sentAt: now })
        : // A fresh set of attempts: the earlier ones ended in not knowing, not in failing.
          await moveOutbox(em, entry.id, "resolve-resend", { ...marks, attempts: 0, nextAttemptAt: now });
    if (!moved.ok) throw new OutboxActionError(moved.state, `outbox entry ${entry.id} changed state meanwhile (now ${moved.state})`);
    // A reply a person says went out gets what every sent reply gets: filed in Sent (the job looks for
    // its Message-ID there first, so a copy the server filed is not filed twice), \Answered on the
    // customer's message, and the reply stored in the conversation so the customer's answer threads.
    // Each only when it has work (no IMAP: nothing to file, no \Answered to set).
    if (input.resolution === "sent" && entry.rawBlobId !== null) {
      const mailbox = await mailboxOf(em, entry);
      const work = afterSendWork(
        deps.config.mailboxes.find((m) => m.name === mailbox.name),
        await answeredMessage(em, entry.answeredMessageRowId),
      );
      await enqueueAfterSend(em, entry.id, { ...work, maxAttempts: deps.config.jobs.maxAttempts });
    }
    const jobId =
      input.resolution === "resend"
        ? await enqueueSend(em, entry.id, {
            maxAttempts: deps.config.outbound.maxAttempts,
            uniqueKey: `send:outbox:${entry.id}:resend:${now.getTime()}`,
          })
        : null;
    await appendAudit(em, {
      actor,
      action: "outbox.resolve",
      subjectType: "outbox",
      subjectId: String(entry.id),
      detail: {
        resolution: input.resolution,
        messageId: entry.messageId,
        conversationId: entry.conversationId,
        lastError: entry.lastError,
        jobId,
      },
    });
    return { outboxId: entry.id, state: moved.row.state, messageId: entry.messageId, jobId };
  });
}
