import { isOutboxState, type OutboxState } from "../../core/outbound/outboxState.js";
import { OPERATOR } from "../../review/approveDraft.js";
import { resolveOutbox } from "../../review/resolveOutbox.js";
import { listOutbox } from "../../store/outbox.js";
import { parseId, withReviewStore } from "./reviewShared.js";

/** One entry in the `outbox --json` shape (DESIGN.md), plus what an operator needs to settle it. */
export interface OutboxView {
  id: number;
  conversationId: number;
  draftId: number | null;
  state: string;
  /** Without angle brackets. */
  messageId: string;
  to: string[];
  subject: string;
  attempts: number;
  lastError: string | null;
  approvedBy: string;
  mailbox: string;
  cc: string[];
  approvedAt: string;
  nextAttemptAt: string | null;
  sentAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** draftgate outbox [--json] [--state S…]: replies and their states, oldest first. */
export async function outboxListCommand(opts: { json?: boolean; state?: string[] }): Promise<void> {
  const states: OutboxState[] | undefined = opts.state?.map((s) => {
    if (!isOutboxState(s))
      throw new Error(`--state ${s}: not an outbox state (queued, sending, sent, retrying, failed, uncertain, cancelled)`);
    return s;
  });
  await withReviewStore(async (_ctx, store) => {
    const entries: OutboxView[] = (await listOutbox(store, states ? { states } : {})).map((e) => ({
      id: e.id,
      conversationId: e.conversationId,
      draftId: e.draftId,
      state: e.state,
      messageId: e.messageId,
      to: e.to.map((a) => a.address),
      subject: e.subject,
      attempts: e.attempts,
      lastError: e.lastError,
      approvedBy: e.approvedBy,
      mailbox: e.mailboxName,
      cc: e.cc.map((a) => a.address),
      approvedAt: e.approvedAt.toISOString(),
      nextAttemptAt: iso(e.nextAttemptAt),
      sentAt: iso(e.sentAt),
      resolvedBy: e.resolvedBy,
      resolution: e.resolution,
    }));
    if (opts.json) {
      process.stdout.write(JSON.stringify(entries, null, 2) + "\n");
      return;
    }
    for (const e of entries) {
      const when = e.sentAt
        ? `sent ${e.sentAt}`
        : e.nextAttemptAt && (e.state === "queued" || e.state === "retrying")
          ? `next try ${e.nextAttemptAt}`
          : "";
      process.stdout.write(
        `outbox #${e.id} [${e.state}] conversation #${e.conversationId} [${e.mailbox}] to ${e.to.join(", ")}: "${e.subject}"` +
          ` (approved by ${e.approvedBy}; ${e.attempts} attempt${e.attempts === 1 ? "" : "s"}${when ? `; ${when}` : ""})\n`,
      );
      if (e.lastError) process.stdout.write(`    last error: ${e.lastError}\n`);
      if (e.resolvedBy) process.stdout.write(`    resolved ${e.resolution} by ${e.resolvedBy}\n`);
    }
    if (entries.length === 0) process.stdout.write("the outbox is empty\n");
    const uncertain = entries.filter((e) => e.state === "uncertain").length;
    if (uncertain > 0) {
      process.stdout.write(
        `${uncertain} uncertain: the send may or may not have reached the server. Check, then: draftgate outbox resolve ID --sent | --resend\n`,
      );
    }
    if (entries.some((e) => e.state === "failed")) {
      process.stdout.write(
        "failed entries were never sent; write the reply again with: draftgate reply CONVERSATION --body-file F --as EMAIL\n",
      );
    }
  });
}

/** draftgate outbox resolve ID --sent | --resend [--as EMAIL]: settles an uncertain entry. */
export async function outboxResolveCommand(
  rawId: string,
  opts: { sent?: boolean; resend?: boolean; as?: string; json?: boolean },
): Promise<void> {
  const outboxId = parseId(rawId, "outbox");
  if (opts.sent === opts.resend) throw new Error("say how it ended: --sent (the customer got it) or --resend (it did not go out)");
  await withReviewStore(async (ctx, store) => {
    const r = await resolveOutbox(
      { store, config: ctx.config },
      { outboxId, actor: opts.as ?? OPERATOR, resolution: opts.sent ? "sent" : "resend" },
    );
    if (opts.json) process.stdout.write(JSON.stringify(r) + "\n");
    else
      process.stdout.write(
        opts.sent
          ? `outbox #${r.outboxId} marked sent (<${r.messageId}>)\n`
          : `outbox #${r.outboxId} queued again with the same Message-ID <${r.messageId}> (job #${r.jobId})\n`,
      );
  });
}
