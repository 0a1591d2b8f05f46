import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Express } from "express";
import { pino } from "pino";
import request from "supertest";
import { parse } from "yaml";
import { packageRoot } from "../../../src/config/paths.js";
import { Metrics } from "../../../src/obs/metrics.js";
import { hashPassword } from "../../../src/review/passwords.js";
import type { Store } from "../../../src/store/store.js";
import { createApiToken, revokeApiToken } from "../../../src/store/apiTokens.js";
import { addToTeam } from "../../../src/store/teams.js";
import { addUser } from "../../../src/store/users.js";
import { createApp } from "../../../src/web/app.js";
import { freshSqlite, type TestDatabase } from "../../support/db.js";
import { Store as StoreClass } from "../../../src/store/store.js";
import { customerMail, outboxRows, pendingDraft, reviewConfig } from "../review/helpers.js";

type Spec = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> } | { $ref: string }> }>
  >;
};

const spec = parse(readFileSync(join(packageRoot, "src", "web", "openapi.yaml"), "utf8")) as Spec & { components: unknown };
const PASSWORD = "correct horse battery staple";

/** The /api routes the app registered, as "GET /api/conversations/{id}". */
function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${layer.route.path.replace(/:(\w+)/gu, "{$1}")}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack as never);
    }
  };
  walk((app as unknown as { router: { stack: never[] } }).router.stack);
  return out.filter((r) => r.split(" ")[1]!.startsWith("/api/")).sort();
}

describe("JSON API: the OpenAPI file matches the routes and the responses", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let store: Store;
  let app: Express;
  // Formats (date-time) are not checked: ajv-formats is not a dependency; the types and required keys are.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: "openapi", components: spec.components });

  /** Validates a response body against the file's schema for this path, method and status. */
  const check = (path: string, method: string, status: number, body: unknown) => {
    const op = spec.paths[path]?.[method];
    assert.ok(op, `${method.toUpperCase()} ${path} is in the OpenAPI file`);
    let resp = op.responses[String(status)];
    assert.ok(resp, `${method.toUpperCase()} ${path} documents status ${status}`);
    if ("$ref" in resp) resp = (spec.components as { responses: Record<string, never> }).responses[resp.$ref.split("/").pop()!]!;
    const schema = resp.content?.["application/json"]?.schema;
    assert.ok(schema, "a JSON schema");
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')) as object);
    assert.ok(validate(JSON.parse(JSON.stringify(body))), `${method.toUpperCase()} ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
  };

  before(async () => {
    db = await freshSqlite();
    store = await StoreClass.open(db.url);
    await store.migrate();
    app = createApp({ store, config: reviewConfig(), metrics: new Metrics(null), log: pino({ level: "silent" }) });
    await addUser(store, { email: "rita@team.example", role: "reviewer", passwordHash: await hashPassword(PASSWORD) }, "test");
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  it("documents exactly the /api routes the app serves", () => {
    const documented = Object.entries(spec.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    assert.deepEqual(registeredRoutes(app), documented);
  });

  it("answers as documented: 401 without a session, then me, queue, a conversation, approve, 409 twice, 404 for another team", async () => {
    const anon = await request(app).get("/api/queue");
    assert.equal(anon.status, 401);
    check("/api/queue", "get", 401, anon.body);

    const mine = await customerMail(store, { mailbox: "support", subject: "Order 5 is late" });
    const other = await customerMail(store, { mailbox: "billing", subject: "Invoice" });
    const draftId = await pendingDraft(store, mine, "We are on it.");
    const otherDraft = await pendingDraft(store, other, "About the invoice.");
    await addToTeam(store, "front", { email: "rita@team.example", mailbox: "support" }, "test");

    const agent = request.agent(app);
    const form = await agent.get("/login");
    const token = /name="_csrf" value="([^"]+)"/u.exec(form.text)![1]!;
    await agent.post("/login").type("form").send({ _csrf: token, email: "rita@team.example", password: PASSWORD });

    const me = await agent.get("/api/me");
    assert.equal(me.status, 200);
    check("/api/me", "get", 200, me.body);
    const csrf = (me.body as { csrfToken: string }).csrfToken;

    const queue = await agent.get("/api/queue");
    check("/api/queue", "get", 200, queue.body);
    assert.deepEqual(
      (queue.body as { rows: { id: number }[] }).rows.map((r) => r.id),
      [mine.conversationId],
    );

    const conv = await agent.get(`/api/conversations/${mine.conversationId}`);
    check("/api/conversations/{id}", "get", 200, conv.body);
    const hidden = await agent.get(`/api/conversations/${other.conversationId}`);
    assert.equal(hidden.status, 404);
    check("/api/conversations/{id}", "get", 404, hidden.body);

    assert.equal(
      (await agent.post(`/api/drafts/${draftId}/approve`).send({ body: "We are on it: it ships today." })).status,
      403,
      "no CSRF header",
    );
    const approved = await agent
      .post(`/api/drafts/${draftId}/approve`)
      .set("X-CSRF-Token", csrf)
      .send({ body: "We are on it: it ships today." });
    assert.equal(approved.status, 201, JSON.stringify(approved.body));
    check("/api/drafts/{id}/approve", "post", 201, approved.body);
    const twice = await agent.post(`/api/drafts/${draftId}/approve`).set("X-CSRF-Token", csrf).send({});
    assert.equal(twice.status, 409);
    check("/api/drafts/{id}/approve", "post", 409, twice.body);
    const foreign = await agent.post(`/api/drafts/${otherDraft}/approve`).set("X-CSRF-Token", csrf).send({});
    assert.equal(foreign.status, 404);
    assert.equal((await outboxRows(store)).length, 1);

    const assign = await agent.post(`/api/conversations/${mine.conversationId}/assign`).set("X-CSRF-Token", csrf).send({ to: "me" });
    check("/api/conversations/{id}/assign", "post", 200, assign.body);
    const status = await agent
      .post(`/api/conversations/${mine.conversationId}/status`)
      .set("X-CSRF-Token", csrf)
      .send({ status: "closed" });
    check("/api/conversations/{id}/status", "post", 200, status.body);
    const note = await agent
      .post(`/api/conversations/${mine.conversationId}/notes`)
      .set("X-CSRF-Token", csrf)
      .send({ body: "Customer is a VIP." });
    check("/api/conversations/{id}/notes", "post", 201, note.body);
    const prio = await agent
      .post(`/api/conversations/${mine.conversationId}/priority`)
      .set("X-CSRF-Token", csrf)
      .send({ priority: "urgent" });
    check("/api/conversations/{id}/priority", "post", 200, prio.body);
    const after = await agent.get(`/api/conversations/${mine.conversationId}`);
    check("/api/conversations/{id}", "get", 200, after.body);
    const a = after.body as { conversation: { priority: string }; notes: { body: string; author: string }[] };
    assert.equal(a.conversation.priority, "urgent");
    assert.deepEqual(
      a.notes.map((n) => [n.author, n.body]),
      [["rita@team.example", "Customer is a VIP."]],
    );
  });

  it("takes API tokens: read may only GET, write may act (no CSRF header, no cookie), a revoked or unknown one is 401", async () => {
    const reader = await createApiToken(store, { email: "rita@team.example", name: "dashboard", scope: "read" }, "test");
    const writer = await createApiToken(store, { email: "rita@team.example", name: "bot", scope: "write" }, "test");
    const conv = await customerMail(store, { mailbox: "support", subject: "Via a token" });
    const draftId = await pendingDraft(store, conv, "Token reply.");
    const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
    const queue = await request(app).get("/api/queue?status=open").set(bearer(reader!.token));
    assert.equal(queue.status, 200);
    check("/api/queue", "get", 200, queue.body);
    assert.equal((await request(app).post(`/api/drafts/${draftId}/approve`).set(bearer(reader!.token)).send({})).status, 403);
    const approved = await request(app).post(`/api/drafts/${draftId}/approve`).set(bearer(writer!.token)).send({});
    assert.equal(approved.status, 201, JSON.stringify(approved.body));
    check("/api/drafts/{id}/approve", "post", 201, approved.body);
    assert.equal(await revokeApiToken(store, writer!.id, "test"), true);
    assert.equal((await request(app).get("/api/queue").set(bearer(writer!.token))).status, 401);
    assert.equal(
      (
        await request(app)
          .get("/api/queue")
          .set(bearer("dg_" + "x".repeat(43)))
      ).status,
      401,
    );
    const rows = await store.read((em) => em.query<{ tokenHash: string }[]>("SELECT tokenHash FROM api_tokens"));
    assert.ok(
      rows.every((r) => r.tokenHash.length === 64 && r.tokenHash !== reader!.token),
      "only hashes are stored",
    );
  });
});
