import { approveDraft, regenerateDraft, rejectDraft, OPERATOR } from "../../review/approveDraft.js";
import { listPendingDrafts } from "../../store/drafts.js";
import { parseId, readBodyFile, withReviewStore } from "./reviewShared.js";

/** One pending draft in the `drafts --json` shape (DESIGN.md), plus its mailbox and subject. */
export interface DraftView {
  id: number;
  conversationId: number;
  status: string;
  origin: string;
  body: string;
  flags: string[];
  createdAt: string;
  mailbox: string;
  subject: string;
}

/** draftgate drafts [--json] [--mailbox NAME]: drafts waiting for a reviewer, oldest first. */
export async function draftsListCommand(opts: { json?: boolean; mailbox?: string }): Promise<void> {
  await withReviewStore(async (_ctx, store) => {
    const drafts: DraftView[] = (await listPendingDrafts(store, opts.mailbox)).map((d) => ({
      id: d.id,
      conversationId: d.conversationId,
      status: d.status,
      origin: d.origin,
      body: d.body,
      flags: d.flags,
      createdAt: d.createdAt.toISOString(),
      mailbox: d.mailboxName,
      subject: d.subject,
    }));
    if (opts.json) {
      process.stdout.write(JSON.stringify(drafts, null, 2) + "\n");
      return;
    }
    for (const d of drafts) {
      const flags = d.flags.length ? `; flags: ${d.flags.join(", ")}` : "";
      process.stdout.write(
        `draft #${d.id}  conversation #${d.conversationId} [${d.mailbox}] ${d.subject || "(no subject)"} (${d.origin}${flags})\n`,
      );
      process.stdout.write(`    ${d.body.replace(/\s+/g, " ").slice(0, 160)}\n`);
    }
    process.stdout.write(
      drafts.length === 0
        ? "no drafts waiting for review\n"
        : "approve: draftgate drafts approve ID [--body-file F] --as EMAIL; reject: draftgate drafts reject ID --reason TEXT\n",
    );
  });
}

/** draftgate drafts approve ID [--body-file F] --as EMAIL: approves (optionally edited) and queues the reply for sending. */
export async function draftsApproveCommand(
  rawId: string,
  opts: { as: string; bodyFile?: string; conversation?: string; mailbox?: string; json?: boolean },
): Promise<void> {
  const draftId = parseId(rawId, "draft");
  const body = opts.bodyFile !== undefined ? readBodyFile(opts.bodyFile) : undefined;
  const expected = {
    ...(opts.conversation !== undefined ? { conversationId: parseId(opts.conversation, "conversation") } : {}),
    ...(opts.mailbox !== undefined ? { mailbox: opts.mailbox } : {}),
  };
  await withReviewStore(async (ctx, store) => {
    const r = await approveDraft({ store, config: ctx.config }, { draftId, actor: opts.as, body, expected });
    if (opts.json) {
      process.stdout.write(JSON.stringify(r) + "\n");
      return;
    }
    process.stdout.write(
      `approved draft #${r.draftId} of conversation #${r.conversationId} as ${opts.as.toLowerCase()}\n` +
        `queued as outbox #${r.outboxId}: <${r.messageId}> to ${r.to.join(", ")}${r.cc.length ? `, cc ${r.cc.join(", ")}` : ""}, "${r.subject}"\n` +
        `it is sent by a running gateway (draftgate start, role outbound); see draftgate outbox\n`,
    );
  });
}

/** draftgate drafts reject ID --reason TEXT [--as EMAIL]. */
export async function draftsRejectCommand(rawId: string, opts: { reason: string; as?: string; json?: boolean }): Promise<void> {
  const draftId = parseId(rawId, "draft");
  await withReviewStore(async (ctx, store) => {
    const r = await rejectDraft({ store, config: ctx.config }, { draftId, actor: opts.as ?? OPERATOR, reason: opts.reason });
    if (opts.json) process.stdout.write(JSON.stringify(r) + "\n");
    else process.stdout.write(`rejected draft #${r.draftId} of conversation #${r.conversationId}; nothing is sent\n`);
  });
}

/** draftgate drafts regenerate ID [--instruction TEXT] [--as EMAIL]: a new draft of the same message, following the instruction. */
export async function draftsRegenerateCommand(rawId: string, opts: { instruction?: string; as?: string; json?: boolean }): Promise<void> {
  const draftId = parseId(rawId, "draft");
  await withReviewStore(async (ctx, store) => {
    const r = await regenerateDraft(
      { store, config: ctx.config },
      { draftId, actor: opts.as ?? OPERATOR, instruction: opts.instruction ?? "" },
    );
    if (opts.json) process.stdout.write(JSON.stringify(r) + "\n");
    else
      process.stdout.write(
        `draft #${r.draftId} superseded; a new draft is queued (job #${r.jobId}) and written by a running gateway (role llm)\n`,
      );
  });
}
