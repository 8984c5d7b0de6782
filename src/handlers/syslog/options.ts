import { hostname as osHostname } from "node:os";
import { InvalidConfigError } from "../../errors.js";
import type { BaseLogHandlerOptions } from "../base.js";
import { boolOption, intOption, oneOfOption, stringOption } from "../kit/validate.js";
import {
  DEFAULT_ENTERPRISE_ID,
  type Rfc5424FormatterOptions,
  SYSLOG_FACILITIES,
  type SyslogFacilityName,
} from "./format.js";
import { isPrivateSdId } from "./structured-data.js";

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
   * sockets, so `"unix"` uses the native package `unix-dgram`, an optional peer dependency that
   * you install next to logmux (`npm install unix-dgram`; it compiles with node-gyp). It is loaded
   * only when `"unix"` is chosen; if it is missing or failed to build, the constructor throws an
   * `InvalidConfigError` naming it.
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
   * SD-ID of the SD-ELEMENT that carries each record's fields as SD-PARAMs (RFC 5424 6.3): a
   * private ID `name@<enterprise number>` of at most 32 printable US-ASCII characters, without
   * space, `=`, `]` or `"`, and other than the worker's `logmux@<enterpriseId>`. Nested objects
   * are flattened to dotted names (`req.method`), arrays are JSON text, an Error is `err.type` and
   * `err.message` (its stack belongs in MSG); keys are sanitised to valid PARAM-NAMEs.
   * @default "fields@" + enterpriseId, i.e. "fields@32473"
   * @example { structuredDataId: "app@53421" }
   */
  structuredDataId?: string;
  /**
   * Start MSG with the UTF-8 byte order mark, as RFC 5424 6.4 recommends so that receivers know
   * the text is UTF-8. Some tools print the BOM as garbage; turn it off for them.
   * @default true
   * @example { bom: false }
   */
  bom?: boolean;
  /**
   * Largest message in bytes, framing excluded. Longer MSG text is cut at a UTF-8 character
   * boundary; fields' SD-PARAMs that do not fit are left out whole (counted in the worker's
   * SD-ELEMENT as `fieldsDropped`), and take at most half the room when MSG needs it. UDP's default stays under common path MTUs' reassembly limits and is the size RFC
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
   * then is counted in `stats.failed`, and `close()` rejects saying how many records that is.
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
  /** Messages whose text was cut, or whose field params were left out, to fit `maxMessageBytes`. */
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
} as const;

/** Largest UDP payload over IPv4; a larger `maxMessageBytes` cannot be sent as one datagram. */
const MAX_UDP_PAYLOAD = 65_507;

/** Largest Unix datagram accepted; the default send buffer (~208 KiB on Linux) takes it whole. */
const MAX_UNIX_PAYLOAD = 65_536;

/** `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;

/** The options after validation, defaults applied. */
export interface SyslogConfig {
  readonly transport: SyslogTransport;
  readonly host: string;
  readonly port: number;
  /** The Unix socket path (`transport: "unix"`). */
  readonly path: string | undefined;
  /** Where messages go, for reports: `host:port` or the socket path. */
  readonly target: string;
  /** The formatter's options but its `text` function, which the handler supplies. */
  readonly format: Omit<Rfc5424FormatterOptions, "text">;
  readonly maxQueue: number;
  readonly settleMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly connectTimeoutMs: number;
  readonly tls: SyslogTlsOptions | undefined;
}

const TRANSPORTS: readonly SyslogTransport[] = ["tcp", "tls", "udp", "unix"];

/** Validates every option; errors name the field and what it accepts. */
export function resolveSyslogOptions(options: SyslogLogHandlerOptions): SyslogConfig {
  const transport = oneOfOption("transport", options.transport, "tcp", TRANSPORTS);
  if (options.path !== undefined && transport !== "unix") {
    throw new InvalidConfigError("path", `only valid with transport "unix", got transport "${transport}"`);
  }
  let path: string | undefined;
  if (transport === "unix") {
    path = options.path ?? DEFAULTS.unixPath;
    if (typeof path !== "string" || path === "" || Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
      throw new InvalidConfigError(
        "path",
        `expected a socket path of 1 to ${MAX_UNIX_PATH_BYTES} bytes, got ${String(path)}`,
      );
    }
  }
  const host = options.host ?? DEFAULTS.host;
  if (typeof host !== "string" || host === "") {
    throw new InvalidConfigError("host", `expected a host name or IP address, got ${String(host)}`);
  }
  const port = intOption(
    "port",
    options.port,
    transport === "tls" ? DEFAULTS.tlsPort : DEFAULTS.tcpPort,
    1,
    65_535,
  );
  const maxMessageBytes = intOption(
    "maxMessageBytes",
    options.maxMessageBytes,
    transport === "udp" ? DEFAULTS.udpMaxMessageBytes : DEFAULTS.streamMaxMessageBytes,
    // RFC 5424 6.1: every receiver must accept 480 octets; below that the header alone may not fit.
    480,
    transport === "udp" ? MAX_UDP_PAYLOAD : transport === "unix" ? MAX_UNIX_PAYLOAD : 2 ** 30,
  );
  const enterpriseId = intOption("enterpriseId", options.enterpriseId, DEFAULT_ENTERPRISE_ID, 1);
  const format = {
    facility: resolveFacility(options.facility),
    hostname: stringOption("hostname", options.hostname, osHostname(), true),
    appName: stringOption("appName", options.appName, "logmux", true),
    msgId: stringOption("msgId", options.msgId, "-", true),
    enterpriseId,
    structuredDataId: resolveStructuredDataId(options.structuredDataId, enterpriseId),
    bom: boolOption("bom", options.bom, true),
    maxMessageBytes,
  };
  const reconnectMinMs = intOption("reconnectMinMs", options.reconnectMinMs, DEFAULTS.reconnectMinMs, 1);
  if (options.tls !== undefined && (typeof options.tls !== "object" || options.tls === null)) {
    throw new InvalidConfigError("tls", `expected an object with ca/cert/key, got ${String(options.tls)}`);
  }
  if (options.tls !== undefined && transport !== "tls") {
    throw new InvalidConfigError("tls", `only valid with transport "tls", got transport "${transport}"`);
  }
  return {
    transport,
    host,
    port,
    path,
    target: path ?? `${host}:${port}`,
    format,
    maxQueue: intOption("maxQueue", options.maxQueue, DEFAULTS.maxQueue, 1),
    settleMs: intOption("settleMs", options.settleMs, DEFAULTS.settleMs, 0),
    reconnectMinMs,
    reconnectMaxMs: intOption(
      "reconnectMaxMs",
      options.reconnectMaxMs,
      Math.max(DEFAULTS.reconnectMaxMs, reconnectMinMs),
      reconnectMinMs,
    ),
    connectTimeoutMs: intOption("connectTimeoutMs", options.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 1),
    tls: options.tls,
  };
}

function resolveStructuredDataId(value: unknown, enterpriseId: number): string {
  if (value === undefined) return `fields@${enterpriseId}`;
  if (!isPrivateSdId(value)) {
    throw new InvalidConfigError(
      "structuredDataId",
      'expected an SD-ID "name@<enterprise number>" (RFC 5424 6.3.2): 1 to 32 printable US-ASCII ' +
        `characters without space, =, ] or ", one @ followed by digits, got ${JSON.stringify(value)}`,
    );
  }
  if (value === `logmux@${enterpriseId}`) {
    throw new InvalidConfigError(
      "structuredDataId",
      `expected an SD-ID other than "${value}", which carries the worker name (an SD-ID may occur once per message)`,
    );
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
