import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { readMbox } from "../../../src/ingest/import/mbox.js";
import { expandImportPaths, readImportFiles } from "../../../src/ingest/import/sources.js";

const dir = mkdtempSync(join(tmpdir(), "draftgate-mbox-"));
async function collect(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const item of readMbox(path)) out.push(item.raw.toString("latin1"));
  return out;
}

describe("mbox reader", () => {
  it("splits at From_ lines after a blank line and undoes >From quoting", async () => {
    const p = join(dir, "a.mbox");
    writeFileSync(
      p,
      "From a@example.org Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\n>From the start\n>>From deeper\n\n" +
        "From b@example.org Mon Jan  1 00:00:01 2024\nSubject: two\n\nFrom here the line is no separator\n",
    );
    const msgs = await collect(p);
    assert.equal(msgs.length, 2);
    assert.equal(msgs[0], "Subject: one\n\nbody\nFrom the start\n>From deeper\n");
    assert.equal(msgs[1], "Subject: two\n\nFrom here the line is no separator\n");
  });

  it("keeps CRLF bytes as they are", async () => {
    const p = join(dir, "crlf.mbox");
    writeFileSync(p, "From x Mon Jan  1 00:00:00 2024\r\nSubject: crlf\r\n\r\nhi\r\n");
    assert.deepEqual(await collect(p), ["Subject: crlf\r\n\r\nhi\r\n"]);
  });

  it("rejects a file that does not start with a From_ line", async () => {
    const p = join(dir, "not.mbox");
    writeFileSync(p, "Subject: plain\n\nbody\n");
    await assert.rejects(collect(p), /not an mbox/);
  });

  it("round-trips any bodies through mboxrd quoting, whatever the chunking", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.constantFrom("From x", ">From y", "text", "", ">>From z", "From"), { maxLength: 8 }), { minLength: 1, maxLength: 5 }), async (bodies) => {
        const messages = bodies.map((lines, i) => `Subject: m${i}\n\n${lines.map((l) => l + "\n").join("")}`);
        const quote = (m: string) => m.replace(/^(>*From )/gm, ">$1");
        const file = messages.map((m) => `From sender Mon Jan  1 00:00:00 2024\n${quote(m)}\n`).join("");
        const p = join(dir, `p.mbox`);
        writeFileSync(p, file);
        const got = await collect(p);
        assert.deepEqual(got, messages.map((m) => m.replace(/\n$/, "\n")));
      }),
      { numRuns: 100 },
    );
  });
});

describe("import path expansion", () => {
  it("reads Maildir cur/ and new/ but not tmp/, folders recursively, and sniffs mbox by content", async () => {
    const root = join(dir, "tree");
    for (const sub of ["md/cur", "md/new", "md/tmp", "plain/deeper"]) mkdirSync(join(root, sub), { recursive: true });
    writeFileSync(join(root, "md/cur/1:2,S"), "Subject: cur\n\nx\n");
    writeFileSync(join(root, "md/new/2"), "Subject: new\n\nx\n");
    writeFileSync(join(root, "md/tmp/3"), "Subject: partial\n\nx\n");
    writeFileSync(join(root, "plain/deeper/a.eml"), "Subject: eml\n\nx\n");
    writeFileSync(join(root, "plain/box.txt"), "From a Mon Jan  1 00:00:00 2024\nSubject: in mbox\n\nx\n");
    writeFileSync(join(root, "plain/.hidden"), "Subject: hidden\n\nx\n");
    const files = await expandImportPaths([root]);
    assert.deepEqual(
      files.map((f) => [f.path.slice(root.length + 1), f.format]),
      [["md/cur/1:2,S", "eml"], ["md/new/2", "eml"], ["plain/box.txt", "mbox"], ["plain/deeper/a.eml", "eml"]],
    );
    const subjects: string[] = [];
    for await (const item of readImportFiles(files)) subjects.push(item.raw.toString().split("\n")[0]!);
    assert.deepEqual(subjects, ["Subject: cur", "Subject: new", "Subject: in mbox", "Subject: eml"]);
  });
});
