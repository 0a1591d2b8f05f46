import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { Metrics } from "../../../src/obs/metrics.js";
import { hashPassword } from "../../../src/review/passwords.js";
import { appendEvent } from "../../../src/store/events.js";
import { Store } from "../../../src/store/store.js";
import { addToTeam } from "../../../src/store/teams.js";
import { addUser } from "../../../src/store/users.js";
import { createApp } from "../../../src/web/app.js";
import { listen } from "../../../src/web/listen.js";
import { freshSqlite, type TestDatabase } from "../../support/db.js";
import { customerMail, outboxRows, pendingDraft, reviewConfig, type Customer } from "../review/helpers.js";

const PASSWORD = "correct horse battery staple";

/** Logs in with fetch; returns the session cookie and a CSRF token for POSTs. */
async function session(base: string, email: string): Promise<{ cookie: string; csrf: string }> {
  const form = await fetch(`${base}/login`);
  let cookie = (form.headers.get("set-cookie") ?? "").split(";")[0]!;
  const token = /name="_csrf" value="([^"]+)"/u.exec(await form.text())![1]!;
  const res = await fetch(`${base}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: token, email, password: PASSWORD }).toString(),
  });
  assert.equal(res.status, 303);
  cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  const me = (await (await fetch(`${base}/api/me`, { headers: { cookie } })).json()) as { csrfToken: string };
  return { cookie, csrf: me.csrfToken };
}

/** Reads server-sent events until `count` arrived (or the time runs out). */
async function readEvents(
  base: string,
  cookie: string,
  count: number,
  lastEventId?: string,
): Promise<{ id: string; event: string; data: Record<string, unknown> }[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  const out: { id: string; event: string; data: Record<string, unknown> }[] = [];
  try {
    const res = await fetch(`${base}/api/events`, {
      headers: { cookie, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
      signal: abort.signal,
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = res.body!.getReader();
    let buf = "";
    while (out.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      let at;
      while ((at = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const f = Object.fromEntries(
          block
            .split("\n")
            .filter((l) => /^(id|event|data): /u.test(l))
            .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
        );
        if (f.event) out.push({ id: f.id!, event: f.event, data: JSON.parse(f.data!) as Record<string, unknown> });
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return out;
}

describe("live updates and the edit lock", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let store: Store;
  let server: Server;
  let base: string;
  let support: Customer;
  let billing: Customer;

  before(async () => {
    db = await freshSqlite();
    store = await Store.open(db.url);
    await store.migrate();
    server = await listen(
      createApp({ store, config: reviewConfig(), metrics: new Metrics(null), log: pino({ level: "silent" }) }),
      "127.0.0.1",
      0,
    );
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const hash = await hashPassword(PASSWORD);
    await addUser(store, { email: "ada@team.example", role: "admin", passwordHash: hash }, "test");
    await addUser(store, { email: "rita@team.example", role: "reviewer", passwordHash: hash }, "test");
    support = await customerMail(store, { mailbox: "support", subject: "Live one" });
    billing = await customerMail(store, { mailbox: "billing", subject: "Not yours" });
    await addToTeam(store, "front", { email: "rita@team.example", mailbox: "support" }, "test");
  });
  after(async () => {
    server?.closeAllConnections();
    server?.close();
    await store?.close();
    await db?.drop();
  });

  it("streams the events of the reviewer's mailboxes only, and resumes after Last-Event-ID", async () => {
    const rita = await session(base, "rita@team.example");
    const reading = readEvents(base, rita.cookie, 2);
    await new Promise((r) => setTimeout(r, 300));
    await store.tx(async (em) => {
      await appendEvent(em, "draft.delta", billing.conversationId, { draftId: 9, text: "secret billing text" });
      await appendEvent(em, "draft.delta", support.conversationId, { draftId: 1, text: "Hello" });
      await appendEvent(em, "draft.ready", support.conversationId, { draftId: 1 });
    });
    const got = await reading;
    assert.deepEqual(
      got.map((e) => [e.event, e.data.conversationId]),
      [
        ["draft.delta", support.conversationId],
        ["draft.ready", support.conversationId],
      ],
    );
    assert.equal(got[0]!.data.text, "Hello");
    // A reconnect with the first event's id gets what came after it, not the first again.
    const resumed = await readEvents(base, rita.cookie, 1, got[0]!.id);
    assert.deepEqual(
      resumed.map((e) => e.event),
      ["draft.ready"],
    );
  });

  it("refuses to approve over another reviewer's edit unless taken over, on the API and the page", async () => {
    const draftId = await pendingDraft(store, support, "We will check.");
    const ada = await session(base, "ada@team.example");
    const rita = await session(base, "rita@team.example");
    const editing = await fetch(`${base}/api/conversations/${support.conversationId}/presence`, {
      method: "POST",
      headers: { cookie: ada.cookie, "x-csrf-token": ada.csrf, "content-type": "application/json" },
      body: JSON.stringify({ state: "editing" }),
    });
    assert.equal(editing.status, 200);
    const page = await (await fetch(`${base}/c/${support.conversationId}`, { headers: { cookie: rita.cookie } })).text();
    assert.match(page, /ada@team\.example is editing the draft/u);
    const approve = (body: Record<string, unknown>) =>
      fetch(`${base}/api/drafts/${draftId}/approve`, {
        method: "POST",
        headers: { cookie: rita.cookie, "x-csrf-token": rita.csrf, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const refused = await approve({ body: "Mine." });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { error: string }).error, /ada@team\.example is editing/u);
    assert.equal((await outboxRows(store)).length, 0);
    const taken = await approve({ body: "Mine.", takeover: true });
    assert.equal(taken.status, 201);
    assert.equal((await outboxRows(store))[0]!.body, "Mine.");
  });
});
