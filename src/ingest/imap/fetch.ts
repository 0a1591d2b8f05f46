import type { ImapFlow } from "imapflow";
import type { EntityManager } from "typeorm";
import type { Intake, MailboxRef, RawInput } from "../../pipeline/intake.js";
import { imapSourceRef } from "../../net/imapSourceRef.js";

/** Bytes fetched per batch at most, whatever the message count: memory stays bounded. */
const BATCH_BYTES = 64 * 1024 * 1024;

export interface FetchTarget {
  intake: Intake;
  mailbox: MailboxRef & { name: string };
  folder: string;
  uidValidity: string;
  /** UIDs to fetch, ascending. */
  uids: number[];
  maxMessageBytes: number;
  batchSize: number;
  /** Stop after the batch in flight: nothing fetched ahead commits, the caller fetches it again later. */
  signal?: AbortSignal;
}

export interface FetchHooks {
  /** Runs in each intake transaction with the highest UID it committed (the checkpoint). */
  inTransaction?: (em: EntityManager, lastUid: number) => Promise<void>;
  /** A batch whose messages all vanished (expunged between SEARCH and FETCH). */
  emptyBatch?: (lastUid: number) => Promise<void>;
  /** After a batch committed (flags, moves, progress). */
  committed?: (uids: number[]) => Promise<void>;
}

/**
 * Fetches the given UIDs of the selected folder in batches bounded by count and bytes, and ingests
 * each batch in one intake transaction. A message over the size limit is fetched only up to the limit
 * and quarantined with that head; it is never loaded whole.
 *
 * It halts on the first failure (fetch, commit, or a post-commit hook) and on `signal`: no batch commits
 * after that, and it returns or throws only once no commit of its own is running any more, so a caller
 * that reconnects never ingests the same UIDs next to a commit that is still in flight.
 */
export async function fetchAndIngest(client: ImapFlow, t: FetchTarget, hooks: FetchHooks = {}): Promise<void> {
  if (t.uids.length === 0 || t.signal?.aborted) return;
  // Sizes first, for every UID at once (one round trip per 5,000), so batches can be cut by bytes.
  const sizes = new Map<number, number>();
  for (let i = 0; i < t.uids.length && !t.signal?.aborted; i += 5000) {
    for await (const m of client.fetch(uidSet(t.uids.slice(i, i + 5000)), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
  }
  // Stages overlap: the next batches are fetched (IMAP) and parsed (the intake's normalizer, a worker
  // pool in the gateway) while the oldest commits (database). Commits run in UID order, one at a time,
  // so the checkpoint only ever advances over committed messages. At most AHEAD batches wait in memory.
  let halted = false;
  const halt = () => (halted = true);
  t.signal?.addEventListener("abort", halt, { once: true });
  /** done: true once the batch committed, false when it was dropped because the pipeline halted first. */
  const waiting: { batch: number[]; done: Promise<boolean> }[] = [];
  const settleOldest = async () => {
    const { batch, done } = waiting.shift()!;
    if (await done) await hooks.committed?.(batch);
  };
  let previous: Promise<unknown> = Promise.resolve();
  try {
    for (let i = 0; i < t.uids.length && !halted; ) {
      const batch: number[] = [];
      let bytes = 0;
      for (const uid of t.uids.slice(i, i + t.batchSize)) {
        const size = Math.min(sizes.get(uid) ?? 0, t.maxMessageBytes);
        if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
        batch.push(uid);
        bytes += size;
      }
      i += batch.length;
      const { inputs, uidOf } = await fetchBatch(client, t, batch, sizes);
      if (halted) break;
      const prepared = t.intake.prepare(inputs);
      prepared.catch(() => undefined); // awaited in order by its commit
      // A commit starts only after the previous one succeeded, and only while nothing has halted.
      const done = previous.then(async () => {
        if (halted) return false;
        await commitBatch(t, batch, inputs, uidOf, prepared, hooks);
        return true;
      });
      done.catch(() => undefined); // awaited by settleOldest
      previous = done;
      waiting.push({ batch, done });
      while (waiting.length >= AHEAD) await settleOldest();
    }
    while (waiting.length > 0) await settleOldest();
  } catch (err) {
    halted = true;
    // Stop the pipeline before reporting: let the commit that is running finish (or fail), start none.
    await Promise.allSettled(waiting.map((w) => w.done));
    throw err;
  } finally {
    t.signal?.removeEventListener("abort", halt);
  }
}

/** Batches fetched and parsed ahead of the one committing. */
const AHEAD = 3;

/** "1:5,7,9:12" for a sorted list of UIDs: short commands for long runs. */
export function uidSet(uids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    parts.push(j > i ? `${uids[i]}:${uids[j]}` : String(uids[i]));
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * UIDs first..last except `skip`, as a UID set ("5:6,8:10"); null when none is left. The UIDs in between
 * need not exist: UID commands ignore the ones that do not.
 */
export function uidRangeExcept(first: number, last: number, skip: number[]): string | null {
  const holes = [...new Set(skip)].filter((u) => u >= first && u <= last).sort((a, b) => a - b);
  const parts: string[] = [];
  let from = first;
  for (const hole of [...holes, last + 1]) {
    if (hole > from) parts.push(hole - 1 > from ? `${from}:${hole - 1}` : String(from));
    from = hole + 1;
  }
  return parts.length ? parts.join(",") : null;
}

// Where an IMAP message came from (the sourceRef format) lives in src/net: outbound reads it too.
export { imapSourceRef, parseImapSourceRef, type ImapSource } from "../../net/imapSourceRef.js";

async function fetchBatch(client: ImapFlow, t: FetchTarget, batch: number[], sizes: Map<number, number>): Promise<{ inputs: RawInput[]; uidOf: Map<RawInput, number> }> {
  const uidOf = new Map<RawInput, number>();
  const inputs: RawInput[] = [];
  const sourceRef = (uid: number) => imapSourceRef({ mailbox: t.mailbox.name, folder: t.folder, uidValidity: t.uidValidity, uid });
  const normal = batch.filter((u) => (sizes.get(u) ?? 0) <= t.maxMessageBytes);
  const big = batch.filter((u) => (sizes.get(u) ?? 0) > t.maxMessageBytes);
  if (normal.length > 0) {
    for await (const m of client.fetch(uidSet(normal), { uid: true, source: true, internalDate: true }, { uid: true })) {
      if (!m.source) continue;
      const input: RawInput = { raw: m.source, source: "imap", sourceRef: sourceRef(m.uid), receivedAt: m.internalDate instanceof Date ? m.internalDate : undefined };
      uidOf.set(input, m.uid);
      inputs.push(input);
    }
  }
  for (const uid of big) {
    // Never load an oversized message whole: keep its head for the quarantine entry.
    for await (const m of client.fetch(String(uid), { uid: true, source: { start: 0, maxLength: t.maxMessageBytes } }, { uid: true })) {
      const input: RawInput = { raw: m.source ?? Buffer.alloc(0), source: "imap", sourceRef: sourceRef(uid), declaredSize: sizes.get(uid) };
      uidOf.set(input, uid);
      inputs.push(input);
    }
  }
  inputs.sort((a, b) => uidOf.get(a)! - uidOf.get(b)!);
  return { inputs, uidOf };
}

async function commitBatch(
  t: FetchTarget,
  batch: number[],
  inputs: RawInput[],
  uidOf: Map<RawInput, number>,
  prepared: ReturnType<Intake["prepare"]>,
  hooks: FetchHooks,
): Promise<void> {
  const last = batch[batch.length - 1]!;
  if (inputs.length === 0) {
    await hooks.emptyBatch?.(last);
    return;
  }
  await t.intake.commit(t.mailbox, await prepared, async (em, committed) => {
    // When the whole batch commits, its last UID is done even if some messages vanished (gaps).
    const top = committed.length === inputs.length ? last : Math.max(...committed.map((c) => uidOf.get(c) ?? 0));
    await hooks.inTransaction?.(em, top);
  });
}
