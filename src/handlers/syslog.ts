import type * as Dgram from "node:dgram";
import { isIP, isIPv6, connect as netConnect, type Socket } from "node:net";
import { constants as osConstants, hostname as osHostname } from "node:os";
import type * as Tls from "node:tls";
import type { UnixDgramError, UnixDgramSocket } from "unix-dgram";
import { HandlerError, InvalidConfigError } from "../errors.js";
import type { LogRecord } from "../record.js";
import { BaseLogHandler, type BaseLogHandlerOptions } from "./base.js";
import { lazyBuiltin, requireHere } from "./lazy-require.js";
import {
  DEFAULT_ENTERPRISE_ID,
  frameOctetCounted,
  Rfc5424Formatter,
  SYSLOG_FACILITIES,
  type SyslogFacilityName,
} from "./syslog-format.js";

export {
  SYSLOG_FACILITIES,
  SYSLOG_SEVERITY_BY_LEVEL,
  type SyslogFacilityName,
} from "./syslog-format.js";

const dgram = lazyBuiltin<typeof Dgram>("node:dgram");
const tls = lazyBuiltin<typeof Tls>("node:tls");

/** How messages reach the syslog daemon. */
export type SyslogTransport = "tcp" | "udp" | "tls" | "unix";

/** TLS settings for `transport: "tls"` (RFC 5425); passed to `node:tls`. */
export interface SyslogTlsOptions {
  /** Trusted CA certificate(s), PEM. Without it the system's CAs are used. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate, PEM, for servers that authenticate clients. */
  cert?: string | Buffer;
  /** Client private key, PEM. */
  key?: string | Buffer;
  /** Name checked against the server certificate. Defaults to `host`. */
  servername?: string;
  /** Set false only for tests: it accepts any certificate. @default true */
  rejectUnauthorized?: boolean;
}

/** Options for {@link SyslogLogHandler}. */
export interface SyslogLogHandlerOptions extends BaseLogHandlerOptions {
  /**
   * `"tcp"` (RFC 6587 octet-counting framing), `"tls"` (RFC 5425, same framing over TLS), `"udp"`
   * (RFC 5426, one message per datagram) or `"unix"`: a local Unix datagram socket such as
   * `/dev/log` (see `path`), one message per datagram, no framing. Node has no Unix datagram
   * sockets, so `"unix"` uses the optional native package `unix-dgram` (an optionalDependency of
   * logmux, compiled at install time). It is loaded only when `"unix"` is chosen; if it is missing
   * or failed to build, the constructor throws an `InvalidConfigError` saying so.
   * @default "tcp"
   * @example { transport: "udp" }
   * @example { transport: "unix", path: "/dev/log" }
   */
  transport?: SyslogTransport;
  /**
   * `transport: "unix"` only: the daemon's Unix datagram socket (at most 107 bytes, the
   * `sun_path` limit).
   * @default "/dev/log"
   * @example { transport: "unix", path: "/run/rsyslog/logmux.sock" }
   */
  path?: string;
  /**
   * The syslog daemon's address.
   * @default "127.0.0.1"
   * @example { host: "logs.internal" }
   */
  host?: string;
  /**
   * The syslog daemon's port.
   * @default 514 for tcp and udp, 6514 for tls
   * @example { port: 10514 }
   */
  port?: number;
  /**
   * Facility, as a name or its RFC 5424 number (0-23). `user` is the facility RFC 5424 and
   * syslog(3) use for ordinary programs, so default rsyslog rules file the messages somewhere
   * sensible; use `local0`-`local7` to route them with a dedicated rule.
   * @default "user" (1)
   * @example { facility: "local0" }
   */
  facility?: SyslogFacilityName | number;
  /**
   * HOSTNAME field (PRINTUSASCII, at most 255 characters; others become `_`).
   * @default os.hostname()
   * @example { hostname: "web-01.example.com" }
   */
  hostname?: string;
  /**
   * APP-NAME field (PRINTUSASCII, at most 48 characters).
   * @default "logmux"
   * @example { appName: "billing" }
   */
  appName?: string;
  /**
   * MSGID field (PRINTUSASCII, at most 32 characters); `"-"` is the RFC's NILVALUE.
   * @default "-"
   * @example { msgId: "audit" }
   */
  msgId?: string;
  /**
   * Private enterprise number in the SD-ID `logmux@<n>` that carries the worker name.
   * @default 32473 (reserved by RFC 5612 for documentation; use your organisation's own)
   * @example { enterpriseId: 53421 }
   */
  enterpriseId?: number;
  /**
   * Start MSG with the UTF-8 byte order mark, as RFC 5424 6.4 recommends so that receivers know
   * the text is UTF-8. Some tools print the BOM as garbage; turn it off for them.
   * @default true
   * @example { bom: false }
   */
  bom?: boolean;
  /**
   * Largest message in bytes, framing excluded. Longer MSG text is cut at a UTF-8 character
   * boundary. UDP's default stays under common path MTUs' reassembly limits and is the size RFC
   * 5426 says every receiver must accept; TCP's matches rsyslog's default `maxMessageSize` (8k).
   * For `"unix"` it is at most 65536 (a datagram must fit the socket's send buffer).
   * @default 2048 for udp, 8192 for tcp, tls and unix
   * @example { maxMessageBytes: 65000 }
   */
  maxMessageBytes?: number;
  /**
   * Records held in memory while the daemon is slow or away. When full, the oldest are dropped,
   * and the exact count is reported through the master as a WARNING.
   * @default 10000
   * @example { maxQueue: 100000 }
   */
  maxQueue?: number;
  /**
   * TCP/TLS/Unix: how long, in ms, a written record stays re-sendable. A record counts as sent once
   * its bytes were handed to the kernel AND the connection then stayed up for this long; if the
   * connection breaks sooner, the record is sent again after reconnecting (at-least-once, so the
   * receiver may see it twice). It must exceed the time the receiver takes to read and store a
   * message. A Unix datagram socket only learns that its receiver went away from the next send
   * (ECONNREFUSED), so there a record is re-sent only if such a send happens within this time.
   * @default 1000
   * @example { settleMs: 3000 }
   */
  settleMs?: number;
  /**
   * First delay before reconnecting, in ms; it doubles after each failure up to `reconnectMaxMs`.
   * @default 100
   * @example { reconnectMinMs: 500 }
   */
  reconnectMinMs?: number;
  /**
   * Longest delay between reconnection attempts, in ms.
   * @default 30000
   * @example { reconnectMaxMs: 5000 }
   */
  reconnectMaxMs?: number;
  /**
   * A connection attempt taking longer than this (ms) is abandoned and retried.
   * @default 10000
   * @example { connectTimeoutMs: 3000 }
   */
  connectTimeoutMs?: number;
  /**
   * How long `close()` keeps trying to deliver what is queued, in ms. What is still undelivered
   * then is reported (and counted in `stats.failed`).
   * @default 5000
   * @example { closeTimeoutMs: 15000 }
   */
  closeTimeoutMs?: number;
  /**
   * Certificates for `transport: "tls"`.
   * @default system CAs, no client certificate
   * @example { transport: "tls", tls: { ca: readFileSync("ca.pem") } }
   */
  tls?: SyslogTlsOptions;
}

/** Exact counters, readable at any time (see {@link SyslogLogHandler.stats}). */
export interface SyslogStats {
  /** Records waiting to be written. */
  readonly queued: number;
  /** TCP/TLS/Unix: records written but not yet settled (they are re-sent if the connection breaks). */
  readonly inFlight: number;
  /**
   * Records delivered: UDP, handed to the kernel; TCP/TLS, settled (see `settleMs`) or confirmed by
   * an orderly close; Unix, accepted by the receiver's socket and then settled.
   */
  readonly sent: number;
  /** Records dropped because the queue was full (oldest first). */
  readonly dropped: number;
  /** Records written once and queued again because their connection broke before they settled. */
  readonly resent: number;
  /** Messages whose text was cut to `maxMessageBytes`. */
  readonly truncated: number;
  /** Records still undelivered when `close()` gave up, plus UDP/Unix sends the kernel refused. */
  readonly failed: number;
  /** Connections established (TCP/TLS/Unix); more than one means reconnects happened. */
  readonly connects: number;
}

const DEFAULTS = {
  host: "127.0.0.1",
  tcpPort: 514,
  tlsPort: 6514,
  maxQueue: 10_000,
  udpMaxMessageBytes: 2048,
  streamMaxMessageBytes: 8192,
  unixPath: "/dev/log",
  settleMs: 1000,
  reconnectMinMs: 100,
  reconnectMaxMs: 30_000,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 5000,
} as const;

/** Records are coalesced into writes of about this size: one syscall per burst, not per record. */
const WRITE_CHUNK_BYTES = 64 * 1024;

/** Datagrams in flight at once; more only piles up in libuv without sending any faster. */
const UDP_CONCURRENT_SENDS = 64;

/** Drops are summed over this period, so a flood yields one WARNING per second, not one per record. */
const DROP_REPORT_INTERVAL_MS = 1000;

/**
 * Idle TCP connections are probed this often, so a peer host that vanished without a reset is
 * noticed, and its unsettled records re-sent, within minutes rather than hours.
 */
const KEEPALIVE_MS = 10_000;

/** Largest UDP payload over IPv4; a larger `maxMessageBytes` cannot be sent as one datagram. */
const MAX_UDP_PAYLOAD = 65_507;

/** Largest Unix datagram accepted; the default send buffer (~208 KiB on Linux) takes it whole. */
const MAX_UNIX_PAYLOAD = 65_536;

/** `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;

/** While congested, sending is retried this often even if no 'writable' event arrives. */
const CONGESTION_RETRY_MS = 1000;

/** Send errors meaning "no receiver on that path (any more)": keep the records, reconnect later. */
const RECEIVER_GONE_ERRNOS = new Set(
  ["ECONNREFUSED", "ENOENT", "ENOTCONN", "ECONNRESET", "EPIPE", "EDESTADDRREQ"].map(
    (name) => osConstants.errno[name as keyof typeof osConstants.errno],
  ),
);

type UnixDgramModule = typeof import("unix-dgram");
let unixDgram: UnixDgramModule | undefined;

/**
 * Loads the optional native package on first use of `transport: "unix"`, so that nobody else ever
 * loads native code. Throws a clear InvalidConfigError when it is missing or did not build.
 */
function loadUnixDgram(): UnixDgramModule {
  if (unixDgram !== undefined) return unixDgram;
  try {
    unixDgram = requireHere("unix-dgram") as UnixDgramModule;
  } catch (error) {
    throw new InvalidConfigError(
      "transport",
      '"unix" needs the optional native package unix-dgram, which could not be loaded ' +
        `(${error instanceof Error ? error.message.split("\n")[0] : String(error)}); install it with a C++ ` +
        'toolchain (npm install unix-dgram@2.0.7), or use "tcp" with rsyslog imtcp on 127.0.0.1',
    );
  }
  return unixDgram;
}

/** "ECONNREFUSED" for an error whose code is -111, and so on. */
function errnoName(error: UnixDgramError): string {
  const errno = -error.code;
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name;
  return String(error.code);
}

/** A run of records written with one write call; they settle together. */
interface InFlightChunk {
  readonly messages: Buffer[];
  /** `performance.now()` when the write callback fired; 0 while the write is outstanding. */
  writtenAt: number;
}

/** A FIFO with O(1) shift; records are pushed and taken at rates of 10^5-10^6 per second. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#head++;
    // Compacting when half is dead keeps memory bounded at an amortised O(1) per item.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Puts `items` back in front, in their order (records whose connection broke). */
  unshiftAll(items: T[]): void {
    this.#items = items.concat(this.#items.slice(this.#head));
    this.#head = 0;
  }

  clear(): T[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}

function positiveInt(field: string, value: unknown, fallback: number, min = 1, max = 2 ** 31): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidConfigError(field, `expected an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function resolveFacility(value: unknown): number {
  if (value === undefined) return SYSLOG_FACILITIES.user;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 23) return value;
  if (typeof value === "string" && Object.hasOwn(SYSLOG_FACILITIES, value.toLowerCase())) {
    return SYSLOG_FACILITIES[value.toLowerCase() as SyslogFacilityName];
  }
  throw new InvalidConfigError(
    "facility",
    `expected 0-23 or one of ${Object.keys(SYSLOG_FACILITIES).join(", ")}, got ${String(value)}`,
  );
}

/**
 * Forwards records to a syslog daemon (rsyslog, syslog-ng) as RFC 5424 messages over TCP, TLS,
 * UDP or a local Unix datagram socket (`/dev/log`). `push()` only formats and enqueues; a bounded
 * queue absorbs outages (dropping the oldest, with an exact count reported), and the connection is
 * re-established with exponential backoff.
 *
 * Delivery over TCP/TLS is at-least-once across receiver restarts: bytes accepted by the kernel are
 * lost silently if the receiving process dies before reading them, so each record stays re-sendable
 * for `settleMs` after it was written and is only then counted as sent. Records written to a
 * connection that breaks earlier are sent again, which can duplicate them at the receiver. The Unix
 * transport follows the same rules, noticing a vanished receiver on the next send. What this
 * cannot cover: a receiver that accepted bytes and then held them, unread, for longer than
 * `settleMs` before dying, or a receiver whose own in-memory queue is lost; for end-to-end
 * acknowledgements use the OTLP handler or rsyslog's RELP. UDP is fire-and-forget.
 *
 * Message layout (see docs/multi-host.md for the level/severity table):
 * `<PRI>1 2026-03-01T12:00:00.123456Z host app 4242 - [logmux@32473 name="worker-1"] BOM text`
 *
 * @example
 * ```ts
 * new SyslogLogHandler({ host: "127.0.0.1", port: 514, facility: "local0", appName: "billing" });
 * ```
 */
export class SyslogLogHandler extends BaseLogHandler {
  readonly transport: SyslogTransport;
  readonly host: string;
  readonly port: number;
  /** The Unix socket path (`transport: "unix"`); undefined for the other transports. */
  readonly path: string | undefined;
  /** Where messages go, for error messages: `host:port` or the socket path. */
  readonly #target: string;
  readonly #formatter: Rfc5424Formatter;
  readonly #maxQueue: number;
  readonly #settleMs: number;
  readonly #reconnectMinMs: number;
  readonly #reconnectMaxMs: number;
  readonly #connectTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #tls: SyslogTlsOptions | undefined;

  readonly #pending = new Fifo<Buffer>();
  /** TCP/TLS: chunks handed to the socket, oldest first, until they settle. */
  readonly #inFlight: InFlightChunk[] = [];
  #inFlightRecords = 0;

  #socket: Socket | undefined;
  #connected = false;
  #writeOutstanding = false;
  #endSent = false;
  #peerEndedAfterOurEnd = false;
  #backoffMs: number;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #settleTimer: NodeJS.Timeout | undefined;

  #udp: Dgram.Socket | undefined;
  #udpOutstanding = 0;

  readonly #unixModule: UnixDgramModule | undefined;
  #unix: UnixDgramSocket | undefined;
  #unixCongested = false;
  #congestionTimer: NodeJS.Timeout | undefined;

  #dropsUnreported = 0;
  #dropTimer: NodeJS.Timeout | undefined;

  #closing = false;
  #closed = false;
  #closeWaiter: (() => void) | undefined;
  #closePromise: Promise<void> | undefined;

  #sent = 0;
  #dropped = 0;
  #resent = 0;
  #failed = 0;
  #connects = 0;

  constructor(options: SyslogLogHandlerOptions = {}) {
    super(options);
    const transport = options.transport ?? "tcp";
    if (transport !== "tcp" && transport !== "udp" && transport !== "tls" && transport !== "unix") {
      throw new InvalidConfigError(
        "transport",
        `expected "tcp", "tls", "udp" or "unix", got ${String(transport)}`,
      );
    }
    this.transport = transport;
    if (options.path !== undefined && transport !== "unix") {
      throw new InvalidConfigError("path", `only valid with transport "unix", got transport "${transport}"`);
    }
    if (transport === "unix") {
      const path = options.path ?? DEFAULTS.unixPath;
      if (typeof path !== "string" || path === "" || Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
        throw new InvalidConfigError(
          "path",
          `expected a socket path of 1 to ${MAX_UNIX_PATH_BYTES} bytes, got ${String(path)}`,
        );
      }
      this.path = path;
    }
    const host = options.host ?? DEFAULTS.host;
    if (typeof host !== "string" || host === "") {
      throw new InvalidConfigError("host", `expected a host name or IP address, got ${String(host)}`);
    }
    this.host = host;
    this.port = positiveInt(
      "port",
      options.port,
      transport === "tls" ? DEFAULTS.tlsPort : DEFAULTS.tcpPort,
      1,
      65_535,
    );
    this.#target = this.path ?? `${this.host}:${this.port}`;
    const enterpriseId = positiveInt("enterpriseId", options.enterpriseId, DEFAULT_ENTERPRISE_ID);
    const maxMessageBytes = positiveInt(
      "maxMessageBytes",
      options.maxMessageBytes,
      transport === "udp" ? DEFAULTS.udpMaxMessageBytes : DEFAULTS.streamMaxMessageBytes,
      // RFC 5424 6.1: every receiver must accept 480 octets; below that the header alone may not fit.
      480,
      transport === "udp" ? MAX_UDP_PAYLOAD : transport === "unix" ? MAX_UNIX_PAYLOAD : 2 ** 30,
    );
    for (const field of ["hostname", "appName", "msgId"] as const) {
      const value = options[field];
      if (value !== undefined && typeof value !== "string") {
        throw new InvalidConfigError(field, `expected a string, got ${String(value)}`);
      }
    }
    if (options.bom !== undefined && typeof options.bom !== "boolean") {
      throw new InvalidConfigError("bom", `expected true or false, got ${String(options.bom)}`);
    }
    const useOwnFormat = options.format !== undefined;
    this.#formatter = new Rfc5424Formatter({
      facility: resolveFacility(options.facility),
      hostname: options.hostname ?? osHostname(),
      appName: options.appName ?? "logmux",
      msgId: options.msgId ?? "-",
      enterpriseId,
      bom: options.bom ?? true,
      maxMessageBytes,
      // The header already carries time, severity, pid and worker name, so by default MSG is the
      // bare message; an explicit `format` option opts into a formatted line.
      text: useOwnFormat ? (record) => this.format(record) : (record) => record.message,
    });
    this.#maxQueue = positiveInt("maxQueue", options.maxQueue, DEFAULTS.maxQueue);
    this.#settleMs = positiveInt("settleMs", options.settleMs, DEFAULTS.settleMs, 0);
    this.#reconnectMinMs = positiveInt("reconnectMinMs", options.reconnectMinMs, DEFAULTS.reconnectMinMs);
    this.#reconnectMaxMs = positiveInt(
      "reconnectMaxMs",
      options.reconnectMaxMs,
      Math.max(DEFAULTS.reconnectMaxMs, this.#reconnectMinMs),
      this.#reconnectMinMs,
    );
    this.#connectTimeoutMs = positiveInt(
      "connectTimeoutMs",
      options.connectTimeoutMs,
      DEFAULTS.connectTimeoutMs,
    );
    this.#closeTimeoutMs = positiveInt("closeTimeoutMs", options.closeTimeoutMs, DEFAULTS.closeTimeoutMs, 0);
    if (options.tls !== undefined && (typeof options.tls !== "object" || options.tls === null)) {
      throw new InvalidConfigError("tls", `expected an object with ca/cert/key, got ${String(options.tls)}`);
    }
    if (options.tls !== undefined && transport !== "tls") {
      throw new InvalidConfigError("tls", `only valid with transport "tls", got transport "${transport}"`);
    }
    this.#tls = options.tls;
    this.#backoffMs = this.#reconnectMinMs;
    // Last, so that invalid options are reported as such even where the package is missing.
    if (transport === "unix") this.#unixModule = loadUnixDgram();
  }

  /** Exact counters; see {@link SyslogStats}. */
  get stats(): SyslogStats {
    return {
      queued: this.#pending.length,
      inFlight: this.#inFlightRecords,
      sent: this.#sent,
      dropped: this.#dropped,
      resent: this.#resent,
      truncated: this.#formatter.truncated,
      failed: this.#failed,
      connects: this.#connects,
    };
  }

  /** Formats one record exactly as it is sent (without framing); handy for tests and debugging. */
  formatMessage(record: LogRecord): Buffer {
    return this.#formatter.format(record);
  }

  push(records: readonly LogRecord[]): void {
    if (this.#closed) return;
    const framed = this.transport === "tcp" || this.transport === "tls";
    for (const record of records) {
      const message = this.#formatter.format(record);
      this.#pending.push(framed ? frameOctetCounted(message) : message);
    }
    this.#trimQueue();
    this.#pump();
  }

  /** Drops the oldest queued records beyond `maxQueue`; they are counted and reported in bulk. */
  #trimQueue(): void {
    let over = this.#pending.length - this.#maxQueue;
    if (over <= 0) return;
    this.#dropped += over;
    this.#dropsUnreported += over;
    while (over-- > 0) this.#pending.shift();
    this.#dropTimer ??= setTimeout(() => this.#reportDrops(), DROP_REPORT_INTERVAL_MS).unref();
  }

  #reportDrops(): void {
    if (this.#dropTimer !== undefined) clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
    const count = this.#dropsUnreported;
    if (count === 0) return;
    this.#dropsUnreported = 0;
    this.warn(
      `${this.name} dropped ${count} record${count === 1 ? "" : "s"} (oldest first): queue full ` +
        `(maxQueue ${this.#maxQueue}) while syslog at ${this.#target} was slow or unreachable`,
    );
  }

  #pump(): void {
    if (this.transport === "udp") this.#pumpUdp();
    else if (this.transport === "unix") this.#pumpUnix();
    else this.#pumpStream();
  }

  // ---- TCP / TLS ----

  #pumpStream(): void {
    if (this.#closed || this.#pending.length === 0) return;
    const socket = this.#socket;
    if (socket === undefined) {
      if (this.#reconnectTimer === undefined) this.#connect();
      return;
    }
    if (!this.#connected || this.#writeOutstanding || this.#endSent) return;
    // Unsettled records are memory too: writing waits for old ones to settle past this bound.
    if (this.#inFlightRecords >= this.#maxQueue) return;
    const messages: Buffer[] = [];
    let bytes = 0;
    while (bytes < WRITE_CHUNK_BYTES && this.#inFlightRecords + messages.length < this.#maxQueue) {
      const message = this.#pending.shift();
      if (message === undefined) break;
      messages.push(message);
      bytes += message.length;
    }
    const chunk: InFlightChunk = { messages, writtenAt: 0 };
    this.#inFlight.push(chunk);
    this.#inFlightRecords += messages.length;
    this.#writeOutstanding = true;
    const data = messages.length === 1 ? messages[0]! : Buffer.concat(messages, bytes);
    socket.write(data, (error) => {
      // A callback from a connection already torn down: #onStreamClose has requeued the chunk.
      if (socket !== this.#socket) return;
      this.#writeOutstanding = false;
      if (error) return; // 'close' follows and requeues
      chunk.writtenAt = performance.now();
      this.#armSettle();
      this.#pump();
      this.#checkClose();
    });
  }

  #connect(): void {
    if (this.#closed || this.#socket !== undefined) return;
    const socket =
      this.transport === "tls"
        ? tls().connect({
            host: this.host,
            port: this.port,
            servername: this.#tls?.servername ?? (isIP(this.host) !== 0 ? undefined : this.host),
            ca: this.#tls?.ca,
            cert: this.#tls?.cert,
            key: this.#tls?.key,
            rejectUnauthorized: this.#tls?.rejectUnauthorized ?? true,
          } satisfies Tls.ConnectionOptions)
        : netConnect({ host: this.host, port: this.port });
    this.#socket = socket;
    this.#connected = false;
    this.#endSent = false;
    this.#peerEndedAfterOurEnd = false;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    const connectTimer = setTimeout(() => {
      socket.destroy(new Error(`connect timed out after ${this.#connectTimeoutMs} ms`));
    }, this.#connectTimeoutMs);
    socket.once(this.transport === "tls" ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      if (socket !== this.#socket) return;
      this.#connected = true;
      this.#connects++;
      this.#backoffMs = this.#reconnectMinMs;
      this.#pump();
      this.#checkClose();
    });
    let lastError: Error | undefined;
    socket.on("error", (error) => {
      lastError = error;
    });
    // syslog receivers never send anything; reading keeps a misbehaving one from filling buffers.
    socket.on("data", () => {});
    socket.on("end", () => {
      if (this.#endSent) this.#peerEndedAfterOurEnd = true;
    });
    socket.on("close", () => {
      clearTimeout(connectTimer);
      this.#onStreamClose(socket, lastError);
    });
  }

  #onStreamClose(socket: Socket, error: Error | undefined): void {
    if (socket !== this.#socket) return;
    const wasConnected = this.#connected;
    const orderly = this.#endSent && this.#peerEndedAfterOurEnd && error === undefined;
    this.#socket = undefined;
    this.#connected = false;
    this.#writeOutstanding = false;
    const chunks = this.#inFlight.splice(0);
    this.#inFlightRecords = 0;
    if (orderly) {
      // The peer read up to our FIN before closing its side, so it read every byte we wrote.
      for (const chunk of chunks) this.#sent += chunk.messages.length;
    } else if (chunks.length > 0) {
      const messages = chunks.flatMap((chunk) => chunk.messages);
      this.#resent += messages.length;
      this.#pending.unshiftAll(messages);
      this.#trimQueue();
    }
    if (this.#settleTimer !== undefined) clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    if (!orderly && (error !== undefined || wasConnected) && !this.#closed) {
      this.reportError(
        new HandlerError(
          this.name,
          `syslog connection to ${this.#target} ${wasConnected ? "lost" : "failed"}` +
            `${error ? `: ${error.message}` : ""}; ${chunks.length > 0 ? "unsettled records will be re-sent, " : ""}` +
            `retrying in ${this.#backoffMs} ms`,
          { cause: error },
        ),
      );
    }
    if (this.#closed) return;
    // An idle handler reconnects lazily, on the next push, instead of holding a connection open.
    if (this.#pending.length > 0) this.#scheduleReconnect();
    this.#checkClose();
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer !== undefined || this.#closed) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#reconnectMaxMs, this.#backoffMs * 2);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#pending.length === 0) return;
      if (this.transport === "unix") this.#pumpUnix();
      else this.#connect();
    }, delay);
  }

  #armSettle(): void {
    if (this.#settleTimer !== undefined) return;
    const head = this.#inFlight[0];
    if (head === undefined || head.writtenAt === 0) return;
    const wait = Math.max(0, head.writtenAt + this.#settleMs - performance.now());
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      this.#settle();
      // A Unix datagram handler's close waits for nothing but its last records settling.
      this.#checkClose();
    }, wait).unref();
  }

  #settle(): void {
    const now = performance.now();
    let freed = false;
    for (;;) {
      const head = this.#inFlight[0];
      if (head === undefined || head.writtenAt === 0 || now - head.writtenAt < this.#settleMs) break;
      this.#inFlight.shift();
      this.#inFlightRecords -= head.messages.length;
      this.#sent += head.messages.length;
      freed = true;
    }
    this.#armSettle();
    if (freed) this.#pump();
  }

  // ---- UDP ----

  #pumpUdp(): void {
    if (this.#closed) return;
    if (this.#udp === undefined) {
      this.#udp = dgram().createSocket(isIPv6(this.host) ? "udp6" : "udp4");
      // Unconnected on purpose: RFC 5426 is fire-and-forget, and a connected socket would turn an
      // ICMP "port unreachable" for one datagram into an error on a later, unrelated send.
      this.#udp.on("error", (error) => this.reportError(error));
    }
    const udp = this.#udp;
    while (this.#udpOutstanding < UDP_CONCURRENT_SENDS) {
      const message = this.#pending.shift();
      if (message === undefined) break;
      this.#udpOutstanding++;
      udp.send(message, this.port, this.host, (error) => {
        // After close() gave up, it has already counted this datagram as failed.
        if (this.#closed) return;
        this.#udpOutstanding--;
        if (error) {
          this.#failed++;
          this.reportError(error);
        } else {
          this.#sent++;
        }
        this.#pump();
        this.#checkClose();
      });
    }
  }

  // ---- Unix datagram socket (/dev/log) ----

  #pumpUnix(): void {
    if (this.#closed || this.#pending.length === 0) return;
    if (this.#unix === undefined) {
      if (this.#reconnectTimer === undefined) this.#connectUnix();
      if (this.#unix === undefined) return;
    }
    if (this.#unixCongested) return;
    const socket = this.#unix;
    const messages: Buffer[] = [];
    // Unsettled records are memory too, as for TCP: sending waits for old ones past this bound.
    while (this.#inFlightRecords + messages.length < this.#maxQueue) {
      const message = this.#pending.peek();
      if (message === undefined) break;
      // unix-dgram 2.x runs the callback synchronously, inside send().
      let outcome: UnixDgramError | null | undefined;
      socket.send(message, (error) => {
        outcome = error ?? null;
      });
      if (outcome === null) {
        this.#pending.shift();
        messages.push(message);
        continue;
      }
      if (outcome === undefined) {
        outcome = Object.assign(new Error("unix-dgram did not report the send result"), { code: 0 });
      }
      if (outcome.code === 1) {
        // EAGAIN/ENOBUFS: the receiver's queue is full. Keep the record; 'writable' resumes sending.
        this.#unixCongested = true;
        this.#congestionTimer ??= setTimeout(() => this.#onUnixWritable(socket), CONGESTION_RETRY_MS);
        break;
      }
      if (RECEIVER_GONE_ERRNOS.has(-outcome.code)) {
        this.#recordUnixSent(messages);
        this.#onUnixLost(socket, outcome);
        return;
      }
      // Anything else (EMSGSIZE, EPERM…) concerns this datagram only: count it as failed, go on.
      this.#pending.shift();
      this.#failed++;
      this.reportError(
        new HandlerError(
          this.name,
          `syslog datagram to ${this.#target} refused: ${errnoName(outcome)} (${outcome.message})`,
          { cause: outcome },
        ),
      );
    }
    this.#recordUnixSent(messages);
    this.#checkClose();
  }

  /** Datagrams accepted by the kernel in one pump pass become one in-flight chunk that settles. */
  #recordUnixSent(messages: Buffer[]): void {
    if (messages.length === 0) return;
    this.#inFlight.push({ messages, writtenAt: performance.now() });
    this.#inFlightRecords += messages.length;
    this.#armSettle();
  }

  #connectUnix(): void {
    if (this.#closed || this.#unix !== undefined || this.#unixModule === undefined) return;
    const path = this.path!;
    let socket: UnixDgramSocket;
    try {
      socket = this.#unixModule.createSocket("unix_dgram");
    } catch (error) {
      this.#onUnixLost(undefined, error as UnixDgramError);
      return;
    }
    let connectError: UnixDgramError | undefined;
    socket.on("error", (error) => {
      connectError = error;
    });
    socket.on("writable", () => this.#onUnixWritable(socket));
    // Synchronous: 'connect' or 'error' has been emitted when this returns.
    socket.connect(path);
    if (connectError !== undefined) {
      this.#onUnixLost(socket, connectError, false);
      return;
    }
    this.#unix = socket;
    this.#unixCongested = false;
    this.#connects++;
    this.#backoffMs = this.#reconnectMinMs;
  }

  #onUnixWritable(socket: UnixDgramSocket): void {
    if (socket !== this.#unix) return;
    if (this.#congestionTimer !== undefined) clearTimeout(this.#congestionTimer);
    this.#congestionTimer = undefined;
    this.#unixCongested = false;
    this.#pump();
    this.#checkClose();
  }

  /**
   * The receiver is gone (or never was there): drop the socket, put the unsettled records back in
   * front of the queue, report, and retry with backoff. A restarted daemon binds a new socket at the
   * same path, so reconnecting reaches it.
   */
  #onUnixLost(socket: UnixDgramSocket | undefined, error: UnixDgramError, wasConnected = true): void {
    if (socket !== undefined) {
      try {
        socket.close();
      } catch {}
    }
    if (socket === this.#unix) this.#unix = undefined;
    this.#unixCongested = false;
    if (this.#congestionTimer !== undefined) clearTimeout(this.#congestionTimer);
    this.#congestionTimer = undefined;
    const chunks = this.#inFlight.splice(0);
    this.#inFlightRecords = 0;
    if (this.#settleTimer !== undefined) clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    if (chunks.length > 0) {
      const messages = chunks.flatMap((chunk) => chunk.messages);
      this.#resent += messages.length;
      this.#pending.unshiftAll(messages);
      this.#trimQueue();
    }
    if (this.#closed) return;
    const reason = typeof error.code === "number" ? errnoName(error) : error.message;
    this.reportError(
      new HandlerError(
        this.name,
        `syslog socket ${this.#target} ${wasConnected ? "lost" : "unreachable"}: ${reason}; ` +
          `${chunks.length > 0 ? "unsettled records will be re-sent, " : ""}retrying in ${this.#backoffMs} ms`,
        { cause: error },
      ),
    );
    this.#scheduleReconnect();
    this.#checkClose();
  }

  // ---- close ----

  /** True when nothing is left to do for an orderly close. */
  #drained(): boolean {
    if (this.#pending.length > 0) return false;
    if (this.transport === "udp") return this.#udpOutstanding === 0;
    // Nothing confirms a datagram: the last ones are delivered once they have settled.
    if (this.transport === "unix") return this.#inFlight.length === 0;
    return this.#inFlight.length === 0 && this.#socket === undefined;
  }

  #checkClose(): void {
    if (!this.#closing || this.#closed) return;
    if (this.#drained()) {
      this.#closeWaiter?.();
      return;
    }
    // Everything is written: half-close, and let the peer's answering FIN confirm it read it all.
    const socket = this.#socket;
    if (
      (this.transport === "tcp" || this.transport === "tls") &&
      socket !== undefined &&
      this.#connected &&
      this.#pending.length === 0 &&
      !this.#writeOutstanding &&
      !this.#endSent
    ) {
      this.#endSent = true;
      socket.end();
    }
  }

  /**
   * Delivers what is queued, within `closeTimeoutMs`, then releases the connection. Records still
   * undelivered at the deadline are counted in `stats.failed` and reported.
   */
  override close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    let deadline: NodeJS.Timeout | undefined;
    await new Promise<void>((done) => {
      this.#closeWaiter = done;
      deadline = setTimeout(done, this.#closeTimeoutMs);
      if (this.#pending.length > 0 && this.#reconnectTimer === undefined) {
        if (this.transport === "unix") this.#pumpUnix();
        else if (this.transport !== "udp" && this.#socket === undefined) this.#connect();
      }
      this.#checkClose();
    });
    clearTimeout(deadline);
    this.#closed = true;
    // Chunks that settled while waiting for the deadline are sent, not lost.
    this.#settle();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    if (this.#settleTimer !== undefined) clearTimeout(this.#settleTimer);
    this.#reconnectTimer = undefined;
    this.#settleTimer = undefined;
    const queued = this.#pending.clear().length;
    const unsettled = this.#inFlight.splice(0).reduce((n, chunk) => n + chunk.messages.length, 0);
    this.#inFlightRecords = 0;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp !== undefined) await new Promise<void>((done) => udp.close(() => done()));
    if (this.#congestionTimer !== undefined) clearTimeout(this.#congestionTimer);
    this.#congestionTimer = undefined;
    const unix = this.#unix;
    this.#unix = undefined;
    if (unix !== undefined) {
      try {
        unix.close();
      } catch {}
    }
    this.#reportDrops();
    const lost = queued + unsettled + this.#udpOutstanding;
    if (lost > 0) {
      this.#failed += lost;
      this.reportError(
        new HandlerError(
          this.name,
          `closed after ${this.#closeTimeoutMs} ms with ${lost} record${lost === 1 ? "" : "s"} not confirmed as ` +
            `delivered to syslog at ${this.#target} (${queued} never written, ` +
            `${unsettled + this.#udpOutstanding} written but unconfirmed: they may or may not have arrived)`,
        ),
      );
    }
  }
}
