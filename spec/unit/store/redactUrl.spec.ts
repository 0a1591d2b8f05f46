import assert from "node:assert/strict";
import fc from "fast-check";
import { redactUrl } from "../../../src/store/dataSource.js";

describe("redactUrl", () => {
  // [what, url as a person typed it, what may be shown]
  const cases: Array<[string, string, string]> = [
    ["a plain password", "mysql://app:s3cret@db:3306/draftgate", "mysql://app:***@db:3306/draftgate"],
    ["a password with a raw @", "mysql://app:p@ss@db:3306/draftgate", "mysql://app:***@db:3306/draftgate"],
    ["a password with two raw @", "mysql://app:a@b@c@db/draftgate", "mysql://app:***@db/draftgate"],
    ["a password with a raw /", "mysql://app:pa/ss@db:3306/draftgate", "mysql://app:***@db:3306/draftgate"],
    ["a password of digits around a raw / (parses as host:port/path)", "mysql://app:12/34@db:3306/draftgate", "mysql://app:***@db:3306/draftgate"],
    ["a password with @ then /", "mysql://app:p@ss/x@db/draftgate", "mysql://app:***@db/draftgate"],
    ["a password with a raw # and ?", "mariadb://app:p#q?r@db/draftgate", "mariadb://app:***@db/draftgate"],
    ["a password with a raw :", "mysql://app:a:b@db/draftgate", "mysql://app:***@db/draftgate"],
    ["a percent-encoded @ and /", "mysql://app:p%40ss%2Fx@db:3306/draftgate", "mysql://app:***@db:3306/draftgate"],
    ["no password", "mysql://root@127.0.0.1:3306/test", "mysql://root@127.0.0.1:3306/test"],
    ["no credentials", "mysql://127.0.0.1:3306/test", "mysql://127.0.0.1:3306/test"],
    ["a sqlite path", "sqlite:./data/draftgate.sqlite", "sqlite:./data/draftgate.sqlite"],
  ];
  for (const [what, url, shown] of cases) {
    it(`hides ${what}`, () => {
      assert.equal(redactUrl(url), shown);
    });
  }

  it("never shows any part of a password, typed raw or percent-encoded", () => {
    const chars = fc.constantFrom(..."abcXYZ019@/:#?%&=+ !$'()*,;[]~-._".split(""));
    const password = fc.string({ unit: chars, minLength: 1, maxLength: 24 });
    fc.assert(
      fc.property(password, fc.boolean(), (pw, encode) => {
        const typed = encode ? encodeURIComponent(pw) : pw;
        assert.equal(redactUrl(`mysql://app:${typed}@db.internal:3306/draftgate`), "mysql://app:***@db.internal:3306/draftgate");
      }),
      { numRuns: 3000 },
    );
  });
});
