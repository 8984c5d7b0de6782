import type { Server, Socket } from "node:net";
import { LoggerConfig } from "./config.js";
import { HandlerQueue, type HandlerStats } from "./dispatch.js";
import { InvalidConfigError, ProtocolError, UnsafePathError } from "./errors.js";
import { BaseLogHandler, type HandlerContext, kAttach } from "./handlers/base.js";
import { CommitJournal } from "./journal.js";
import { LoggerBase } from "./logger-base.js";
import { EndKind, MessageType, UNIDENTIFIED_MAX_FRAME_BYTES } from "./protocol/constants.js";
import {
  decodeBatch,
  decodeHeartbeat,
  decodeHello,
  decodeShutdown,
  decodeU64Message,
  FrameReader,
  frameType,
  type Hello,
  type Shutdown,
} from "./protocol/decoder.js";
import {
  BatchBuilder,
  encodeAck,
  encodeError,
  encodeGoodbye,
  encodeStatus,
  encodeWelcome,
} from "./protocol/encoder.js";
import type { RecordBatch, RecordSource } from "./protocol/record-batch.js";
import { type RecoveryHost, SpoolRecovery } from "./recovery.js";
import { describeError, redact } from "./redact.js";
import { ensureStateDirectories } from "./state-dir.js";
import { listenUnix, removeSocketFile } from "./transport/server.js";

/** Health of one worker as {@link MasterLogger.workers} reports it. */
export interface WorkerHealth {
  name: string;
  pid: number;
  /** Random per-process id the worker chose, stable across its reconnects. */
  instanceId: string;
  connected: boolean;
  /** "connected", "disconnected" (closed without shutdown), "shutdown" (said goodbye), or "unresponsive" (missed a check-in). */
  state: "connected" | "disconnected" | "shutdown" | "unresponsive";
  /** Wall-clock ms of the last check-in (HELLO or heartbeat), or null. */
  lastHeartbeat: number | null;
  /** Wall-clock ms by which the next check-in is due, or null when not connected. */
  nextCheckIn: number | null;
  recordsReceived: number;
  /** Records the worker itself reports it dropped (backpressure policy "drop"). */
  recordsDropped: number;
}

/** Totals for `logmux status` and the demo's live view. */
export interface MasterStatus {
  pid: number;
  path: string;
  uptimeMs: number;
  recordsReceived: number;
  protocolErrors: number;
  handlers: HandlerStats[];
  workers: WorkerHealth[];
}

/** Options for {@link MasterLogger} beyond the shared {@link LoggerConfig}. */
export interface MasterLoggerOptions {
  /**
   * Bytes of undelivered records the master holds per handler (in wire bytes, counting the slice
   * the handler is writing until it finishes). When a healthy handler's queue passes it, the master
   * stops reading worker sockets until it drains (workers keep the records); when a stalled
   * handler's queue passes it, its oldest records are dropped and counted.
   * @default 67108864 (64 MiB)
   * @example { maxQueueBytes: 16 * 1024 * 1024 }
   */
  maxQueueBytes?: number;
  /**
   * A handler whose push has not settled after this long is "stalled": acknowledgements to workers
   * stop waiting for it, and its queue may drop (counted) instead of holding up the others.
   * @default 5000
   * @example { handlerStallMs: 2000 }
   */
  handlerStallMs?: number;
  /**
   * A connection must send its first frame (HELLO, or STATUS_QUERY for a status client) within
   * this long, or it is closed and reported as a protocol error: a client that connects and says
   * nothing would otherwise hold a socket forever. Time the master spends paused by handler
   * backpressure does not count.
   * @default 10000
   * @example { handshakeTimeoutMs: 2000 }
   */
  handshakeTimeoutMs?: number;
  /**
   * A frame must arrive whole within this long of its first byte, or the connection is closed and
   * reported as a protocol error (a sender trickling a large frame byte by byte). Time the master
   * spends paused by handler backpressure does not count.
   * @default 30000
   * @example { frameTimeoutMs: 10000 }
   */
  frameTimeoutMs?: number;
  /**
   * Name under which the master's own records appear.
   * @default "MASTER"
   * @example { name: "aggregator" }
   */
  name?: string;
}

/** Per-instance state that outlives a connection, so a reconnecting worker is not re-delivered. */
interface Instance {
  id: string;
  name: string;
  pid: number;
  session: Session | undefined;
  /** Highest batch seq handed to the handlers; a resent batch at or below it is a duplicate. */
  dispatchedSeq: number;
  /** Highest seq acknowledged (all handlers have it). */
  committedSeq: number;
  recordsReceived: number;
  recordsDropped: number;
  lastHeartbeat: number | null;
  nextCheckIn: number | null;
  state: WorkerHealth["state"];
  /**
   * (ticket, seq) of batches dispatched but not yet committed, in order. Kept on the instance,
   * not the connection: a batch whose connection dropped still commits when its handlers finish,
   * and the acknowledgement goes to whichever connection the worker has by then.
   */
  pendingAcks: { ticket: number; seq: number }[];
  ackHead: number;
}

/** How many ended workers' health entries are remembered for `workers()` and status. */
const MAX_REMEMBERED_INSTANCES = 1024;
/** Handler error reports beyond this many per interval are counted, not printed. */
const ERROR_REPORTS_PER_INTERVAL = 5;
const ERROR_REPORT_INTERVAL_MS = 10_000;
/** Drops by stalled handlers are summarised at most this often, with exact counts. */
const DROP_REPORT_INTERVAL_MS = 1000;

class Session {
  readonly socket: Socket;
  readonly reader: FrameReader;
  instance: Instance | undefined;
  source: RecordSource | undefined;
  /** Fires when a check-in is overdue by more than deadWorkerGraceMs ("appears dead"). */
  deadTimer: NodeJS.Timeout | undefined;
  /** Runs from accept until the first HELLO or STATUS_QUERY. */
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

  constructor(socket: Socket, reader: FrameReader) {
    this.socket = socket;
    this.reader = reader;
  }

  label(): string {
    const instance = this.instance;
    return instance ? `Worker ${instance.name} (pid ${instance.pid})` : "an unidentified client";
  }
}

/**
 * The aggregating end: listens on the config's Unix socket, reads every worker's batches, and
 * routes records through the handlers, each on its own queue. It is also a logger: its own
 * records (name `MASTER`) go straight to the handlers.
 *
 * @example
 * ```ts
 * const master = new MasterLogger(config, [new FileLogHandler("/var/log/app.log")]);
 * await master.ready();
 * // ... workers log ...
 * await master.shutdown();
 * ```
 */
export class MasterLogger extends LoggerBase {
  readonly config: LoggerConfig;
  readonly #queues: HandlerQueue[];
  readonly #source: RecordSource;
  readonly #sessions = new Set<Session>();
  readonly #instances = new Map<string, Instance>();
  readonly #ready: Promise<void>;
  readonly #startedAt = Date.now();
  readonly #stallTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #frameTimeoutMs: number;
  #server: Server | undefined;
  #journal: CommitJournal | undefined;
  #settleWaiters: { ticket: number; resolve: () => void }[] = [];
  /** Instances with batches dispatched but not yet committed. */
  readonly #awaitingAck = new Set<Instance>();
  readonly #recovery: SpoolRecovery;
  #ticket = 0;
  #running = true;
  #closed = false;
  #shutdown: Promise<void> | undefined;
  #recordsReceived = 0;
  #protocolErrors = 0;
  #paused = false;
  #reportedDrops: number[];
  #dropTimer: NodeJS.Timeout | undefined;
  #errorReports = new Map<HandlerQueue, { windowStart: number; printed: number; suppressed: number }>();

  constructor(
    config: LoggerConfig,
    handlers: readonly BaseLogHandler[] = [],
    options: MasterLoggerOptions = {},
  ) {
    super();
    if (!(config instanceof LoggerConfig)) {
      throw new InvalidConfigError("config", "expected a LoggerConfig instance (new LoggerConfig({...}))");
    }
    if (!Array.isArray(handlers)) {
      throw new InvalidConfigError("handlers", "expected an array of BaseLogHandler instances");
    }
    handlers.forEach((handler, index) => {
      if (!(handler instanceof BaseLogHandler)) {
        throw new InvalidConfigError(
          `handlers[${index}]`,
          "expected an instance of a BaseLogHandler subclass",
        );
      }
    });
    const maxQueueBytes = options.maxQueueBytes ?? 64 * 1024 * 1024;
    const stallTimeoutMs = options.handlerStallMs ?? 5000;
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    const frameTimeoutMs = options.frameTimeoutMs ?? 30_000;
    for (const [field, value] of [
      ["maxQueueBytes", maxQueueBytes],
      ["handlerStallMs", stallTimeoutMs],
      ["handshakeTimeoutMs", handshakeTimeoutMs],
      ["frameTimeoutMs", frameTimeoutMs],
    ] as const) {
      if (!Number.isInteger(value) || value <= 0) {
        throw new InvalidConfigError(field, `expected a positive integer, got ${String(value)}`);
      }
    }
    this.config = config;
    this.#stallTimeoutMs = stallTimeoutMs;
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    this.#frameTimeoutMs = frameTimeoutMs;
    const name = options.name ?? "MASTER";
    this.#source = { name, nameBytes: Buffer.from(name, "utf8"), pid: process.pid };
    this.minLevel = config.baseLevel;
    this.#queues = handlers.map((handler) => {
      const queue: HandlerQueue = new HandlerQueue(
        handler,
        { minLevel: Math.max(config.baseLevel, handler.level), maxQueueBytes, stallTimeoutMs },
        {
          onSettled: () => this.#onSettled(),
          onFailure: (error) => this.#reportHandlerError(queue, error),
          onStallChange: (stalled) => this.#onStallChange(queue, stalled),
        },
      );
      handler[kAttach](this.#contextFor(handler, () => queue));
      return queue;
    });
    this.#reportedDrops = this.#queues.map(() => 0);
    this.#recovery = new SpoolRecovery(config.socketPath, config.maxFrameBytes, this.#recoveryHost());
    this.#ready = this.#listen();
    // ready() is how callers see a failure; this keeps an unobserved failure from crashing the process.
    this.#ready.catch(() => {});
  }

  #contextFor(handler: BaseLogHandler, queue: () => HandlerQueue): HandlerContext {
    return {
      strFormat: this.config.strFormat,
      warn: (message) => this.warning(`${labelOf(handler)}: ${message}`),
      reportError: (error) => this.#reportHandlerError(queue(), error),
    };
  }

  async #listen(): Promise<void> {
    this.#server = await listenUnix(this.config.socketPath, (socket) => this.#accept(socket));
    if (!this.#running) {
      this.#server.close();
      removeSocketFile(this.config.socketPath);
      return;
    }
    // Only the master that holds the socket touches the journal and the spools.
    try {
      ensureStateDirectories(this.config.socketPath);
    } catch (error) {
      if (error instanceof UnsafePathError) {
        // Another user could have put spools there (replayed as real records) or a journal
        // (hiding records as already delivered); writing there would hand them ours.
        this.warning(
          `Refused ${error.what} ${error.path}: it ${error.reason}. No spool in it is replayed and no commit journal is kept, so a restart may deliver some batches twice`,
        );
        return;
      }
      // Anything else (a full disk, EACCES) is reported by the journal below, as before.
    }
    try {
      this.#journal = new CommitJournal(this.config.socketPath);
    } catch (error) {
      if (error instanceof UnsafePathError) {
        this.warning(
          `Refused ${error.what} ${error.path}: it ${error.reason}. It is neither read nor written, so a restart may deliver some batches twice`,
        );
      } else {
        process.stderr.write(
          `logmux: master: cannot open the commit journal, so a restart may deliver some batches twice: ${describeError(error, [])}\n`,
        );
      }
    }
    this.#recovery.start();
  }

  /** Waits while a healthy handler's queue is full, so replaying a big spool cannot flood memory. */
  async #roomInQueues(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#queues.some((q) => q.full && !q.stalled)) {
      await Promise.race(this.#queues.map((q) => q.idle()));
    }
  }

  /** Resolves once every handler (not stalled) has settled `ticket`. */
  #settled(ticket: number): Promise<void> {
    if (this.#ackableTicket() >= ticket) return Promise.resolve();
    return new Promise((resolve) => this.#settleWaiters.push({ ticket, resolve }));
  }

  #recoveryHost(): RecoveryHost {
    const master = this;
    return {
      get running() {
        return master.#running;
      },
      get closed() {
        return master.#closed;
      },
      isConnected: (id) => {
        const session = this.#instances.get(id)?.session;
        return session !== undefined && !session.closed;
      },
      instanceFor: (id, name, pid) => this.#instanceFor(id, name, pid),
      deliver: (batch) => {
        this.#recordsReceived += batch.count;
        return this.#dispatch(batch);
      },
      roomInQueues: () => this.#roomInQueues(),
      settled: (ticket) => this.#settled(ticket),
      lastTicket: () => this.#ticket,
      commit: (instance, seq) => {
        const known = this.#instances.get(instance.id);
        if (known !== undefined && seq > known.committedSeq) known.committedSeq = seq;
        this.#journal?.record(instance.id, seq);
      },
      warning: (message) => this.warning(message),
    };
  }

  /** Resolves once the master listens; rejects with a clear error (e.g. the path is in use). */
  ready(): Promise<void> {
    return this.#ready;
  }

  isRunning(): boolean {
    return this.#running;
  }

  /** Writes one of the master's own records (already level-filtered by LoggerBase). */
  protected override emit(level: number, message: string | Uint8Array, data: Uint8Array | undefined): void {
    if (this.#closed) return;
    const builder = new BatchBuilder(
      64 + (typeof message === "string" ? message.length * 3 : message.length) + (data?.length ?? 0),
    );
    builder.append(level, message, data);
    const { batch } = decodeBatch(builder.seal(0), this.#source);
    this.#dispatch(batch);
  }

  #dispatch(batch: RecordBatch): number {
    const ticket = ++this.#ticket;
    for (const queue of this.#queues) queue.enqueue(batch, ticket);
    if (!this.#paused && this.#queues.some((q) => q.full && !q.stalled)) this.#setPaused(true);
    return ticket;
  }

  // ---- connections -------------------------------------------------------------------------

  #accept(socket: Socket): void {
    if (!this.#running) {
      socket.destroy();
      return;
    }
    // Until HELLO the peer is a stranger: it gets what a HELLO needs, not maxFrameBytes.
    const reader = new FrameReader(
      this.config.maxFrameBytes,
      (frame) => this.#onFrame(session, frame),
      UNIDENTIFIED_MAX_FRAME_BYTES,
    );
    const session = new Session(socket, reader);
    this.#sessions.add(session);
    if (this.#paused) {
      session.paused = true;
      socket.pause();
    }
    socket.on("data", (chunk: Buffer) => {
      if (session.closed) return;
      try {
        reader.push(chunk);
      } catch (error) {
        this.#protocolFailure(session, error);
        return;
      }
      this.#watchFrame(session);
    });
    socket.on("end", () => {
      session.ended = true;
      // A stranger that stops mid-frame is reported here; a worker is reported when it closes
      // ("appears dead"), which also looks for its spool.
      if (reader.bufferedBytes > 0 && session.instance === undefined && !session.closed) {
        this.#protocolFailure(
          session,
          new ProtocolError(`connection ended ${reader.bufferedBytes} bytes into a frame`),
        );
        return;
      }
      this.#maybeFinishSession(session);
    });
    socket.on("error", () => {
      // 'close' follows; a reset connection is handled there like any other close.
    });
    socket.on("close", () => this.#onClose(session));
    session.handshakeTimer = this.#deadline(
      session,
      this.#handshakeTimeoutMs,
      `no HELLO or STATUS_QUERY within ${this.#handshakeTimeoutMs} ms`,
    );
  }

  /**
   * Closes `session` as a protocol error after `ms` unless the timer is cleared first, or a frame
   * completes. While the master is not reading (backpressure) the clock restarts: only the peer's
   * slowness counts.
   */
  #deadline(session: Session, ms: number, reason: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      // Judge only after reading what has already arrived (setImmediate runs after this turn's
      // I/O): a master slowed by its own work must not blame a peer whose bytes are waiting.
      const frames = session.frames;
      setImmediate(() => {
        if (session.closed || session.frames !== frames) return;
        if (session.paused) timer.refresh();
        else this.#protocolFailure(session, new ProtocolError(reason));
      });
    }, ms);
    return timer.unref();
  }

  /** Gives each frame `frameTimeoutMs` from its first byte to arrive whole. */
  #watchFrame(session: Session): void {
    if (session.reader.bufferedBytes === 0) {
      clearTimeout(session.frameTimer);
      session.frameTimer = undefined;
    } else if (session.frameTimer === undefined) {
      session.framesAtTimer = session.frames;
      session.frameTimer = this.#deadline(
        session,
        this.#frameTimeoutMs,
        `a frame stayed incomplete for ${this.#frameTimeoutMs} ms`,
      );
    } else if (session.framesAtTimer !== session.frames) {
      // The frame being timed completed and a new one began in the same chunk.
      session.framesAtTimer = session.frames;
      session.frameTimer.refresh();
    }
  }

  #protocolFailure(session: Session, error: unknown): void {
    this.#protocolErrors++;
    const reason =
      error instanceof ProtocolError ? error.message : `internal error: ${describeError(error, [])}`;
    this.warning(`Closed connection from ${session.label()}: protocol error: ${reason}`);
    session.closed = true;
    if (session.instance) session.instance.state = "disconnected";
    session.socket.end(encodeError(reason));
    session.socket.destroySoon();
  }

  #onFrame(session: Session, frame: Buffer): void {
    const type = frameType(frame);
    session.frames++;
    if (session.instance === undefined && !session.isStatusClient) {
      clearTimeout(session.handshakeTimer);
      if (type === MessageType.HELLO) {
        this.#onHello(session, decodeHello(frame));
        return;
      }
      if (type === MessageType.STATUS_QUERY) {
        session.isStatusClient = true;
        this.#onStatusQuery(session);
        return;
      }
      throw new ProtocolError(`first frame must be HELLO or STATUS_QUERY, got type 0x${type.toString(16)}`);
    }
    if (session.isStatusClient) {
      if (type !== MessageType.STATUS_QUERY) {
        throw new ProtocolError(`status client sent message type 0x${type.toString(16)}`);
      }
      this.#onStatusQuery(session);
      return;
    }
    const instance = session.instance!;
    switch (type) {
      case MessageType.BATCH:
        this.#onBatch(session, instance, frame);
        return;
      case MessageType.HEARTBEAT: {
        const heartbeat = decodeHeartbeat(frame);
        this.#checkedIn(session, instance, heartbeat.nextCheckInMs);
        return;
      }
      case MessageType.SHUTDOWN:
        session.end = decodeShutdown(frame);
        instance.state = "shutdown";
        this.#clearDeadTimer(session);
        return;
      case MessageType.DROPS: {
        const total = decodeU64Message(frame, "DROPS");
        if (total > instance.recordsDropped) {
          const delta = total - instance.recordsDropped;
          instance.recordsDropped = total;
          this.warning(
            `${session.label()} dropped ${delta} records under backpressure (onBackpressure "drop"); ${total} in total`,
          );
        }
        return;
      }
      case MessageType.HELLO:
        throw new ProtocolError("second HELLO on one connection");
      default:
        throw new ProtocolError(`unknown message type 0x${type.toString(16)}`);
    }
  }

  /** The instance record for an id, created (and seeded from the journal) on first sight. */
  #instanceFor(id: string, name: string, pid: number): Instance {
    let instance = this.#instances.get(id);
    if (instance === undefined) {
      const committed = this.#journal?.committed(id) ?? 0;
      instance = {
        id,
        name,
        pid,
        session: undefined,
        dispatchedSeq: committed,
        committedSeq: committed,
        recordsReceived: 0,
        recordsDropped: 0,
        lastHeartbeat: null,
        nextCheckIn: null,
        state: "disconnected",
        pendingAcks: [],
        ackHead: 0,
      };
      this.#instances.set(id, instance);
      this.#forgetOldInstances();
    }
    return instance;
  }

  #onHello(session: Session, hello: Hello): void {
    const instance = this.#instanceFor(hello.instanceId, hello.name, hello.pid);
    if (instance.session !== undefined && !instance.session.closed) {
      // The worker reconnected before we noticed the old connection die; the new one wins.
      instance.session.closed = true;
      instance.session.socket.destroy();
    }
    instance.session = session;
    instance.state = "connected";
    session.instance = instance;
    session.source = { name: hello.name, nameBytes: hello.nameBytes, pid: hello.pid };
    session.reader.identified();
    session.socket.write(encodeWelcome(instance.committedSeq));
    this.#checkedIn(session, instance, hello.heartbeatIntervalMs);
    if (!this.#running) session.socket.write(encodeGoodbye());
  }

  #forgetOldInstances(): void {
    if (this.#instances.size <= MAX_REMEMBERED_INSTANCES) return;
    for (const [id, instance] of this.#instances) {
      if ((instance.session === undefined || instance.session.closed) && !this.#awaitingAck.has(instance)) {
        this.#instances.delete(id);
        if (this.#instances.size <= MAX_REMEMBERED_INSTANCES) return;
      }
    }
  }

  #checkedIn(session: Session, instance: Instance, nextCheckInMs: number): void {
    const now = Date.now();
    instance.lastHeartbeat = now;
    instance.nextCheckIn = now + nextCheckInMs;
    if (instance.state === "unresponsive") instance.state = "connected";
    this.#clearDeadTimer(session);
    session.deadTimer = setTimeout(() => {
      session.deadTimer = undefined;
      if (session.closed || session.end !== undefined) return;
      instance.state = "unresponsive";
      this.warning(
        `${session.label()} appears dead: missed its check-in due at ${new Date(instance.nextCheckIn ?? now).toISOString()} by more than ${this.config.deadWorkerGraceMs} ms`,
      );
    }, nextCheckInMs + this.config.deadWorkerGraceMs);
    session.deadTimer.unref();
  }

  #clearDeadTimer(session: Session): void {
    if (session.deadTimer !== undefined) clearTimeout(session.deadTimer);
    session.deadTimer = undefined;
  }

  #onBatch(session: Session, instance: Instance, frame: Buffer): void {
    const { seq, batch } = decodeBatch(frame, session.source!);
    if (seq <= instance.dispatchedSeq) {
      // Resent after a reconnect, and already ours: never delivered twice. If it is committed the
      // worker only missed the ACK; otherwise the ACK follows when its handlers finish.
      if (seq <= instance.committedSeq) session.socket.write(encodeAck(instance.committedSeq));
      return;
    }
    instance.dispatchedSeq = seq;
    instance.recordsReceived += batch.count;
    this.#recordsReceived += batch.count;
    const ticket = this.#dispatch(batch);
    instance.pendingAcks.push({ ticket, seq });
    this.#awaitingAck.add(instance);
    if (this.#queues.length === 0) this.#onSettled();
  }

  #onClose(session: Session): void {
    session.closed = true;
    this.#sessions.delete(session);
    this.#clearDeadTimer(session);
    clearTimeout(session.handshakeTimer);
    clearTimeout(session.frameTimer);
    const instance = session.instance;
    if (instance === undefined || instance.session !== session) return;
    instance.session = undefined;
    instance.nextCheckIn = null;
    if (session.end !== undefined) {
      instance.state = "shutdown";
      this.#reportEnd(session.label(), session.end);
    } else {
      if (instance.state === "disconnected") return; // already reported (protocol error)
      instance.state = "disconnected";
      if (!this.#running) return;
      this.warning(`${session.label()} appears dead: connection closed without shutdown`);
    }
    // A worker that ends without an acknowledgement for everything hands a spool over on its way
    // down (one that exits on purpose always does): deliver what this master does not have yet.
    if (this.#running) this.#recovery.checkAfterClose(instance.id);
  }

  /**
   * An orderly end is INFO; a failing exit code is a WARNING and a crash an ERROR, for alerting.
   * `shutdown()` is not reported: the application ended its logger itself, and says so in its own
   * records if it wants to.
   */
  #reportEnd(who: string, end: Shutdown): void {
    const text = end.text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === "\n" ? "\\n" : " "));
    switch (end.kind) {
      case EndKind.SHUTDOWN:
        return;
      case EndKind.EXIT:
        if (end.detail === 0) this.info(`${who} exited (code 0)`);
        else this.warning(`${who} exited with code ${end.detail}`);
        return;
      case EndKind.SIGNAL:
        this.info(`${who} was stopped by ${text || `signal ${end.detail}`}`);
        return;
      case EndKind.UNCAUGHT:
        this.error(`${who} crashed (exit code ${end.detail}): uncaught ${text}`);
        return;
      default:
        // decodeShutdown admits only the kinds above; a new one must be reported, not lost.
        this.warning(`${who} ended (end kind ${String(end.kind)}, detail ${end.detail}) ${text}`);
    }
  }

  /** A half-closed session (worker sent everything after GOODBYE) ends once its acks are out. */
  #maybeFinishSession(session: Session): void {
    if (!session.ended || session.closed) return;
    const instance = session.instance;
    if (instance === undefined || instance.ackHead === instance.pendingAcks.length) session.socket.end();
  }

  // ---- acknowledgements and flow control --------------------------------------------------

  #ackableTicket(): number {
    let ackable = this.#ticket;
    for (const queue of this.#queues) {
      if (!queue.stalled && queue.settledTicket < ackable) ackable = queue.settledTicket;
    }
    return ackable;
  }

  #onSettled(): void {
    const ackable = this.#ackableTicket();
    for (const instance of this.#awaitingAck) {
      const pending = instance.pendingAcks;
      let head = instance.ackHead;
      let seq = -1;
      while (head < pending.length && pending[head]!.ticket <= ackable) seq = pending[head++]!.seq;
      if (seq < 0) continue;
      if (head === pending.length) {
        pending.length = 0;
        head = 0;
        this.#awaitingAck.delete(instance);
      }
      instance.ackHead = head;
      if (seq > instance.committedSeq) {
        instance.committedSeq = seq;
        this.#journal?.record(instance.id, seq);
      }
      const session = instance.session;
      if (session !== undefined && !session.closed) {
        session.socket.write(encodeAck(seq));
        this.#maybeFinishSession(session);
      }
    }
    if (this.#settleWaiters.length > 0) {
      this.#settleWaiters = this.#settleWaiters.filter((waiter) => {
        if (waiter.ticket > ackable) return true;
        waiter.resolve();
        return false;
      });
    }
    if (this.#paused && this.#queues.every((q) => q.stalled || q.drained)) {
      this.#setPaused(false);
    }
  }

  #setPaused(paused: boolean): void {
    this.#paused = paused;
    for (const session of this.#sessions) {
      if (paused && !session.paused) session.socket.pause();
      else if (!paused && session.paused) session.socket.resume();
      session.paused = paused;
    }
  }

  #onStallChange(queue: HandlerQueue, stalled: boolean): void {
    if (stalled) {
      process.stderr.write(
        `logmux: handler ${labelOf(queue.handler)} has not finished a write for ${this.#stallTimeoutMs} ms; the others carry on without it\n`,
      );
      this.#scheduleDropReport();
    }
    this.#onSettled();
  }

  #scheduleDropReport(): void {
    if (this.#dropTimer !== undefined) return;
    this.#dropTimer = setTimeout(() => {
      this.#dropTimer = undefined;
      this.#reportDrops();
      if (this.#queues.some((q) => q.stalled)) this.#scheduleDropReport();
    }, DROP_REPORT_INTERVAL_MS);
    this.#dropTimer.unref();
  }

  #reportDrops(): void {
    this.#queues.forEach((queue, index) => {
      const delta = queue.dropped - this.#reportedDrops[index]!;
      if (delta <= 0) return;
      this.#reportedDrops[index] = queue.dropped;
      this.warning(
        `Handler ${labelOf(queue.handler)} is stalled: dropped ${delta} records from its full queue (${queue.dropped} in total)`,
      );
    });
  }

  #reportHandlerError(queue: HandlerQueue, error: unknown): void {
    const now = Date.now();
    let window = this.#errorReports.get(queue);
    if (window === undefined || now - window.windowStart > ERROR_REPORT_INTERVAL_MS) {
      if (window !== undefined && window.suppressed > 0) {
        process.stderr.write(
          `logmux: handler ${labelOf(queue.handler)}: ${window.suppressed} more errors not shown in the last interval\n`,
        );
      }
      window = { windowStart: now, printed: 0, suppressed: 0 };
      this.#errorReports.set(queue, window);
    }
    if (window.printed >= ERROR_REPORTS_PER_INTERVAL) {
      window.suppressed++;
      return;
    }
    window.printed++;
    const secrets = queue.handler.secrets();
    process.stderr.write(
      `logmux: handler ${labelOf(queue.handler)} failed: ${describeError(error, secrets)}\n`,
    );
  }

  // ---- status -------------------------------------------------------------------------------

  /** Health of every worker seen (connected ones and recently ended ones). */
  workers(): WorkerHealth[] {
    return [...this.#instances.values()].map((instance) => ({
      name: instance.name,
      pid: instance.pid,
      instanceId: instance.id,
      connected: instance.session !== undefined && !instance.session.closed,
      state: instance.state,
      lastHeartbeat: instance.lastHeartbeat,
      nextCheckIn: instance.nextCheckIn,
      recordsReceived: instance.recordsReceived,
      recordsDropped: instance.recordsDropped,
    }));
  }

  status(): MasterStatus {
    return {
      pid: process.pid,
      path: this.config.path,
      uptimeMs: Date.now() - this.#startedAt,
      recordsReceived: this.#recordsReceived,
      protocolErrors: this.#protocolErrors,
      handlers: this.#queues.map((queue) => queue.stats()),
      workers: this.workers(),
    };
  }

  #onStatusQuery(session: Session): void {
    session.socket.write(encodeStatus(JSON.stringify(this.status())));
  }

  // ---- shutdown -----------------------------------------------------------------------------

  /**
   * Stops accepting connections, asks every worker to send what it holds (GOODBYE), waits for
   * them and for every handler to settle (up to `shutdownTimeoutMs`), acknowledges, then closes the
   * handlers. Records it could not deliver are reported on stderr. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#running = false;
    await this.#ready.catch(() => {});
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    const server = this.#server;
    const serverClosed = server ? new Promise<void>((done) => server.close(() => done())) : Promise.resolve();
    removeSocketFile(this.config.socketPath);
    if (this.#paused) this.#setPaused(false);
    const sessionsDone = [...this.#sessions].map(
      (session) =>
        new Promise<void>((done) => {
          if (session.closed) return done();
          session.socket.once("close", () => done());
          if (session.isStatusClient || session.instance === undefined) {
            session.socket.end();
            return;
          }
          session.socket.write(encodeGoodbye());
        }),
    );
    await withDeadline(Promise.all(sessionsDone), deadline);
    await withDeadline(Promise.all(this.#queues.map((queue) => queue.idle())), deadline);
    for (const session of this.#sessions) session.socket.destroy();
    if (this.#dropTimer !== undefined) clearTimeout(this.#dropTimer);
    this.#reportDrops();
    const undelivered = this.#queues
      .map((queue) => ({ name: labelOf(queue.handler), pending: queue.pendingRecords() }))
      .filter((entry) => entry.pending > 0);
    for (const entry of undelivered) {
      process.stderr.write(
        `logmux: handler ${entry.name} did not take ${entry.pending} records before the shutdown timeout\n`,
      );
    }
    // Give the master's own last records (e.g. the drop report) a chance to reach the handlers.
    await withDeadline(Promise.all(this.#queues.map((queue) => queue.idle())), deadline);
    await Promise.all(
      this.#queues.map(async (queue) => {
        try {
          await withDeadline(
            Promise.resolve(queue.handler.close()),
            Date.now() + this.config.shutdownTimeoutMs,
          );
        } catch (error) {
          this.#reportHandlerError(queue, error);
        }
      }),
    );
    await withDeadline(serverClosed, Date.now() + 100);
    this.#recovery.close();
    this.#journal?.close();
    this.#closed = true;
  }
}

/** A handler as reports name it (e.g. with its file path), with its secrets removed. */
function labelOf(handler: BaseLogHandler): string {
  return redact(handler.label, handler.secrets());
}

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.race([promise, Promise.resolve(undefined)]);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<undefined>((done) => {
      timer = setTimeout(() => done(undefined), remaining);
    }),
  ]);
}
