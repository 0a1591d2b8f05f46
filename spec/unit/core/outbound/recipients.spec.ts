import assert from "node:assert/strict";
import fc from "fast-check";
import type { Address } from "../../../../src/core/message.js";
import {
  addressKey,
  isSendableAddress,
  resolveRecipients,
  type AnsweredMessage,
  type RecipientDecision,
  type ReplyingMailbox,
} from "../../../../src/core/outbound/recipients.js";

const a = (address: string, name = ""): Address => ({ address, name });
const jane = a("jane@customer.example", "Jane Doe");
const mailbox: ReplyingMailbox = { address: "support@example.com", aliases: ["help@example.com"], ccPolicy: "reply-all" };

function answered(overrides: Partial<AnsweredMessage> = {}): AnsweredMessage {
  return { from: jane, replyTo: [], to: [a("support@example.com")], cc: [], automated: false, ...overrides };
}

const ok = (d: RecipientDecision) => {
  assert.ok(d.ok, `refused: ${JSON.stringify(d)}`);
  return d;
};
const addresses = (list: Address[]) => list.map((x) => x.address);

describe("resolveRecipients", () => {
  describe("To", () => {
    const cases: Array<[string, Partial<AnsweredMessage>, string[]]> = [
      ["the sender", {}, ["jane@customer.example"]],
      ["Reply-To over From", { replyTo: [a("orders@customer.example")] }, ["orders@customer.example"]],
      ["every Reply-To address", { replyTo: [a("x@c.example"), a("y@c.example")] }, ["x@c.example", "y@c.example"]],
      ["From when Reply-To names only us", { replyTo: [a("Support@Example.com")] }, ["jane@customer.example"]],
      ["From when Reply-To names an alias of ours with a +tag", { replyTo: [a("help+x@example.com")] }, ["jane@customer.example"]],
      ["the usable part of Reply-To", { replyTo: [a("noreply@c.example"), a("y@c.example")] }, ["y@c.example"]],
      ["Reply-To entries without an address are skipped", { replyTo: [a("", "Group:")] }, ["jane@customer.example"]],
      ["one copy of a repeated Reply-To", { replyTo: [a("x@c.example"), a("X@C.example")] }, ["x@c.example"]],
    ];
    for (const [name, overrides, expected] of cases) {
      it(`answers ${name}`, () => assert.deepEqual(addresses(ok(resolveRecipients(answered(overrides), mailbox)).to), expected));
    }

    it("keeps the display name, without line breaks", () => {
      const d = ok(resolveRecipients(answered({ from: a("jane@customer.example", "Jane\r\nBcc: x@evil.example") }), mailbox));
      assert.deepEqual(d.to, [a("jane@customer.example", "Jane Bcc: x@evil.example")]);
    });
  });

  describe("refusals", () => {
    const refused: Array<[string, Partial<AnsweredMessage>, string]> = [
      ["an automated message", { automated: true }, "automated-message"],
      ["an automated message even from a person", { automated: true, from: jane }, "automated-message"],
      ["no From", { from: null }, "no-sender"],
      ["the null sender (empty address)", { from: a("") }, "no-sender"],
      ["a name without an address", { from: a("", "MAILER-DAEMON") }, "no-sender"],
      ["MAILER-DAEMON", { from: a("MAILER-DAEMON@mx.example.net") }, "automated-address"],
      ["postmaster", { from: a("postmaster@example.net") }, "automated-address"],
      ["noreply", { from: a("noreply@shop.example") }, "automated-address"],
      ["no-reply", { from: a("no-reply@shop.example") }, "automated-address"],
      ["do-not-reply", { from: a("do-not-reply@shop.example") }, "automated-address"],
      ["donotreply", { from: a("DoNotReply@shop.example") }, "automated-address"],
      ["the no-reply family with a suffix", { from: a("noreply-billing@shop.example") }, "automated-address"],
      ["no-reply with a +tag", { from: a("no-reply+123@shop.example") }, "automated-address"],
      ["a list's -request address", { from: a("users-request@lists.example.org") }, "automated-address"],
      ["a list's owner- address", { from: a("owner-users@lists.example.org") }, "automated-address"],
      ["a bounces address", { from: a("bounces@esp.example") }, "automated-address"],
      ["a no-reply Reply-To (the sender asked for no answer)", { replyTo: [a("noreply@shop.example")] }, "automated-address"],
      ["our own address", { from: a("support@example.com") }, "own-address"],
      ["our own address in another case", { from: a("SUPPORT@EXAMPLE.COM") }, "own-address"],
      ["an alias of ours", { from: a("help@example.com") }, "own-address"],
      ["a +tag of our address", { from: a("support+billing@example.com") }, "own-address"],
      ["Reply-To only ours and no From", { from: null, replyTo: [a("support@example.com")] }, "own-address"],
      ["an address without @", { from: a("jane") }, "invalid-address"],
      ["an address with a line break", { from: a("jane@x.example\r\nBcc: v@y.example") }, "invalid-address"],
      ["an address with brackets", { from: a("<jane@x.example>") }, "invalid-address"],
      ["two addresses in one", { from: a("jane@x.example,bob@y.example") }, "invalid-address"],
    ];
    for (const [name, overrides, reason] of refused) {
      it(`refuses ${name} (${reason})`, () => {
        const d = resolveRecipients(answered(overrides), mailbox);
        assert.equal(d.ok, false);
        assert.equal(!d.ok && d.reason, reason);
        assert.ok(!d.ok && d.detail.length > 0);
      });
    }
  });

  describe("Cc", () => {
    it("is empty under the `none` policy", () => {
      const d = ok(resolveRecipients(answered({ cc: [a("bob@customer.example")] }), { ...mailbox, ccPolicy: "none" }));
      assert.deepEqual(d.cc, []);
    });

    it("copies the other people on a reply-all, without us, robots, the customer or repeats", () => {
      const d = ok(
        resolveRecipients(
          answered({
            to: [a("support@example.com"), a("bob@customer.example", "Bob"), a("HELP@example.com")],
            cc: [
              a("Bob@Customer.example"),
              a("jane@customer.example"),
              a("noreply-notifications@tool.example"),
              a("carol@partner.example"),
              a("support+x@example.com"),
              a("users-request@lists.example.org"),
              a("not an address"),
            ],
          }),
          mailbox,
        ),
      );
      assert.deepEqual(addresses(d.to), ["jane@customer.example"]);
      assert.deepEqual(d.cc, [a("bob@customer.example", "Bob"), a("carol@partner.example")]);
      assert.deepEqual(d.dropped, [
        { address: "support@example.com", reason: "own-address" },
        { address: "HELP@example.com", reason: "own-address" },
        { address: "noreply-notifications@tool.example", reason: "automated-address" },
        { address: "support+x@example.com", reason: "own-address" },
        { address: "users-request@lists.example.org", reason: "automated-address" },
        { address: "not an address", reason: "invalid-address" },
      ]);
    });

    it("still answers the customer when every Cc is dropped", () => {
      const d = ok(resolveRecipients(answered({ cc: [a("noreply@x.example")] }), mailbox));
      assert.deepEqual(d.cc, []);
      assert.deepEqual(addresses(d.to), ["jane@customer.example"]);
    });
  });

  describe("isSendableAddress", () => {
    for (const good of ["jane@customer.example", "j.o+tag@sub.example.co.uk", "user@xn--bcher-kva.example", "jörg@bücher.example"]) {
      it(`accepts ${good}`, () => assert.ok(isSendableAddress(good)));
    }
    for (const bad of [
      "",
      "jane",
      "@x.example",
      "jane@",
      "jane@@x.example",
      "ja ne@x.example",
      "jane@x.example.",
      "jane@.example",
      '"j"@x.example',
      `${"a".repeat(250)}@x.example`,
    ]) {
      const label = bad.length > 40 ? `${bad.slice(0, 12)}… (${bad.length} characters)` : JSON.stringify(bad);
      it(`refuses ${label}`, () => assert.ok(!isSendableAddress(bad)));
    }
  });

  describe("properties", () => {
    const robotLocal = fc
      .tuple(
        fc.constantFrom(
          "mailer-daemon",
          "MAILER-DAEMON",
          "mailerdaemon",
          "postmaster",
          "post.master",
          "noreply",
          "no-reply",
          "no_reply",
          "NoReply",
          "do-not-reply",
          "donotreply",
          "bounce",
          "bounces",
        ),
        fc.constantFrom("", "+123", "+tag"),
      )
      .map(([l, tag]) => l + tag);
    const listRobot = fc
      .stringMatching(/^[a-z][a-z0-9]{0,8}$/u)
      .chain((s) => fc.constantFrom(`${s}-request`, `owner-${s}`, `${s}-bounces`));
    const noreplyFamily = fc.stringMatching(/^[a-z]{1,8}$/u).map((s) => `noreply-${s}`);
    const domain = fc.constantFrom("example.com", "shop.example", "mx.example.net", "EXAMPLE.ORG");
    const robot = fc.tuple(fc.oneof(robotLocal, listRobot, noreplyFamily), domain).map(([l, d]) => `${l}@${d}`);
    const person = fc
      .tuple(fc.stringMatching(/^[a-z][a-z0-9.]{0,10}[a-z0-9]$/u), fc.constantFrom("customer.example", "partner.example"))
      .filter(([l]) => !/\.\./u.test(l))
      .map(([l, d]) => `${l}@${d}`);
    const randomCase = (s: string) =>
      fc
        .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
        .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(""));
    const own = fc
      .tuple(fc.constantFrom("support@example.com", "help@example.com"), fc.constantFrom("", "+x", "+billing"))
      .map(([addr, tag]) => addr.replace("@", `${tag}@`))
      .chain(randomCase);
    const anyAddress = fc.oneof(robot, person, own).map((x) => a(x));

    it("never sends to an automated address, as From or as Reply-To", () => {
      fc.assert(
        fc.property(robot, fc.boolean(), fc.array(anyAddress, { maxLength: 5 }), (addr, viaReplyTo, others) => {
          const msg = viaReplyTo ? answered({ replyTo: [a(addr)], to: others }) : answered({ from: a(addr), to: others });
          const d = resolveRecipients(msg, mailbox);
          assert.equal(d.ok, false);
          assert.equal(!d.ok && d.reason, "automated-address");
        }),
        { numRuns: 1000 },
      );
    });

    it("never answers a message marked automated, whoever sent it", () => {
      fc.assert(
        fc.property(fc.option(anyAddress, { nil: null }), fc.array(anyAddress, { maxLength: 3 }), (from, replyTo) => {
          const d = resolveRecipients(answered({ from, replyTo, automated: true }), mailbox);
          assert.deepEqual(d.ok ? "sent" : d.reason, "automated-message");
        }),
      );
    });

    it("a reply-all never includes our own addresses or robots, and no address twice", () => {
      fc.assert(
        fc.property(
          fc.oneof(person, own).map((x) => a(x)),
          fc.array(anyAddress, { maxLength: 4 }),
          fc.array(anyAddress, { maxLength: 8 }),
          fc.array(anyAddress, { maxLength: 8 }),
          (from, replyTo, to, cc) => {
            const d = resolveRecipients(answered({ from, replyTo, to, cc }), mailbox);
            if (!d.ok) return;
            const all = [...d.to, ...d.cc].map((x) => addressKey(x.address));
            assert.equal(new Set(all).size, all.length, `repeated address in ${all.join(", ")}`);
            for (const x of all) {
              const bare = x.replace(/\+[^@]*@/u, "@");
              assert.ok(!["support@example.com", "help@example.com"].includes(bare), `own address ${x} kept`);
              assert.ok(
                !/^(?:mailer-?daemon|post\.?master|no[-_]?reply|do-?not-?reply|bounces?|owner-)|-(?:request|bounces)@|^noreply-/u.test(x),
                `robot ${x} kept`,
              );
            }
            assert.ok(d.to.length > 0);
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});
