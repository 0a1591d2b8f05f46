import type { JobContext } from "../queue/worker.js";
import { conversationNow } from "../store/conversations.js";
import { appendEvent } from "../store/events.js";
import type { Store } from "../store/store.js";
import type { LlmEngine } from "./engine.js";
import { childAbort, withTimeLimit } from "./timeout.js";

/** How often streamed text is flushed to the events feed (the review page shows it live). */
const STREAM_FLUSH_MS = 250;

export interface DraftGeneration {
  /** The open draft the text is for, the message it answers and the conversation it was opened under. */
  draftId: number;
  messageRowId: number;
  conversationId: number;
  system: string;
  user: string;
  maxTokens: number;
  timeoutSeconds: number;
}

export interface StreamedDraft {
  /** The text generated (all of it, or as far as it got when superseded). */
  text: string;
  tokens: number;
  ms: number;
  /** The newer customer message that cancelled the generation; null when none did. */
  supersededBy: number | null;
}

/**
 * Generates a draft's text. Tokens stream to the events feed (draft.delta, under the message's
 * conversation now, which a merge may change); a newer customer message cancels the generation, and
 * the time limit ends it (the call fails with a ModelTimeoutError). Throws when the job's signal
 * stopped it: shutdown or a lost lease.
 */
export async function streamDraft(store: Store, engine: LlmEngine, ctx: JobContext, call: DraftGeneration): Promise<StreamedDraft> {
  const { draftId, messageRowId } = call;
  const abort = childAbort(ctx.signal);
  let conversationId = call.conversationId;
  let pending = "";
  let supersededBy: number | null = null;
  const flush = async () => {
    const state = await store.read((em) => conversationNow(em, messageRowId));
    if (state) conversationId = state.conversationId;
    if (pending) {
      const text = pending;
      pending = "";
      await store.tx((em) => appendEvent(em, "draft.delta", conversationId, { draftId, text }));
    }
    if (state?.newer) {
      supersededBy = state.newer;
      abort.abort(new Error("superseded"));
    }
  };
  const timer = setInterval(() => void flush().catch((err) => ctx.log.warn({ err }, "draft stream flush failed")), STREAM_FLUSH_MS);
  let out;
  try {
    out = await withTimeLimit(call.timeoutSeconds, abort, (signal) =>
      engine.text({ system: call.system, user: call.user, maxTokens: call.maxTokens, signal, onText: (t) => (pending += t) }),
    );
  } finally {
    clearInterval(timer);
  }
  await flush();
  if (supersededBy === null && ctx.signal.aborted) {
    // Shutdown or a lost lease: this attempt is given up (the job runs again, here or elsewhere).
    throw new Error(`draft interrupted: ${String((ctx.signal.reason as Error | undefined)?.message ?? ctx.signal.reason)}`);
  }
  return { text: out.text, tokens: out.tokens, ms: out.ms, supersededBy };
}
