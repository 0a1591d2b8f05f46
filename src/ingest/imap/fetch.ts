import type { ImapFlow } from "imapflow";
import type { EntityManager } from "typeorm";
import type { Intake, MailboxRef, RawInput } from "../../pipeline/intake.js";

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
 */
export async function fetchAndIngest(client: ImapFlow, t: FetchTarget, hooks: FetchHooks = {}): Promise<void> {
  if (t.uids.length === 0) return;
  // Sizes first, for every UID at once (one round trip), so batches can be cut by bytes.
  const sizes = new Map<number, number>();
  for (let i = 0; i < t.uids.length; i += 5000) {
    for await (const m of client.fetch(uidSet(t.uids.slice(i, i + 5000)), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
  }
  // Stages overlap: the next batches are fetched (IMAP) and parsed (the intake's normalizer, a worker
  // pool in the gateway) while the oldest commits (database). Commits run in UID order, one at a time,
  // so the checkpoint only ever advances over committed messages. At most AHEAD batches wait in memory.
  const waiting: { batch: number[]; done: Promise<void> }[] = [];
  const settleOldest = async () => {
    const { batch, done } = waiting.shift()!;
    await done;
    await hooks.committed?.(batch);
  };
  let previous: Promise<void> = Promise.resolve();
  try {
    for (let i = 0; i < t.uids.length; ) {
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
      const prepared = t.intake.prepare(inputs);
      prepared.catch(() => undefined); // awaited in order by its commit
      const after = previous;
      const done = after.then(() => commitBatch(t, batch, inputs, uidOf, prepared, hooks));
      done.catch(() => undefined); // awaited by settleOldest
      previous = done;
      waiting.push({ batch, done });
      while (waiting.length >= AHEAD) await settleOldest();
    }
  } finally {
    while (waiting.length > 0) await settleOldest();
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

async function fetchBatch(client: ImapFlow, t: FetchTarget, batch: number[], sizes: Map<number, number>): Promise<{ inputs: RawInput[]; uidOf: Map<RawInput, number> }> {
  const uidOf = new Map<RawInput, number>();
  const inputs: RawInput[] = [];
  const sourceRef = (uid: number) => `imap:${t.mailbox.name}/${t.folder};UIDVALIDITY=${t.uidValidity};UID=${uid}`;
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
