import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, open, readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ImapFlow } from "imapflow";

/**
 * A private Dovecot IMAP server for integration tests (Debian's `dovecot-imapd`, 2.3).
 *
 * Each `startDovecot()` gets its own temp folder holding the configuration, passwd-file, base_dir,
 * state_dir, log file and the users' maildirs, and listens on 127.0.0.1 at a free high port, plain
 * text (no TLS unless `tls: true`, see below). IDLE, UIDPLUS (APPENDUID), CONDSTORE and QRESYNC are
 * advertised after login (Dovecot's default capability list). Up to 100 connections per user and IP. A failed login is
 * answered within ~0.5 s (auth_failure_delay = 0; Dovecot's failure timer ticks every 500 ms) and
 * does not slow down later logins (no auth penalty).
 *
 * Usage:
 *   const imap = await startDovecot();                // user "support", password "secret"
 *   const uid = await imap.append("support", "INBOX", rawMessage);
 *   new ImapFlow({ host: imap.host, port: imap.port, secure: false, auth: { user, pass }, logger: false })
 *   await imap.stop();
 *
 * Every started instance is also stopped by a process 'exit' hook, so a crashed test run leaves no
 * dovecot behind. Runs as root (as CI does: login processes run as dovenull, mail as dovecot) and
 * as an ordinary user (everything then runs as that user; not covered by CI).
 *
 * TLS: `startDovecot({ tls: true })` makes a throwaway CA and a server certificate for 127.0.0.1 and
 * localhost (openssl CLI, files under <dir>/tls), serves implicit TLS ("imaps") on `tlsPort` and offers
 * STARTTLS on `port` (ssl = yes, not required: plaintext login stays allowed). Trust it with
 * `tls: { ca: imap.caPem }`. Mind that imapflow upgrades opportunistically when STARTTLS is offered: a
 * client of the plain port must pass that CA, or `doSTARTTLS: false` to stay in plain text (the
 * harness's own connections do the latter).
 *
 * Timing: start ~50 ms (+~250 ms with tls, for the certificates); stop, restart and
 * recreateFolder("INBOX") ~1.2 s each (Dovecot's master waits 1 s for its log process on shutdown);
 * setPassword up to 1 s (see there).
 */

export interface DovecotUser {
  user: string;
  password: string;
}

export interface Dovecot {
  /** Always "127.0.0.1". */
  host: string;
  /** The IMAP port (plain text; offers STARTTLS with tls). Stays the same across restart() and recreateFolder("INBOX"). */
  port: number;
  /** With tls: the implicit-TLS (imaps) port, stays the same like `port`; otherwise null. */
  tlsPort: number | null;
  /** With tls: the PEM of the throwaway CA that signed the server certificate; otherwise null. */
  caPem: string | null;
  /** The users, with their current passwords (setPassword updates this). */
  users: DovecotUser[];
  /** The instance's temp folder (config, passwd-file, log, homes under home/<user>/Maildir). */
  dir: string;
  /** `dovecot -c FILE stop`, waits until the port is closed and the master is gone, removes the temp folder. Idempotent. */
  stop(): Promise<void>;
  /** Stops the server process (mail is kept) and starts it again on the same port; resolves once it greets. Open connections are dropped. */
  restart(): Promise<void>;
  /**
   * IMAP APPEND as that user over a fresh connection (creates the folder if missing); returns the new UID from APPENDUID.
   * `internalDate` sets the INTERNALDATE that SEARCH SINCE looks at (default: now).
   */
  append(user: string, folder: string, raw: Buffer | string, flags?: string[], internalDate?: Date): Promise<number>;
  /** Appends many messages over ONE connection, one after another (creates the folder if missing). */
  appendMany(user: string, folder: string, raws: (Buffer | string)[]): Promise<void>;
  /** Runs `fn` on a fresh plain-text connection logged in as `user`, then logs out (tests' look-ups). */
  withClient<T>(user: string, fn: (client: ImapFlow) => Promise<T>): Promise<T>;
  /**
   * Deletes the folder and creates it again: it is empty, its UIDVALIDITY changes and UIDs start at 1
   * again. Other folders: IMAP DELETE + CREATE while the server runs. INBOX (which IMAP cannot delete):
   * the server is stopped, the INBOX's messages (unless keepMessages), dovecot-uidlist and index files
   * are removed, and the server is started again on the same port (open connections are dropped).
   * With keepMessages (INBOX only) the messages stay and get new UIDs from 1 under the new UIDVALIDITY.
   */
  recreateFolder(user: string, folder: string, options?: { keepMessages?: boolean }): Promise<void>;
  /**
   * Rewrites the passwd-file with the user's new password, no restart. Resolves once Dovecot is sure to
   * see it (it re-checks the file at most once per second, so this waits up to 1 s).
   */
  setPassword(user: string, password: string): Promise<void>;
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 8;

/** Instances started and not yet stopped, for the process 'exit' hook. */
const live = new Map<string, { bin: string; config: string; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    const instances = [...live.values()];
    live.clear();
    if (instances.length === 0) return;
    try {
      // `dovecot -c FILE stop` for all of them at once (each waits until its master is reaped).
      execFileSync(
        "sh",
        ["-c", 'bin="$1"; shift; for c in "$@"; do "$bin" -c "$c" stop >/dev/null 2>&1 & done; wait', "sh", instances[0]!.bin, ...instances.map((i) => i.config)],
        { stdio: "ignore", timeout: 15_000 },
      );
    } catch {
      // nothing more can be done at exit
    }
    for (const { dir } of instances) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // ignore
      }
    }
  });
}

function dovecotBinary(): string {
  if (process.env.DRAFTGATE_TEST_DOVECOT) return process.env.DRAFTGATE_TEST_DOVECOT;
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean).concat(["/usr/sbin", "/usr/local/sbin"])) {
    const candidate = join(dir, "dovecot");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    "dovecot is not installed (apt-get install dovecot-imapd); set DRAFTGATE_TEST_DOVECOT to its path if it is elsewhere",
  );
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

function passwdEntry(name: string): Account | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

function groupName(gid: number): string {
  for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && Number(f[2]) === gid) return f[0]!;
  }
  throw new Error(`no group with gid ${gid} in /etc/group`);
}

/** Who runs what: as root, login processes as dovenull, internal ones and the mail as dovecot. */
function accounts(): { login: string; internal: string; internalGroup?: string; mail: Account } {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) {
    const me = userInfo();
    const mine = { name: me.username, uid: me.uid, gid: me.gid };
    return { login: me.username, internal: me.username, internalGroup: groupName(me.gid), mail: mine };
  }
  const dovecot = passwdEntry("dovecot");
  if (!dovecot || !passwdEntry("dovenull")) {
    throw new Error("the system users dovecot and dovenull are missing (apt-get install dovecot-imapd creates them)");
  }
  return { login: "dovenull", internal: "dovecot", mail: dovecot };
}

function checkUser(u: DovecotUser): void {
  if (!/^[A-Za-z0-9._@+-]+$/.test(u.user)) throw new Error(`unsupported test user name: ${JSON.stringify(u.user)}`);
  if (/[:\n\r]/.test(u.password)) throw new Error(`a passwd-file password cannot contain ':' or line breaks`);
}

interface TlsFiles {
  cert: string;
  key: string;
  caPem: string;
}

const execFileAsync = promisify(execFile);

/**
 * A throwaway CA and a server certificate signed by it (subjectAltName IP:127.0.0.1, DNS:localhost),
 * P-256 keys, valid for 2 days, under `folder`. The key files are 0600: Dovecot reads `ssl_key = <file`
 * in its config process, which runs as the user that started it (root or the current user).
 */
async function makeCertificates(folder: string): Promise<TlsFiles> {
  await mkdir(folder, { mode: 0o700 });
  const f = (name: string) => join(folder, name);
  const openssl = async (args: string[]) => {
    try {
      await execFileAsync("openssl", args, { cwd: folder, timeout: 15_000 });
    } catch (e) {
      const err = e as { code?: string; stderr?: string; message: string };
      if (err.code === "ENOENT") throw new Error("openssl is not installed (apt-get install openssl); startDovecot({ tls: true }) needs it", { cause: e });
      throw new Error(`openssl ${args[0]} failed: ${err.stderr?.trim() || err.message}`, { cause: e });
    }
  };
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req", "-x509", ...newKey, "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2",
    "-subj", "/O=Draftgate tests/CN=Draftgate throwaway test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl(["req", "-new", ...newKey, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/O=Draftgate tests/CN=localhost"]);
  await writeFile(
    f("server.ext"),
    [
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = IP:127.0.0.1,DNS:localhost",
      "",
    ].join("\n"),
  );
  const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0")}`;
  await openssl([
    "x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-set_serial", serial,
    "-days", "2", "-sha256", "-extfile", f("server.ext"), "-out", f("server.pem"),
  ]);
  await chmod(f("server.key"), 0o600);
  return { cert: f("server.pem"), key: f("server.key"), caPem: await readFile(f("ca.pem"), "utf8") };
}

function configText(dir: string, port: number, acc: ReturnType<typeof accounts>, tls: { port: number; files: TlsFiles } | null = null): string {
  // One setting per line: Dovecot's parser rejects anything after "{" on the same line.
  return [
    `# Private Dovecot for Draftgate tests (spec/support/dovecot.ts)`,
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    `protocols = imap`,
    `listen = ${HOST}`,
    // ssl = yes (not "required"): STARTTLS is offered on the plain port, plaintext login stays allowed.
    ...(tls ? [`ssl = yes`, `ssl_cert = <${tls.files.cert}`, `ssl_key = <${tls.files.key}`] : [`ssl = no`]),
    `disable_plaintext_auth = no`,
    `auth_mechanisms = plain login`,
    `auth_failure_delay = 0`,
    `default_login_user = ${acc.login}`,
    `default_internal_user = ${acc.internal}`,
    ...(acc.internalGroup ? [`default_internal_group = ${acc.internalGroup}`] : []),
    `first_valid_uid = ${acc.mail.uid}`,
    `first_valid_gid = ${acc.mail.gid}`,
    `mail_location = maildir:~/Maildir`,
    `mail_fsync = never`,
    `stats_writer_socket_path =`,
    `passdb {`,
    `  driver = passwd-file`,
    `  args = ${dir}/passwd`,
    `}`,
    `userdb {`,
    `  driver = passwd-file`,
    `  args = ${dir}/passwd`,
    `}`,
    `protocol imap {`,
    `  mail_max_userip_connections = 100`,
    `  imap_max_line_length = 4M`,
    `}`,
    `service imap-login {`,
    `  chroot =`,
    `  inet_listener imap {`,
    `    address = ${HOST}`,
    `    port = ${port}`,
    `  }`,
    `  inet_listener imaps {`,
    ...(tls ? [`    address = ${HOST}`, `    port = ${tls.port}`, `    ssl = yes`] : [`    port = 0`]),
    `  }`,
    `}`,
    `service anvil {`,
    `  chroot =`,
    // No auth penalty: after a failed login Dovecot would delay the next logins from 127.0.0.1 by 2-15 s.
    // The auth process cannot open a mode-0 socket, and then skips the penalty.
    `  unix_listener anvil-auth-penalty {`,
    `    mode = 0`,
    `  }`,
    `}`,
    ``,
  ].join("\n");
}

/**
 * Runs `dovecot ...`. Its output goes to a file, not a pipe: the daemonized master keeps the inherited
 * stderr open, so waiting for a pipe to close would hang. `done` resolves when the process exits.
 */
async function spawnDovecot(
  bin: string,
  args: string[],
  outFile: string,
): Promise<{ child: ChildProcess; done: Promise<{ code: number; output: string }> }> {
  const out = await open(outFile, "w");
  const child = spawn(bin, args, { stdio: ["ignore", out.fd, out.fd] });
  const done = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  })
    .then(async (code) => ({ code, output: (await readFile(outFile, "utf8").catch(() => "")).trim() }))
    .finally(() => out.close());
  return { child, done };
}

function logTail(dir: string, lines = 30): string {
  try {
    const text = readFileSync(join(dir, "dovecot.log"), "utf8").trimEnd();
    return text.split("\n").slice(-lines).join("\n") || "(log is empty)";
  } catch {
    return "(no log file)";
  }
}

function masterPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, "run", "master.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process runs. A zombie counts as gone: the daemonized master is reparented to PID 1,
 * which may reap it only seconds later (it does so here), and `kill(pid, 0)` still succeeds meanwhile.
 */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined || !alive(pid)) return;
  try {
    process.kill(pid, sig);
  } catch {
    // exited meanwhile
  }
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Live child processes of a process (from /proc). */
function childrenOf(pid: number): number[] {
  const result: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return result;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid && fields[0] !== "Z") result.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nobody listens on right now (the OS picks it; it is closed again before Dovecot binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not get a free port"))));
    });
  });
}

/** Connects once: "greeted" when the server sent its "* OK" line, "refused" when nothing listens. */
function probe(port: number): Promise<"greeted" | "refused" | "other"> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let data = "";
    const done = (result: "greeted" | "refused" | "other") => {
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2000, () => done("other"));
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      if (data.includes("\n")) done(data.startsWith("* OK") ? "greeted" : "other");
    });
    socket.on("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "refused" : "other"));
    socket.on("close", () => done("other"));
  });
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

class Instance implements Dovecot {
  readonly host = HOST;
  port = 0;
  tlsPort: number | null = null;
  caPem: string | null = null;
  users: DovecotUser[];
  readonly dir: string;
  private readonly bin: string;
  private readonly config: string;
  private readonly acc: ReturnType<typeof accounts>;
  private running = false;
  private removed = false;
  private passwdMtime = 0;
  private readonly tls: boolean;
  private tlsFiles: TlsFiles | null = null;

  constructor(bin: string, dir: string, users: DovecotUser[], acc: ReturnType<typeof accounts>, tls = false) {
    this.bin = bin;
    this.dir = dir;
    this.config = join(dir, "dovecot.conf");
    this.users = users;
    this.acc = acc;
    this.tls = tls;
  }

  async init(): Promise<void> {
    await chmod(this.dir, 0o755); // the mail processes (uid dovecot) must reach home/
    await mkdir(join(this.dir, "home"), { mode: 0o755 });
    for (const u of this.users) await this.makeHome(u.user);
    await this.writePasswd();
    if (this.tls) {
      this.tlsFiles = await makeCertificates(join(this.dir, "tls"));
      this.caPem = this.tlsFiles.caPem;
    }
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      let tls: { port: number; files: TlsFiles } | null = null;
      if (this.tlsFiles) {
        let tlsPort = await freePort();
        while (tlsPort === this.port) tlsPort = await freePort();
        this.tlsPort = tlsPort;
        tls = { port: tlsPort, files: this.tlsFiles };
      }
      await writeFile(this.config, configText(this.dir, this.port, this.acc, tls));
      try {
        await this.launch();
        return;
      } catch (e) {
        if (e instanceof StartError && e.portInUse && attempt < PORT_ATTEMPTS) continue;
        throw e;
      }
    }
  }

  private home(user: string): string {
    return join(this.dir, "home", user);
  }

  private async makeHome(user: string): Promise<void> {
    const home = this.home(user);
    await mkdir(home, { recursive: true, mode: 0o700 });
    await chown(home, this.acc.mail.uid, this.acc.mail.gid);
  }

  private async writePasswd(): Promise<void> {
    const { uid, gid } = this.acc.mail;
    const text = this.users.map((u) => `${u.user}:{PLAIN}${u.password}:${uid}:${gid}::${this.home(u.user)}\n`).join("");
    const file = join(this.dir, "passwd");
    const tmp = `${file}.tmp`;
    await writeFile(tmp, text, { mode: 0o644 });
    // Dovecot re-reads a passwd-file when its mtime/size changes; make sure the mtime always moves,
    // even for two rewrites within one second.
    this.passwdMtime = Math.max(Math.floor(Date.now() / 1000), this.passwdMtime + 1);
    await utimes(tmp, this.passwdMtime, this.passwdMtime);
    await rename(tmp, file);
  }

  /** "PORT" or "PORT (imaps TLSPORT)", for messages. */
  private ports(): string {
    return this.tlsPort === null ? String(this.port) : `${this.port} (imaps ${this.tlsPort})`;
  }

  /**
   * Starts the master on this.port (and this.tlsPort) and waits until the plain port greets. The master
   * binds all its listeners before it daemonizes, so the imaps port is open by then as well.
   */
  private async launch(): Promise<void> {
    const started = await (await spawnDovecot(this.bin, ["-c", this.config], join(this.dir, "start.out"))).done;
    if (started.code !== 0) {
      const tail = logTail(this.dir);
      const inUse = /address already in use/i.test(`${started.output}\n${tail}`);
      throw new StartError(
        `dovecot did not start on ${HOST}:${this.ports()} (exit ${started.code}): ${started.output}\n--- ${this.dir}/dovecot.log (tail):\n${tail}`,
        inUse,
      );
    }
    this.running = true;
    live.set(this.dir, { bin: this.bin, config: this.config, dir: this.dir });
    installExitHook();
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if ((await probe(this.port)) === "greeted") return;
      const pid = masterPid(this.dir);
      const gone = pid !== undefined && !alive(pid);
      if (gone || Date.now() > deadline) {
        const tail = logTail(this.dir);
        await this.halt().catch(() => {});
        throw new StartError(
          `dovecot ${gone ? "exited" : "did not accept connections"} on ${HOST}:${this.ports()} within ${START_TIMEOUT_MS} ms\n--- ${this.dir}/dovecot.log (tail):\n${tail}`,
          /address already in use/i.test(tail),
        );
      }
      await sleep(25);
    }
  }

  /**
   * Stops the master (mail stays) with `dovecot -c FILE stop` and waits until the master and every
   * process it started are gone and the port refuses connections.
   */
  private async halt(): Promise<void> {
    if (!this.running) return;
    const pid = masterPid(this.dir);
    const family = new Set<number>(pid === undefined ? [] : childrenOf(pid));
    const stop = await spawnDovecot(this.bin, ["-c", this.config, "stop"], join(this.dir, "stop.out"));
    stop.done.catch(() => {});
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    let terminated = false;
    for (;;) {
      if (alive(pid)) for (const child of childrenOf(pid!)) family.add(child); // e.g. processes started on shutdown
      const left = [...family].filter(alive);
      if (
        !alive(pid) &&
        left.length === 0 &&
        (await probe(this.port)) === "refused" &&
        (this.tlsPort === null || (await probe(this.tlsPort)) === "refused")
      ) {
        break;
      }
      if (!alive(pid) && !terminated) {
        // The master does not wait for imap processes: one serving a client notices the master is gone
        // and says "BYE Server shutting down" only ~9 s later (the log process waits for it). End them now.
        // (The log process is left alone: it exits by itself once its clients are gone.)
        terminated = true;
        for (const p of left) if (processName(p) !== "log") signal(p, "SIGTERM");
      }
      if (Date.now() > deadline) {
        for (const p of [pid, ...left]) signal(p, "SIGKILL");
        await sleep(100);
        if (alive(pid)) throw new Error(`dovecot (pid ${pid}) did not stop\n${logTail(this.dir)}`);
        break;
      }
      await sleep(20);
    }
    // `dovecot stop` waits until kill(pid, 0) fails, i.e. until PID 1 reaps the master's zombie, which
    // takes over a second more here. The master is done, so end that wait (it is our own child).
    if (stop.child.exitCode === null && stop.child.signalCode === null) stop.child.kill("SIGKILL");
    await stop.done.catch(() => {});
    this.running = false;
    live.delete(this.dir);
  }

  private requireRunning(): void {
    if (this.removed) throw new Error("this Dovecot was stopped");
  }

  async stop(): Promise<void> {
    if (this.removed) return;
    await this.halt();
    this.removed = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  async restart(): Promise<void> {
    this.requireRunning();
    await this.halt();
    await this.relaunch();
  }

  /** Starts again on the same port; a just-closed port can briefly be unavailable, so retry a little. */
  private async relaunch(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await this.launch();
        return;
      } catch (e) {
        if (!(e instanceof StartError && e.portInUse) || Date.now() > deadline) throw e;
        await sleep(100);
      }
    }
  }

  private password(user: string): string {
    const u = this.users.find((x) => x.user === user);
    if (!u) throw new Error(`no such test user: ${user} (users: ${this.users.map((x) => x.user).join(", ")})`);
    return u.password;
  }

  /** Runs `fn` on a fresh plain-text connection logged in as `user` (the harness's own, and tests' look-ups). */
  async withClient<T>(user: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    this.requireRunning();
    const client = new ImapFlow({
      host: this.host,
      port: this.port,
      secure: false,
      // With tls the server offers STARTTLS; the harness's own connections stay in plain text.
      ...(this.tls ? { doSTARTTLS: false } : {}),
      auth: { user, pass: this.password(user) },
      logger: false,
      disableAutoIdle: true,
    });
    client.on("error", () => {}); // failures surface through the awaited calls
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  private static isInbox(folder: string): boolean {
    return folder.toUpperCase() === "INBOX";
  }

  private static async ensureFolder(client: ImapFlow, folder: string): Promise<void> {
    if (!Instance.isInbox(folder)) await client.mailboxCreate(folder); // created: false when it exists
  }

  async append(user: string, folder: string, raw: Buffer | string, flags?: string[], internalDate?: Date): Promise<number> {
    return this.withClient(user, async (client) => {
      await Instance.ensureFolder(client, folder);
      const result = await client.append(folder, raw, flags, internalDate);
      if (!result || typeof result.uid !== "number") {
        throw new Error(`APPEND to ${folder} as ${user} returned no APPENDUID`);
      }
      return result.uid;
    });
  }

  async appendMany(user: string, folder: string, raws: (Buffer | string)[]): Promise<void> {
    await this.withClient(user, async (client) => {
      await Instance.ensureFolder(client, folder);
      for (const raw of raws) {
        if (!(await client.append(folder, raw))) throw new Error(`APPEND to ${folder} as ${user} failed`);
      }
    });
  }

  async recreateFolder(user: string, folder: string, options: { keepMessages?: boolean } = {}): Promise<void> {
    this.requireRunning();
    if (!Instance.isInbox(folder)) {
      if (options.keepMessages) throw new Error("recreateFolder: keepMessages is only supported for INBOX");
      await this.withClient(user, async (client) => {
        if ((await client.list()).some((m) => m.path === folder)) await client.mailboxDelete(folder);
        await client.mailboxCreate(folder);
      });
      return;
    }
    this.password(user); // unknown user: throw before stopping anything
    // Dovecot refuses to delete INBOX. With the server stopped, remove what holds INBOX's UIDVALIDITY
    // and UIDs (dovecot-uidlist, the INBOX and mailbox-list indexes); on the next access Dovecot
    // rebuilds them with a new UIDVALIDITY (taken from dovecot-uidvalidity, which is kept, so it grows)
    // and numbers the messages from 1.
    await this.halt();
    try {
      const maildir = join(this.home(user), "Maildir");
      const entries = await readdir(maildir).catch(() => [] as string[]);
      for (const name of entries) {
        if (name === "dovecot-uidlist" || name.startsWith("dovecot.index") || name.startsWith("dovecot.list.index")) {
          await rm(join(maildir, name), { force: true });
        }
      }
      if (!options.keepMessages) {
        for (const sub of ["cur", "new", "tmp"]) {
          const files = await readdir(join(maildir, sub)).catch(() => [] as string[]);
          for (const f of files) await rm(join(maildir, sub, f), { force: true });
        }
      }
    } finally {
      await this.relaunch();
    }
  }

  async setPassword(user: string, password: string): Promise<void> {
    this.requireRunning();
    const u = this.users.find((x) => x.user === user);
    if (!u) throw new Error(`no such test user: ${user}`);
    checkUser({ user, password });
    u.password = password;
    await this.writePasswd();
    // Dovecot's auth process stats a passwd-file at most once per second (per wall-clock second of its
    // event loop), so a change can go unseen until the clock reaches the next second: wait for that.
    await sleep(1000 - (Date.now() % 1000) + 20);
  }
}

export interface StartDovecotOptions {
  /** Default: one user "support" with password "secret". */
  users?: DovecotUser[];
  /** Also serve TLS: implicit TLS on `tlsPort`, STARTTLS on `port`, certificate from a throwaway CA (`caPem`). Default false. */
  tls?: boolean;
}

export async function startDovecot(options: StartDovecotOptions = {}): Promise<Dovecot> {
  const bin = dovecotBinary();
  const acc = accounts();
  const users = (options.users ?? [{ user: "support", password: "secret" }]).map((u) => ({ ...u }));
  if (users.length === 0) throw new Error("startDovecot needs at least one user");
  users.forEach(checkUser);
  if (new Set(users.map((u) => u.user)).size !== users.length) throw new Error("duplicate test user names");
  const dir = await mkdtemp(join(tmpdir(), "draftgate-dovecot-"));
  const instance = new Instance(bin, dir, users, acc, options.tls ?? false);
  try {
    await instance.init();
  } catch (e) {
    live.delete(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  return instance;
}
