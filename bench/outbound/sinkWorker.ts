/** The worker-thread side of sink.ts: runs the SMTP peer and answers the benchmark's requests. */
import { parentPort } from "node:worker_threads";
import { startSmtpPeer } from "../../spec/support/smtp.js";
import { clock, type SinkRequest, type SinkStats } from "./sink.js";

const port = parentPort!;
const blank = (): SinkStats => ({
  accepted: 0,
  bytes: 0,
  connections: 0,
  firstConnectionAt: null,
  firstAcceptedAt: null,
  lastAcceptedAt: null,
});
let stats = blank();
let acceptedAt = new Map<string, number>();
let waiting: { id: number; count: number }[] = [];

const peer = await startSmtpPeer({
  record: false,
  onConnection: () => {
    stats.connections++;
    stats.firstConnectionAt ??= clock();
  },
  onAccepted: (m) => {
    const at = clock();
    stats.accepted++;
    stats.bytes += m.bytes;
    stats.firstAcceptedAt ??= at;
    stats.lastAcceptedAt = at;
    for (const to of m.to) if (!acceptedAt.has(to.toLowerCase())) acceptedAt.set(to.toLowerCase(), at);
    if (waiting.length > 0 && waiting.some((w) => stats.accepted >= w.count)) {
      for (const w of waiting.filter((x) => stats.accepted >= x.count)) port.postMessage({ id: w.id, result: { ...stats } });
      waiting = waiting.filter((w) => stats.accepted < w.count);
    }
  },
});

port.on("message", (m: SinkRequest & { id: number }) => {
  const answer = (result: unknown) => port.postMessage({ id: m.id, result });
  switch (m.op) {
    case "reset":
      stats = blank();
      acceptedAt = new Map();
      waiting = [];
      return answer(null);
    case "stats":
      return answer({ ...stats });
    case "until":
      if (stats.accepted >= m.count) return answer({ ...stats });
      waiting.push({ id: m.id, count: m.count });
      return;
    case "times":
      return answer(m.addresses.map((a) => acceptedAt.get(a.toLowerCase()) ?? null));
    case "stop":
      void peer.stop().then(() => {
        answer(null);
        port.close();
      });
      return;
  }
});
port.postMessage({ ready: peer.port });
