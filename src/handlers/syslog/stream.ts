import { isIP, connect as netConnect, type Socket } from "node:net";
import type * as Tls from "node:tls";
import { lazyBuiltin } from "../kit/lazy-require.js";
import { Reconnector, type SenderHost, type SyslogSender, type Unsettled, unsettledFor } from "./sender.js";

const tls = lazyBuiltin<typeof Tls>("node:tls");

/** Records are coalesced into writes of about this size: one syscall per burst, not per record. */
const WRITE_CHUNK_BYTES = 64 * 1024;

/**
 * Idle TCP connections are probed this often, so a peer host that vanished without a reset is
 * noticed, and its unsettled records re-sent, within minutes rather than hours.
 */
const KEEPALIVE_MS = 10_000;

/**
 * TCP and TLS (RFC 6587 octet counting, RFC 5425): one connection, written in chunks, each chunk
 * re-sendable until it settles. An idle handler reconnects lazily, on the next push.
 */
export class StreamSender implements SyslogSender {
  readonly #host: SenderHost;
  readonly #unsettled: Unsettled;
  readonly #reconnect: Reconnector;
  #socket: Socket | undefined;
  #connected = false;
  #writeOutstanding = false;
  #endSent = false;
  #peerEndedAfterOurEnd = false;

  constructor(host: SenderHost) {
    this.#host = host;
    this.#unsettled = unsettledFor(host, () => this.send());
    this.#reconnect = new Reconnector(host.config.reconnectMinMs, host.config.reconnectMaxMs, () => {
      if (host.queue.length > 0) this.#connect();
    });
  }

  get unconfirmed(): number {
    return this.#unsettled.records;
  }

  send(): void {
    const host = this.#host;
    if (host.stopped || host.queue.length === 0) return;
    const socket = this.#socket;
    if (socket === undefined) {
      if (!this.#reconnect.pending) this.#connect();
      return;
    }
    if (!this.#connected || this.#writeOutstanding || this.#endSent) return;
    const maxQueue = host.config.maxQueue;
    // Unsettled records are memory too: writing waits for old ones to settle past this bound.
    if (this.#unsettled.records >= maxQueue) return;
    const messages: Buffer[] = [];
    let bytes = 0;
    while (bytes < WRITE_CHUNK_BYTES && this.#unsettled.records + messages.length < maxQueue) {
      const message = host.queue.shift();
      if (message === undefined) break;
      messages.push(message);
      bytes += message.length;
    }
    const written = this.#unsettled.add(messages);
    this.#writeOutstanding = true;
    const data = messages.length === 1 ? messages[0]! : Buffer.concat(messages, bytes);
    socket.write(data, (error) => {
      // A callback from a connection already torn down: #onClose has requeued the chunk.
      if (socket !== this.#socket) return;
      this.#writeOutstanding = false;
      if (error) return; // 'close' follows and requeues
      written();
      this.send();
      host.changed();
    });
  }

  drained(): boolean {
    const host = this.#host;
    if (host.queue.length === 0 && this.#unsettled.empty && this.#socket === undefined) return true;
    // Closing and everything written: half-close, and let the peer's answering FIN confirm it read it all.
    const socket = this.#socket;
    if (
      host.closing &&
      socket !== undefined &&
      this.#connected &&
      host.queue.length === 0 &&
      !this.#writeOutstanding &&
      !this.#endSent
    ) {
      this.#endSent = true;
      socket.end();
    }
    return false;
  }

  async close(): Promise<number> {
    this.#reconnect.cancel();
    // Chunks that settled while close() waited are sent, not lost.
    this.#unsettled.settle();
    const unconfirmed = this.#unsettled.takeAll().length;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    return unconfirmed;
  }

  #connect(): void {
    const host = this.#host;
    if (host.stopped || this.#socket !== undefined) return;
    const { config } = host;
    const socket =
      config.transport === "tls"
        ? tls().connect({
            host: config.host,
            port: config.port,
            servername: config.tls?.servername ?? (isIP(config.host) !== 0 ? undefined : config.host),
            ca: config.tls?.ca,
            cert: config.tls?.cert,
            key: config.tls?.key,
            rejectUnauthorized: config.tls?.rejectUnauthorized ?? true,
          } satisfies Tls.ConnectionOptions)
        : netConnect({ host: config.host, port: config.port });
    this.#socket = socket;
    this.#connected = false;
    this.#endSent = false;
    this.#peerEndedAfterOurEnd = false;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    const connectTimer = setTimeout(() => {
      socket.destroy(new Error(`connect timed out after ${config.connectTimeoutMs} ms`));
    }, config.connectTimeoutMs);
    socket.once(config.transport === "tls" ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      if (socket !== this.#socket) return;
      this.#connected = true;
      host.counters.connects++;
      this.#reconnect.reset();
      this.send();
      host.changed();
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
      this.#onClose(socket, lastError);
    });
  }

  #onClose(socket: Socket, error: Error | undefined): void {
    if (socket !== this.#socket) return;
    const host = this.#host;
    const wasConnected = this.#connected;
    const orderly = this.#endSent && this.#peerEndedAfterOurEnd && error === undefined;
    this.#socket = undefined;
    this.#connected = false;
    this.#writeOutstanding = false;
    const messages = this.#unsettled.takeAll();
    if (orderly) {
      // The peer read up to our FIN before closing its side, so it read every byte we wrote.
      host.counters.sent += messages.length;
    } else if (messages.length > 0) {
      host.counters.resent += messages.length;
      host.requeue(messages);
    }
    if (host.stopped) return;
    if (!orderly && (error !== undefined || wasConnected)) {
      host.report(
        `syslog connection to ${host.config.target} ${wasConnected ? "lost" : "failed"}` +
          `${error ? `: ${error.message}` : ""}; ${messages.length > 0 ? "unsettled records will be re-sent, " : ""}` +
          `retrying in ${this.#reconnect.nextDelayMs} ms`,
        error,
      );
    }
    if (host.queue.length > 0) this.#reconnect.schedule();
    host.changed();
  }
}
