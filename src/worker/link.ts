import type { Socket } from "node:net";
import { MessageType } from "../protocol/constants.js";
import { encodeShutdown, type WorkerEnd } from "../protocol/encoder.js";
import {
  decodeU64Message,
  decodeWelcome,
  FrameReader,
  frameText,
  frameType,
} from "../protocol/frame-reader.js";
import { Backoff, connectUnix } from "../transport/client.js";
import type { Backlog } from "./backlog.js";
import { idleSocketFd, writeFully } from "./sync-write.js";

/** Replies from the master are tiny (WELCOME, ACK, GOODBYE, ERROR text); anything bigger is wrong. */
const MAX_REPLY_FRAME_BYTES = 64 * 1024;

/** What the link tells the worker about its master. */
export interface LinkEvents {
  /** WELCOME: the master has committed everything up to `lastCommittedSeq`. */
  welcomed(lastCommittedSeq: number): void;
  acked(seq: number): void;
  /** GOODBYE: the master is shutting down; hand everything over now, before the half-close. */
  goodbye(): void;
  /** The batch with this seq is written to the socket. */
  written(seq: number): void;
  /** The socket drained: more can be sent. */
  drained(): void;
  /** The connection closed: whatever was not acknowledged goes again on the next one. */
  closed(): void;
}

export interface LinkOptions {
  socketPath: string;
  /** The worker's HELLO frame, sent first on every connection. */
  hello: Buffer;
  /** For stderr reports. */
  name: string;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

/**
 * The worker's connection to its master, one socket at a time: connect and say HELLO, wait for
 * WELCOME, send batches as the socket takes them, reconnect with backoff when the connection
 * drops, and, at exit, append whole frames to the stream synchronously. It never decides what
 * to send; the worker's {@link Backlog} holds that.
 */
export class MasterLink {
  readonly #options: LinkOptions;
  readonly #events: LinkEvents;
  readonly #backoff: Backoff;
  #socket: Socket | undefined;
  #connection = 0;
  #welcomed = false;
  #writable = false;
  #goodbye = false;
  /** HELLO was handed to this connection's socket (whole on the wire once its write queue is empty). */
  #helloSent = false;
  /** A synchronous write failed part-way: the stream may hold a torn frame, so nothing more goes on it. */
  #syncBroken = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** The worker is closed: no more connections. */
  #stopped = false;
  /** Someone waits on delivery (shutdown): the socket keeps the process alive. */
  #holding = false;

  constructor(options: LinkOptions, events: LinkEvents) {
    this.#options = options;
    this.#events = events;
    this.#backoff = new Backoff(options.reconnectMinMs, options.reconnectMaxMs);
  }

  /** Welcomed on a live connection: heartbeats and DROPS may go out. */
  get welcomed(): boolean {
    return this.#socket !== undefined && this.#welcomed;
  }

  /** Welcomed and not told goodbye: batches may go out. */
  get open(): boolean {
    return this.welcomed && !this.#goodbye;
  }

  connect(): void {
    this.#reconnectTimer = undefined;
    if (this.#stopped) return;
    const connection = ++this.#connection;
    const socket = connectUnix(this.#options.socketPath);
    // Like the worker's timers, the connection must not keep the process alive; the exit hook
    // delivers what is left. hold() refs it, since then the caller is waiting on delivery.
    if (!this.#holding) socket.unref();
    this.#socket = socket;
    this.#welcomed = false;
    this.#helloSent = false;
    this.#syncBroken = false;
    this.#goodbye = false;
    const reader = new FrameReader(MAX_REPLY_FRAME_BYTES, (frame) => this.#onReply(socket, frame));
    socket.on("connect", () => {
      socket.write(this.#options.hello);
      this.#helloSent = true;
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        process.stderr.write(
          `logmux: worker ${this.#options.name}: bad reply from master: ${(error as Error).message}\n`,
        );
        socket.destroy();
      }
    });
    socket.on("drain", () => {
      if (connection !== this.#connection) return;
      this.#writable = true;
      this.#events.drained();
    });
    socket.on("end", () => {
      // The master closed its side (shutdown finished); ours follows.
      socket.end();
    });
    socket.on("error", () => {
      // 'close' always follows; reconnecting is handled there.
    });
    socket.on("close", () => this.#onClose(connection));
  }

  #onReply(socket: Socket, frame: Buffer): void {
    switch (frameType(frame)) {
      case MessageType.WELCOME: {
        const { lastCommittedSeq } = decodeWelcome(frame);
        this.#welcomed = true;
        this.#writable = true;
        this.#backoff.reset();
        this.#events.welcomed(lastCommittedSeq);
        return;
      }
      case MessageType.ACK:
        this.#events.acked(decodeU64Message(frame, "ACK"));
        return;
      case MessageType.GOODBYE:
        // Hand over everything held, then half-close so the master knows nothing more is coming.
        // Unacknowledged batches stay with the worker for the next master.
        this.#events.goodbye();
        this.#goodbye = true;
        socket.end();
        return;
      case MessageType.ERROR:
        process.stderr.write(
          `logmux: worker ${this.#options.name}: master closed the connection: ${frameText(frame)}\n`,
        );
        return;
      default:
        socket.destroy();
    }
  }

  #onClose(connection: number): void {
    if (connection !== this.#connection) return;
    this.#socket = undefined;
    this.#welcomed = false;
    this.#writable = false;
    this.#events.closed();
    if (this.#stopped) return;
    this.#reconnectTimer = setTimeout(() => this.connect(), this.#backoff.next());
    this.#reconnectTimer.unref();
  }

  /** Writes the backlog's unsent batches while the socket takes them. */
  send(backlog: Backlog): void {
    const socket = this.#socket;
    if (socket === undefined || !this.#welcomed || !this.#writable || this.#goodbye) return;
    const pending = backlog.pending;
    if (backlog.sendIndex >= pending.length) return;
    const connection = this.#connection;
    socket.cork();
    while (backlog.sendIndex < pending.length) {
      const batch = pending[backlog.sendIndex++]!;
      const seq = batch.seq;
      const flowing = socket.write(batch.frame, (error) => {
        if (!error && connection === this.#connection) this.#events.written(seq);
      });
      if (!flowing) {
        this.#writable = false;
        break;
      }
    }
    socket.uncork();
  }

  /** A small control frame (HEARTBEAT, DROPS) on the current connection. */
  write(frame: Buffer): void {
    this.#socket?.write(frame);
  }

  /** The caller now waits on delivery: keep the process alive while connected or reconnecting. */
  hold(): void {
    this.#holding = true;
    this.#socket?.ref();
  }

  /** No more connections (the worker is closed); the current one, if any, stays until end(). */
  stop(): void {
    this.#stopped = true;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
  }

  /** shutdown(): SHUTDOWN after the last batch, half-close, and wait (bounded) for the close. */
  async end(lastSeq: number, end: WorkerEnd, timeoutMs: number): Promise<void> {
    this.stop();
    const socket = this.#socket;
    if (socket === undefined) return;
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    if (this.#welcomed && !this.#goodbye) socket.end(encodeShutdown(lastSeq, end));
    else socket.end();
    await withTimeout(closed, timeoutMs);
    socket.destroy();
  }

  // ---- synchronous writes, for when the process ends and no event loop is left --------------

  /**
   * The socket's fd when bytes of ours can be appended to the stream synchronously. Batches wait
   * for WELCOME (it says what the master already has); SHUTDOWN needs only our HELLO to be out, so
   * a process that ends right after connecting still says how it ended.
   */
  #syncFd(needWelcome: boolean): number | undefined {
    const socket = this.#socket;
    if (socket === undefined || this.#goodbye || this.#syncBroken) return undefined;
    if (needWelcome ? !this.#welcomed : !this.#helloSent) return undefined;
    return idleSocketFd(socket);
  }

  /** Writes one frame whole, or marks the stream unusable (a torn frame may be on it). */
  writeSync(frame: Buffer, deadline: number, needWelcome = true): boolean {
    const fd = this.#syncFd(needWelcome);
    if (fd === undefined) return false;
    if (writeFully(fd, frame, deadline)) return true;
    this.#syncBroken = true;
    return false;
  }

  /** True when every unsent batch of the backlog was written whole to the socket. */
  writeUnsentSync(backlog: Backlog, deadline: number): boolean {
    if (backlog.spooled || this.#syncFd(true) === undefined) return false;
    const pending = backlog.pending;
    for (let i = backlog.sendIndex; i < pending.length; i++) {
      if (!this.writeSync(pending[i]!.frame, deadline)) return false;
      backlog.sendIndex = i + 1;
    }
    return true;
  }
}

/** Resolves when `promise` does or after `ms`, whichever is first; the timer keeps the process alive. */
export function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<void>((done) => {
      timer = setTimeout(done, ms);
    }),
  ]);
}
