// Test-only helpers: a real rsyslogd in a temp dir, free loopback ports, polling with deadlines.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { stopProcess } from "../../helpers/processes.js";

/** The rsyslogd binary, or undefined: PATH first, then the sbin directories PATH often lacks. */
export function findRsyslogd(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, "rsyslogd");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** The openssl CLI, or undefined. */
export function findOpenssl(): string | undefined {
  const result = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return result.status === 0 ? "openssl" : undefined;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; a race with other processes is possible but rare). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws at the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** One rsyslogd in the foreground with its own config, work dir and output file under `dir`. */
export class Rsyslog {
  readonly output: string;
  /** The imuxsock socket (`<dir>/log.sock`), when constructed with `{ unixSocket: true }`. */
  readonly socketPath: string | undefined;
  /**
   * With `{ structuredData: true }`: `text` gets `APP-NAME STRUCTURED-DATA MSG` lines as rsyslog
   * split the message, `json` gets `APP-NAME {json}` lines, the SD-ELEMENTs as mmpstrucdata parsed
   * them (values unescaped, names kept as sent).
   */
  readonly structuredData: { text: string; json: string } | undefined;
  #process: ChildProcess | undefined;
  #starts = 0;
  #stderr = "";

  constructor(
    readonly binary: string,
    readonly dir: string,
    readonly port: number,
    options: { unixSocket?: boolean; structuredData?: boolean } = {},
  ) {
    this.output = join(dir, "out.log");
    this.socketPath = options.unixSocket ? join(dir, "log.sock") : undefined;
    this.structuredData = options.structuredData
      ? { text: join(dir, "sd.log"), json: join(dir, "sd.json") }
      : undefined;
    const sd = this.structuredData;
    const work = join(dir, "work");
    mkdirSync(work, { recursive: true });
    writeFileSync(
      join(dir, "rsyslog.conf"),
      [
        `global(workDirectory="${work}" maxMessageSize="64k")`,
        'module(load="imtcp")',
        'module(load="imudp")',
        `input(type="imtcp" port="${port}" address="127.0.0.1")`,
        // A small datagram costs ~1 KB of receive buffer; the default (~200 KB) overflows at a few hundred.
        `input(type="imudp" port="${port}" address="127.0.0.1" rcvbufSize="4m")`,
        ...(this.socketPath === undefined
          ? []
          : [
              // No /dev/log for a test instance. The special parser only knows the syslog(3) format;
              // off, the regular parser chain parses RFC 5424 (hostname included), and the
              // message's own timestamp is kept instead of the receive time.
              'module(load="imuxsock" SysSock.Use="off")',
              `input(type="imuxsock" Socket="${this.socketPath}" UseSpecialParser="off" ParseHostname="on" ` +
                'IgnoreTimestamp="off" UseSysTimeStamp="off" RateLimit.Interval="0")',
            ]),
        `action(type="omfile" file="${this.output}" template="RSYSLOG_SyslogProtocol23Format")`,
        ...(sd === undefined
          ? []
          : [
              'module(load="mmpstrucdata")',
              'template(name="sdText" type="string" string="%app-name% %structured-data% %msg%\n")',
              'template(name="sdJson" type="string" string="%app-name% %$!rfc5424-sd%\n")',
              `action(type="omfile" file="${sd.text}" template="sdText")`,
              'action(type="mmpstrucdata" sd_name.lowercase="off")',
              `action(type="omfile" file="${sd.json}" template="sdJson")`,
            ]),
        "",
      ].join("\n"),
    );
  }

  /** Starts rsyslogd and resolves once its TCP input accepts connections. */
  async start(): Promise<void> {
    this.#starts++;
    const pidfile = join(this.dir, `rsyslogd-${this.#starts}.pid`);
    const child = spawn(this.binary, ["-n", "-f", join(this.dir, "rsyslog.conf"), "-i", pidfile], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.#stderr += text;
    });
    this.#process = child;
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    await waitFor(`rsyslogd on 127.0.0.1:${this.port} (stderr: ${this.#stderr})`, async () => {
      if (exited) throw new Error(`rsyslogd exited at start: ${this.#stderr}`);
      return (await canConnect(this.port)) ? true : undefined;
    });
  }

  /**
   * Freezes the process (SIGSTOP): it keeps its sockets but reads nothing, like a hung daemon.
   * Resolves once every one of its threads has stopped: the signal takes effect asynchronously, and
   * rsyslogd's input threads could otherwise still read what a test writes "while frozen".
   */
  async freeze(): Promise<void> {
    const pid = this.#process?.pid;
    if (pid !== undefined) await stopProcess(pid);
  }

  /** Resumes a frozen process (SIGCONT). */
  thaw(): void {
    this.#process?.kill("SIGCONT");
  }

  /** Sends `signal` and resolves when the process has exited. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Lines of the output file (or of `file`) so far; empty before rsyslog created it. */
  lines(file = this.output): string[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line !== "");
  }
}

/** Starts a real rsyslogd for the test, or skips (locally) / fails (CI) when it is not installed. */
export async function startRsyslog(
  t: TestContext,
  options: { unixSocket?: boolean; structuredData?: boolean } = {},
): Promise<Rsyslog | undefined> {
  const binary = findRsyslogd();
  if (binary === undefined) {
    const hint = "rsyslogd not found (install it: apt-get install -y rsyslog)";
    if (process.env.CI) assert.fail(`${hint}; CI must run the rsyslog tests`);
    t.skip(hint);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "logmux-rsyslog-"));
  const rsyslog = new Rsyslog(binary, dir, await freePort(), options);
  t.after(async () => {
    await rsyslog.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  await rsyslog.start();
  return rsyslog;
}

/** One line of RSYSLOG_SyslogProtocol23Format output, split into RFC 5424 fields. */
export interface ParsedLine {
  pri: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sdName: string | undefined;
  msg: string;
}

const LINE =
  /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:\[logmux@32473 name="((?:[^"\\\]]|\\["\\\]])*)"\]|-) (.*)$/;

export function parseLine(line: string): ParsedLine | undefined {
  const m = LINE.exec(line);
  if (m === null) return undefined;
  return {
    pri: Number(m[1]),
    timestamp: m[2]!,
    hostname: m[3]!,
    appName: m[4]!,
    procId: m[5]!,
    msgId: m[6]!,
    sdName: m[7]?.replace(/\\(["\\\]])/g, "$1"),
    msg: m[8]!,
  };
}
