/**
 * Which messages of a thread fit in the prompt. The newest message is what the reply answers, so it is
 * always there (cut if it must be); older ones are added newest-to-oldest until the next one would not
 * fit, so the model sees an unbroken recent stretch of the conversation rather than one with gaps.
 * Tokens are counted by the caller's function (the model's tokenizer in production) on exactly the
 * text renderThreadMessage produces, which is what the prompt builder must use for the budget to hold.
 */

/** One message of a thread as the prompt shows it: its new text, without quotes or signature. */
export interface ThreadMessage {
  from: string;
  date: string;
  text: string;
  direction: "inbound" | "outbound";
}

/** What fitThreadToBudget kept. */
export interface FittedThread<M extends ThreadMessage = ThreadMessage> {
  /** Oldest first; the last one is the newest message, possibly truncated. */
  included: M[];
  /** How many older messages did not fit. */
  omitted: number;
  /** The newest message was cut (its beginning kept, "[…]" at the end). */
  truncatedFirst: boolean;
}

/** The marker that ends a cut message. */
export const TRUNCATION_MARK = "[…]";

/** The text of one thread message in the prompt; the budget is counted on exactly this. */
export function renderThreadMessage(m: ThreadMessage): string {
  const who = m.direction === "outbound" ? "us (support)" : "customer";
  return `From: ${m.from} (${who})\nDate: ${m.date}\n\n${m.text}`;
}

/**
 * The thread's messages (given oldest first; the last is the newest) that fit in `budgetTokens`,
 * oldest first. The newest is always included — its beginning, cut with "[…]" when it alone is too long:
 * the request is usually stated first, signatures and legal footers come last. Throws a RangeError when
 * even the newest message's header and the marker do not fit, which is a configuration error.
 */
export function fitThreadToBudget<M extends ThreadMessage>(
  messages: M[],
  budgetTokens: number,
  countTokens: (s: string) => number,
): FittedThread<M> {
  if (messages.length === 0) return { included: [], omitted: 0, truncatedFirst: false };
  const cost = (m: ThreadMessage) => countTokens(renderThreadMessage(m));
  const newest = messages[messages.length - 1]!;
  let first: M = newest;
  let truncatedFirst = false;
  let used = cost(newest);
  if (used > budgetTokens) {
    first = truncateToFit(newest, budgetTokens, cost);
    truncatedFirst = true;
    used = cost(first);
  }
  const included: M[] = [first];
  for (let i = messages.length - 2; i >= 0; i--) {
    const c = cost(messages[i]!);
    if (used + c > budgetTokens) break;
    used += c;
    included.unshift(messages[i]!);
  }
  return { included, omitted: messages.length - included.length, truncatedFirst };
}

function truncateToFit<M extends ThreadMessage>(m: M, budget: number, cost: (m: ThreadMessage) => number): M {
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(m.text)].map((s) => s.segment);
  const cut = (n: number): M => {
    const kept = graphemes.slice(0, n).join("").trimEnd();
    return { ...m, text: kept ? `${kept} ${TRUNCATION_MARK}` : TRUNCATION_MARK };
  };
  if (cost(cut(0)) > budget) {
    throw new RangeError(`a token budget of ${budget} cannot hold even the header of the newest message`);
  }
  // Binary search for the longest prefix that fits; the counter is not assumed monotonic, so the
  // result is checked and the search only ever returns a prefix that was measured to fit.
  let lo = 0;
  let hi = graphemes.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (cost(cut(mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}
