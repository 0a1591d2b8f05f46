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
  for (let i = 0; i < t.uids.length; ) {
    const probe = t.uids.slice(i, i + t.batchSize);
    const sizes = new Map<number, number>();
    for await (const m of client.fetch(probe.join(","), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
    const batch: number[] = [];
    let bytes = 0;
    for (const uid of probe) {
      const size = Math.min(sizes.get(uid) ?? 0, t.maxMessageBytes);
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      batch.push(uid);
      bytes += size;
    }
    await ingestBatch(client, t, batch, sizes, hooks);
    await hooks.committed?.(batch);
    i += batch.length;
  }
}

async function ingestBatch(client: ImapFlow, t: FetchTarget, batch: number[], sizes: Map<number, number>, hooks: FetchHooks): Promise<void> {
  const uidOf = new Map<RawInput, number>();
  const inputs: RawInput[] = [];
  const sourceRef = (uid: number) => `imap:${t.mailbox.name}/${t.folder};UIDVALIDITY=${t.uidValidity};UID=${uid}`;
  const normal = batch.filter((u) => (sizes.get(u) ?? 0) <= t.maxMessageBytes);
  const big = batch.filter((u) => (sizes.get(u) ?? 0) > t.maxMessageBytes);
  if (normal.length > 0) {
    for await (const m of client.fetch(normal.join(","), { uid: true, source: true, internalDate: true }, { uid: true })) {
      if (!m.source) continue;
      const input: RawInput = { raw: m.source, source: "imap", sourceRef: sourceRef(m.uid), receivedAt: m.internalDate instanceof Date ? m.internalDate : undefined };
      uidOf.set(input, m.uid);
      inputs.push(input);
    }
  }
  for (const uid of big) {
    for await (const m of client.fetch(String(uid), { uid: true, source: { start: 0, maxLength: t.maxMessageBytes } }, { uid: true })) {
      const input: RawInput = { raw: m.source ?? Buffer.alloc(0), source: "imap", sourceRef: sourceRef(uid), declaredSize: sizes.get(uid) };
      uidOf.set(input, uid);
      inputs.push(input);
    }
  }
  const last = batch[batch.length - 1]!;
  if (inputs.length === 0) {
    await hooks.emptyBatch?.(last);
    return;
  }
  inputs.sort((a, b) => uidOf.get(a)! - uidOf.get(b)!);
  await t.intake.ingest(t.mailbox, inputs, async (em, committed) => {
    // When the whole batch commits, its last UID is done even if some messages vanished (gaps).
    const top = committed.length === inputs.length ? last : Math.max(...committed.map((c) => uidOf.get(c) ?? 0));
    await hooks.inTransaction?.(em, top);
  });
}
