import assert from "node:assert/strict";
import { expandImportPaths, readImportFiles } from "../../../src/ingest/import/sources.js";
import type { IntakeOutcome, RawInput } from "../../../src/pipeline/intake.js";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import type { JobRow } from "../../../src/store/entities/work.js";
import { corpusDir } from "../../support/corpus.js";
import { dialects, useStore } from "../../support/db.js";
import { testIntake } from "../../support/intake.js";

async function readCorpus(): Promise<RawInput[]> {
  const inputs: RawInput[] = [];
  for await (const item of readImportFiles(await expandImportPaths([corpusDir]))) {
    inputs.push({ raw: item.raw, source: "import", sourceRef: item.sourceRef });
  }
  return inputs;
}

async function ingestAll(ingest: (i: RawInput[]) => Promise<IntakeOutcome[]>, inputs: RawInput[]): Promise<IntakeOutcome[]> {
  const out: IntakeOutcome[] = [];
  for (let i = 0; i < inputs.length; i += 50) out.push(...(await ingest(inputs.slice(i, i + 50))));
  return out;
}

const BOUNCE = /sisimai\/maildir\/bsd\/(lhost-|rhost-|rfc3464-|arf-)/;
const AUTO_REPLY = /sisimai\/maildir\/bsd\/rfc3834-/;
// Bounces that no loop rule catches would be listed here. (Hotmail's JMRP complaints arf-22 and arf-24
// were: their "complaint about message from <IP>" subject now marks them as reports.)
const NO_SIGNAL = new Set<string>();
const hasSignal = (r: MessageRow) => !NO_SIGNAL.has((r.sourceRef ?? "").split("/").pop()!);

for (const d of dialects) {
  describe(`intake of the third-party corpus (${d.name})`, function () {
    this.timeout(300_000);
    const db = useStore(d.fresh, "all");
    let inputs: RawInput[];
    let first: IntakeOutcome[];
    let rows: MessageRow[];

    before(async () => {
      inputs = await readCorpus();
      const { ingest } = await testIntake(db.store);
      first = await ingestAll(ingest, inputs);
      rows = await db.store.read((em) => em.getRepository<MessageRow>("Message").find({ select: { id: true, sourceRef: true, automated: true, automatedReason: true, direction: true, headers: true } }));
    });

    it("stores or quarantines every message without crashing", async () => {
      assert.ok(inputs.length > 600, `corpus has ${inputs.length} messages`);
      assert.equal(first.length, inputs.length);
      const stored = first.filter((o) => o.kind === "stored").length;
      const quarantined = first.filter((o) => o.kind === "quarantined").length;
      const duplicates = first.filter((o) => o.kind === "duplicate");
      // The corpus holds byte-identical copies of some messages; each duplicate points at the stored copy.
      for (const dup of duplicates) assert.ok(dup.kind === "duplicate");
      const counts = await db.store.read(async (em) => ({
        messages: await em.getRepository("Message").count(),
        quarantine: await em.getRepository("Quarantine").count(),
      }));
      assert.equal(counts.messages, stored);
      assert.equal(counts.quarantine, quarantined);
      assert.ok(stored > 400, `only ${stored} stored`);
    });

    it("stores nothing new when the same corpus is ingested again", async () => {
      const before = await db.store.read(async (em) => [await em.getRepository("Message").count(), await em.getRepository("Quarantine").count(), await em.getRepository("Job").count()]);
      const { ingest } = await testIntake(db.store);
      const again = await ingestAll(ingest, inputs);
      assert.deepEqual(
        again.filter((o) => o.kind !== "duplicate").map((o, i) => `${o.kind}: ${inputs[i]!.sourceRef}`),
        [],
      );
      const after = await db.store.read(async (em) => [await em.getRepository("Message").count(), await em.getRepository("Quarantine").count(), await em.getRepository("Job").count()]);
      assert.deepEqual(after, before);
    });

    it("marks bounces, auto-replies and list mail automated", () => {
      const bounces = rows.filter((r) => BOUNCE.test(r.sourceRef ?? "") && hasSignal(r));
      const replies = rows.filter((r) => AUTO_REPLY.test(r.sourceRef ?? ""));
      const lists = rows.filter((r) => Object.keys(r.headers).some((h) => h.startsWith("list-")));
      assert.ok(bounces.length > 200 && replies.length >= 1 && lists.length >= 1);
      assert.deepEqual(bounces.filter((r) => !r.automated).map((r) => r.sourceRef), []);
      assert.deepEqual(replies.filter((r) => !r.automated).map((r) => r.sourceRef), []);
      assert.deepEqual(lists.filter((r) => !r.automated).map((r) => r.sourceRef), []);
    });

    it("queues triage for human inbound mail and never for automated mail", async () => {
      const jobs = await db.store.read((em) => em.getRepository<JobRow>("Job").find({ where: { type: "triage" } }));
      const jobFor = new Set(jobs.map((j) => j.payload.messageRowId as number));
      const shouldHave = rows.filter((r) => !r.automated && r.direction === "inbound").map((r) => r.id);
      assert.deepEqual(rows.filter((r) => r.automated && jobFor.has(r.id)).map((r) => r.sourceRef), []);
      assert.deepEqual(shouldHave.filter((id) => !jobFor.has(id)), []);
      assert.equal(jobs.length, shouldHave.length);
    });
  });
}
