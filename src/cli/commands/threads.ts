import type { DraftRow, TriageRow } from "../../store/entities/review.js";
import type { Store } from "../../store/store.js";
import { listConversations } from "../../store/threadsView.js";
import { loadContext, openStore } from "../context.js";

export interface ThreadView {
  id: number;
  mailbox: string;
  subject: string;
  status: string;
  priority: string | null;
  automated: boolean;
  messages: {
    messageId: string | null;
    inReplyTo: string | null;
    from: string | null;
    date: string | null;
    direction: string;
    automated: boolean;
    automatedReason: string | null;
    subject: string;
  }[];
  /** The latest triage, once one exists. */
  triage?: { priority: string; category: string; sentiment: string; language: string; summary: string; confidence: number; flags: string[]; decidedBy: string; model: string | null; slaDueAt: string };
  /** The latest draft, once one exists; origin says whether a model, a template or a person wrote it. */
  draft?: { status: string; origin: string; body: string; flags: string[]; model: string | null; tokens: number | null; createdAt: string };
}

/** Conversations in the DESIGN.md `threads --json` shape, oldest conversation first, messages by date. */
export async function listThreads(store: Store, mailboxName?: string): Promise<ThreadView[]> {
  return (await listConversations(store, mailboxName)).map(({ conversation: c, mailboxName: mailbox, messages, triage, draft }) => ({
    id: c.id,
    mailbox,
    subject: c.subject,
    status: c.status,
    priority: c.priority,
    automated: c.automated,
    messages: messages
      .sort((a, b) => (a.date ?? a.receivedAt).getTime() - (b.date ?? b.receivedAt).getTime() || a.id - b.id)
      .map((m) => ({
        messageId: m.messageId,
        inReplyTo: m.inReplyTo,
        from: m.fromAddress,
        date: m.date ? m.date.toISOString() : null,
        direction: m.direction,
        automated: m.automated,
        automatedReason: m.automatedReason,
        subject: m.subject,
      })),
    ...triageView(triage),
    ...draftView(draft),
  }));
}

function triageView(t: TriageRow | undefined): Pick<ThreadView, "triage"> {
  if (!t) return {};
  return {
    triage: {
      priority: t.priority,
      category: t.category,
      sentiment: t.sentiment,
      language: t.language,
      summary: t.summary,
      confidence: t.confidence,
      flags: t.flags,
      decidedBy: t.decidedBy,
      model: t.model,
      slaDueAt: t.slaDueAt.toISOString(),
    },
  };
}

function draftView(d: DraftRow | undefined): Pick<ThreadView, "draft"> {
  if (!d) return {};
  return { draft: { status: d.status, origin: d.origin, body: d.body, flags: d.flags, model: d.model, tokens: d.tokens, createdAt: d.createdAt.toISOString() } };
}

export async function threadsCommand(opts: { json?: boolean; mailbox?: string }): Promise<void> {
  const ctx = loadContext();
  const store = await openStore(ctx, { migrate: true });
  try {
    const threads = await listThreads(store, opts.mailbox);
    if (opts.json) {
      process.stdout.write(JSON.stringify(threads, null, 2) + "\n");
      return;
    }
    for (const t of threads) {
      const flags = [t.status, t.priority, t.automated ? "automated" : null].filter(Boolean).join(", ");
      process.stdout.write(`#${t.id} [${t.mailbox}] ${t.subject || "(no subject)"} (${flags}; ${t.messages.length} messages)\n`);
      if (t.triage) process.stdout.write(`    triage: ${t.triage.priority}, ${t.triage.category}, ${t.triage.language} by ${t.triage.decidedBy}: ${t.triage.summary}\n`);
      if (t.draft) process.stdout.write(`    draft (${t.draft.status}, ${t.draft.origin === "model" ? `model ${t.draft.model}` : t.draft.origin}${t.draft.flags.length ? `; flags: ${t.draft.flags.join(", ")}` : ""}): ${t.draft.body.replace(/\s+/g, " ").slice(0, 100)}\n`);
      for (const m of t.messages) {
        process.stdout.write(`    ${m.date ?? "no date".padEnd(24)}  ${m.direction === "outbound" ? "→" : "←"} ${m.from ?? "(unknown sender)"}${m.automated ? `  [${m.automatedReason}]` : ""}\n`);
      }
    }
    if (threads.length === 0) process.stdout.write("no conversations yet: import mail with `draftgate import --mailbox NAME PATH…`\n");
  } finally {
    await store.close();
  }
}
