import { Backoff } from "../kit/backoff.js";
import type { BoundedQueue } from "../kit/bounded-queue.js";
import type { SyslogConfig } from "./options.js";

/** Counters a sender updates; the handler's `stats` reads them. */
export interface SenderCounters {
  sent: number;
  resent: number;
  failed: number;
  connects: number;
}

/** What a transport gets from the handler that owns it. */
export interface SenderHost {
  readonly config: SyslogConfig;
  /** Messages waiting to be sent, oldest first (framed for TCP/TLS). */
  readonly queue: BoundedQueue<Buffer>;
  readonly counters: SenderCounters;
  /** True from the first close() call: deliver what is queued, then let close() finish. */
  readonly closing: boolean;
  /** True once close() gave up (or finished): stop at once, report nothing more. */
  readonly stopped: boolean;
  /** Puts unsettled messages back in front of the queue (re-sent after reconnecting). */
  requeue(messages: Buffer[]): void;
  /** Reports a failure as a HandlerError naming the handler. */
  report(message: string, cause?: unknown): void;
  /** Something changed that may let a pending close() finish. */
  changed(): void;
}

/** One transport (TCP/TLS, UDP, Unix datagram) behind the same three operations. */
export interface SyslogSender {
  /** Sends what it can from the queue now (connecting first when it must). */
  send(): void;
  /**
   * True when everything handed over is confirmed as far as this transport can tell; while the
   * handler is closing, also the moment to wind down (a TCP half-close).
   */
  drained(): boolean;
  /** Records written but not yet confirmed. */
  readonly unconfirmed: number;
  /** Releases sockets and timers; returns how many written records stay unconfirmed. */
  close(): Promise<number>;
}

/** A run of records written with one write call (or one pump of datagrams); they settle together. */
interface Chunk {
  readonly messages: Buffer[];
  /** `performance.now()` when the write completed; 0 while it is outstanding. */
  writtenAt: number;
}

/**
 * Records written but not yet settled: a record counts as sent once it was handed to the kernel
 * and the connection then stayed up for `settleMs` (see the `settleMs` option). Used by the stream
 * and Unix transports; the timer is unref'd, since settling alone is no reason to stay alive.
 */
export class Unsettled {
  readonly #settleMs: number;
  readonly #onSettled: (count: number) => void;
  #chunks: Chunk[] = [];
  #records = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(settleMs: number, onSettled: (count: number) => void) {
    this.#settleMs = settleMs;
    this.#onSettled = onSettled;
  }

  get records(): number {
    return this.#records;
  }

  get empty(): boolean {
    return this.#chunks.length === 0;
  }

  /** Adds a chunk whose write is outstanding; call the returned function once it is written. */
  add(messages: Buffer[], written = false): () => void {
    const chunk: Chunk = { messages, writtenAt: written ? performance.now() : 0 };
    this.#chunks.push(chunk);
    this.#records += messages.length;
    const markWritten = (): void => {
      chunk.writtenAt = performance.now();
      this.#arm();
    };
    if (written) this.#arm();
    return markWritten;
  }

  /** Counts chunks whose settle time has passed as sent; true if any did. */
  settle(): boolean {
    const now = performance.now();
    let freed = false;
    for (;;) {
      const head = this.#chunks[0];
      if (head === undefined || head.writtenAt === 0 || now - head.writtenAt < this.#settleMs) break;
      this.#chunks.shift();
      this.#records -= head.messages.length;
      this.#onSettled(head.messages.length);
      freed = true;
    }
    this.#arm();
    return freed;
  }

  /** Empties the set (the connection broke, or close() gave up) and returns every message in it. */
  takeAll(): Buffer[] {
    this.#disarm();
    const messages = this.#chunks.flatMap((chunk) => chunk.messages);
    this.#chunks = [];
    this.#records = 0;
    return messages;
  }

  /** Called with the result of each settle timer, after settling (the sender pumps or finishes). */
  onTick: (() => void) | undefined;

  #arm(): void {
    if (this.#timer !== undefined) return;
    const head = this.#chunks[0];
    if (head === undefined || head.writtenAt === 0) return;
    const wait = Math.max(0, head.writtenAt + this.#settleMs - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.settle();
      this.onTick?.();
    }, wait).unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The {@link Unsettled} set of a transport: settled records count as sent, then it sends more. */
export function unsettledFor(host: SenderHost, send: () => void): Unsettled {
  const unsettled = new Unsettled(host.config.settleMs, (count) => {
    host.counters.sent += count;
  });
  unsettled.onTick = () => {
    send();
    // A closing handler may be waiting for nothing but its last records settling.
    host.changed();
  };
  return unsettled;
}

/**
 * Reconnects after a failure with the kit's backoff (full jitter), one timer at a time. The timer
 * is not unref'd: records are waiting, and delivering them is why the process is running.
 */
export class Reconnector {
  readonly #backoff: Backoff;
  readonly #action: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(minMs: number, maxMs: number, action: () => void) {
    this.#backoff = new Backoff({ minMs, maxMs, jitter: "full" });
    this.#action = action;
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** The delay the next {@link schedule} will wait, for reports ("retrying in 80 ms"). */
  get nextDelayMs(): number {
    return this.#backoff.peek();
  }

  schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#action();
    }, this.#backoff.next());
  }

  /** After a successful connection: the next failure waits the shortest delay again. */
  reset(): void {
    this.#backoff.reset();
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
