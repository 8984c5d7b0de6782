import type { Socket } from "node:net";
import type { FrameReader, Shutdown } from "../protocol/decoder.js";
import type { RecordSource } from "../protocol/record-batch.js";
import type { Instance } from "./registry.js";

/**
 * One accepted connection: a worker (after HELLO), a status client (after STATUS_QUERY), a
 * tail (after TAIL_QUERY), or a stranger that has said neither yet. Holds the connection's own state and timers; what outlives
 * the connection (seqs, health, counters) is on its {@link Instance}.
 */
export class Session {
  readonly socket: Socket;
  readonly reader: FrameReader;
  instance: Instance | undefined;
  source: RecordSource | undefined;
  /** Fires when a check-in is overdue by more than deadWorkerGraceMs ("appears dead"). */
  deadTimer: NodeJS.Timeout | undefined;
  /** Runs from accept until the first HELLO, STATUS_QUERY or TAIL_QUERY. */
  handshakeTimer: NodeJS.Timeout | undefined;
  /** Runs while a frame is incomplete; `framesAtTimer` tells which frame it is timing. */
  frameTimer: NodeJS.Timeout | undefined;
  frames = 0;
  framesAtTimer = 0;
  /** The worker's SHUTDOWN: it is ending on purpose, and says how. */
  end: Shutdown | undefined;
  ended = false;
  closed = false;
  paused = false;
  isStatusClient = false;
  /** Sent TAIL_QUERY: from then on the master only writes to it (Tails). */
  isTailClient = false;

  constructor(socket: Socket, reader: FrameReader) {
    this.socket = socket;
    this.reader = reader;
  }

  label(): string {
    const instance = this.instance;
    return instance ? `Worker ${instance.name} (pid ${instance.pid})` : "an unidentified client";
  }

  /** Stops or restarts reading from the peer (flow control). */
  setPaused(paused: boolean): void {
    if (paused && !this.paused) this.socket.pause();
    else if (!paused && this.paused) this.socket.resume();
    this.paused = paused;
  }

  /**
   * Calls `expire` after `ms` unless the timer is cleared first, or a frame completes. While the
   * master is not reading (backpressure) the clock restarts: only the peer's slowness counts.
   */
  deadline(ms: number, expire: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      // Judge only after reading what has already arrived (setImmediate runs after this turn's
      // I/O): a master slowed by its own work must not blame a peer whose bytes are waiting.
      const frames = this.frames;
      setImmediate(() => {
        if (this.closed || this.frames !== frames) return;
        if (this.paused) timer.refresh();
        else expire();
      });
    }, ms);
    return timer.unref();
  }

  /** Gives each frame `ms` from its first byte to arrive whole, then calls `expire`. */
  watchFrame(ms: number, expire: () => void): void {
    if (this.reader.bufferedBytes === 0) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    } else if (this.frameTimer === undefined) {
      this.framesAtTimer = this.frames;
      this.frameTimer = this.deadline(ms, expire);
    } else if (this.framesAtTimer !== this.frames) {
      // The frame being timed completed and a new one began in the same chunk.
      this.framesAtTimer = this.frames;
      this.frameTimer.refresh();
    }
  }

  clearDeadTimer(): void {
    if (this.deadTimer !== undefined) clearTimeout(this.deadTimer);
    this.deadTimer = undefined;
  }

  /** Clears every timer of the connection (it closed). */
  clearTimers(): void {
    this.clearDeadTimer();
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.frameTimer);
  }

  /** A half-closed session (worker sent everything after GOODBYE) ends once its acks are out. */
  finishIfDone(): void {
    if (!this.ended || this.closed) return;
    const instance = this.instance;
    if (instance === undefined || instance.ackHead === instance.pendingAcks.length) this.socket.end();
  }
}
