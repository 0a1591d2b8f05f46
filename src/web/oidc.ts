import type { Router } from "express";
import * as client from "openid-client";
import type { Config } from "../config/schema.js";
import { ensureSsoUser } from "../store/users.js";
import { appendAudit } from "../store/audit.js";
import { clientIp, type WebDeps } from "./context.js";
import { safeNext } from "./auth.js";

declare module "express-session" {
  interface SessionData {
    oidc: { state: string; nonce: string; verifier: string; next: string };
  }
}

type OidcConfig = NonNullable<Config["oidc"]>;

/** The role the provider's claims give: admin when roleClaim holds one of adminValues. */
export function roleFromClaims(claims: Record<string, unknown>, o: Pick<OidcConfig, "roleClaim" | "adminValues">): "admin" | "reviewer" {
  const v = claims[o.roleClaim];
  const values = Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : [];
  return values.some((x) => o.adminValues.includes(x)) ? "admin" : "reviewer";
}

/**
 * Single sign-on (authorization code flow with PKCE, state and nonce) through openid-client: GET
 * /auth/oidc sends the browser to the provider, /auth/oidc/callback checks what comes back, matches or
 * creates the user by a verified e-mail and starts a session like a password log-in.
 */
export function oidcRoutes(deps: WebDeps, router: Router): void {
  const o = deps.config.oidc;
  if (!o) return;
  let discovered: Promise<client.Configuration> | null = null;
  const configuration = () => {
    discovered ??= client
      .discovery(
        new URL(o.issuer),
        o.clientId,
        o.clientSecret,
        undefined,
        o.allowHttp ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = null; // try again on the next log-in
        throw err;
      });
    return discovered;
  };

  router.get("/auth/oidc", async (req, res, next) => {
    try {
      const config = await configuration();
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      req.session.oidc = { state, nonce, verifier, next: safeNext(req.query.next) };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: o.redirectUri,
        scope: "openid email profile",
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
        nonce,
      });
      req.session.save((err) => (err ? next(err) : res.redirect(303, url.href)));
    } catch (err) {
      next(err);
    }
  });

  router.get("/auth/oidc/callback", async (req, res, next) => {
    try {
      const pending = req.session.oidc;
      delete req.session.oidc;
      if (!pending) return void res.status(400).type("text").send("no single sign-on in progress: start again from the log-in page");
      const config = await configuration();
      const current = new URL(req.originalUrl, o.redirectUri);
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      let claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
      if (typeof claims.email !== "string" && tokens.access_token) {
        claims = { ...claims, ...(await client.fetchUserInfo(config, tokens.access_token, String(claims.sub))) };
      }
      const email = typeof claims.email === "string" ? claims.email : "";
      if (!email || claims.email_verified === false) {
        return void res.status(403).type("text").send("the provider did not give a verified e-mail address");
      }
      const user = await ensureSsoUser(deps.store, email, roleFromClaims(claims, o), `oidc:${new URL(o.issuer).host}`);
      req.session.regenerate((err) => {
        if (err) return next(err);
        req.session.userId = user.id;
        req.session.ip = clientIp(req);
        req.session.save((err2) => {
          if (err2) return next(err2);
          deps.store
            .tx((em) =>
              appendAudit(em, {
                actor: user.email,
                action: "login",
                subjectType: "user",
                subjectId: user.email,
                detail: { ip: clientIp(req), via: "oidc" },
              }),
            )
            .then(() => res.redirect(303, pending.next), next);
        });
      });
    } catch (err) {
      next(err);
    }
  });
}
