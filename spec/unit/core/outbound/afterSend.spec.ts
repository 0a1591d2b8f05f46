import assert from "node:assert/strict";
import { afterSendWork } from "../../../../src/core/outbound/afterSend.js";

describe("afterSendWork", () => {
  const imap = { host: "imap.example.com" };
  const overImap = { sourceRef: "imap:support/INBOX;UIDVALIDITY=1;UID=7" };

  it("queues only what has work: no IMAP, nothing to file and no \\Answered", () => {
    assert.deepEqual(afterSendWork({ sentFolder: "auto" }, overImap), { fileSent: false, markAnswered: false });
    assert.deepEqual(afterSendWork(null, null), { fileSent: false, markAnswered: false });
  });

  it("files in Sent with IMAP unless sentFolder is none or the copy is there already", () => {
    assert.equal(afterSendWork({ imap, sentFolder: "auto" }, null).fileSent, true);
    assert.equal(afterSendWork({ imap, sentFolder: "none" }, null).fileSent, false);
    assert.equal(afterSendWork({ imap, sentFolder: "Sent" }, null, { inSentAlready: true }).fileSent, false);
  });

  it("sets \\Answered only on a message that came over IMAP", () => {
    assert.equal(afterSendWork({ imap, sentFolder: "auto" }, overImap).markAnswered, true);
    assert.equal(afterSendWork({ imap, sentFolder: "auto" }, { sourceRef: null }).markAnswered, false);
    assert.equal(afterSendWork({ imap, sentFolder: "auto" }, null).markAnswered, false);
  });
});
