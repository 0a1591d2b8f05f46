import type { Socket } from "node:net";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

/**
 * An SMTP peer for tests: smtp-server on 127.0.0.1, port 0 (the OS picks a free one), plain text (no
 * STARTTLS offered), AUTH PLAIN/LOGIN accepted for `user`/`password` (optional: a client may also
 * send without logging in unless `requireAuth`).
 *
 * It records every message it accepted: the envelope and the raw bytes exactly as received (parse them
 * back with mailparser). Knobs, each for the next N messages (a message = one MAIL FROM … transaction):
 * - `failNext(n, code)`: answer the final dot with a 4xx/5xx reply (the message is NOT recorded);
 * - `dropBeforeDataNext(n)`: close the connection after RCPT TO, before DATA (nothing recorded);
 * - `dropAfterDotNext(n)`: receive the whole message, record it (a real server would deliver it),
 *   then close the connection without answering the final dot.
 */
export interface SmtpPeer {
  host: "127.0.0.1";
  port: number;
  user: string;
  password: string;
  /** Accepted (and dropped-after-dot) messages, in arrival order. */
  messages: RecordedMessage[];
  /** Final-dot replies given so far by the knobs (failures) and connections dropped, for assertions. */
  stats: { failed: number; droppedBeforeData: number; droppedAfterDot: number; logins: number; connections: number };
  failNext(n: number, code?: number, text?: string): void;
  dropBeforeDataNext(n: number): void;
  dropAfterDotNext(n: number): void;
  /** From now on, record each message but leave its final dot unanswered (the sender waits) until release(). */
  hold(): void;
  /** Messages recorded and not answered yet (held). */
  readonly held: number;
  /** Stops holding and answers the held messages (their senders may be gone). */
  release(): void;
  /** Messages recorded for an address (envelope recipient), case-insensitive. */
  to(address: string): RecordedMessage[];
  stop(): Promise<void>;
}

export interface RecordedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** True when the connection was dropped after the dot instead of answering it. */
  dropped: boolean;
}

type Knob = { kind: "fail"; code: number; text: string } | { kind: "drop-before-data" } | { kind: "drop-after-dot" };

export interface SmtpPeerOptions {
  user?: string;
  password?: string;
  requireAuth?: boolean;
  replyDelayMs?: number;
  /** false: keep no messages (`messages` stays empty), only count; for benchmarks. Default true. */
  record?: boolean;
  /** Called for each message accepted, just before its final dot is answered (the envelope and its size in bytes). */
  onAccepted?: (m: { from: string; to: string[]; bytes: number }) => void;
  /** Called as each client connection opens. */
  onConnection?: () => void;
}

export async function startSmtpPeer(options: SmtpPeerOptions = {}): Promise<SmtpPeer> {
  const user = options.user ?? "support@example.com";
  const password = options.password ?? "smtp-secret";
  const knobs: Knob[] = [];
  const messages: RecordedMessage[] = [];
  const stats = { failed: 0, droppedBeforeData: 0, droppedAfterDot: 0, logins: 0, connections: 0 };
  // The knob that applies to a transaction, taken at MAIL FROM.
  const current = new Map<string, Knob | null>();
  let holding = false;
  const held: (() => void)[] = [];

  const server: SMTPServer = new SMTPServer({
    logger: false,
    hideSTARTTLS: true,
    disabledCommands: ["STARTTLS"],
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: !options.requireAuth,
    allowInsecureAuth: true,
    size: 50 * 1024 * 1024,
    onConnect(_session, cb) {
      stats.connections++;
      options.onConnection?.();
      cb();
    },
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === password) {
        stats.logins++;
        cb(null, { user: auth.username });
      } else cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onMailFrom(_address, session, cb) {
      current.set(session.id, knobs.shift() ?? null);
      cb();
    },
    onRcptTo(_address, session, cb) {
      const knob = current.get(session.id);
      if (knob?.kind === "drop-before-data") {
        // Every recipient of this transaction is answered with a dropped connection.
        stats.droppedBeforeData++;
        current.set(session.id, null);
        socketOf(server, session)?.destroy();
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on("data", (c: Buffer) => {
        bytes += c.length;
        if (options.record !== false) chunks.push(c);
      });
      stream.on("end", () => {
        const knob = current.get(session.id) ?? null;
        current.delete(session.id);
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        if (knob?.kind === "fail") {
          stats.failed++;
          cb(Object.assign(new Error(knob.text), { responseCode: knob.code }));
          return;
        }
        const raw = Buffer.concat(chunks);
        if (knob?.kind === "drop-after-dot") {
          stats.droppedAfterDot++;
          messages.push({ ...envelope, raw, dropped: true });
          socketOf(server, session)?.destroy();
          return;
        }
        if (options.record !== false) messages.push({ ...envelope, raw, dropped: false });
        options.onAccepted?.({ ...envelope, bytes });
        if (holding) held.push(() => cb(null, "Ok: queued"));
        else if (options.replyDelayMs) setTimeout(() => cb(null, "Ok: queued"), options.replyDelayMs);
        else cb(null, "Ok: queued");
      });
    },
  });
  server.on("error", () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const a = server.server.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  });

  const push = (n: number, knob: Knob) => {
    for (let i = 0; i < n; i++) knobs.push(knob);
  };
  return {
    host: "127.0.0.1",
    port,
    user,
    password,
    messages,
    stats,
    failNext: (n, code = 451, text) =>
      push(n, { kind: "fail", code, text: text ?? (code >= 500 ? "Mailbox unavailable" : "Try again later") }),
    dropBeforeDataNext: (n) => push(n, { kind: "drop-before-data" }),
    dropAfterDotNext: (n) => push(n, { kind: "drop-after-dot" }),
    hold: () => {
      holding = true;
    },
    get held() {
      return held.length;
    },
    release: () => {
      holding = false;
      for (const answer of held.splice(0)) answer();
    },
    to: (address) => messages.filter((m) => m.to.some((t) => t.toLowerCase() === address.toLowerCase())),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of connectionsOf(server)) c._socket?.destroy();
        server.close(() => resolve());
      }),
  };
}

/** smtp-server keeps its connections in a Set; each has the session and the socket (private fields). */
interface ServerConnection {
  id?: string;
  session?: { id?: string };
  _socket?: Socket;
}

function connectionsOf(server: SMTPServer): ServerConnection[] {
  return [...((server as unknown as { connections?: Set<ServerConnection> }).connections ?? [])];
}

function socketOf(server: SMTPServer, session: SMTPServerSession): Socket | undefined {
  return connectionsOf(server).find((c) => c.session?.id === session.id || c.id === session.id)?._socket;
}
