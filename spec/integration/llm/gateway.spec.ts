import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ThreadView } from "../../../src/cli/commands/threads.js";
import type { DraftRow } from "../../../src/store/entities/review.js";
import { Store } from "../../../src/store/store.js";
import { runCli, waitFor } from "../../support/cli.js";
import { compose } from "../../support/compose.js";
import { freshSqlite } from "../../support/db.js";

describe("the gateway with a local model, as a user runs it", function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "draftgate-llm-gw-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const llmEnv = (model: string) => ({
    DRAFTGATE_LLM__MODEL: model,
    DRAFTGATE_LLM__GPU: "false",
    DRAFTGATE_LLM__THREADS: "1",
    DRAFTGATE_LLM__PARALLEL: "2",
    DRAFTGATE_LLM__CONTEXT_SIZE: "4096",
    DRAFTGATE_LLM__MAX_DRAFT_TOKENS: "32",
    DRAFTGATE_JOBS__POLL_INTERVAL_MS: "100",
  });

  it("imports mail, triages it and drafts replies; threads --json shows both", async () => {
    const model = join(dir, "tiny.gguf");
    const made = await runCli(["model", "make-test", model], {});
    assert.equal(made.code, 0, made.stderr);
    const db = await freshSqlite();
    const mails = join(dir, "mails");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(mails);
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(mails, `${i}.eml`), await compose({ messageId: `<gw${i}@example.org>`, from: `c${i}@example.org`, to: "support@example.com", subject: `Help ${i}`, text: `Please help with ${i}.` }));
    }
    const env = { DATABASE_URL: db.url, ...llmEnv(model), DRAFTGATE_HTTP__PORT: "0", DRAFTGATE_HTTP__HOST: "127.0.0.1" };
    assert.equal((await runCli(["import", "--mailbox", "support", "--json", mails], env)).code, 0);
    const store = await Store.open(db.url);
    const gateway = runCli(["start"], env);
    try {
      await waitFor(async () => (await store.read((em) => em.getRepository<DraftRow>("Draft").countBy({ status: "pending" }))) === 3 || gateway.child.exitCode !== null, 240_000, "3 drafts");
    } finally {
      gateway.child.kill("SIGTERM");
      await gateway;
      await store.close();
    }
    const threads = JSON.parse((await runCli(["threads", "--json"], env)).stdout) as ThreadView[];
    assert.equal(threads.length, 3);
    for (const t of threads) {
      assert.ok(t.triage, `triage of ${t.subject}`);
      assert.ok(["model", "model+rules"].includes(t.triage.decidedBy));
      assert.equal(t.draft?.origin, "model");
      assert.equal(t.draft?.status, "pending");
    }
    await db.drop();
  });

  it("names a corrupt model in doctor and start, and keeps ingesting", async () => {
    const broken = join(dir, "broken.gguf");
    writeFileSync(broken, Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(128, 3)]));
    const db = await freshSqlite();
    const env = { DATABASE_URL: db.url, ...llmEnv(broken), DRAFTGATE_HTTP__PORT: "0", DRAFTGATE_HTTP__HOST: "127.0.0.1", DRAFTGATE_LOG__LEVEL: "info", DRAFTGATE_LOG__PRETTY: "never" };
    const doctor = await runCli(["doctor"], env);
    assert.equal(doctor.code, 1);
    assert.match(doctor.stdout, /FAIL +model: cannot load model .*broken\.gguf/);
    const gateway = runCli(["start"], env);
    let stderr = "";
    gateway.child.stderr!.on("data", (c) => (stderr += c));
    try {
      await waitFor(() => /cannot load model/.test(stderr) || gateway.child.exitCode !== null, 60_000, "the model error in the log");
      assert.match(stderr, /Triage runs on rules only and drafts come from reply templates/);
      const mail = join(dir, "one.eml");
      writeFileSync(mail, await compose({ messageId: "<broken1@example.org>", from: "x@example.org", to: "support@example.com", subject: "Still in", text: "hi" }));
      const imported = await runCli(["import", "--mailbox", "support", "--json", mail], env);
      assert.equal((JSON.parse(imported.stdout.trim().split("\n").pop()!) as { stored: number }).stored, 1);
    } finally {
      gateway.child.kill("SIGTERM");
      await gateway;
      await db.drop();
    }
  });
});

describe("draftgate model pull and model info", function () {
  this.timeout(120_000);
  it("downloads a model from a URL into llm.modelsDir and finds it offline afterwards", async () => {
    const { createServer } = await import("node:http");
    const { readFileSync, existsSync } = await import("node:fs");
    const dir = mkdtempSync(join(tmpdir(), "draftgate-pull-"));
    const source = join(dir, "source.gguf");
    assert.equal((await runCli(["model", "make-test", source], {})).code, 0);
    const bytes = readFileSync(source);
    const server = createServer((req, res) => {
      // Range requests are how an interrupted download resumes.
      const range = /bytes=(\d+)-/.exec(req.headers.range ?? "");
      const start = range ? Number(range[1]) : 0;
      res.writeHead(range ? 206 : 200, { "content-length": bytes.length - start, "accept-ranges": "bytes", "content-type": "application/octet-stream", ...(range ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}) });
      res.end(bytes.subarray(start));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/models/tiny.gguf`;
      const env = { DRAFTGATE_LLM__MODEL: url, DRAFTGATE_LLM__MODELS_DIR: join(dir, "models"), DRAFTGATE_LLM__GPU: "false", DRAFTGATE_LLM__THREADS: "1", DRAFTGATE_LLM__CONTEXT_SIZE: "1024", DRAFTGATE_LLM__PARALLEL: "1" };
      const before = await runCli(["model", "info"], env);
      assert.match(before.stdout, /not downloaded yet: run `draftgate model pull`/);
      const pulled = await runCli(["model", "pull"], env);
      assert.equal(pulled.code, 0, pulled.stderr);
      const path = pulled.stdout.split(" is at ")[1]!.trim();
      assert.ok(existsSync(path) && readFileSync(path).equals(bytes));
      const info = await runCli(["model", "info", "--json"], env);
      const parsed = JSON.parse(info.stdout) as { state: string; architecture: string; trainedContext: number; gpuLayers: number };
      assert.equal(parsed.state, "ready");
      assert.equal(parsed.architecture, "llama");
      assert.equal(parsed.trainedContext, 4096);
      assert.equal(parsed.gpuLayers, 0);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
