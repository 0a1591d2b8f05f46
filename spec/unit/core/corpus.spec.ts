import assert from "node:assert/strict";
import { classifyAutomated } from "../../../src/core/automation.js";
import { parseMessageIds } from "../../../src/core/references.js";
import { buildReplyHeaders, replySubject } from "../../../src/core/replyHeaders.js";
import { normalizeSubject } from "../../../src/core/subject.js";
import { UnparseableMessageError } from "../../../src/pipeline/normalize.js";
import { corpusAvailable, corpusFiles, corpusRoot, loadCorpusMail } from "./corpusMail.js";

// Our Message-ID domain in these tests; no corpus message uses it.
const ours = { messageIdDomains: ["draftgate.test"] };

const SISIMAI = "sisimai/maildir/bsd";

// Bounce-corpus files that carry none of the loop signals, each checked by eye. Listed rather than
// weakening the rules: a human-looking message must stay draftable. (Hotmail's JMRP complaints arf-22
// and arf-24 were here; their "complaint about message from <IP>" subject now marks them, see automation.spec.)
const bouncesWithoutSignals = new Map<string, string>([]);

// Ordinary mail written by people, checked by eye: no List-*, Auto-Submitted, Precedence, null
// Return-Path, report type or daemon sender.
const humanMail = [
  "mikel-mail/spec/fixtures/emails/plain_emails/basic_email.eml",
  "mikel-mail/spec/fixtures/emails/plain_emails/raw_email.eml",
  "mikel-mail/spec/fixtures/emails/plain_emails/raw_email_reply.eml",
  "mikel-mail/spec/fixtures/emails/plain_emails/raw_email_simple.eml",
  "mikel-mail/spec/fixtures/emails/plain_emails/raw_email5.eml",
  "mikel-mail/spec/fixtures/emails/rfc2822/example01.eml",
  "mikel-mail/spec/fixtures/emails/rfc2822/example03.eml",
  "mikel-mail/spec/fixtures/emails/rfc2822/example08.eml",
  "mikel-mail/spec/fixtures/emails/rfc6532/utf8_headers.eml",
  "mikel-mail/spec/fixtures/emails/multi_charset/japanese.eml",
  "mikel-mail/spec/fixtures/emails/attachment_emails/attachment_pdf.eml",
  "mailparser/test/fixtures/nodemailer.eml",
  "sisimai/maildir/not/is-not-bounce-01.eml",
  "sisimai/maildir/not/is-not-bounce-02.eml",
];

describe("core rules on the shared third-party corpus", function () {
  if (!corpusAvailable) {
    it(`needs the corpus at ${corpusRoot}`, () => {
      assert.fail(`the shared corpus is missing at ${corpusRoot}; these tests run on it`);
    });
    return;
  }

  describe("classifyAutomated", () => {
    const bounces = corpusFiles(SISIMAI, /^(lhost-|rhost-|rfc3464-|arf-).*\.eml$/u);
    const autoReplies = corpusFiles(SISIMAI, /^rfc3834-.*\.eml$/u);
    const dsns = corpusFiles("enmime/dsn/testdata", /\.raw$/u);
    const reports = corpusFiles("mikel-mail/spec/fixtures/emails/multipart_report_emails", /\.eml$/u);

    it("finds the corpus sets it expects", () => {
      assert.ok(bounces.length >= 300, `bounces: ${bounces.length}`);
      assert.equal(autoReplies.length, 3);
      assert.equal(dsns.length, 5);
      assert.equal(reports.length, 5);
      for (const path of [...bouncesWithoutSignals.keys(), ...humanMail]) assert.ok(corpusFiles("", /./u).includes(path), path);
    });

    for (const path of bounces.filter((p) => !bouncesWithoutSignals.has(p))) {
      it(`flags the bounce/report ${path}`, async () => {
        const { automation } = await loadCorpusMail(path);
        assert.equal(classifyAutomated(automation, ours).automated, true);
      });
    }

    for (const [path, why] of bouncesWithoutSignals) {
      it(`lets ${path} through: ${why}`, async () => {
        const { automation } = await loadCorpusMail(path);
        assert.equal(classifyAutomated(automation, ours).automated, false);
      });
    }

    for (const path of autoReplies) {
      it(`flags the RFC 3834 auto-reply ${path}`, async () => {
        const { automation } = await loadCorpusMail(path);
        const verdict = classifyAutomated(automation, ours);
        assert.equal(verdict.automated, true);
        assert.ok(verdict.reason === "auto-submitted" || verdict.reason === "autoreply-header", String(verdict.reason));
      });
    }

    for (const path of [...dsns, ...reports]) {
      it(`flags the DSN ${path} as a report`, async () => {
        const { automation } = await loadCorpusMail(path);
        assert.deepEqual(classifyAutomated(automation, ours), { automated: true, reason: "report" });
      });
    }

    it("flags sisimai's not-a-bounce rb-issue-368-bug.eml, a postmaster notice with Auto-Submitted", async () => {
      const { automation } = await loadCorpusMail("sisimai/maildir/not/rb-issue-368-bug.eml");
      assert.deepEqual(classifyAutomated(automation, ours), { automated: true, reason: "auto-submitted" });
    });

    for (const path of humanMail) {
      it(`lets the human message ${path} through`, async () => {
        const { automation } = await loadCorpusMail(path);
        assert.deepEqual(classifyAutomated(automation, ours), { automated: false, reason: null });
      });
    }

    it("flags a human message as our own when its Message-ID domain is ours", async () => {
      const { automation } = await loadCorpusMail("mikel-mail/spec/fixtures/emails/rfc2822/example01.eml");
      assert.equal(classifyAutomated(automation, { messageIdDomains: ["local.machine.example"] }).reason, "own-message");
    });
  });

  describe("message ids and subjects", () => {
    it("reads the ids of a Thunderbird reply", async () => {
      const { message: { headers } } = await loadCorpusMail("mikel-mail/spec/fixtures/emails/plain_emails/raw_email_reply.eml");
      assert.deepEqual(parseMessageIds(headers["references"]), ["473FF3B8.9020707@xxx.org", "348F04F142D69C21-291E56D292BC@xxxx.net"]);
      assert.deepEqual(parseMessageIds(headers["in-reply-to"]), ["348F04F142D69C21-291E56D292BC@xxxx.net"]);
    });

    it("drops the id broken by folding and joins repeated References headers", async () => {
      const { message: { headers } } = await loadCorpusMail("mikel-mail/spec/fixtures/emails/error_emails/multiple_references_with_one_invalid.eml");
      assert.deepEqual(parseMessageIds(headers["references"]), ["foo@bar.net", "baz@bar.net"]);
    });

    it("reads nothing from an empty In-Reply-To", async () => {
      const { message: { headers } } = await loadCorpusMail("mikel-mail/spec/fixtures/emails/error_emails/empty_in_reply_to.eml");
      assert.deepEqual(parseMessageIds(headers["in-reply-to"]), []);
    });

    it("builds a reply to a real thread: one Re:, In-Reply-To the parent, References ending with it", async () => {
      const { message: { subject, headers } } = await loadCorpusMail("mikel-mail/spec/fixtures/emails/plain_emails/raw_email_reply.eml");
      assert.equal(replySubject(subject), "Re: Test reply email");
      const reply = buildReplyHeaders({
        messageId: parseMessageIds(headers["message-id"])[0] ?? null,
        inReplyTo: parseMessageIds(headers["in-reply-to"])[0] ?? null,
        references: parseMessageIds(headers["references"]),
      });
      assert.deepEqual(reply, {
        inReplyTo: "473FFE27.20003@xxx.org",
        references: ["473FF3B8.9020707@xxx.org", "348F04F142D69C21-291E56D292BC@xxxx.net", "473FFE27.20003@xxx.org"],
      });
    });

    it("keeps every id from every corpus header clean, and every corpus subject stable under normalize and reply", async () => {
      const files = corpusFiles("", /\.(eml|raw)$/u);
      assert.ok(files.length > 500);
      let ids = 0;
      for (const path of files) {
        const mail = await loadCorpusMail(path).catch((err) => {
          if (err instanceof UnparseableMessageError) return null; // not a message at all: intake quarantines it
          throw err;
        });
        if (!mail) continue;
        const { headers } = mail.message;
        for (const name of ["message-id", "in-reply-to", "references"]) {
          for (const id of parseMessageIds(headers[name])) {
            assert.doesNotMatch(id, /[<>\s]/u, `${path} ${name}`);
            ids++;
          }
        }
        const subject = mail.message.subject;
        const { base, key } = normalizeSubject(subject);
        assert.equal(normalizeSubject(base).key, key, path);
        const reply = replySubject(subject);
        assert.equal(replySubject(reply), reply, path);
        assert.ok(reply.startsWith("Re: ") && !/^re\s*[:：]/iu.test(reply.slice(4)), `${path}: ${reply}`);
      }
      assert.ok(ids > 500, `ids: ${ids}`);
    });
  });
});
