/**
 * XOAUTH2 access tokens from a refresh token (Google, Microsoft 365, or any OAuth2 token endpoint).
 * Tokens are cached until shortly before they expire; a failure is an authentication failure for the
 * caller's backoff, never a crash. Protocol-agnostic: IMAP (src/ingest, src/outbound's Sent folder)
 * and SMTP (src/outbound) each get their own source; only Microsoft's default scope differs by service.
 */

import { DraftgateError } from "../core/errors.js";

export interface OAuth2Settings {
  provider: "google" | "microsoft" | "custom";
  clientId: string;
  clientSecret?: string;
  refreshToken: string;
  tokenUrl?: string;
  tenant?: string;
  scope?: string;
}

export class OAuth2Error extends DraftgateError {
  readonly authenticationFailed = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super("EOAUTH2", message, options);
  }
}

export function tokenEndpoint(s: OAuth2Settings): string {
  if (s.tokenUrl) return s.tokenUrl;
  if (s.provider === "google") return "https://oauth2.googleapis.com/token";
  if (s.provider === "microsoft") return `https://login.microsoftonline.com/${encodeURIComponent(s.tenant ?? "common")}/oauth2/v2.0/token`;
  throw new OAuth2Error("custom OAuth2 provider needs tokenUrl");
}

/** What the token is for: Microsoft 365 grants IMAP and SMTP under different scopes. */
export type OAuth2Service = "imap" | "smtp";

const DEFAULT_SCOPE: Record<OAuth2Service, Record<OAuth2Settings["provider"], string | undefined>> = {
  imap: { google: undefined, microsoft: "https://outlook.office.com/IMAP.AccessAsUser.All offline_access", custom: undefined },
  smtp: { google: undefined, microsoft: "https://outlook.office.com/SMTP.Send offline_access", custom: undefined },
};

export interface AccessTokenSourceOptions {
  /** Picks the default scope when the settings name none (default "imap"). */
  service?: OAuth2Service;
  fetchImpl?: typeof fetch;
}

export class AccessTokenSource {
  private cached: { token: string; expiresAt: number } | null = null;

  private readonly service: OAuth2Service;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly settings: OAuth2Settings,
    options: AccessTokenSourceOptions = {},
  ) {
    this.service = options.service ?? "imap";
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - 60_000 > Date.now()) return this.cached.token;
    const body = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: this.settings.refreshToken,
      client_id: this.settings.clientId,
    });
    if (this.settings.clientSecret) body.set("client_secret", this.settings.clientSecret);
    const scope = this.settings.scope ?? DEFAULT_SCOPE[this.service][this.settings.provider];
    if (scope) body.set("scope", scope);
    let res: Response;
    try {
      res = await this.fetchImpl(tokenEndpoint(this.settings), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new OAuth2Error(`token endpoint unreachable: ${(err as Error).message}`, { cause: err });
    }
    const json = (await res.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!res.ok || !json.access_token) {
      this.cached = null;
      throw new OAuth2Error(
        `token refresh failed (${res.status}): ${json.error ?? "no access_token"}${json.error_description ? ` — ${json.error_description}` : ""}`,
      );
    }
    this.cached = { token: json.access_token, expiresAt: Date.now() + (json.expires_in ?? 3600) * 1000 };
    return json.access_token;
  }

  /** Forget the cached token (the server rejected it). */
  invalidate(): void {
    this.cached = null;
  }
}
