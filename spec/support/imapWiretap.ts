import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A loopback TCP relay in front of an IMAP server that records every command line a client sends
 * (tag and all), in order, so a test can check what the gateway actually said on the wire: that IDLE
 * was restarted, that STORE \Seen came after a commit. Plain IMAP only (no TLS).
 */
export interface ImapWiretap {
  host: string;
  port: number;
  /** Client command lines seen so far (without CRLF), oldest first. */
  readonly commands: string[];
  /** Command lines whose command word (after the tag) is `name`, e.g. "IDLE", "UID STORE". */
  count(name: string): number;
  close(): Promise<void>;
}

export async function startImapWiretap(target: { host: string; port: number }, onCommand?: (line: string) => void): Promise<ImapWiretap> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let pending = "";
    client.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      let nl: number;
      while ((nl = pending.indexOf("\r\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        commands.push(line);
        onCommand?.(line);
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("wiretap has no address");
  const word = (line: string) => line.split(" ").slice(1).join(" ").toUpperCase();
  return {
    host: "127.0.0.1",
    port: address.port,
    commands,
    count: (name) => commands.filter((l) => word(l) === name.toUpperCase() || word(l).startsWith(`${name.toUpperCase()} `)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
