import assert from "node:assert/strict";
import type { ImapFlow } from "imapflow";
import { initialCheckpoint } from "../../../src/ingest/imap/checkpoint.js";
import { fetchAndIngest, uidRangeExcept, type FetchTarget } from "../../../src/ingest/imap/fetch.js";
import type { Intake, IntakeOutcome, PreparedBatch } from "../../../src/pipeline/intake.js";

/** UIDs named by an IMAP sequence set ("1:5,7"). */
function parseSet(set: string): number[] {
  return set.split(",").flatMap((part) => {
    const [a, b] = part.split(":").map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}

/** Just enough of imapflow for fetchAndIngest: FETCH of sizes and sources for the UIDs that exist. */
function fakeClient(uids: number[]): ImapFlow {
  const present = new Set(uids);
  return {
    async *fetch(set: string, query: { size?: boolean; source?: boolean }) {
      for (const uid of parseSet(set)) {
        if (!present.has(uid)) continue;
        yield query.source ? { uid, source: Buffer.from(`Subject: ${uid}\r\n\r\nbody\r\n`) } : { uid, size: 100 };
      }
    },
  } as unknown as ImapFlow;
}

/** An intake that records which batches it committed (by first UID) and whether fetchAndIngest had already returned. */
function fakeIntake(state: { commits: number[]; afterReturn: number }, ended: () => boolean): Intake {
  return {
    prepare: async (inputs: unknown[]) => inputs as unknown as PreparedBatch,
    commit: async (_mailbox: unknown, prepared: PreparedBatch, inTx?: (em: never, committed: never) => Promise<void>) => {
      // A little work per commit, like a database round trip.
      await new Promise((r) => setImmediate(r));
      if (ended()) state.afterReturn++;
      state.commits.push(Number(/UID=(\d+)/.exec((prepared[0] as unknown as { sourceRef: string }).sourceRef)![1]));
      await inTx?.({} as never, prepared as never);
      return prepared.map(() => ({ kind: "stored" }) as IntakeOutcome);
    },
  } as unknown as Intake;
}

const target = (intake: Intake, uids: number[], signal?: AbortSignal): FetchTarget => ({
  ...(signal ? { signal } : {}),
  intake,
  mailbox: { id: 1, name: "support", address: "support@example.com" },
  folder: "INBOX",
  uidValidity: "7",
  uids,
  maxMessageBytes: 1_000_000,
  batchSize: 5,
});

/** Lets every queued promise chain run out (the fakes need a few turns each). */
const quiesce = async () => {
  for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
};

describe("fetchAndIngest pipeline", () => {
  it("stops committing before it reports a failed post-commit step (\\Seen, move)", async () => {
    const uids = Array.from({ length: 60 }, (_, i) => i + 1);
    let ended = false;
    const state = { commits: [] as number[], afterReturn: 0 };
    const run = fetchAndIngest(fakeClient(uids), target(fakeIntake(state, () => ended), uids), {
      committed: async () => {
        throw new Error("connection lost while adding \\Seen");
      },
    }).finally(() => (ended = true));
    await assert.rejects(run, /connection lost/);
    const atReturn = state.commits.length;
    await quiesce();
    assert.equal(state.afterReturn, 0, `batches committed after fetchAndIngest failed (committed ${atReturn}, then ${state.commits.length})`);
    assert.ok(state.commits.length <= 2, `only the batch whose post-commit step failed and the one already committing may commit, got ${state.commits.length}`);
  });
});

describe("fetchAndIngest stopping", () => {
  it("commits the batch in flight when asked to stop, nothing fetched ahead, and returns", async () => {
    const uids = Array.from({ length: 60 }, (_, i) => i + 1);
    const stop = new AbortController();
    let ended = false;
    const state = { commits: [] as number[], afterReturn: 0 };
    const hooked: number[] = [];
    await fetchAndIngest(fakeClient(uids), target(fakeIntake(state, () => ended), uids, stop.signal), {
      inTransaction: async () => stop.abort(), // asked to stop while the first batch commits
      committed: async (batch) => void hooked.push(batch[0]!),
    }).finally(() => (ended = true));
    await quiesce();
    assert.deepEqual(state.commits, [1]);
    assert.deepEqual(hooked, [1], "the committed batch still gets its post-commit step");
    assert.equal(state.afterReturn, 0);
  });
});

describe("initialCheckpoint", () => {
  const search = (result: unknown) => ({ search: async () => result }) as never;

  it("finds the first UID of a `since` window among a million matches without overflowing the stack", async () => {
    const uids = Array.from({ length: 1_000_000 }, (_, i) => i + 5);
    const cp = await initialCheckpoint(search(uids), { since: 7 }, "1", 1_000_010);
    assert.deepEqual(cp, { uidValidity: "1", lastUid: 4, firstUid: 5, highestModseq: null });
  });

  it("takes the MIN of an ESEARCH answer, and starts at UIDNEXT without a match", async () => {
    assert.equal((await initialCheckpoint(search({ min: 42, count: 3 }), { since: 7 }, "1", 100)).firstUid, 42);
    assert.equal((await initialCheckpoint(search({ count: 0 }), { since: 7 }, "1", 100)).firstUid, 100);
    assert.equal((await initialCheckpoint(search([]), { since: 7 }, "1", 100)).lastUid, 99);
    await assert.rejects(initialCheckpoint(search(false), { since: 7 }, "1", 100), /refused SEARCH SINCE/);
  });

  it("owns everything with `all` and only what arrives with `new-only`", async () => {
    assert.deepEqual(await initialCheckpoint(search([]), "all", "9", 50), { uidValidity: "9", lastUid: 0, firstUid: 1, highestModseq: null });
    assert.deepEqual(await initialCheckpoint(search([]), "new-only", "9", 50), { uidValidity: "9", lastUid: 49, firstUid: 50, highestModseq: null });
  });
});

describe("uidRangeExcept", () => {
  it("names first:last without the given UIDs", () => {
    assert.equal(uidRangeExcept(1, 10, []), "1:10");
    assert.equal(uidRangeExcept(4, 10, [4, 7, 12, 2]), "5:6,8:10");
    assert.equal(uidRangeExcept(5, 5, [5]), null);
    assert.equal(uidRangeExcept(6, 5, []), null);
    assert.equal(uidRangeExcept(1, 3, [3]), "1:2");
  });
});
