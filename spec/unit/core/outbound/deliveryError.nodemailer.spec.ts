/**
 * classifyDeliveryError against the errors the pinned nodemailer really produces: a scripted SMTP
 * peer on a loopback port answers or drops at each step, a real SMTPConnection sends to it, and the
 * error's plain fields are checked against the mapping documented in deliveryError.ts. It also pins
 * down how a sender can know the whole body was sent (the input nodemailer's errors cannot give).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { Readable } from "node:stream";
import nodemailer from "nodemailer";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import {
  classifyDeliveryError,
  smtpErrorFields,
  type DeliveryClassification,
  type SmtpErrorFields,
} from "../../../../src/core/outbound/deliveryError.js";

/** A reply line, "drop" (destroy the socket), or "silent" (say nothing, keep the socket open). */
type Answer = string;
interface Script {
  greeting?: Answer;
  auth?: Answer;
  mail?: Answer;
  rcpt?: Answer;
  data?: Answer;
  dot?: Answer;
}

const MESSAGE = "From: support@example.com\r\nTo: jane@customer.example\r\nSubject: Re: x\r\nMessage-ID: <1@dg.example>\r\n\r\nhello\r\n";

async function scriptedServer(script: Script): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    let buffer = "";
    let inData = false;
    const answer = (a: Answer) => {
      if (a === "drop") socket.destroy();
      else if (a !== "silent") socket.write(`${a}\r\n`);
    };
    answer(script.greeting ?? "220 scripted ESMTP");
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          buffer = buffer.slice(end + 5);
          inData = false;
          answer(script.dot ?? "250 2.0.0 queued");
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol).toUpperCase();
        buffer = buffer.slice(eol + 2);
        if (line.startsWith("EHLO")) answer("250-scripted\r\n250 AUTH PLAIN");
        else if (line.startsWith("AUTH")) answer(script.auth ?? "235 2.7.0 ok");
        else if (line.startsWith("MAIL")) answer(script.mail ?? "250 ok");
        else if (line.startsWith("RCPT")) answer(script.rcpt ?? "250 ok");
        else if (line === "DATA") {
          const a = script.data ?? "354 go ahead";
          inData = a.startsWith("354");
          answer(a);
        } else if (line === "QUIT") socket.end("221 bye\r\n");
        else answer("250 ok");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

interface Attempt {
  fields: SmtpErrorFields | null;
  /** The message source was read to its end: nodemailer pipes it only after the 354 reply, and writes the final dot when it ends. */
  bodyFullySent: boolean;
}

/** One send over a fresh SMTPConnection: connect, optionally log in, send MESSAGE as a stream. */
async function attempt(port: number, options: { auth?: boolean } = {}): Promise<Attempt> {
  const connection = new SMTPConnection({
    host: "127.0.0.1",
    port,
    ignoreTLS: true,
    socketTimeout: 300,
    greetingTimeout: 2000,
    connectionTimeout: 2000,
  });
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  connection.on("error", (err: Error) => fail(err));
  const step = <T>(run: (done: (err: Error | null | undefined, value?: T) => void) => void) =>
    Promise.race([new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T)))), failed]);
  let bodyFullySent = false;
  try {
    await step<void>((done) => connection.connect((err) => done(err)));
    if (options.auth) await step<boolean>((done) => connection.login({ user: "u", pass: "p" }, (err, ok) => done(err, ok)));
    const source = Readable.from([Buffer.from(MESSAGE)]);
    source.on("end", () => (bodyFullySent = true));
    await step((done) =>
      connection.send({ from: "support@example.com", to: ["jane@customer.example"] }, source, (err, info) => done(err, info)),
    );
    return { fields: null, bodyFullySent };
  } catch (err) {
    return { fields: smtpErrorFields(err), bodyFullySent };
  } finally {
    connection.close();
  }
}

async function classify(
  script: Script,
  options: { auth?: boolean } = {},
): Promise<{ fields: SmtpErrorFields; bodyFullySent: boolean; c: DeliveryClassification }> {
  const server = await scriptedServer(script);
  try {
    const { fields, bodyFullySent } = await attempt(portOf(server), options);
    assert.ok(fields, "the send was expected to fail");
    return { fields, bodyFullySent, c: classifyDeliveryError(fields, { bodyFullySent }) };
  } finally {
    server.close();
  }
}

describe("classifyDeliveryError with real nodemailer errors", function () {
  this.timeout(10_000);

  it("sends through the scripted peer when it accepts", async () => {
    const server = await scriptedServer({});
    try {
      assert.deepEqual(await attempt(portOf(server)), { fields: null, bodyFullySent: true });
    } finally {
      server.close();
    }
  });

  const cases: Array<[string, Script, { auth?: boolean }, Partial<SmtpErrorFields>, boolean, DeliveryClassification["outcome"], boolean]> =
    [
      // [name, script, options, fields nodemailer sets, bodyFullySent, outcome, config]
      [
        "greeting 554",
        { greeting: "554 no service" },
        {},
        { code: "EPROTOCOL", command: "CONN", responseCode: 554 },
        false,
        "transient",
        true,
      ],
      [
        "AUTH 535",
        { auth: "535 5.7.8 bad credentials" },
        { auth: true },
        { code: "EAUTH", command: "AUTH PLAIN", responseCode: 535 },
        false,
        "transient",
        true,
      ],
      [
        "MAIL FROM 553",
        { mail: "553 5.7.1 sender not owned" },
        {},
        { code: "EENVELOPE", command: "MAIL FROM", responseCode: 553 },
        false,
        "permanent",
        false,
      ],
      [
        "RCPT TO 450",
        { rcpt: "450 4.2.0 greylisted" },
        {},
        { code: "EENVELOPE", command: "RCPT TO", responseCode: 450 },
        false,
        "transient",
        false,
      ],
      [
        "RCPT TO 550",
        { rcpt: "550 5.1.1 unknown" },
        {},
        { code: "EENVELOPE", command: "RCPT TO", responseCode: 550 },
        false,
        "permanent",
        false,
      ],
      ["DATA 554", { data: "554 5.5.1 no" }, {}, { code: "EENVELOPE", command: "DATA", responseCode: 554 }, false, "permanent", false],
      ["DATA 421", { data: "421 4.3.2 closing" }, {}, { code: "EENVELOPE", command: "DATA", responseCode: 421 }, false, "transient", false],
      ["final dot 451", { dot: "451 4.3.0 later" }, {}, { code: "EMESSAGE", command: "DATA", responseCode: 451 }, true, "transient", false],
      ["final dot 554", { dot: "554 5.7.1 spam" }, {}, { code: "EMESSAGE", command: "DATA", responseCode: 554 }, true, "permanent", false],
      [
        "dropped at the greeting",
        { greeting: "drop" },
        {},
        { code: "ECONNECTION", command: "CONN", responseCode: null },
        false,
        "transient",
        false,
      ],
      ["dropped at RCPT TO", { rcpt: "drop" }, {}, { code: "ECONNECTION", command: "CONN", responseCode: null }, false, "transient", false],
      ["dropped at DATA", { data: "drop" }, {}, { code: "ECONNECTION", command: "CONN", responseCode: null }, false, "transient", false],
      [
        "dropped after the final dot",
        { dot: "drop" },
        {},
        { code: "ECONNECTION", command: "CONN", responseCode: null },
        true,
        "uncertain",
        false,
      ],
      [
        "silent after the final dot (socket timeout)",
        { dot: "silent" },
        {},
        { code: "ETIMEDOUT", command: "CONN", responseCode: null },
        true,
        "uncertain",
        false,
      ],
    ];
  for (const [name, script, options, expected, bodyFullySent, outcome, config] of cases) {
    it(`${name}: ${Object.values(expected)
      .filter((v) => v !== null)
      .join(" ")} → ${outcome}`, async () => {
      const got = await classify(script, options);
      for (const [key, value] of Object.entries(expected))
        assert.equal(got.fields[key as keyof SmtpErrorFields], value, `${key} of ${JSON.stringify(got.fields)}`);
      assert.equal(got.bodyFullySent, bodyFullySent);
      assert.equal(got.c.outcome, outcome, got.c.reason);
      assert.equal(got.c.config, config, got.c.reason);
    });
  }

  it("connection refused: ESOCKET with ECONNREFUSED kept as originalCode → transient", async () => {
    const server = await scriptedServer({});
    const port = portOf(server);
    await new Promise((resolve) => server.close(resolve));
    const { fields, bodyFullySent } = await attempt(port);
    assert.deepEqual([fields?.code, fields?.originalCode, fields?.command], ["ESOCKET", "ECONNREFUSED", "CONN"]);
    assert.equal(classifyDeliveryError(fields!, { bodyFullySent }).outcome, "transient");
  });

  // Why the sender must track the body itself, and how not to: sendMail reads a `raw` stream into
  // its own buffer before MAIL FROM, so the stream's end says nothing about the final dot.
  it("through a transport, a raw stream has ended before the envelope even went out", async () => {
    const server = await scriptedServer({ rcpt: "drop" });
    try {
      const transport = nodemailer.createTransport({ host: "127.0.0.1", port: portOf(server), secure: false, ignoreTLS: true });
      let ended = false;
      const raw = Readable.from([Buffer.from(MESSAGE)]);
      raw.on("end", () => (ended = true));
      await assert.rejects(transport.sendMail({ envelope: { from: "support@example.com", to: ["jane@customer.example"] }, raw }), {
        code: "ECONNECTION",
      });
      assert.equal(ended, true, "the raw stream ended although the connection died at RCPT TO");
      transport.close();
    } finally {
      server.close();
    }
  });
});
