import type { LoggerOptions } from "../call/options.js";
import { LoggerConfig } from "../config.js";
import { InvalidConfigError } from "../errors.js";
import { LogLevel } from "../levels.js";
import { CallShape, LoggerBase, type LogMessage } from "../logger-base.js";
import { nowMs, writeNowNs } from "../protocol/clock.js";
import { BATCH_HEADER_BYTES, EndKind } from "../protocol/constants.js";
import {
  BatchBuilder,
  encodeDrops,
  encodeHeartbeat,
  encodeHello,
  encodeShutdown,
  recordBytes,
  type WorkerEnd,
} from "../protocol/encoder.js";
import { Backlog } from "./backlog.js";
import { type ExitParticipant, unwatchExit, watchExit } from "./exit-hooks.js";
import { truncateRecord } from "./fit-record.js";
import { MasterLink, withTimeout } from "./link.js";
import { PlainQueue } from "./plain-queue.js";
import { SYNC_WRITE_DEADLINE_MS } from "./sync-write.js";

interface Waiter {
  seq: number;
  /** true: wait for the master's acknowledgement; false: for the write to the socket. */
  acked: boolean;
  resolve: () => void;
}

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

/**
 * 8 bytes naming this logger instance across reconnects (and its spool file). Only unique, never
 * secret: the socket admits only the master's own user. Math.random (V8 seeds it from the OS's
 * entropy in every process) rather than node:crypto, whose loading was 3 ms of the 5 ms a worker
 * spent loading logmux, for a value that needs no cryptographic strength.
 */
function newInstanceId(): Buffer {
  const id = Buffer.allocUnsafe(8);
  id.writeUInt32LE((Math.random() * 0x1_0000_0000) >>> 0, 0);
  id.writeUInt32LE(((Math.random() * 0x1_0000_0000) ^ process.pid) >>> 0, 4);
  return id;
}

const SHUTDOWN_CALLED: WorkerEnd = { kind: EndKind.SHUTDOWN, detail: 0, text: "" };

/**
 * Plain records a worker holds between the call and the batch (see PlainQueue). Above
 * QUEUE_SOFT_LIMIT, a code path that logs without ever yielding to the event loop pays for the
 * copies itself, three records per call until the queue is empty, so it never holds more than
 * 1.5 times that: a loop that yields every few thousand calls (the bench's yields every 2,000)
 * never gets there. The next turn's drain copies everything held, about 0.3 µs a record, so the
 * delay it adds is a fraction of what the calls themselves took.
 */
const QUEUE_SOFT_LIMIT = 4096;
const QUEUE_CAPACITY = 2 * QUEUE_SOFT_LIMIT;
const CATCH_UP_PER_CALL = 3;

/**
 * The producing end, one per process (or thread). A log call appends a binary record to a
 * preallocated batch and returns: no syscall, no JSON, no Date. A plain message is cheaper still:
 * the call keeps the string and its time, and the copy into the batch happens on the next tick
 * (see PlainQueue). Batches go to the master on the
 * flush interval, when a batch fills, and promptly after an ERROR or CRITICAL record. The worker
 * keeps every batch until the master acknowledges that its handlers have it, reconnecting with
 * backoff when the master is away, so records logged before the master is up (or while it
 * restarts) are delivered, in order, once it listens.
 *
 * @example
 * ```ts
 * const log = new WorkerLogger(config, "DataProcessor");
 * log.info("Processing batch 123");
 * log.error("Failed to process item", Buffer.from(payload));
 * await log.shutdown();
 * ```
 */
export class WorkerLogger extends LoggerBase implements ExitParticipant {
  readonly name: string;
  readonly config: LoggerConfig;
  readonly #backlog: Backlog;
  readonly #link: MasterLink;
  /** The open batch: where the log call appends. */
  #builder: BatchBuilder | undefined;
  /** Plain records between the call and the batch. */
  readonly #queue = new PlainQueue(QUEUE_CAPACITY);
  /** Set when the queue passed its soft limit in one turn: each call copies three until it is empty. */
  #catchingUp = false;
  #writtenSeq = 0;
  #waiters: Waiter[] = [];
  #flushTimer: NodeJS.Timeout;
  #heartbeatTimer: NodeJS.Timeout;
  #sendScheduled = false;
  #sealBeforeSend = false;
  #reportedDropped = 0;
  #state = RUNNING;
  #shutdown: Promise<void> | undefined;

  /**
   * @param options redact paths, serializers and field limits of this logger (docs/fields.md);
   *   a bad option throws InvalidConfigError naming it.
   */
  constructor(config: LoggerConfig, name: string = `WORKER${process.pid}`, options?: LoggerOptions) {
    super();
    if (!(config instanceof LoggerConfig)) {
      throw new InvalidConfigError("config", "expected a LoggerConfig instance (new LoggerConfig({...}))");
    }
    if (typeof name !== "string" || name.length === 0) {
      throw new InvalidConfigError("name", `expected a non-empty string, got ${String(name)}`);
    }
    this.config = config;
    this.name = name;
    this.minLevel = config.baseLevel;
    // A quarter of a frame: a record's values always fit, with room for a long message.
    this.shape = CallShape.root(options, Math.floor(config.maxFrameBytes / 4));
    // Timers are unref'd: a logger must never be the reason a process stays alive. The exit hook
    // writes out whatever is left when the process ends on its own.
    this.#flushTimer = setInterval(() => this.#tick(), config.flushIntervalMs).unref();
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), config.heartbeatIntervalMs).unref();
    const instanceId = newInstanceId();
    this.#backlog = new Backlog(config, { instanceId, pid: process.pid, name });
    const hello = encodeHello({
      pid: process.pid,
      instanceId,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      name,
    });
    this.#link = new MasterLink(
      {
        socketPath: config.socketPath,
        hello,
        name,
        reconnectMinMs: config.reconnectMinMs,
        reconnectMaxMs: config.reconnectMaxMs,
      },
      {
        welcomed: (lastCommittedSeq) => {
          this.#acknowledge(lastCommittedSeq);
          this.#reportDrops();
          this.#pump();
        },
        acked: (seq) => this.#acknowledge(seq),
        goodbye: () => {
          this.#seal();
          this.#pump();
        },
        written: (seq) => {
          if (seq > this.#writtenSeq) this.#writtenSeq = seq;
          this.#wake();
        },
        drained: () => this.#pump(),
        closed: () => {
          this.#backlog.sendIndex = 0;
          this.#writtenSeq = this.#backlog.ackedSeq;
        },
      },
    );
    watchExit(this, config.handleSignals);
    this.#link.connect();
  }

  isRunning(): boolean {
    return this.#state === RUNNING;
  }

  /** Records this worker discarded under backpressure ("drop" policy); also reported to the master. */
  get droppedRecords(): number {
    return this.#backlog.dropped;
  }

  /**
   * Bytes held for the master: the open batch plus sealed, unacknowledged ones (plain records
   * logged in the current tick count once they are copied into the batch, on the next).
   */
  get backlogBytes(): number {
    return this.#backlog.bytes + (this.#builder?.byteLength ?? 0);
  }

  // ---- the hot path ---------------------------------------------------------------------------

  protected override emit(
    level: number,
    message: LogMessage,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
    valuesLength: number,
  ): void {
    if (this.#state !== RUNNING) return;
    // Held plain records are older: they go first, so the batch keeps the order of the calls.
    if (this.#queue.count !== 0) this.#drain(QUEUE_CAPACITY);
    this.#append(nowMs(), level, message, data, values, valuesLength);
    if (level >= LogLevel.ERROR) this.#sendErrorSoon();
  }

  /** An error goes out on the next tick even though its batch is not full. */
  #sendErrorSoon(): void {
    this.#sealBeforeSend = true;
    this.#scheduleSend();
  }

  /** The cheapest call: the record is held as it is and copied into the batch on the next tick. */
  protected override emitPlain(level: number, message: string, section: Uint8Array | undefined): void {
    if (this.#state !== RUNNING) return;
    const queue = this.#queue;
    // Never reached (catching up keeps the queue below 1.5 times the soft limit): a typed array
    // ignores a write past its end, so a record there would be lost rather than late.
    if (queue.end === QUEUE_CAPACITY) this.#drain(QUEUE_CAPACITY);
    // PlainQueue.push written out: as a method it was hot enough for TurboFan to compile on its
    // own before the call that inlines it, a compile every worker process paid for nothing.
    const at = queue.end;
    queue.times[at] = nowMs();
    queue.levels[at] = level;
    queue.messages[at] = message;
    queue.sections[at] = section;
    queue.end = at + 1;
    const held = at + 1 - queue.head;
    if (held === 1) this.#scheduleSend();
    else if (held > QUEUE_SOFT_LIMIT) this.#catchingUp = true;
    if (this.#catchingUp) {
      this.#drain(CATCH_UP_PER_CALL);
      if (queue.count === 0) this.#catchingUp = false;
    }
    if (level >= LogLevel.ERROR) this.#sendErrorSoon();
  }

  /** Copies up to `max` held plain records into the batch, oldest first. */
  #drain(max: number): void {
    const queue = this.#queue;
    const { times, levels, messages, sections } = queue;
    let at = queue.head;
    const end = Math.min(queue.end, at + max);
    while (at < end) {
      at += (this.#builder ?? this.#newBuilder()).appendPlainRun(times, levels, messages, sections, at, end);
      if (at === end) break;
      // The batch is full: this seals it and starts the next (or sends an oversized record alone).
      const section = sections[at];
      this.#append(times[at]!, levels[at]!, messages[at]!, undefined, section, section?.length ?? 0);
      at++;
    }
    queue.advance(at);
  }

  #append(
    timeMs: number,
    level: number,
    message: LogMessage,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
    valuesLength: number,
  ): void {
    const builder = this.#builder ?? this.#newBuilder();
    if (!builder.appendAt(timeMs, level, message, data, values, valuesLength)) {
      // Once per batch: the view cut to size can be allocated here.
      this.#appendToFreshBatch(timeMs, level, message, data, values?.subarray(0, valuesLength));
    }
  }

  #newBuilder(): BatchBuilder {
    const builder = this.#backlog.newBuilder();
    this.#builder = builder;
    return builder;
  }

  /** The open batch is full (or the record is larger than a batch): seal it and start another. */
  #appendToFreshBatch(
    timeMs: number,
    level: number,
    message: LogMessage,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
  ): void {
    this.#sealOpen();
    this.#scheduleSend();
    const valuesLength = values?.length ?? 0;
    if (this.#newBuilder().appendAt(timeMs, level, message, data, values, valuesLength)) return;
    // Larger than a whole batch: it goes alone, in a buffer of its own, ahead of the open one.
    const maxRecord = this.config.maxFrameBytes + 4 - BATCH_HEADER_BYTES;
    if (recordBytes(message, data, values) > maxRecord) {
      // The values are bounded to a quarter of a frame, so it is the message or the attachment.
      const room = maxRecord - (values === undefined ? 0 : 4 + values.length);
      [message, data] = truncateRecord(message, data, room);
    }
    const oversized = new BatchBuilder(BATCH_HEADER_BYTES + recordBytes(message, data, values));
    oversized.appendAt(timeMs, level, message, data, values, valuesLength);
    this.#backlog.seal(oversized);
  }

  /** Seals the open batch after copying every held record into it: what every flush path calls. */
  #seal(): void {
    this.#drain(QUEUE_CAPACITY);
    this.#sealOpen();
  }

  #sealOpen(): void {
    const builder = this.#builder;
    if (builder === undefined || builder.count === 0) return;
    this.#builder = undefined;
    this.#backlog.seal(builder);
  }

  /**
   * Sends what is sealed on the next tick. The open batch is sealed too only after an error:
   * after a full batch, sealing the next one a tick later would send a nearly empty batch (in a
   * whole buffer) for every full one.
   */
  #scheduleSend(): void {
    if (this.#sendScheduled) return;
    this.#sendScheduled = true;
    setImmediate(() => {
      this.#sendScheduled = false;
      this.#drain(QUEUE_CAPACITY);
      this.#catchingUp = false;
      if (this.#sealBeforeSend) {
        this.#sealBeforeSend = false;
        this.#sealOpen();
      }
      this.#pump();
    });
  }

  #tick(): void {
    this.#seal();
    this.#pump();
  }

  // ---- delivery -----------------------------------------------------------------------------

  #pump(): void {
    this.#backlog.refill();
    this.#link.send(this.#backlog);
  }

  #acknowledge(seq: number): void {
    if (seq <= this.#backlog.ackedSeq) return;
    if (seq > this.#writtenSeq) this.#writtenSeq = seq;
    // Room in memory again: batches waiting on disk can come back and go out.
    if (this.#backlog.acknowledge(seq)) this.#pump();
    this.#wake();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      const reached = waiter.acked ? this.#backlog.ackedSeq : this.#writtenSeq;
      if (reached >= waiter.seq) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  #until(seq: number, acked: boolean): Promise<void> {
    const reached = acked ? this.#backlog.ackedSeq : this.#writtenSeq;
    if (seq <= reached) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, acked, resolve }));
  }

  #heartbeat(): void {
    if (this.#link.open) this.#link.write(encodeHeartbeat(writeNowNs, this.config.heartbeatIntervalMs));
  }

  #reportDrops(): void {
    const dropped = this.#backlog.dropped;
    if (dropped === this.#reportedDropped || !this.#link.welcomed) return;
    this.#reportedDropped = dropped;
    this.#link.write(encodeDrops(dropped));
  }

  // ---- flush and shutdown -------------------------------------------------------------------

  /**
   * Resolves once everything logged before the call has been written to the master's socket
   * (waiting for a connection if there is none yet), or after `shutdownTimeoutMs` if no master
   * takes it by then; the records stay queued either way, for the master, `shutdown()` or the exit
   * hook. While it waits it keeps the process alive (its timer is not unref'd, as `shutdown()`'s
   * is not): `await log.flush()` as the last thing a script does must not end the process under
   * it. After it settles, the logger holds nothing open again.
   */
  flush(): Promise<void> {
    if (this.#state === CLOSED) return Promise.resolve();
    this.#seal();
    this.#pump();
    this.#reportDrops();
    return withTimeout(this.#until(this.#backlog.seq, false), this.config.shutdownTimeoutMs);
  }

  /**
   * Stops logging (later calls are ignored), sends what is left, waits up to `shutdownTimeoutMs`
   * for the master to acknowledge it, says goodbye and closes. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#state = CLOSING;
    this.#link.hold();
    this.#seal();
    this.#pump();
    this.#reportDrops();
    const last = this.#backlog.seq;
    await withTimeout(this.#until(last, true), this.config.shutdownTimeoutMs);
    this.#state = CLOSED;
    clearInterval(this.#flushTimer);
    clearInterval(this.#heartbeatTimer);
    unwatchExit(this);
    await this.#link.end(last, SHUTDOWN_CALLED, this.config.shutdownTimeoutMs);
    if (this.#backlog.unacknowledgedBatches > 0) {
      const path = this.#backlog.spoolUnacknowledged();
      process.stderr.write(
        `logmux: worker ${this.name}: no master acknowledged every record within ${this.config.shutdownTimeoutMs} ms; ${
          path === undefined
            ? "they could not be spooled and are lost"
            : `the rest is spooled to ${path} for the next master`
        }\n`,
      );
    }
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters = [];
  }

  /**
   * Hands over what is held without ending the logger (a signal the application handles itself):
   * writes every unsent batch to the socket synchronously when the master is connected and nothing
   * is half-written; otherwise spools every unacknowledged batch for the next master.
   * @internal
   */
  flushSync(): void {
    if (this.#state === CLOSED) return;
    this.#seal();
    if (this.#link.writeUnsentSync(this.#backlog, Date.now() + SYNC_WRITE_DEADLINE_MS)) return;
    if (this.#backlog.spoolUnacknowledged() !== undefined) this.#close();
  }

  /**
   * Last-chance delivery when the process ends without shutdown() (exit, process.exit(), uncaught
   * exception, a signal that kills): there is no event loop left to wait for an acknowledgement.
   * Unsent batches are written to the socket synchronously when that can be done whole; then
   * every unacknowledged batch, including those just written, goes to a spool handed over to the
   * master, because a master that dies before its handlers commit them would otherwise lose them
   * (the master skips what it already has, by seq and its journal). Last, SHUTDOWN tells the master
   * how the process ended, so an orderly exit is not reported as a death.
   * @internal
   */
  endSync(end: WorkerEnd): void {
    if (this.#state === CLOSED) return;
    this.#seal();
    const deadline = Date.now() + SYNC_WRITE_DEADLINE_MS;
    if (this.#link.writeUnsentSync(this.#backlog, deadline)) {
      // Only after every batch went out whole: a SHUTDOWN after a torn frame would be garbage.
      this.#link.writeSync(encodeShutdown(this.#backlog.seq, end), deadline, false);
    }
    this.#backlog.spoolUnacknowledged();
    this.#close();
  }

  /** Logging stops and no connection is made again; what is open stays until the process ends. */
  #close(): void {
    this.#state = CLOSED;
    this.#link.stop();
  }
}
