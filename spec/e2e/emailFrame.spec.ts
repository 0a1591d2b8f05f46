import assert from "node:assert/strict";
import express from "express";
import type { Browser } from "playwright-core";
import { attachmentHeaders, emailFrameDocument, emailFrameHeaders } from "../../src/web/render/emailFrame.js";
import {
  launchBrowser,
  listenLocal,
  requireBrowser,
  startCanary,
  watchedPage,
  type Canary,
  type LocalServer,
  type WatchedPage,
} from "../support/browser.js";

/**
 * The message frame in Chromium, served the way the review page serves it: a parent page with
 * `<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" src="/frame/…">`, the frame answered with
 * emailFrameDocument + emailFrameHeaders. Each payload also runs without protection ("control") to show
 * that it is live in this Chromium, so that nothing seen in the protected runs means something.
 */

interface Payload {
  name: string;
  html: (canary: Canary) => string;
  /** What the payload does in Chromium without protection: runs script, or loads from the canary. */
  live?: "script" | "canary" | "offhost";
  /** Clicked (in every mode) after load: a payload that needs a user gesture. */
  click?: string;
}

const PAYLOADS: Payload[] = [
  { name: "script element", live: "script", html: () => `<script>__xss("script")</script>` },
  { name: "upper-case script element", live: "script", html: () => `<SCRIPT>alert("SCRIPT")</SCRIPT>` },
  { name: "img onerror", live: "script", html: () => `<img src=x onerror=__xss("onerror")>` },
  {
    name: "img onerror, broken data: src",
    live: "script",
    html: () => `<img src="data:image/png;base64,AAAA" onerror=__xss("data-onerror")>`,
  },
  { name: "img onerror, missing cid: src", live: "script", html: () => `<img src="cid:missing@example.com" onerror=__xss("cid-onerror")>` },
  { name: "img OnErRoR mixed case", live: "script", html: () => `<IMG SRC=x OnErRoR="alert('OnErRoR')">` },
  { name: "body onload", live: "script", html: () => `<body onload=__xss("body-onload")>` },
  { name: "details ontoggle", live: "script", html: () => `<details open ontoggle=__xss("ontoggle")><summary>s</summary>d</details>` },
  { name: "video source onerror", live: "script", html: () => `<video><source onerror=__xss("source-onerror")></video>` },
  { name: "div onclick (clicked)", live: "script", click: "#c", html: () => `<div id=c onclick=__xss("onclick")>click me</div>` },
  { name: "svg onload", live: "script", html: () => `<svg onload=__xss("svg-onload")></svg>` },
  { name: "svg script", live: "script", html: () => `<svg><script>__xss("svg-script")</script></svg>` },
  {
    name: "svg animate href to javascript: (clicked)",
    live: "script",
    click: "#s",
    html: () => `<svg><a id=s><animate attributeName=href values="javascript:__xss('animate')"/><text x=20 y=20>click</text></a></svg>`,
  },
  { name: "math mglyph style mutation", html: () => `<math><mtext><table><mglyph><style><img src=x onerror=__xss("mglyph")>` },
  {
    name: "math mtext style mutation",
    html: () =>
      `<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img src=1 onerror=__xss('mglyph2')&gt;">`,
  },
  {
    name: "noscript title breakout",
    live: "script",
    html: () => `<noscript><p title="</noscript><img src=x onerror=__xss('noscript')>"></noscript>`,
  },
  { name: "malformed double open", live: "script", html: () => `<<script>alert("double-open")//<</script>` },
  { name: "eval(src) with alt", live: "script", html: () => `<img src=x:alert(alt) onerror=eval(src) alt=0>` },
  { name: "empty comment <!-->", live: "script", html: () => `<!--><img src=x onerror=__xss("comment")>-->` },
  { name: "CDATA as bogus comment", live: "script", html: () => `<![CDATA[><img src=x onerror=__xss("cdata")>]]>` },
  { name: "conditional comment", html: () => `<!--[if gte mso 9]><img src=x onerror=__xss("mso")><![endif]-->` },
  { name: "javascript: link (clicked)", live: "script", click: "a", html: () => `<a href="javascript:__xss('js-link')">x</a>` },
  { name: "JaVaScRiPt: link (clicked)", live: "script", click: "a", html: () => `<a href="JaVaScRiPt:__xss('js-mixed')">x</a>` },
  {
    name: "entity-encoded javascript: (clicked)",
    live: "script",
    click: "a",
    html: () => `<a href="&#106;avascript:__xss('js-entity')">x</a>`,
  },
  {
    name: "javascript: with tab and newline (clicked)",
    live: "script",
    click: "a",
    html: () => `<a href=" jav&#x09;ascr&#x0A;ipt:__xss('js-ws')">x</a>`,
  },
  { name: "javascript&colon; (clicked)", live: "script", click: "a", html: () => `<a href="javascript&colon;__xss('js-colon')">x</a>` },
  {
    name: "data:text/html link (clicked)",
    live: "script",
    click: "a",
    html: () => `<a href="data:text/html,<script>__xss('data-link')</script>">x</a>`,
  },
  { name: "iframe srcdoc", live: "script", html: () => `<iframe srcdoc="<script>parent.__xss('srcdoc')</script>"></iframe>` },
  {
    name: "iframe data:text/html",
    live: "script",
    html: () => `<iframe src="data:text/html,<script>__xss('iframe-data')</script>"></iframe>`,
  },
  { name: "iframe javascript:", live: "script", html: () => `<iframe src="javascript:__xss('iframe-js')"></iframe>` },
  { name: "object data:text/html", live: "script", html: () => `<object data="data:text/html,<script>__xss('object')</script>"></object>` },
  { name: "embed to the canary", live: "canary", html: (c) => `<embed src="${c.url("/embed.html")}">` },
  { name: "meta refresh to javascript:", html: () => `<meta http-equiv="refresh" content="0;url=javascript:__xss('refresh')">` },
  {
    name: "meta refresh to the canary",
    live: "canary",
    html: (c) => `<meta http-equiv="refresh" content="0;url=${c.url("/refresh.html")}">`,
  },
  {
    name: "form action (clicked)",
    live: "canary",
    click: "button",
    html: (c) => `<form action="${c.url("/form.html")}"><button>go</button></form>`,
  },
  {
    name: "button formaction javascript: (clicked)",
    live: "script",
    click: "button",
    html: () => `<form><button formaction="javascript:__xss('formaction')">go</button></form>`,
  },
  { name: "input type=image", live: "canary", html: (c) => `<form><input type=image src="${c.url("/input-image")}"></form>` },
  { name: "base href", live: "canary", html: (c) => `<base href="${c.url("/base/")}"><img src="relative.gif">` },
  { name: "style element url()", live: "canary", html: (c) => `<style>body{background:url(${c.url("/style-url")})}</style>x` },
  { name: "style element @import", live: "canary", html: (c) => `<style>@import "${c.url("/import.css")}";</style>` },
  { name: "css expression()", html: () => `<div style="width:expression(__xss('expression'))">e</div>` },
  { name: "css url(javascript:)", html: () => `<div style="background:url(javascript:__xss('css-js'))">e</div>` },
  {
    name: "css escaped url() to the canary",
    live: "canary",
    html: (c) => `<div style="background:\\75 rl(${c.url("/escaped-url")})">e</div>`,
  },
  {
    name: "css image-set() to the canary",
    live: "canary",
    html: (c) => `<div style='background-image:image-set("${c.url("/image-set")}" 1x)'>e</div>`,
  },
  { name: "link stylesheet", live: "canary", html: (c) => `<link rel=stylesheet href="${c.url("/link.css")}">` },
  { name: "link preload", live: "canary", html: (c) => `<link rel=preload as=image href="${c.url("/preload")}">` },
  { name: "link prefetch", live: "canary", html: (c) => `<link rel=prefetch href="${c.url("/prefetch")}">` },
  { name: "link import", html: (c) => `<link rel=import href="${c.url("/import.html")}">` },
  { name: "remote img to the canary", live: "canary", html: (c) => `<img src="${c.url("/img")}" alt="tracker">` },
  { name: "remote img srcset", live: "canary", html: (c) => `<img srcset="${c.url("/srcset")} 1x">` },
  { name: "picture source", live: "canary", html: (c) => `<picture><source srcset="${c.url("/picture")}"><img alt=p></picture>` },
  { name: "video poster", live: "canary", html: (c) => `<video poster="${c.url("/poster")}"></video>` },
  {
    name: "table background attribute",
    live: "canary",
    html: (c) => `<table background="${c.url("/table-bg")}"><tr><td>x</td></tr></table>`,
  },
  {
    name: "inline style background to the canary",
    live: "canary",
    html: (c) => `<div style="background-image:url('${c.url("/inline-bg")}')">x</div>`,
  },
  { name: "remote img to another host", live: "offhost", html: () => `<img src="http://example.invalid/track.gif">` },
  {
    name: "inline style to another host",
    live: "offhost",
    html: () => `<div style="background:url(https://example.invalid/bg.png)">x</div>`,
  },
  { name: "protocol-relative img", live: "offhost", html: () => `<img src="//example.invalid/pr.gif">` },
];

type Mode = "deployed" | "sanitizerOnly" | "headersOnly" | "control";

const SANDBOX = "allow-popups allow-popups-to-escape-sandbox";

/** The frame document and headers each mode serves; only "deployed" is what the review page does. */
/** A 3×2 PNG: a frame image that loaded has this size, a broken one does not. */
const PNG_3X2 = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAEElEQVR4nGP4z8AAQQxwFgBB0gX7h/C5SAAAAABJRU5ErkJggg==",
  "base64",
);

/** cid: images as a same-origin path (/cid/…, served by the test site) or inlined as a data: URL. */
function cidUrlFor(kind: "path" | "data"): (cid: string) => string {
  return kind === "data" ? () => `data:image/png;base64,${PNG_3X2.toString("base64")}` : (cid) => `/cid/${encodeURIComponent(cid)}`;
}

function frameResponse(
  mode: Mode,
  html: string,
  remoteImages: boolean,
  cidUrl: (cid: string) => string,
): { body: string; headers: Record<string, string> } {
  const plain = { "Content-Type": "text/html; charset=utf-8" };
  switch (mode) {
    case "deployed":
      return { body: emailFrameDocument(html, { remoteImages, cidUrl }), headers: emailFrameHeaders({ remoteImages }) };
    case "sanitizerOnly": // the document's own meta CSP removed too: the sanitizer alone
      return {
        body: emailFrameDocument(html, { remoteImages, cidUrl }).replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ""),
        headers: plain,
      };
    case "headersOnly":
      return { body: `<!doctype html><meta charset="utf-8"><body>${html}`, headers: emailFrameHeaders({ remoteImages }) };
    case "control":
      return { body: `<!doctype html><meta charset="utf-8"><body>${html}`, headers: plain };
  }
}

/** The review page's iframe sandbox where it is under test ("deployed"), none where another layer is tested alone. */
const iframeSandbox = (mode: Mode) => (mode === "deployed" ? ` sandbox="${SANDBOX}"` : "");

describe("email frame in Chromium", function () {
  this.timeout(300_000);
  let browser: Browser;
  let canary: Canary;
  let site: LocalServer;
  /** Requests the test site served, with the cookie they carried. */
  const siteHits: { path: string; cookie: string | undefined }[] = [];
  /** The frame HTML of the current test, by id (the site serves /frame/:mode/:id from it). */
  const frames = new Map<string, { html: string; remoteImages: boolean; cid?: "path" | "data" }>();

  before(async function () {
    requireBrowser(this);
    browser = await launchBrowser();
    canary = await startCanary();
    const app = express();
    app.use((req, _res, next) => {
      siteHits.push({ path: req.path, cookie: req.headers.cookie });
      next();
    });
    app.get("/parent/:mode/:id", (req, res) => {
      const mode = req.params.mode as Mode;
      res
        .type("html")
        .set("Set-Cookie", "sid=reviewer; Path=/; HttpOnly") // like the review page's session cookie
        .send(`<!doctype html><title>review</title><iframe${iframeSandbox(mode)} src="/frame/${mode}/${req.params.id}"></iframe>`);
    });
    app.get("/frame/:mode/:id", (req, res) => {
      const frame = frames.get(req.params.id);
      if (!frame) return void res.sendStatus(404);
      const { body, headers } = frameResponse(req.params.mode as Mode, frame.html, frame.remoteImages, cidUrlFor(frame.cid ?? "path"));
      res.set(headers).send(body);
    });
    app.get("/cid/:cid", (req, res) => {
      if (req.params.cid.startsWith("missing")) return void res.sendStatus(404);
      // As the review page serves an inline part: the attachment headers, shown inline.
      const headers = attachmentHeaders({ filename: "logo.png", contentType: "image/png", size: PNG_3X2.length });
      res.set({ ...headers, "Content-Disposition": "inline" }).end(PNG_3X2);
    });
    app.get("/attachment/:kind", (req, res) => {
      const body = Buffer.from(
        req.params.kind === "svg"
          ? `<svg xmlns="http://www.w3.org/2000/svg" onload="__xss('attachment-svg')"><script>__xss('attachment-svg-script')</script></svg>`
          : `<!doctype html><script>__xss("attachment-html")</script><img src=x onerror=alert("attachment")>`,
      );
      const meta =
        req.params.kind === "svg" ? { filename: "x.svg", contentType: "image/svg+xml" } : { filename: "x.html", contentType: "text/html" };
      res.set(attachmentHeaders({ ...meta, size: body.length })).end(body);
    });
    app.get("/links/:id", (req, res) => {
      res.type("html").send(`<!doctype html><a href="/attachment/${req.params.id}">download</a>`);
    });
    site = await listenLocal(app);
  });

  after(async () => {
    await browser?.close();
    await canary?.close();
    await site?.close();
  });

  /** Loads each payload through `mode` on one page; returns what each one did. */
  async function runAll(mode: Mode, payloads: Payload[], remoteImages = false) {
    const watched = await watchedPage(browser);
    const results: { payload: Payload; scripts: string[]; blocked: string[]; offHost: string[]; canary: string[] }[] = [];
    try {
      for (const [i, payload] of payloads.entries()) {
        const id = `${mode}-${i}`;
        frames.set(id, { html: payload.html(canary), remoteImages });
        watched.reset();
        const canaryBefore = canary.hits.length;
        await watched.page.goto(`${site.origin}/parent/${mode}/${id}`, { waitUntil: "load" });
        if (payload.click) await clickInFrame(watched, payload.click);
        await watched.settle();
        // Leave the page, so that nothing from this payload is still loading during the next one.
        await watched.page.goto("about:blank");
        results.push({
          payload,
          scripts: [...watched.events.scripts],
          blocked: [...watched.events.blocked],
          offHost: [...watched.events.offHost],
          canary: canary.hits.slice(canaryBefore).map((h) => h.path),
        });
      }
    } finally {
      await watched.close();
    }
    return results;
  }

  it("runs every live payload without protection (the control: this harness sees scripts and loads)", async () => {
    const results = await runAll("control", PAYLOADS);
    const dead = results.filter(
      (r) =>
        (r.payload.live === "script" && r.scripts.length === 0) ||
        (r.payload.live === "canary" && r.canary.length === 0) ||
        (r.payload.live === "offhost" && r.offHost.length === 0),
    );
    assert.deepEqual(
      dead.map((r) => r.payload.name),
      [],
      "payloads marked live did nothing in Chromium: the harness would miss them",
    );
  });

  for (const mode of ["deployed", "sanitizerOnly", "headersOnly"] as const) {
    const what = {
      deployed: "as the review page serves it (sanitizer, CSP sandbox, iframe sandbox)",
      sanitizerOnly: "with the sanitizer alone (no CSP, no sandbox)",
      headersOnly: "with the response headers alone (unsanitized HTML, no iframe sandbox)",
    }[mode];
    it(`runs no script and loads nothing remote ${what}`, async () => {
      const results = await runAll(mode, PAYLOADS);
      const leaks = results
        .filter((r) => r.scripts.length || r.offHost.length || r.canary.length)
        .map((r) => ({ name: r.payload.name, scripts: r.scripts, offHost: r.offHost, canary: r.canary }));
      assert.deepEqual(leaks, []);
      if (mode === "deployed") {
        // The sanitizer removed everything itself: Chromium never had to block a script or a load.
        const blocked = results.filter((r) => r.blocked.length).map((r) => ({ name: r.payload.name, blocked: r.blocked }));
        assert.deepEqual(blocked, []);
      }
    });
  }

  it("loads remote images only with remoteImages on, and nothing else remote even then", async () => {
    const page: Payload = {
      name: "remote images with other remote loads",
      html: (c) =>
        `<p>Hello</p><img src="${c.url("/on/img")}" alt=a>` +
        `<div style="background-image:url(${c.url("/on/bg")})">bg</div>` +
        `<link rel=stylesheet href="${c.url("/on/link.css")}"><iframe src="${c.url("/on/frame.html")}"></iframe>` +
        `<style>@import "${c.url("/on/import.css")}";</style><img src=x onerror=__xss("on")>`,
    };
    const [off] = await runAll("deployed", [page], false);
    const [on] = await runAll("deployed", [page], true);
    assert.deepEqual(off!.canary, []);
    assert.deepEqual([...on!.canary].sort(), ["/on/bg", "/on/img"]);
    assert.deepEqual([...off!.scripts, ...on!.scripts], []);
    assert.deepEqual([...off!.blocked, ...on!.blocked], [], "the sanitizer, not the CSP, kept the other loads out");
  });

  for (const cid of ["data", "path"] as const) {
    it(`shows cid: images in the sandboxed frame, cidUrl giving a ${cid === "data" ? "data: URL" : "same-origin path"}`, async () => {
      const watched = await watchedPage(browser);
      try {
        siteHits.length = 0;
        frames.set(`cid-${cid}`, { html: `<p><img src="cid:logo@example.com" alt=logo></p>`, remoteImages: false, cid });
        await watched.page.goto(`${site.origin}/parent/deployed/cid-${cid}`, { waitUntil: "load" });
        const box = await watched.page.frames()[1]!.locator("img").boundingBox();
        assert.deepEqual(box && { width: box.width, height: box.height }, { width: 3, height: 2 }, "the image did not load");
        assert.deepEqual(watched.events.blocked, []);
        const frameHit = siteHits.find((h) => h.path.startsWith("/frame/"));
        const cidHit = siteHits.find((h) => h.path.startsWith("/cid/"));
        assert.equal(frameHit?.cookie, "sid=reviewer");
        if (cid === "data") assert.equal(cidHit, undefined);
        else {
          assert.equal(cidHit?.path, "/cid/logo%40example.com");
          // The frame's origin is opaque, so its requests are cross-site: no session cookie comes along.
          assert.equal(cidHit.cookie, undefined);
        }
      } finally {
        await watched.close();
      }
    });
  }

  it("opens links in a new tab without opener or referrer, and the frame stays put", async () => {
    const watched = await watchedPage(browser);
    try {
      frames.set("link", { html: `<a href="${canary.url("/clicked.html")}">open</a>`, remoteImages: false });
      await watched.page.goto(`${site.origin}/parent/deployed/link`, { waitUntil: "load" });
      const before = canary.hits.length;
      const [popup] = await Promise.all([watched.context.waitForEvent("page"), clickInFrame(watched, "a")]);
      await popup.waitForLoadState("load");
      assert.equal(popup.url(), canary.url("/clicked.html"));
      assert.equal(await popup.evaluate(() => window.opener), null);
      const hit = canary.hits.slice(before).find((h) => h.path === "/clicked.html");
      assert.ok(hit, "the link's request reached its target");
      assert.equal(hit.headers.referer, undefined);
      assert.equal(watched.page.frames()[1]?.url(), `${site.origin}/frame/deployed/link`);
      assert.deepEqual(watched.events.scripts, []);
    } finally {
      await watched.close();
    }
  });

  for (const kind of ["html", "svg"]) {
    it(`downloads a ${kind} attachment instead of rendering it, opened directly or from a link`, async () => {
      const watched = await watchedPage(browser);
      try {
        const direct = watched.page.waitForEvent("download", { timeout: 10_000 });
        direct.catch(() => undefined); // awaited below unless the page rendered
        // A download aborts the navigation ("Download is starting"); a page that renders resolves it.
        const rendered = await watched.page.goto(`${site.origin}/attachment/${kind}`).then(
          () => true,
          () => false,
        );
        assert.equal(rendered, false, "the attachment was rendered as a page");
        assert.equal((await direct).suggestedFilename(), `x.${kind}`);
        await watched.page.goto(`${site.origin}/links/${kind}`);
        const [linked] = await Promise.all([watched.page.waitForEvent("download", { timeout: 10_000 }), watched.page.click("a")]);
        assert.equal(linked.suggestedFilename(), `x.${kind}`);
        assert.equal(watched.page.url(), `${site.origin}/links/${kind}`);
        await watched.settle();
        assert.deepEqual(watched.events.scripts, []);
      } finally {
        await watched.close();
      }
    });
  }
});

/** Clicks the first match in the message frame; a payload whose element the sanitizer removed is fine. */
async function clickInFrame(watched: WatchedPage, selector: string): Promise<void> {
  const target = watched.page.frames()[1]?.locator(selector).first();
  if (!target || (await target.count()) === 0) return;
  await target.click({ timeout: 1_000, force: true }).catch(() => undefined);
}
