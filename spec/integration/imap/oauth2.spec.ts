import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AccessTokenSource, OAuth2Error, tokenEndpoint } from "../../../src/net/oauth2.js";

describe("OAuth2 access tokens for XOAUTH2", () => {
  let server: Server;
  let url: string;
  const requests: URLSearchParams[] = [];
  let status = 200;
  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const form = new URLSearchParams(body);
        requests.push(form);
        res.statusCode = status;
        res.setHeader("content-type", "application/json");
        res.end(status === 200 ? JSON.stringify({ access_token: `token-${requests.length}`, expires_in: 3600 }) : JSON.stringify({ error: "invalid_grant", error_description: "Token has been revoked" }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });
  after(() => server.close());

  it("refreshes with the refresh-token grant and caches the token until it nears expiry", async () => {
    status = 200;
    const source = new AccessTokenSource({ provider: "custom", tokenUrl: url, clientId: "cid", clientSecret: "cs", refreshToken: "rt" });
    assert.equal(await source.token(), `token-${requests.length}`);
    const again = await source.token();
    assert.equal(again, `token-${requests.length}`, "served from cache");
    const last = requests.at(-1)!;
    assert.equal(last.get("grant_type"), "refresh_token");
    assert.equal(last.get("refresh_token"), "rt");
    assert.equal(last.get("client_id"), "cid");
    source.invalidate();
    assert.notEqual(await source.token(), again);
  });

  it("turns a refused refresh into an authentication failure with the provider's reason", async () => {
    status = 400;
    const source = new AccessTokenSource({ provider: "custom", tokenUrl: url, clientId: "cid", refreshToken: "revoked" });
    await assert.rejects(source.token(), (err: unknown) => err instanceof OAuth2Error && err.authenticationFailed && /invalid_grant.*revoked/.test(err.message));
  });

  it("knows the Google and Microsoft token endpoints", () => {
    assert.equal(tokenEndpoint({ provider: "google", clientId: "x", refreshToken: "y" }), "https://oauth2.googleapis.com/token");
    assert.equal(tokenEndpoint({ provider: "microsoft", tenant: "contoso", clientId: "x", refreshToken: "y" }), "https://login.microsoftonline.com/contoso/oauth2/v2.0/token");
  });
});
