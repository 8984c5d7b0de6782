import type * as Dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { lazyBuiltin } from "../kit/lazy-require.js";
import type { SenderHost, SyslogSender } from "./sender.js";

const dgram = lazyBuiltin<typeof Dgram>("node:dgram");

/** Datagrams in flight at once; more only piles up in libuv without sending any faster. */
const UDP_CONCURRENT_SENDS = 64;

/** RFC 5426: one message per datagram, fire-and-forget; a datagram the kernel took counts as sent. */
export class UdpSender implements SyslogSender {
  readonly #host: SenderHost;
  #socket: Dgram.Socket | undefined;
  #outstanding = 0;

  constructor(host: SenderHost) {
    this.#host = host;
  }

  get unconfirmed(): number {
    return this.#outstanding;
  }

  send(): void {
    const host = this.#host;
    if (host.stopped) return;
    if (this.#socket === undefined) {
      this.#socket = dgram().createSocket(isIPv6(host.config.host) ? "udp6" : "udp4");
      // Unconnected on purpose: RFC 5426 is fire-and-forget, and a connected socket would turn an
      // ICMP "port unreachable" for one datagram into an error on a later, unrelated send.
      this.#socket.on("error", (error) => host.report(`syslog socket error: ${error.message}`, error));
    }
    const socket = this.#socket;
    const { port, host: address } = host.config;
    while (this.#outstanding < UDP_CONCURRENT_SENDS) {
      const message = host.queue.shift();
      if (message === undefined) break;
      this.#outstanding++;
      socket.send(message, port, address, (error) => {
        // After close() gave up, it has already counted this datagram as failed.
        if (host.stopped) return;
        this.#outstanding--;
        if (error) {
          host.counters.failed++;
          host.report(`syslog datagram to ${host.config.target} failed: ${error.message}`, error);
        } else {
          host.counters.sent++;
        }
        this.send();
        host.changed();
      });
    }
  }

  drained(): boolean {
    return this.#host.queue.length === 0 && this.#outstanding === 0;
  }

  async close(): Promise<number> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) await new Promise<void>((done) => socket.close(() => done()));
    return this.#outstanding;
  }
}
