import { HandlerError } from "../../errors.js";
import { errorTrailer } from "../../format/stack.js";
import type { LogRecord } from "../../record.js";
import { BaseLogHandler } from "../base.js";
import { BoundedQueue } from "../kit/bounded-queue.js";
import { DropReporter, plural } from "../kit/drop-reporter.js";
import { frameOctetCounted, Rfc5424Formatter } from "./format.js";
import {
  resolveSyslogOptions,
  type SyslogConfig,
  type SyslogLogHandlerOptions,
  type SyslogStats,
  type SyslogTransport,
} from "./options.js";
import type { SenderCounters, SenderHost, SyslogSender } from "./sender.js";
import { StreamSender } from "./stream.js";
import { UdpSender } from "./udp.js";
import { loadUnixDgram, UnixSender } from "./unix.js";

export {
  SYSLOG_FACILITIES,
  SYSLOG_SEVERITY_BY_LEVEL,
  type SyslogFacilityName,
} from "./format.js";
export type { SyslogLogHandlerOptions, SyslogStats, SyslogTlsOptions, SyslogTransport } from "./options.js";

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
 * `<PRI>1 2026-03-01T12:00:00.123456Z host app 4242 - [logmux@32473 name="worker-1"] BOM text`,
 * and for a record with fields a second SD-ELEMENT after the worker's, its SD-ID set by
 * `structuredDataId`: `[logmux@32473 name="worker-1"][fields@32473 userId="42" req.method="GET"]`.
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
  readonly #config: SyslogConfig;
  readonly #formatter: Rfc5424Formatter;
  readonly #framed: boolean;
  readonly #queue: BoundedQueue<Buffer>;
  readonly #drops: DropReporter;
  readonly #counters: SenderCounters = { sent: 0, resent: 0, failed: 0, connects: 0 };
  readonly #sender: SyslogSender;
  /** Set once close() finished waiting: the transport stops, and reports nothing more. */
  #stopped = false;
  #drained: (() => void) | undefined;
  /** What a timed-out close() could not deliver, for its error. */
  #lost = "";

  constructor(options: SyslogLogHandlerOptions = {}) {
    super(options);
    const config = resolveSyslogOptions(options);
    this.#config = config;
    this.transport = config.transport;
    this.host = config.host;
    this.port = config.port;
    this.path = config.path;
    this.#framed = config.transport === "tcp" || config.transport === "tls";
    const useOwnFormat = options.format !== undefined;
    this.#formatter = new Rfc5424Formatter({
      ...config.format,
      // The header already carries time, severity, pid and worker name, and the fields go in
      // STRUCTURED-DATA, so by default MSG is the bare message and, for a record with an error,
      // its stack on the lines below; an explicit `format` option opts into a formatted line.
      text: useOwnFormat
        ? (record) => this.format(record)
        : (record) => record.message + errorTrailer(record.fields),
    });
    this.#queue = new BoundedQueue<Buffer>({ maxItems: config.maxQueue });
    this.#drops = new DropReporter((count) =>
      this.warn(
        `dropped ${plural(count, "record", false)} (oldest first): queue full ` +
          `(maxQueue ${config.maxQueue}) while syslog at ${config.target} was slow or unreachable`,
      ),
    );
    const handler = this;
    const host: SenderHost = {
      config,
      queue: this.#queue,
      counters: this.#counters,
      get closing() {
        return handler.state !== "open";
      },
      get stopped() {
        return handler.#stopped;
      },
      requeue: (messages) => {
        this.#queue.unshiftAll(messages);
        this.#drops.add(this.#queue.trim());
      },
      report: (message, cause) => this.reportError(new HandlerError(this.label, message, { cause })),
      changed: () => this.#changed(),
    };
    // unix-dgram is loaded last, so that invalid options are reported as such where it is missing.
    this.#sender =
      config.transport === "udp"
        ? new UdpSender(host)
        : config.transport === "unix"
          ? new UnixSender(host, loadUnixDgram())
          : new StreamSender(host);
  }

  /** `SyslogLogHandler(tcp://127.0.0.1:514)`, `SyslogLogHandler(unix:/dev/log)`. */
  override get label(): string {
    const where =
      this.path === undefined ? `${this.transport}://${this.host}:${this.port}` : `unix:${this.path}`;
    return `${this.name}(${where})`;
  }

  /** Exact counters; see {@link SyslogStats}. */
  get stats(): SyslogStats {
    return {
      queued: this.#queue.length,
      inFlight: this.#sender.unconfirmed,
      sent: this.#counters.sent,
      dropped: this.#drops.total,
      resent: this.#counters.resent,
      truncated: this.#formatter.truncated,
      failed: this.#counters.failed,
      connects: this.#counters.connects,
    };
  }

  /** Formats one record exactly as it is sent (without framing); handy for tests and debugging. */
  formatMessage(record: LogRecord): Buffer {
    return this.#formatter.format(record);
  }

  push(records: readonly LogRecord[]): void {
    this.assertOpen();
    let evicted = 0;
    for (const record of records) {
      const message = this.#formatter.format(record);
      evicted += this.#queue.push(this.#framed ? frameOctetCounted(message) : message);
    }
    this.#drops.add(evicted);
    this.#sender.send();
  }

  #changed(): void {
    if (this.state !== "open" && !this.#stopped && this.#sender.drained()) this.#drained?.();
  }

  protected override onClosing(): void {
    // What is queued goes out now: connect if the handler was idle.
    this.#sender.send();
  }

  /**
   * Delivers what is queued, until closeTimeoutMs (closeSignal), then releases the connection.
   * Records still undelivered then are counted in `stats.failed`.
   */
  protected override async onClose(): Promise<void> {
    if (!this.#sender.drained()) {
      const signal = this.closeSignal;
      await new Promise<void>((done) => {
        this.#drained = done;
        signal.addEventListener("abort", () => done(), { once: true });
      });
    }
    this.#drained = undefined;
    this.#stopped = true;
    const queued = this.#queue.clear().length;
    const unconfirmed = await this.#sender.close();
    this.#drops.flush();
    const lost = queued + unconfirmed;
    if (lost === 0) return;
    this.#counters.failed += lost;
    this.#lost =
      `${plural(lost, "record", false)} not confirmed as delivered to syslog at ${this.#config.target} ` +
      `(${queued} never written, ${unconfirmed} written but unconfirmed: they may or may not have arrived)`;
  }

  protected override undelivered(): string {
    return this.#lost;
  }
}
