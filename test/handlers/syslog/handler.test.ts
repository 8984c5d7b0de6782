import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { HandlerError, InvalidConfigError } from "../../../src/errors.js";
import { kAttach } from "../../../src/handlers/base.js";
import {
  escapeParamValue,
  frameOctetCounted,
  headerField,
  SYSLOG_FACILITIES,
  SYSLOG_SEVERITY_BY_LEVEL,
  truncateUtf8,
} from "../../../src/handlers/syslog/format.js";
import { SyslogLogHandler, type SyslogLogHandlerOptions } from "../../../src/handlers/syslog/handler.js";
import { LogLevel } from "../../../src/levels.js";
import type { LogRecord } from "../../../src/record.js";
import { rejection } from "../../helpers/fake-api.js";
import { findOpenssl, freePort, parseLine, type Rsyslog, startRsyslog, waitFor } from "./helpers.js";

const BASE_NS = 1_767_323_045_000_000_000n; // 2026-01-02T03:04:05Z
const LEVELS = [
  LogLevel.TRACE,
  LogLevel.DEBUG,
  LogLevel.INFO,
  LogLevel.WARNING,
  LogLevel.ERROR,
  LogLevel.CRITICAL,
] as const;
const EXPECTED_SEVERITY = [7, 7, 6, 4, 3, 2];
/** The second name exercises RFC 5424 PARAM-VALUE escaping end to end. */
const NAMES = ["worker-0", 'wörker "1" \\ [x]', "MASTER"];
const TEXT = "héllo wörld 日本語 ✓ 🚀";

function rec(seq: number): LogRecord {
  return {
    timestampNs: BASE_NS + BigInt(seq) * 1_001_001n,
    level: LEVELS[seq % LEVELS.length]!,
    name: NAMES[seq % NAMES.length]!,
    message: `seq=${seq} ${TEXT}`,
    pid: 4000 + (seq % 3),
  };
}

function records(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let seq = from; seq < to; seq++) out.push(rec(seq));
  return out;
}

/** RFC 3339 with microseconds, computed independently of the handler's formatter. */
function expectedTimestamp(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${String((ns / 1000n) % 1_000_000n).padStart(6, "0")}Z`;
}

/** Attaches a fake master context so warnings and errors are collected instead of printed. */
function attach(handler: SyslogLogHandler): { warnings: string[]; errors: string[] } {
  const seen = { warnings: [] as string[], errors: [] as string[] };
  handler[kAttach]({
    strFormat: "%(message)s",
    warn: (message) => seen.warnings.push(message),
    reportError: (error) => seen.errors.push(error instanceof Error ? error.message : String(error)),
  });
  return seen;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const BOM = "\ufeff";

describe("RFC 5424 formatting", () => {
  const options: SyslogLogHandlerOptions = {
    hostname: "host.example",
    appName: "myapp",
    facility: "local0",
  };

  test("PRI, VERSION, timestamp with microseconds, header fields, SD and BOM-prefixed MSG", () => {
    const handler = new SyslogLogHandler(options);
    for (let seq = 0; seq < 6; seq++) {
      const record = rec(seq);
      const text = utf8.decode(handler.formatMessage(record));
      const pri = SYSLOG_FACILITIES.local0 * 8 + EXPECTED_SEVERITY[seq]!;
      const sd = `[logmux@32473 name="${escapeParamValue(record.name)}"]`;
      assert.equal(
        text,
        `<${pri}>1 ${expectedTimestamp(record.timestampNs)} host.example myapp ${record.pid} - ${sd} ${BOM}${record.message}`,
      );
    }
    assert.equal(
      utf8
        .decode(handler.formatMessage({ ...rec(0), timestampNs: 1_000_000_000_123_456_789n }))
        .split(" ")[1],
      "2001-09-09T01:46:40.123456Z",
    );
  });

  test("level mapping table and facility default user(1)", () => {
    assert.deepEqual(SYSLOG_SEVERITY_BY_LEVEL, [7, 7, 6, 4, 3, 2]);
    const handler = new SyslogLogHandler();
    assert.match(utf8.decode(handler.formatMessage({ ...rec(0), level: LogLevel.INFO })), /^<14>1 /);
    const numeric = new SyslogLogHandler({ facility: 23 });
    assert.match(utf8.decode(numeric.formatMessage({ ...rec(0), level: LogLevel.CRITICAL })), /^<186>1 /);
  });

  test("header fields: PRINTUSASCII only, length limits, NILVALUE when empty", () => {
    assert.equal(headerField("a b\tc\u00e9", 255), "a_b_c_");
    assert.equal(headerField("", 48), "-");
    const handler = new SyslogLogHandler({
      hostname: "h".repeat(300),
      appName: "a".repeat(60),
      msgId: "m".repeat(40),
    });
    const fields = utf8.decode(handler.formatMessage(rec(2))).split(" ");
    assert.equal(fields[2], "h".repeat(255));
    assert.equal(fields[3], "a".repeat(48));
    assert.equal(fields[5], "m".repeat(32));
    const spaced = new SyslogLogHandler({ hostname: "my host", appName: "ä pp", msgId: "" });
    const parts = utf8.decode(spaced.formatMessage(rec(2))).split(" ");
    assert.deepEqual(parts.slice(2, 6), ["my_host", "__pp", "4002", "-"]);
  });

  test('STRUCTURED-DATA escapes ", \\ and ] (RFC 5424 6.3.3)', () => {
    assert.equal(escapeParamValue('a"b\\c]d[e'), 'a\\"b\\\\c\\]d[e');
    const handler = new SyslogLogHandler({ hostname: "h", appName: "a" });
    const text = utf8.decode(handler.formatMessage({ ...rec(0), name: 'x"y\\z]' }));
    assert.ok(text.includes('[logmux@32473 name="x\\"y\\\\z\\]"]'), text);
  });

  test("bom: false leaves MSG as plain UTF-8; a format option formats MSG", () => {
    const handler = new SyslogLogHandler({ bom: false, format: "%(levelname)s %(message)s" });
    const text = utf8.decode(handler.formatMessage(rec(2)));
    assert.ok(text.endsWith(`] INFO seq=2 ${TEXT}`), text);
    assert.ok(!text.includes(BOM));
  });

  test("messages are cut to maxMessageBytes at a UTF-8 boundary and counted", () => {
    const handler = new SyslogLogHandler({ transport: "udp", maxMessageBytes: 480 });
    const long = { ...rec(0), message: "日本語🚀".repeat(200) };
    for (let i = 0; i < 3; i++) {
      const bytes = handler.formatMessage(long);
      assert.ok(bytes.length <= 480, `${bytes.length} bytes`);
      assert.ok(bytes.length >= 474, "cut wastes at most one 4-byte character plus a partial one");
      assert.doesNotThrow(() => utf8.decode(bytes));
    }
    assert.equal(handler.stats.truncated, 3);
    handler.formatMessage(rec(1));
    assert.equal(handler.stats.truncated, 3);
    // Cut points land inside every kind of sequence; none may split a character.
    const mixed = Buffer.from("aé日🚀".repeat(50));
    for (let max = 0; max <= mixed.length; max++)
      assert.doesNotThrow(() => utf8.decode(truncateUtf8(mixed, max)));
  });

  test("octet-counting frame: byte length, a space, the message", () => {
    assert.equal(frameOctetCounted(Buffer.from("<14>1 é")).toString(), "8 <14>1 é");
  });

  test("invalid options name the field and what it accepts", () => {
    const cases: Array<[SyslogLogHandlerOptions, string, RegExp]> = [
      [{ transport: "sctp" as "tcp" }, "transport", /"tcp", "tls", "udp" or "unix"/],
      [{ path: "/dev/log" }, "path", /transport "unix"/],
      [{ transport: "unix", path: "" }, "path", /1 to 107 bytes/],
      [{ transport: "unix", path: `/tmp/${"x".repeat(103)}` }, "path", /1 to 107 bytes/],
      [{ transport: "unix", maxMessageBytes: 70000 }, "maxMessageBytes", /65536/],
      [{ facility: "bogus" as "user" }, "facility", /local0/],
      [{ facility: 24 }, "facility", /0-23/],
      [{ port: 70000 }, "port", /1 to 65535/],
      [{ maxQueue: 0 }, "maxQueue", /integer/],
      [{ maxMessageBytes: 100 }, "maxMessageBytes", /480/],
      [{ transport: "udp", maxMessageBytes: 70000 }, "maxMessageBytes", /65507/],
      [{ tls: { ca: "x" } }, "tls", /transport "tls"/],
      [{ host: "" }, "host", /host name/],
    ];
    for (const [options, field, message] of cases) {
      assert.throws(
        () => new SyslogLogHandler(options),
        (error: unknown) =>
          error instanceof InvalidConfigError && error.field === field && message.test(error.message),
        `${JSON.stringify(options)}`,
      );
    }
  });
});

describe("queue bound", () => {
  test("drops the oldest beyond maxQueue, reports the exact count, and close reports the rest", async () => {
    const port = await freePort(); // nothing listens there: every connection attempt is refused
    const handler = new SyslogLogHandler({
      port,
      maxQueue: 10,
      reconnectMinMs: 20,
      reconnectMaxMs: 50,
      closeTimeoutMs: 200,
    });
    const seen = attach(handler);
    handler.push(records(0, 25));
    assert.equal(handler.stats.queued, 10);
    assert.equal(handler.stats.dropped, 15);
    const closeError = await rejection(handler.close());
    assert.deepEqual(
      { sent: handler.stats.sent, dropped: handler.stats.dropped, failed: handler.stats.failed },
      { sent: 0, dropped: 15, failed: 10 },
    );
    assert.equal(
      seen.warnings.filter((w) => w.includes("dropped 15 records")).length,
      1,
      seen.warnings.join("\n"),
    );
    assert.ok(closeError instanceof HandlerError, String(closeError));
    assert.ok(
      closeError.message.includes("10 records not confirmed") &&
        closeError.message.includes("10 never written"),
      closeError.message,
    );
  });
});

/** True when the optional native package loads; otherwise skips (locally) or fails (CI). */
function haveUnixDgram(t: import("node:test").TestContext): boolean {
  try {
    createRequire(import.meta.url)("unix-dgram");
    return true;
  } catch (error) {
    const hint = `unix-dgram did not load (${(error as Error).message.split("\n")[0]}); it builds with node-gyp on npm install`;
    if (process.env.CI) assert.fail(`${hint}; CI must run the Unix socket tests`);
    t.skip(hint);
    return false;
  }
}

describe("Unix datagram transport without a receiver", () => {
  test("keeps records queued while nobody listens, retries with backoff, and close reports them", async (t) => {
    if (!haveUnixDgram(t)) return;
    const dir = mkdtempSync(join(tmpdir(), "logmux-syslog-unix-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const handler = new SyslogLogHandler({
      transport: "unix",
      path: join(dir, "nobody.sock"),
      maxQueue: 10,
      reconnectMinMs: 20,
      reconnectMaxMs: 40,
      closeTimeoutMs: 300,
    });
    assert.equal(handler.path, join(dir, "nobody.sock"));
    const seen = attach(handler);
    handler.push(records(0, 25));
    assert.deepEqual(
      { queued: handler.stats.queued, dropped: handler.stats.dropped, sent: handler.stats.sent },
      { queued: 10, dropped: 15, sent: 0 },
    );
    const closeError = await rejection(handler.close());
    assert.deepEqual(
      { sent: handler.stats.sent, failed: handler.stats.failed, connects: handler.stats.connects },
      { sent: 0, failed: 10, connects: 0 },
    );
    const retries = seen.errors.filter((e) => e.includes("unreachable: ENOENT")).length;
    assert.ok(retries >= 3, `retried with backoff (${retries} attempts):\n${seen.errors.join("\n")}`);
    assert.ok(closeError instanceof HandlerError, String(closeError));
    assert.ok(
      closeError.message.includes("10 records not confirmed") &&
        closeError.message.includes(join(dir, "nobody.sock")),
      closeError.message,
    );
  });
});

describe("TLS (RFC 5425)", () => {
  test("delivers every record over TLS to a server with a self-signed certificate", async (t) => {
    const openssl = findOpenssl();
    if (openssl === undefined) {
      if (process.env.CI) assert.fail("openssl CLI not found: install it (apt-get install -y openssl)");
      t.skip("openssl CLI not found");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "logmux-syslog-tls-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      openssl,
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: "ignore" },
    );
    const cert = readFileSync(join(dir, "cert.pem"));
    const key = readFileSync(join(dir, "key.pem"));

    const received: string[] = [];
    const sockets = new Set<TLSSocket>();
    const server = createTlsServer({ cert, key }, (socket) => {
      sockets.add(socket);
      let buffered = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const space = buffered.indexOf(0x20);
          if (space < 0) break;
          const length = Number(buffered.subarray(0, space).toString("latin1"));
          if (buffered.length < space + 1 + length) break;
          received.push(utf8.decode(buffered.subarray(space + 1, space + 1 + length)));
          buffered = buffered.subarray(space + 1 + length);
        }
      });
      socket.on("end", () => socket.end());
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;

    const untrusting = new SyslogLogHandler({
      transport: "tls",
      port,
      closeTimeoutMs: 300,
      reconnectMinMs: 50,
    });
    const refused = attach(untrusting);
    untrusting.push(records(0, 3));
    const closeError = await rejection(untrusting.close());
    assert.ok(closeError instanceof HandlerError && /3 records not confirmed/.test(closeError.message));
    assert.equal(untrusting.stats.sent, 0);
    assert.equal(untrusting.stats.failed, 3);
    assert.ok(
      refused.errors.some((e) => /self-signed|certificate/i.test(e)),
      refused.errors.join("\n"),
    );

    const handler = new SyslogLogHandler({ transport: "tls", port, tls: { ca: cert }, hostname: "tls-host" });
    const seen = attach(handler);
    const N = 500;
    handler.push(records(0, N));
    await handler.close();
    assert.deepEqual(seen.errors, []);
    assert.equal(handler.stats.sent, N);
    assert.equal(handler.stats.failed, 0);
    assert.equal(received.length, N);
    for (let seq = 0; seq < N; seq++) {
      assert.ok(received[seq]!.endsWith(`${BOM}seq=${seq} ${TEXT}`), received[seq]);
      assert.ok(received[seq]!.includes(" tls-host logmux "), received[seq]);
    }
  });
});

/** Waits until rsyslog's file holds every seq in [0, n) for `appName`; returns how often each appeared. */
async function waitForAll(rsyslog: Rsyslog, appName: string, n: number): Promise<Map<number, number>> {
  return waitFor(`${n} records from ${appName} in ${rsyslog.output}`, () => {
    const counts = new Map<number, number>();
    for (const line of rsyslog.lines()) {
      const parsed = parseLine(line);
      if (parsed?.appName !== appName) continue;
      const seq = Number(/seq=(\d+) /.exec(parsed.msg)?.[1]);
      counts.set(seq, (counts.get(seq) ?? 0) + 1);
    }
    for (let seq = 0; seq < n; seq++) if (!counts.has(seq)) return undefined;
    return counts;
  });
}

/** Every line from `appName` parses, and its fields are exactly what was sent for its seq. */
function assertFields(rsyslog: Rsyslog, appName: string, facility: number): number {
  let checked = 0;
  for (const line of rsyslog.lines()) {
    const parsed = parseLine(line);
    if (parsed?.appName !== appName) continue;
    const seq = Number(/seq=(\d+) /.exec(parsed.msg)?.[1]);
    const record = rec(seq);
    assert.deepEqual(
      parsed,
      {
        pri: facility * 8 + EXPECTED_SEVERITY[seq % LEVELS.length]!,
        timestamp: expectedTimestamp(record.timestampNs),
        hostname: "test-host.example",
        appName,
        procId: String(record.pid),
        msgId: "-",
        sdName: record.name,
        msg: `${BOM}seq=${seq} ${TEXT}`,
      },
      line,
    );
    checked++;
  }
  return checked;
}

describe("against a real rsyslogd", () => {
  test("TCP: every record arrives once, with every field as sent", async (t) => {
    const rsyslog = await startRsyslog(t);
    if (rsyslog === undefined) return;
    const handler = new SyslogLogHandler({
      port: rsyslog.port,
      hostname: "test-host.example",
      appName: "lmx-tcp",
      facility: "local3",
    });
    const seen = attach(handler);
    const N = 5000;
    for (let i = 0; i < N; i += 500) handler.push(records(i, i + 500));
    await handler.close();
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(
      { sent: handler.stats.sent, failed: handler.stats.failed, dropped: handler.stats.dropped },
      { sent: N, failed: 0, dropped: 0 },
    );
    const counts = await waitForAll(rsyslog, "lmx-tcp", N);
    assert.equal(counts.size, N);
    assert.ok(
      [...counts.values()].every((c) => c === 1),
      "no duplicates without a restart",
    );
    assert.equal(assertFields(rsyslog, "lmx-tcp", SYSLOG_FACILITIES.local3), N);
  });

  test("UDP: every record arrives, with every field as sent", async (t) => {
    const rsyslog = await startRsyslog(t);
    if (rsyslog === undefined) return;
    // imudp starts independently of imtcp: wait until a probe datagram shows up in the file.
    const probe = createSocket("udp4");
    t.after(() => probe.close());
    await waitFor(
      "rsyslog's UDP input",
      () => {
        if (rsyslog.lines().some((line) => line.includes("udp-probe"))) return true;
        probe.send("<14>1 - - probe - - - udp-probe", rsyslog.port, "127.0.0.1");
        return undefined;
      },
      15_000,
      100,
    );
    const handler = new SyslogLogHandler({
      transport: "udp",
      port: rsyslog.port,
      hostname: "test-host.example",
      appName: "lmx-udp",
    });
    const seen = attach(handler);
    // UDP guarantees nothing; a burst larger than the receiver's socket buffer is dropped by the
    // kernel. Each chunk is pushed once the previous one has arrived, so this tests the handler.
    const N = 600;
    const CHUNK = 100;
    for (let i = 0; i < N; i += CHUNK) {
      handler.push(records(i, i + CHUNK));
      await waitForAll(rsyslog, "lmx-udp", i + CHUNK);
    }
    await handler.close();
    assert.deepEqual(seen.errors, []);
    assert.deepEqual({ sent: handler.stats.sent, failed: handler.stats.failed }, { sent: N, failed: 0 });
    const counts = await waitForAll(rsyslog, "lmx-udp", N);
    assert.equal(counts.size, N);
    assert.equal(assertFields(rsyslog, "lmx-udp", SYSLOG_FACILITIES.user), N);
  });

  for (const mode of ["SIGKILL", "SIGTERM", "frozen, then SIGKILL"] as const) {
    test(`TCP: rsyslogd restarted mid-stream (${mode}) loses nothing reported as sent`, async (t) => {
      const rsyslog = await startRsyslog(t);
      if (rsyslog === undefined) return;
      const appName = `lmx-restart-${mode.length}`;
      const handler = new SyslogLogHandler({
        port: rsyslog.port,
        hostname: "test-host.example",
        appName,
        reconnectMinMs: 20,
        reconnectMaxMs: 200,
        // Short, so that the kill finds records both settled and unsettled.
        settleMs: 150,
        closeTimeoutMs: 15_000,
      });
      const seen = attach(handler);
      const N = 4000;
      const STEP = 100;
      let sentBeforeKill = -1;
      for (let i = 0; i < N; i += STEP) {
        handler.push(records(i, i + STEP));
        // Paced so that records are in every state (queued, in flight, settled) when the kill lands.
        await new Promise((r) => setTimeout(r, 10));
        if (i === N / 2) {
          if (mode === "frozen, then SIGKILL") {
            // These records reach the kernel's socket buffers but never rsyslog: the kill discards
            // them silently, so only re-sending the unsettled records can deliver them.
            await rsyslog.freeze();
            handler.push(records(i + STEP, i + 2 * STEP));
            i += STEP;
            await waitFor("the frozen records to be written", () =>
              handler.stats.queued === 0 ? true : undefined,
            );
          }
          await rsyslog.stop(mode === "SIGTERM" ? "SIGTERM" : "SIGKILL");
          sentBeforeKill = handler.stats.sent;
          await rsyslog.start();
        }
      }
      await handler.close();
      const { stats } = handler;
      assert.ok(sentBeforeKill > 0, "some records had settled before the kill");
      assert.deepEqual(
        { sent: stats.sent, failed: stats.failed, dropped: stats.dropped, queued: stats.queued },
        { sent: N, failed: 0, dropped: 0, queued: 0 },
      );
      assert.ok(stats.connects >= 2, `reconnected (${stats.connects} connections)`);
      assert.ok(
        seen.errors.some((e) => e.includes("connection to")),
        "the broken connection was reported",
      );
      // Everything the handler counted as sent (all N, and in particular the first sentBeforeKill)
      // must be in the file; duplicates are allowed (at-least-once).
      const counts = await waitForAll(rsyslog, appName, N);
      const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
      t.diagnostic(
        `${mode}: sent before kill ${sentBeforeKill}, re-sent ${stats.resent}, duplicates in file ${duplicates}`,
      );
      assert.ok(duplicates <= stats.resent, "only re-sent records can be duplicated");
      if (mode === "frozen, then SIGKILL") {
        // At least the records written while frozen were lost by rsyslog and delivered by the re-send.
        assert.ok(
          stats.resent - duplicates >= STEP,
          `re-sending rescued ${stats.resent - duplicates} records`,
        );
      }
      assertFields(rsyslog, appName, SYSLOG_FACILITIES.user);
    });
  }
});

describe("against a real rsyslogd on a Unix datagram socket (imuxsock)", () => {
  /** Starts rsyslogd with imuxsock and waits until a probe datagram shows up in its file. */
  async function startUnixRsyslog(t: import("node:test").TestContext): Promise<Rsyslog | undefined> {
    if (!haveUnixDgram(t)) return undefined;
    const rsyslog = await startRsyslog(t, { unixSocket: true });
    if (rsyslog === undefined) return undefined;
    const probe = new SyslogLogHandler({
      transport: "unix",
      path: rsyslog.socketPath!,
      appName: "lmx-probe",
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      settleMs: 0,
    });
    attach(probe);
    let pushed = 0;
    await waitFor(
      "rsyslog's imuxsock input",
      () => {
        if (rsyslog.lines().some((line) => parseLine(line)?.appName === "lmx-probe")) return true;
        if (probe.stats.queued === 0) probe.push(records(pushed, ++pushed));
        return undefined;
      },
      15_000,
      50,
    );
    await probe.close();
    return rsyslog;
  }

  test("every record arrives once, with every field as sent; long text is cut at a UTF-8 boundary", async (t) => {
    const rsyslog = await startUnixRsyslog(t);
    if (rsyslog === undefined) return;
    const handler = new SyslogLogHandler({
      transport: "unix",
      path: rsyslog.socketPath!,
      hostname: "test-host.example",
      appName: "lmx-unix",
      facility: "local3",
      settleMs: 100,
    });
    assert.equal(handler.transport, "unix");
    const seen = attach(handler);
    // The receiver's queue holds 10 datagrams (net.unix.max_dgram_qlen): bursts this size run into
    // congestion over and over, and must wait for 'writable' rather than drop.
    const N = 3000;
    for (let i = 0; i < N; i += 500) handler.push(records(i, i + 500));
    await handler.close();
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(
      {
        sent: handler.stats.sent,
        failed: handler.stats.failed,
        dropped: handler.stats.dropped,
        resent: handler.stats.resent,
        connects: handler.stats.connects,
      },
      { sent: N, failed: 0, dropped: 0, resent: 0, connects: 1 },
    );
    const counts = await waitForAll(rsyslog, "lmx-unix", N);
    assert.equal(counts.size, N);
    assert.ok(
      [...counts.values()].every((c) => c === 1),
      "no duplicates without a restart",
    );
    assert.equal(assertFields(rsyslog, "lmx-unix", SYSLOG_FACILITIES.local3), N);

    const small = new SyslogLogHandler({
      transport: "unix",
      path: rsyslog.socketPath!,
      hostname: "test-host.example",
      appName: "lmx-unix-cut",
      maxMessageBytes: 480,
      settleMs: 0,
    });
    attach(small);
    small.push([{ ...rec(7), message: `seq=7 ${"日本語🚀".repeat(200)}` }]);
    await small.close();
    assert.deepEqual({ sent: small.stats.sent, truncated: small.stats.truncated }, { sent: 1, truncated: 1 });
    const line = await waitFor("the truncated message", () =>
      rsyslog.lines().find((l) => parseLine(l)?.appName === "lmx-unix-cut"),
    );
    const parsed = parseLine(line)!;
    assert.equal(parsed.sdName, rec(7).name);
    assert.ok(parsed.msg.startsWith(`${BOM}seq=7 日本語🚀`), parsed.msg);
    assert.ok(!parsed.msg.includes("\ufffd"), "cut at a character boundary");
    assert.ok(
      Buffer.byteLength(line) <= 480 && Buffer.byteLength(line) >= 470,
      `${Buffer.byteLength(line)} bytes`,
    );
  });

  test("a receiver that stops reading (frozen) makes the handler wait on congestion, not drop", async (t) => {
    const rsyslog = await startUnixRsyslog(t);
    if (rsyslog === undefined) return;
    const handler = new SyslogLogHandler({
      transport: "unix",
      path: rsyslog.socketPath!,
      hostname: "test-host.example",
      appName: "lmx-unix-frozen",
      settleMs: 50,
    });
    const seen = attach(handler);
    await rsyslog.freeze();
    t.after(() => rsyslog.thaw());
    const N = 500;
    handler.push(records(0, N));
    // The frozen daemon's socket queue takes a few datagrams; the rest wait in the handler's queue.
    assert.ok(handler.stats.queued > N / 2, `queued ${handler.stats.queued}`);
    assert.deepEqual(
      { failed: handler.stats.failed, dropped: handler.stats.dropped },
      { failed: 0, dropped: 0 },
    );
    rsyslog.thaw();
    await handler.close();
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(
      { sent: handler.stats.sent, failed: handler.stats.failed, dropped: handler.stats.dropped },
      { sent: N, failed: 0, dropped: 0 },
    );
    const counts = await waitForAll(rsyslog, "lmx-unix-frozen", N);
    assert.ok(
      [...counts.values()].every((c) => c === 1),
      "each exactly once",
    );
    assert.equal(assertFields(rsyslog, "lmx-unix-frozen", SYSLOG_FACILITIES.user), N);
  });

  test("rsyslogd killed (SIGKILL) and restarted on the same path mid-stream loses nothing reported as sent", async (t) => {
    const rsyslog = await startUnixRsyslog(t);
    if (rsyslog === undefined) return;
    const appName = "lmx-unix-restart";
    const handler = new SyslogLogHandler({
      transport: "unix",
      path: rsyslog.socketPath!,
      hostname: "test-host.example",
      appName,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
      // Short, so that the kill finds records both settled and unsettled.
      settleMs: 150,
      closeTimeoutMs: 15_000,
    });
    const seen = attach(handler);
    const N = 4000;
    const STEP = 100;
    let sentBeforeKill = -1;
    let queuedAfterKill = -1;
    for (let i = 0; i < N; i += STEP) {
      handler.push(records(i, i + STEP));
      // Paced so that records are in every state (queued, in flight, settled) when the kill lands.
      await new Promise((r) => setTimeout(r, 10));
      if (i === N / 2) {
        await rsyslog.stop("SIGKILL");
        sentBeforeKill = handler.stats.sent;
        // Pushed while nobody listens (the dead daemon's socket file is still there: ECONNREFUSED).
        i += STEP;
        handler.push(records(i, i + STEP));
        await waitFor("the handler to notice the dead receiver", () =>
          seen.errors.some((e) => e.includes("syslog socket")) ? true : undefined,
        );
        queuedAfterKill = handler.stats.queued;
        await rsyslog.start();
      }
    }
    await handler.close();
    const { stats } = handler;
    assert.ok(sentBeforeKill > 0, "some records had settled before the kill");
    assert.ok(queuedAfterKill >= STEP, `records were held while rsyslog was down (${queuedAfterKill})`);
    assert.deepEqual(
      { sent: stats.sent, failed: stats.failed, dropped: stats.dropped, queued: stats.queued },
      { sent: N, failed: 0, dropped: 0, queued: 0 },
    );
    assert.ok(stats.connects >= 2, `reconnected (${stats.connects} connections)`);
    // Everything the handler counted as sent (all N, in particular the first sentBeforeKill) must be
    // in the file; duplicates are allowed (at-least-once).
    const counts = await waitForAll(rsyslog, appName, N);
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    t.diagnostic(
      `sent before kill ${sentBeforeKill}, re-sent ${stats.resent}, duplicates in file ${duplicates}`,
    );
    assert.ok(duplicates <= stats.resent, "only re-sent records can be duplicated");
    assertFields(rsyslog, appName, SYSLOG_FACILITIES.user);
  });
});
