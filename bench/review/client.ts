/**
 * A logged-in reviewer as the benchmark drives the page: fetch (keep-alive) with the session cookie,
 * each request timed from just before it is sent until its whole body has arrived.
 */
import { performance } from "node:perf_hooks";

export interface Timed {
  ms: number;
  status: number;
  body: string;
}

export class ReviewClient {
  private constructor(
    readonly base: string,
    private readonly cookie: string,
    private readonly csrf: string,
  ) {}

  /** Logs in through the form (GET /login for the CSRF token and cookie, POST /login), then asks /api/me for the API's token. */
  static async login(base: string, email: string, password: string): Promise<ReviewClient> {
    const form = await fetch(`${base}/login`, { redirect: "manual" });
    const html = await form.text();
    const token = /name="_csrf" value="([^"]+)"/u.exec(html)?.[1];
    const before = sessionCookie(form.headers);
    if (form.status !== 200 || !token || !before)
      throw new Error(`GET /login answered ${form.status} without a CSRF token or session cookie`);
    const res = await fetch(`${base}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: before, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: token, email, password }).toString(),
    });
    await res.arrayBuffer();
    const cookie = sessionCookie(res.headers);
    if (res.status !== 303 || !cookie) throw new Error(`POST /login answered ${res.status}${cookie ? "" : " without a session cookie"}`);
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    const csrf = ((await me.json()) as { csrfToken?: string }).csrfToken;
    if (me.status !== 200 || !csrf) throw new Error(`GET /api/me answered ${me.status} without a csrfToken`);
    return new ReviewClient(base, cookie, csrf);
  }

  /** GET `path` with the session; a redirect is not followed (it would mean the session was lost). */
  get(path: string): Promise<Timed> {
    return this.timed(path, { headers: { cookie: this.cookie } });
  }

  /** POST JSON with the session and the CSRF header, as the page's script does. */
  postJson(path: string, body: unknown): Promise<Timed> {
    return this.timed(path, {
      method: "POST",
      headers: { cookie: this.cookie, "content-type": "application/json", "x-csrf-token": this.csrf },
      body: JSON.stringify(body),
    });
  }

  private async timed(path: string, init: RequestInit): Promise<Timed> {
    const t0 = performance.now();
    const res = await fetch(`${this.base}${path}`, { ...init, redirect: "manual" });
    const body = await res.text();
    return { ms: performance.now() - t0, status: res.status, body };
  }
}

/** `draftgate.sid=…` from a response's Set-Cookie headers. */
function sessionCookie(headers: Headers): string | null {
  for (const c of headers.getSetCookie()) if (c.startsWith("draftgate.sid=")) return c.split(";")[0]!;
  return null;
}
