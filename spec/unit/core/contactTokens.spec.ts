import assert from "node:assert/strict";
import fc from "fast-check";
import { extractEmails, extractPhoneDigits, extractUrls, trimUrl, urlKey } from "../../../src/core/contactTokens.js";

describe("extractUrls", () => {
  it("finds scheme, www. and bare links with a common top-level domain, in order", () => {
    assert.deepEqual(
      extractUrls("See https://Example.com/Help/. then www.foo.org, or example.com/reset? Not invoice.pdf or e.g. this."),
      ["https://Example.com/Help/", "www.foo.org", "example.com/reset"],
    );
  });

  it("keeps balanced parentheses and drops a closing one that belongs to the sentence", () => {
    assert.deepEqual(extractUrls("(see https://en.example.org/wiki/Foo_(bar))"), ["https://en.example.org/wiki/Foo_(bar)"]);
    assert.deepEqual(extractUrls("(https://x.example/a)"), ["https://x.example/a"]);
  });

  it("does not take the domain of an e-mail address for a link", () => {
    assert.deepEqual(extractUrls("write to help@shop.example.com"), []);
  });

  it("stops at angle brackets and quotes", () => {
    assert.deepEqual(extractUrls('<https://a.example/x> "https://b.example/y"'), ["https://a.example/x", "https://b.example/y"]);
  });
});

describe("urlKey", () => {
  it("ignores the scheme, host case, trailing punctuation and slashes, but not path case", () => {
    assert.equal(urlKey("HTTPS://Example.COM/Help/."), "example.com/Help");
    assert.equal(urlKey("example.com/Help"), "example.com/Help");
    assert.notEqual(urlKey("https://example.com/help"), urlKey("https://example.com/Help"));
  });

  it("keeps userinfo, so https://good.example@evil.example is not good.example", () => {
    assert.notEqual(urlKey("https://good.example@evil.example/"), urlKey("https://good.example/"));
  });

  it("is idempotent", () => {
    fc.assert(fc.property(fc.webUrl(), (url) => assert.equal(urlKey(urlKey(url)), urlKey(url))));
  });
});

describe("trimUrl", () => {
  it("strips sentence punctuation after a link", () => {
    assert.equal(trimUrl("https://a.example/x)."), "https://a.example/x");
    assert.equal(trimUrl("https://a.example/x?!…"), "https://a.example/x");
  });
});

describe("extractEmails", () => {
  it("finds addresses, lower-cased", () => {
    assert.deepEqual(extractEmails("Ann <Ann.Smith+x@Example.COM>, bob@b.example."), ["ann.smith+x@example.com", "bob@b.example"]);
  });

  it("finds nothing in text without an address", () => {
    assert.deepEqual(extractEmails("@ user@ @example.com a@b"), []);
  });
});

describe("extractPhoneDigits", () => {
  const cases: Array<[string, string[]]> = [
    ["+49 (0) 30 1234-5678", ["4903012345678"]],
    ["call 555.123.4567 today", ["5551234567"]],
    ["(0800) 555-0199", ["08005550199"]],
    ["order 12345678", ["12345678"]],
    ["123 4567", ["1234567"]],
    ["123456", []],
    ["on 2024-06-15 10:30", []],
    ["on 15.06.2024", []],
    ["in 2023-2024", []],
    ["https://x.example/12345678 and a12345678@x.example", []],
    ["line 1234\n5678", []],
  ];
  for (const [text, digits] of cases) {
    it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(extractPhoneDigits(text), digits));
  }
});
