import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { pino } from "pino";
import type { Browser } from "playwright-core";
import { configSchema } from "../../src/config/schema.js";
import { Metrics } from "../../src/obs/metrics.js";
import type { AuditRow, UserRow } from "../../src/store/entities/review.js";
import { Store } from "../../src/store/store.js";
import { createApp } from "../../src/web/app.js";
import { listen } from "../../src/web/listen.js";
import { freshSqlite, type TestDatabase } from "../support/db.js";
import { launchBrowser, requireBrowser } from "../support/browser.js";

/** A free loopback port (the provider's issuer URL must be known before it listens). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("single sign-on (OpenID Connect) against a local provider, in Chromium", function () {
  this.timeout(120_000);
  let browser: Browser;
  let db: TestDatabase;
  let store: Store;
  let app: Server;
  let op: Server;
  let base: string;

  before(async function () {
    requireBrowser(this);
    db = await freshSqlite();
    store = await Store.open(db.url);
    await store.migrate();
    const appPort = await freePort();
    const opPort = await freePort();
    base = `http://127.0.0.1:${appPort}`;
    const issuer = `http://127.0.0.1:${opPort}`;
    // oidc-provider's development log-in accepts any login name; the account's claims come from here.
    const accounts: Record<string, Record<string, unknown>> = {
      ann: { email: "ann@corp.example", email_verified: true, groups: ["support"] },
      boss: { email: "boss@corp.example", email_verified: true, groups: ["draftgate-admins"] },
    };
    const provider = new Provider(issuer, {
      clients: [{ client_id: "draftgate", client_secret: "s3cret-for-tests", redirect_uris: [`${base}/auth/oidc/callback`], grant_types: ["authorization_code"], response_types: ["code"] }],
      claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["groups"] },
      findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id, ...(accounts[id] ?? {}) }) }),
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: true } },
      cookies: { keys: ["test-cookie-key-1"] },
    });
    op = await new Promise<Server>((resolve) => {
      const s = createServer(provider.callback()).listen(opPort, "127.0.0.1", () => resolve(s));
    });
    const config = configSchema.parse({
      mailboxes: [{ name: "support", address: "support@example.com" }],
      oidc: { issuer, clientId: "draftgate", clientSecret: "s3cret-for-tests", redirectUri: `${base}/auth/oidc/callback`, adminValues: ["draftgate-admins"], allowHttp: true },
    });
    app = await listen(createApp({ store, config, metrics: new Metrics(null), log: pino({ level: "silent" }) }), "127.0.0.1", appPort);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    app?.closeAllConnections();
    app?.close();
    op?.closeAllConnections();
    op?.close();
    await store?.close();
    await db?.drop();
  });

  const logInAs = async (login: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByRole("link", { name: "Log in with single sign-on" }).click();
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill("anything");
    await page.locator('button[type="submit"]').click();
    // The provider asks to authorize the client once.
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${base}/`);
    return { context, page };
  };

  it("logs a new user in through the provider: created by e-mail, role from the groups claim, audited", async () => {
    const { context, page } = await logInAs("ann");
    assert.match(await page.locator("header.top").textContent() ?? "", /ann@corp\.example/u);
    await context.close();
    const boss = await logInAs("boss");
    assert.match(await boss.page.locator("header.top").textContent() ?? "", /Audit log/u, "an admin sees the admin pages");
    await boss.context.close();
    const users = await store.read((em) => em.getRepository<UserRow>("User").find({ order: { email: "ASC" } }));
    assert.deepEqual(
      users.map((u) => [u.email, u.role, u.passwordHash]),
      [
        ["ann@corp.example", "reviewer", null],
        ["boss@corp.example", "admin", null],
      ],
    );
    const logins = await store.read((em) => em.getRepository<AuditRow>("Audit").find({ where: { action: "login" } }));
    assert.deepEqual(logins.map((a) => [a.actor, (a.detail as { via?: string }).via]).sort(), [
      ["ann@corp.example", "oidc"],
      ["boss@corp.example", "oidc"],
    ]);
  });

  it("refuses a callback that does not belong to a log-in it started (state)", async () => {
    const res = await fetch(`${base}/auth/oidc/callback?code=forged&state=forged`);
    assert.equal(res.status, 400);
  });
});
