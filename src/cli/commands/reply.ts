import { writeReply } from "../../review/approveDraft.js";
import { parseId, readBodyFile, withReviewStore } from "./reviewShared.js";

/**
 * draftgate reply CONVERSATION --body-file F --as EMAIL: a reply written by hand to the conversation's
 * newest customer message, approved by the writer and queued for sending (open drafts are superseded).
 */
export async function replyCommand(
  rawConversation: string,
  opts: { bodyFile: string; as: string; mailbox?: string; json?: boolean },
): Promise<void> {
  const conversationId = parseId(rawConversation, "conversation");
  const body = readBodyFile(opts.bodyFile);
  await withReviewStore(async (ctx, store) => {
    const r = await writeReply(
      { store, config: ctx.config },
      { conversationId, actor: opts.as, body, ...(opts.mailbox !== undefined ? { expected: { mailbox: opts.mailbox } } : {}) },
    );
    if (opts.json) {
      process.stdout.write(JSON.stringify(r) + "\n");
      return;
    }
    process.stdout.write(
      `reply #${r.draftId} to conversation #${r.conversationId} by ${opts.as.toLowerCase()}` +
        (r.superseded.length ? ` (superseded drafts ${r.superseded.map((id) => `#${id}`).join(", ")})` : "") +
        `\nqueued as outbox #${r.outboxId}: <${r.messageId}> to ${r.to.join(", ")}${r.cc.length ? `, cc ${r.cc.join(", ")}` : ""}, "${r.subject}"\n`,
    );
  });
}
