import assert from "node:assert/strict";
import { ConfigError } from "../../../src/config/errors.js";
import { DraftgateError, ERROR_CODES, errorCodeOf } from "../../../src/core/errors.js";
import { NotAnMboxError } from "../../../src/ingest/import/mbox.js";
import { UnparseableMessageError } from "../../../src/pipeline/normalize.js";

describe("error catalogue", () => {
  it("gives each error class its catalogued code and its own name", () => {
    const cases: [Error, string, string][] = [
      [new ConfigError(["http.port: too big"]), "ECONFIG", "ConfigError"],
      [new UnparseableMessageError("empty message"), "EPARSE", "UnparseableMessageError"],
      [new NotAnMboxError("x is not an mbox file"), "ENOTMBOX", "NotAnMboxError"],
    ];
    for (const [err, code, name] of cases) {
      assert.ok(err instanceof DraftgateError);
      assert.equal(errorCodeOf(err), code);
      assert.equal(err.name, name);
      assert.ok(Object.hasOwn(ERROR_CODES, code));
    }
  });

  it("reads a catalogued code from any error-shaped value, and nothing else", () => {
    assert.equal(errorCodeOf({ code: "ETOOBIG" }), "ETOOBIG");
    assert.equal(errorCodeOf(Object.assign(new Error("x"), { code: "ENOENT" })), null, "system codes are not ours");
    assert.equal(errorCodeOf({ code: "toString" }), null, "no prototype keys");
    for (const v of [null, undefined, "EPARSE", 42, {}]) assert.equal(errorCodeOf(v), null);
  });
});
