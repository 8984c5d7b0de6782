import { randomBytes } from "node:crypto";
import { writeSync } from "node:fs";
import type { Socket } from "node:net";
import { constants as osConstants } from "node:os";
import { isMainThread } from "node:worker_threads";
import { writeNowNs } from "./clock.js";
import { LoggerConfig } from "./config.js";
import { InvalidConfigError } from "./errors.js";
import { LogLevel } from "./levels.js";
import { LoggerBase, type LogMessage } from "./logger-base.js";
import { BATCH_HEADER_BYTES, EndKind, MessageType } from "./protocol/constants.js";
import { decodeU64Message, decodeWelcome, FrameReader, frameText, frameType } from "./protocol/decoder.js";
import {
  BatchBuilder,
  encodeDrops,
  encodeHeartbeat,
  encodeHello,
  encodeShutdown,
  recordBytes,
  type WorkerEnd,
} from "./protocol/encoder.js";
import { readU64 } from "./protocol/u64.js";
import { Spool } from "./spool.js";
import { Backoff, connectUnix } from "./transport/client.js";

/** Replies from the master are tiny (WELCOME, ACK, GOODBYE, ERROR text); anything bigger is wrong. */
const MAX_REPLY_FRAME_BYTES = 64 * 1024;
/** Suffix added to a message cut to fit `maxFrameBytes`, so the cut is visible in the log. */
const TRUNCATION_MARK = " …[truncated by logmux: message exceeded maxFrameBytes]";

interface SealedBatch {
  seq: number;
  frame: Buffer;
  count: number;
  /** The builder whose memory `frame` is, reused once the master acknowledges the batch. */
  builder?: BatchBuilder;
}

/**
 * Acknowledged batch buffers kept for reuse instead of allocating one per batch (allocation,
 * first-touch page faults, GC): in a same-process A/B at full speed this took a few percent off
 * the worker's CPU per record. A logger at a moderate rate cycles through two or three; under a
 * burst, more batches are in flight than this, and the extra ones are left to the GC.
 */
const MAX_SPARE_BUILDERS = 4;

/** Capacity of a worker's first batch (see #newBuilder). */
const FIRST_BATCH_BYTES = 4096;

interface Waiter {
  seq: number;
  /** true: wait for the master's acknowledgement; false: for the write to the socket. */
  acked: boolean;
  resolve: () => void;
}

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

/** Workers alive in this process; one 'exit' listener serves them all. */
const liveWorkers = new Set<WorkerLogger>();
let exitHookInstalled = false;

/** Signals after which the process would otherwise die with records still in memory. */
const FLUSH_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

/** The last uncaught exception seen, so the 'exit' hook can tell a crash from a plain exit. */
let uncaught: unknown;

const SHUTDOWN_CALLED: WorkerEnd = { kind: EndKind.SHUTDOWN, detail: 0, text: "" };

function describeUncaught(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return `thrown value: ${String(error)}`;
  } catch {
    return "thrown value that cannot be printed";
  }
}

function endAllSync(end: WorkerEnd): void {
  for (const worker of liveWorkers) worker.endSync(end);
}

function onExit(code: number): void {
  // An app may catch an uncaught exception ('uncaughtException' handler) and exit cleanly later:
  // only a non-zero exit after one is a crash.
  endAllSync(
    code !== 0 && uncaught !== undefined
      ? { kind: EndKind.UNCAUGHT, detail: code, text: describeUncaught(uncaught) }
      : { kind: EndKind.EXIT, detail: code, text: "" },
  );
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) === 1) {
    // Ours is the only handler: the application expects the default, which is to die by the
    // signal. Re-raising it after removing ourselves gives exactly that (exit status included).
    endAllSync({ kind: EndKind.SIGNAL, detail: osConstants.signals[signal] ?? 0, text: signal });
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
    return;
  }
  // The application handles the signal and may go on logging (a graceful shutdown): hand over
  // what we hold without ending the logger; its own shutdown() or the 'exit' hook ends it.
  for (const worker of liveWorkers) worker.flushSync();
}

function installExitHooks(signals: boolean): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' also runs after process.exit() and after an uncaught exception has been printed.
    process.on("exit", onExit);
    // A monitor observes without changing what an uncaught exception does to the process.
    process.on("uncaughtExceptionMonitor", (error) => {
      uncaught = error;
    });
  }
  // Signals reach only the main thread; a worker_threads logger relies on the 'exit' hook.
  if (signals && isMainThread) {
    for (const signal of FLUSH_SIGNALS) {
      if (!process.listeners(signal).includes(onSignal)) process.on(signal, onSignal);
    }
  }
}

/**
 * The producing end, one per process (or thread). A log call appends a binary record to a
 * preallocated batch and returns: no syscall, no JSON, no Date. Batches go to the master on the
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
export class WorkerLogger extends LoggerBase {
  readonly name: string;
  readonly config: LoggerConfig;
  readonly #hello: Buffer;
  readonly #instanceId: Buffer;
  /** Overflow on disk, newer than everything in #pending; created on first use. */
  #spool: Spool | undefined;
  #spoolFailureReported = false;
  readonly #batchBytes: number;
  #builder: BatchBuilder | undefined;
  readonly #spareBuilders: BatchBuilder[] = [];
  #seq = 0;
  /** Sealed batches not yet acknowledged, oldest first; those before #sendIndex are on the wire. */
  #pending: SealedBatch[] = [];
  #sendIndex = 0;
  #backlogBytes = 0;
  #ackedSeq = 0;
  #writtenSeq = 0;
  #waiters: Waiter[] = [];
  #socket: Socket | undefined;
  #welcomed = false;
  #writable = false;
  #goodbye = false;
  #connection = 0;
  #backoff: Backoff;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout;
  #heartbeatTimer: NodeJS.Timeout;
  #sendScheduled = false;
  #sealBeforeSend = false;
  #dropped = 0;
  #reportedDropped = 0;
  #state = RUNNING;
  #shutdown: Promise<void> | undefined;
  /** A synchronous write failed part-way: the stream may hold a torn frame, so nothing more goes on it. */
  #syncBroken = false;
  /** HELLO was handed to this connection's socket (whole on the wire once its write queue is empty). */
  #helloSent = false;

  constructor(config: LoggerConfig, name: string = `WORKER${process.pid}`) {
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
    this.#batchBytes = config.maxBatchBytes;
    this.#backoff = new Backoff(config.reconnectMinMs, config.reconnectMaxMs);
    // Timers are unref'd: a logger must never be the reason a process stays alive. The exit hook
    // writes out whatever is left when the process ends on its own.
    this.#flushTimer = setInterval(() => this.#tick(), config.flushIntervalMs).unref();
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), config.heartbeatIntervalMs).unref();
    this.#instanceId = randomBytes(8);
    this.#hello = encodeHello({
      pid: process.pid,
      instanceId: this.#instanceId,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      name,
    });
    liveWorkers.add(this);
    installExitHooks(config.handleSignals);
    this.#connect();
  }

  isRunning(): boolean {
    return this.#state === RUNNING;
  }

  /** Records this worker discarded under backpressure ("drop" policy); also reported to the master. */
  get droppedRecords(): number {
    return this.#dropped;
  }

  /** Bytes held for the master: the open batch plus sealed, unacknowledged ones. */
  get backlogBytes(): number {
    return this.#backlogBytes + (this.#builder?.byteLength ?? 0);
  }

  // ---- the hot path ---------------------------------------------------------------------------

  protected override emit(level: number, message: LogMessage, data: Uint8Array | undefined): void {
    if (this.#state !== RUNNING) return;
    const builder = this.#builder ?? this.#newBuilder();
    if (!builder.append(level, message, data)) this.#appendToFreshBatch(level, message, data);
    if (level >= LogLevel.ERROR) {
      // An error goes out on the next tick even though its batch is not full.
      this.#sealBeforeSend = true;
      this.#scheduleSend();
    }
  }

  #newBuilder(): BatchBuilder {
    // The first batch is small: a process that logs a few lines never allocates a whole batch,
    // and it fills after a few dozen records, so V8 has seen the batch-full path before it
    // optimises the log call (a path first taken in optimised code discards that code).
    const builder =
      this.#seq === 0 && this.#builder === undefined
        ? new BatchBuilder(Math.min(FIRST_BATCH_BYTES, this.#batchBytes))
        : (this.#spareBuilders.pop() ?? new BatchBuilder(this.#batchBytes));
    this.#builder = builder;
    return builder;
  }

  /** The open batch is full (or the record is larger than a batch): seal it and start another. */
  #appendToFreshBatch(level: number, message: LogMessage, data: Uint8Array | undefined): void {
    this.#seal();
    this.#scheduleSend();
    if (this.#newBuilder().append(level, message, data)) return;
    const maxRecord = this.config.maxFrameBytes + 4 - BATCH_HEADER_BYTES;
    if (recordBytes(message, data) > maxRecord) [message, data] = truncateRecord(message, data, maxRecord);
    const oversized = new BatchBuilder(BATCH_HEADER_BYTES + recordBytes(message, data));
    oversized.append(level, message, data);
    this.#builder = oversized;
    this.#seal();
  }

  #seal(): void {
    const builder = this.#builder;
    if (builder === undefined || builder.count === 0) return;
    this.#builder = undefined;
    const frameBytes = builder.byteLength;
    const spooling = this.#spool !== undefined && this.#spool.frames > 0;
    if (!spooling && this.#backlogBytes + frameBytes <= this.config.maxBacklogBytes) {
      const seq = ++this.#seq;
      // Only standard-size builders are worth keeping; an oversized one is used once.
      const reusable = builder.buffer.length === this.#batchBytes ? builder : undefined;
      this.#pending.push({ seq, frame: builder.seal(seq), count: builder.count, builder: reusable });
      this.#backlogBytes += frameBytes;
      return;
    }
    // Memory is full (or older batches already wait on disk, and order must hold).
    if (this.config.onBackpressure === "drop" || !this.#spoolFrame(builder.seal(this.#seq + 1))) {
      this.#dropped += builder.count;
      return;
    }
    this.#seq++;
  }

  /** Appends a frame to the spool; false when the spool is full or the disk refused it. */
  #spoolFrame(frame: Buffer): boolean {
    try {
      this.#spool ??= new Spool(this.config.socketPath, {
        instanceId: this.#instanceId,
        pid: process.pid,
        name: this.name,
      });
      if (this.#spool.bytes + frame.length > this.config.maxSpoolBytes) return false;
      this.#spool.append(frame);
      return true;
    } catch (error) {
      this.#reportSpoolFailure(error);
      return false;
    }
  }

  #reportSpoolFailure(error: unknown): void {
    if (this.#spoolFailureReported) return;
    this.#spoolFailureReported = true;
    process.stderr.write(
      `logmux: worker ${this.name}: cannot write the spool: ${(error as Error).message}\n`,
    );
  }

  /** Moves spooled batches back into memory as acknowledgements make room, oldest first. */
  #refill(): void {
    const spool = this.#spool;
    if (spool === undefined) return;
    const limit = this.config.maxBacklogBytes;
    while (spool.frames > 0 && this.#backlogBytes < limit / 2) {
      for (const frame of spool.take(limit / 4)) {
        this.#pending.push({ seq: readU64(frame, 5), frame, count: frame.readUInt32LE(13) });
        this.#backlogBytes += frame.length;
      }
    }
    if (spool.frames === 0) {
      spool.remove();
      this.#spool = undefined;
    }
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
      if (this.#sealBeforeSend) {
        this.#sealBeforeSend = false;
        this.#seal();
      }
      this.#pump();
    });
  }

  #tick(): void {
    this.#seal();
    this.#pump();
  }

  // ---- the connection ---------------------------------------------------------------------------

  #connect(): void {
    this.#reconnectTimer = undefined;
    if (this.#state === CLOSED) return;
    const connection = ++this.#connection;
    const socket = connectUnix(this.config.socketPath);
    // Like the timers, the connection must not keep the process alive; the exit hook delivers what
    // is left. shutdown() refs it again, since then the caller is waiting on delivery.
    if (this.#state === RUNNING) socket.unref();
    this.#socket = socket;
    this.#welcomed = false;
    this.#helloSent = false;
    this.#syncBroken = false;
    this.#goodbye = false;
    const reader = new FrameReader(MAX_REPLY_FRAME_BYTES, (frame) => this.#onReply(socket, frame));
    socket.on("connect", () => {
      socket.write(this.#hello);
      this.#helloSent = true;
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        process.stderr.write(
          `logmux: worker ${this.name}: bad reply from master: ${(error as Error).message}\n`,
        );
        socket.destroy();
      }
    });
    socket.on("drain", () => {
      if (connection !== this.#connection) return;
      this.#writable = true;
      this.#pump();
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
        this.#acknowledge(lastCommittedSeq);
        this.#reportDrops();
        this.#pump();
        return;
      }
      case MessageType.ACK:
        this.#acknowledge(decodeU64Message(frame, "ACK"));
        return;
      case MessageType.GOODBYE:
        // The master is shutting down: hand over everything we hold, then half-close so it knows
        // nothing more is coming. Unacknowledged batches stay with us for the next master.
        this.#seal();
        this.#pump();
        this.#goodbye = true;
        socket.end();
        return;
      case MessageType.ERROR:
        process.stderr.write(
          `logmux: worker ${this.name}: master closed the connection: ${frameText(frame)}\n`,
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
    // Whatever the master did not acknowledge goes again on the next connection.
    this.#sendIndex = 0;
    this.#writtenSeq = this.#ackedSeq;
    if (this.#state === CLOSED) return;
    this.#reconnectTimer = setTimeout(() => this.#connect(), this.#backoff.next());
    this.#reconnectTimer.unref();
  }

  #pump(): void {
    if (this.#spool !== undefined) this.#refill();
    const socket = this.#socket;
    if (socket === undefined || !this.#welcomed || !this.#writable || this.#goodbye) return;
    const pending = this.#pending;
    if (this.#sendIndex >= pending.length) return;
    const connection = this.#connection;
    socket.cork();
    while (this.#sendIndex < pending.length) {
      const batch = pending[this.#sendIndex++]!;
      const seq = batch.seq;
      const flowing = socket.write(batch.frame, (error) => {
        if (!error && connection === this.#connection) this.#onWritten(seq);
      });
      if (!flowing) {
        this.#writable = false;
        break;
      }
    }
    socket.uncork();
  }

  #onWritten(seq: number): void {
    if (seq > this.#writtenSeq) this.#writtenSeq = seq;
    this.#wake();
  }

  #acknowledge(seq: number): void {
    if (seq <= this.#ackedSeq) return;
    this.#ackedSeq = seq;
    if (seq > this.#writtenSeq) this.#writtenSeq = seq;
    const pending = this.#pending;
    let drop = 0;
    while (drop < pending.length && pending[drop]!.seq <= seq) {
      const batch = pending[drop]!;
      this.#backlogBytes -= batch.frame.length;
      // Acknowledged means the master has read every byte, so no write still needs this memory.
      if (batch.builder !== undefined && this.#spareBuilders.length < MAX_SPARE_BUILDERS) {
        batch.builder.reset();
        this.#spareBuilders.push(batch.builder);
      }
      drop++;
    }
    if (drop > 0) {
      pending.splice(0, drop);
      this.#sendIndex = Math.max(0, this.#sendIndex - drop);
      if (this.#spool !== undefined) this.#pump();
    }
    this.#wake();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      const reached = waiter.acked ? this.#ackedSeq : this.#writtenSeq;
      if (reached >= waiter.seq) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  #until(seq: number, acked: boolean): Promise<void> {
    const reached = acked ? this.#ackedSeq : this.#writtenSeq;
    if (seq <= reached) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, acked, resolve }));
  }

  #heartbeat(): void {
    if (this.#socket !== undefined && this.#welcomed && !this.#goodbye) {
      this.#socket.write(encodeHeartbeat(writeNowNs, this.config.heartbeatIntervalMs));
    }
  }

  #reportDrops(): void {
    if (this.#dropped === this.#reportedDropped || !this.#welcomed || this.#socket === undefined) return;
    this.#reportedDropped = this.#dropped;
    this.#socket.write(encodeDrops(this.#dropped));
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
    return withTimeout(this.#until(this.#seq, false), this.config.shutdownTimeoutMs);
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
    this.#socket?.ref();
    this.#seal();
    this.#pump();
    this.#reportDrops();
    const last = this.#seq;
    await withTimeout(this.#until(last, true), this.config.shutdownTimeoutMs);
    this.#state = CLOSED;
    clearInterval(this.#flushTimer);
    clearInterval(this.#heartbeatTimer);
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    liveWorkers.delete(this);
    const socket = this.#socket;
    if (socket !== undefined) {
      const closed = new Promise<void>((done) => socket.once("close", () => done()));
      if (this.#welcomed && !this.#goodbye) socket.end(encodeShutdown(last, SHUTDOWN_CALLED));
      else socket.end();
      await withTimeout(closed, this.config.shutdownTimeoutMs);
      socket.destroy();
    }
    const unacknowledgedBatches = this.#pending.length + (this.#spool?.frames ?? 0);
    if (unacknowledgedBatches > 0) {
      const path = this.#spoolUnacknowledged();
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
    if (this.#writeUnsentSync(Date.now() + SYNC_WRITE_DEADLINE_MS)) return;
    const spooled = this.#spoolUnacknowledged();
    if (spooled !== undefined) this.#state = CLOSED;
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
    if (this.#writeUnsentSync(deadline)) {
      // Only after every batch went out whole: a SHUTDOWN after a torn frame would be garbage.
      this.#writeSync(encodeShutdown(this.#seq, end), deadline, false);
    }
    this.#spoolUnacknowledged();
    this.#state = CLOSED;
  }

  /**
   * The socket's fd when bytes of ours can be appended to the stream synchronously. Batches wait
   * for WELCOME (it says what the master already has); SHUTDOWN needs only our HELLO to be out, so
   * a process that ends right after connecting still says how it ended.
   */
  #syncFd(needWelcome: boolean): number | undefined {
    const socket = this.#socket;
    if (socket === undefined || this.#goodbye || this.#syncBroken) return undefined;
    if (needWelcome ? !this.#welcomed : !this.#helloSent) return undefined;
    const handle = (socket as unknown as { _handle?: { fd?: number; writeQueueSize?: number } })._handle;
    const fd = handle?.fd;
    if (fd === undefined || fd < 0) return undefined;
    // A write still queued in Node or libuv may be half on the wire; bytes of ours after it would
    // corrupt the stream.
    if (socket.writableLength > 0 || (handle?.writeQueueSize ?? 0) > 0) return undefined;
    return fd;
  }

  /** Writes one frame whole, or marks the stream unusable (a torn frame may be on it). */
  #writeSync(frame: Buffer, deadline: number, needWelcome = true): boolean {
    const fd = this.#syncFd(needWelcome);
    if (fd === undefined) return false;
    if (writeFully(fd, frame, deadline)) return true;
    this.#syncBroken = true;
    return false;
  }

  /** True when every unsent batch was written whole to the socket. */
  #writeUnsentSync(deadline: number): boolean {
    if (this.#spool !== undefined && this.#spool.frames > 0) return false;
    if (this.#syncFd(true) === undefined) return false;
    for (let i = this.#sendIndex; i < this.#pending.length; i++) {
      if (!this.#writeSync(this.#pending[i]!.frame, deadline)) return false;
      this.#sendIndex = i + 1;
    }
    return true;
  }

  /**
   * Puts every unacknowledged batch (memory first, then what was already on disk) into a spool
   * handed over to the next master. Returns its path, or undefined when there was nothing to keep
   * or the disk refused.
   */
  #spoolUnacknowledged(): string | undefined {
    const older = this.#pending;
    const newer = this.#spool?.take(Number.POSITIVE_INFINITY) ?? [];
    if (older.length === 0 && newer.length === 0) {
      this.#spool?.remove();
      this.#spool = undefined;
      return undefined;
    }
    try {
      this.#spool?.remove();
      const spool = new Spool(this.config.socketPath, {
        instanceId: this.#instanceId,
        pid: process.pid,
        name: this.name,
      });
      this.#spool = spool;
      for (const frame of [...older.map((batch) => batch.frame), ...newer]) {
        if (spool.bytes + frame.length > this.config.maxSpoolBytes) this.#dropped += frame.readUInt32LE(13);
        else spool.append(frame);
      }
      this.#pending = [];
      this.#backlogBytes = 0;
      this.#sendIndex = 0;
      this.#spool = undefined;
      return spool.handOver();
    } catch (error) {
      this.#reportSpoolFailure(error);
      return undefined;
    }
  }
}

/**
 * Bounded busy-retry for all of a process's last writes together: the socket is non-blocking,
 * and at exit there is no event loop to wait on. A master that reads nothing for this long is
 * treated like a gone one (the spool has everything), so a stopped master cannot hang an exit.
 */
const SYNC_WRITE_DEADLINE_MS = 2000;

/** True only when every byte of `frame` was written; EPIPE, ECONNRESET or the deadline: false. */
function writeFully(fd: number, frame: Buffer, deadline: number): boolean {
  let offset = 0;
  while (offset < frame.length) {
    try {
      offset += writeSync(fd, frame, offset, frame.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN" || Date.now() > deadline) return false;
    }
  }
  return true;
}

function truncateRecord(
  message: LogMessage,
  data: Uint8Array | undefined,
  maxRecordBytes: number,
): [LogMessage, Uint8Array | undefined] {
  const mark = Buffer.from(TRUNCATION_MARK, "utf8");
  const room = maxRecordBytes - 13 - mark.length;
  const bytes = typeof message === "string" ? Buffer.from(message, "utf8") : Buffer.from(message);
  if (data !== undefined && bytes.length + 4 + data.length > room)
    data = data.subarray(0, Math.max(0, room - bytes.length - 4));
  const messageRoom = room - (data === undefined ? 0 : 4 + data.length);
  let end = Math.min(bytes.length, Math.max(0, messageRoom));
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return [Buffer.concat([bytes.subarray(0, end), mark]), data];
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<void>((done) => {
      timer = setTimeout(done, ms);
    }),
  ]);
}
