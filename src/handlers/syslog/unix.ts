import { constants as osConstants } from "node:os";
import type { UnixDgramError, UnixDgramSocket } from "unix-dgram";
import { InvalidConfigError } from "../../errors.js";
import { requireHere } from "../kit/lazy-require.js";
import { Reconnector, type SenderHost, type SyslogSender, type Unsettled, unsettledFor } from "./sender.js";

/** While congested, sending is retried this often even if no 'writable' event arrives. */
const CONGESTION_RETRY_MS = 1000;

/** Send errors meaning "no receiver on that path (any more)": keep the records, reconnect later. */
const RECEIVER_GONE_ERRNOS = new Set(
  ["ECONNREFUSED", "ENOENT", "ENOTCONN", "ECONNRESET", "EPIPE", "EDESTADDRREQ"].map(
    (name) => osConstants.errno[name as keyof typeof osConstants.errno],
  ),
);

export type UnixDgramModule = typeof import("unix-dgram");
let unixDgram: UnixDgramModule | undefined;

/**
 * Loads the native package on first use of `transport: "unix"`, so that nobody else ever loads
 * native code. It is an optional peer dependency rather than a dependency, so that installing
 * logmux never compiles anything: only those who want `/dev/log` install it (and its build
 * toolchain). Throws a clear InvalidConfigError when it is missing or did not build.
 */
export function loadUnixDgram(): UnixDgramModule {
  if (unixDgram !== undefined) return unixDgram;
  try {
    unixDgram = requireHere("unix-dgram") as UnixDgramModule;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    // Not "unix-dgram is missing" when it is there but its own dependency or build is not.
    const missing =
      (error as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" && reason.includes("'unix-dgram'");
    throw new InvalidConfigError(
      "transport",
      `"unix" needs the package unix-dgram (an optional peer dependency of logmux), which ` +
        `${missing ? "is not installed" : `could not be loaded (${reason})`}: install it next to logmux ` +
        "with npm install unix-dgram (a native addon: node-gyp needs python3, make and a C++ compiler), " +
        'or use "tcp" with rsyslog imtcp on 127.0.0.1',
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

/**
 * A local Unix datagram socket such as `/dev/log`. Datagrams the kernel accepted settle like TCP
 * chunks: a receiver that vanished shows only in the next send (ECONNREFUSED), and what was sent
 * within `settleMs` before that is sent again after reconnecting.
 */
export class UnixSender implements SyslogSender {
  readonly #host: SenderHost;
  readonly #module: UnixDgramModule;
  readonly #unsettled: Unsettled;
  readonly #reconnect: Reconnector;
  #socket: UnixDgramSocket | undefined;
  #congested = false;
  #congestionTimer: NodeJS.Timeout | undefined;

  constructor(host: SenderHost, module: UnixDgramModule) {
    this.#host = host;
    this.#module = module;
    this.#unsettled = unsettledFor(host, () => this.send());
    this.#reconnect = new Reconnector(host.config.reconnectMinMs, host.config.reconnectMaxMs, () => {
      if (host.queue.length > 0) this.send();
    });
  }

  get unconfirmed(): number {
    return this.#unsettled.records;
  }

  send(): void {
    const host = this.#host;
    if (host.stopped || host.queue.length === 0) return;
    if (this.#socket === undefined) {
      if (!this.#reconnect.pending) this.#connect();
      if (this.#socket === undefined) return;
    }
    if (this.#congested) return;
    const socket = this.#socket;
    const messages: Buffer[] = [];
    // Unsettled records are memory too, as for TCP: sending waits for old ones past this bound.
    while (this.#unsettled.records + messages.length < host.config.maxQueue) {
      const message = host.queue.peek();
      if (message === undefined) break;
      // unix-dgram 2.x runs the callback synchronously, inside send().
      let outcome: UnixDgramError | null | undefined;
      socket.send(message, (error) => {
        outcome = error ?? null;
      });
      if (outcome === null) {
        host.queue.shift();
        messages.push(message);
        continue;
      }
      if (outcome === undefined) {
        outcome = Object.assign(new Error("unix-dgram did not report the send result"), { code: 0 });
      }
      if (outcome.code === 1) {
        // EAGAIN/ENOBUFS: the receiver's queue is full. Keep the record; 'writable' resumes sending.
        this.#congested = true;
        this.#congestionTimer ??= setTimeout(() => this.#onWritable(socket), CONGESTION_RETRY_MS);
        break;
      }
      if (RECEIVER_GONE_ERRNOS.has(-outcome.code)) {
        this.#recordSent(messages);
        this.#onLost(socket, outcome);
        return;
      }
      // Anything else (EMSGSIZE, EPERM…) concerns this datagram only: count it as failed, go on.
      host.queue.shift();
      host.counters.failed++;
      host.report(
        `syslog datagram to ${host.config.target} refused: ${errnoName(outcome)} (${outcome.message})`,
        outcome,
      );
    }
    this.#recordSent(messages);
    host.changed();
  }

  /** Nothing confirms a datagram: the last ones are delivered once they have settled. */
  drained(): boolean {
    return this.#host.queue.length === 0 && this.#unsettled.empty;
  }

  async close(): Promise<number> {
    this.#reconnect.cancel();
    this.#unsettled.settle();
    const unconfirmed = this.#unsettled.takeAll().length;
    this.#clearCongestion();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) {
      try {
        socket.close();
      } catch {}
    }
    return unconfirmed;
  }

  /** Datagrams accepted by the kernel in one pump pass become one chunk that settles. */
  #recordSent(messages: Buffer[]): void {
    if (messages.length > 0) this.#unsettled.add(messages, true);
  }

  #connect(): void {
    if (this.#host.stopped || this.#socket !== undefined) return;
    let socket: UnixDgramSocket;
    try {
      socket = this.#module.createSocket("unix_dgram");
    } catch (error) {
      this.#onLost(undefined, error as UnixDgramError);
      return;
    }
    let connectError: UnixDgramError | undefined;
    socket.on("error", (error) => {
      connectError = error;
    });
    socket.on("writable", () => this.#onWritable(socket));
    // Synchronous: 'connect' or 'error' has been emitted when this returns.
    socket.connect(this.#host.config.path!);
    if (connectError !== undefined) {
      this.#onLost(socket, connectError, false);
      return;
    }
    this.#socket = socket;
    this.#congested = false;
    this.#host.counters.connects++;
    this.#reconnect.reset();
  }

  #onWritable(socket: UnixDgramSocket): void {
    if (socket !== this.#socket) return;
    this.#clearCongestion();
    this.send();
    this.#host.changed();
  }

  #clearCongestion(): void {
    if (this.#congestionTimer !== undefined) clearTimeout(this.#congestionTimer);
    this.#congestionTimer = undefined;
    this.#congested = false;
  }

  /**
   * The receiver is gone (or never was there): drop the socket, put the unsettled records back in
   * front of the queue, report, and retry with backoff. A restarted daemon binds a new socket at the
   * same path, so reconnecting reaches it.
   */
  #onLost(socket: UnixDgramSocket | undefined, error: UnixDgramError, wasConnected = true): void {
    const host = this.#host;
    if (socket !== undefined) {
      try {
        socket.close();
      } catch {}
    }
    if (socket === this.#socket) this.#socket = undefined;
    this.#clearCongestion();
    const messages = this.#unsettled.takeAll();
    if (messages.length > 0) {
      host.counters.resent += messages.length;
      host.requeue(messages);
    }
    if (host.stopped) return;
    const reason = typeof error.code === "number" ? errnoName(error) : error.message;
    host.report(
      `syslog socket ${host.config.target} ${wasConnected ? "lost" : "unreachable"}: ${reason}; ` +
        `${messages.length > 0 ? "unsettled records will be re-sent, " : ""}retrying in ${this.#reconnect.nextDelayMs} ms`,
      error,
    );
    this.#reconnect.schedule();
    host.changed();
  }
}
