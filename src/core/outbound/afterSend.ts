/**
 * Which after-send jobs a sent reply needs (src/store/outboxSend.ts `enqueueAfterSend`). Storing the
 * reply in its conversation always; filing it in the Sent folder only when the mailbox has IMAP and
 * files sent mail itself (`sentFolder` not `none`) and the copy is not known to be there already;
 * \Answered only when the message answered came over IMAP (and the mailbox still has IMAP). A job with
 * nothing to do is not queued: without IMAP a reply costs one after-send job, not three.
 */
export interface AfterSendWork {
  fileSent: boolean;
  markAnswered: boolean;
}

export function afterSendWork(
  mailbox: { imap?: unknown; sentFolder?: string } | null | undefined,
  answered: { sourceRef: string | null } | null,
  options: { inSentAlready?: boolean } = {},
): AfterSendWork {
  const imap = !!mailbox?.imap;
  return {
    fileSent: imap && mailbox?.sentFolder !== "none" && !options.inSentAlready,
    markAnswered: imap && (answered?.sourceRef ?? "").startsWith("imap:"),
  };
}
