import type { Socket } from "node:net";
import type { LoggerConfig } from "../config.js";
import { ProtocolError } from "../errors.js";
import { MessageType, UNIDENTIFIED_MAX_FRAME_BYTES } from "../protocol/constants.js";
import {
  decodeBatch,
  decodeHeartbeat,
  decodeHello,
  decodeShutdown,
  decodeU64Message,
  FrameReader,
  frameType,
} from "../protocol/decoder.js";
import { encodeAck, encodeError, encodeGoodbye, encodeStatus, encodeWelcome } from "../protocol/encoder.js";
import type { MasterStatus } from "../protocol/status.js";
import { decodeTailQuery } from "../protocol/tail.js";
import { describeError } from "../redact.js";
import type { Acks } from "./acks.js";
import type { Dispatcher } from "./dispatcher.js";
import type { ResolvedMasterOptions } from "./options.js";
import type { SpoolRecovery } from "./recovery.js";
import type { Instance, Registry } from "./registry.js";
import type { MasterLog, Reports } from "./reports.js";
import { Session } from "./session.js";
import type { Tails } from "./tails.js";

/** The parts of the master a connection reaches. */
export interface ConnectionParts {
  readonly config: LoggerConfig;
  readonly options: ResolvedMasterOptions;
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly acks: Acks;
  readonly reports: Reports;
  readonly recovery: SpoolRecovery;
  readonly log: MasterLog;
  /** undefined when the master was built with `tail: false`. */
  readonly tails: Tails | undefined;
  /** False once shutdown() began: no new workers, and closes are no longer deaths. */
  running(): boolean;
  status(): MasterStatus;
}

/**
 * Why a connection was closed for breaking the protocol, for the metrics' `reason` label: a
 * handshake or frame that took too long, a connection that ended inside a frame, a frame that
 * failed to decode (or broke the message rules), or a fault of the master's own.
 */
export type ProtocolErrorReason =
  | "handshake_timeout"
  | "frame_timeout"
  | "truncated_frame"
  | "invalid_frame"
  | "internal";

/**
 * Every connection to the master's socket: accepting it, holding it to its deadlines, routing its
 * frames (every byte is untrusted: a bad frame closes only its connection, reported once), and
 * what its close means for the worker behind it.
 */
export class Connections {
  readonly #parts: ConnectionParts;
  readonly #sessions = new Set<Session>();
  /** Connections closed for breaking the protocol since the master started. */
  protocolErrors = 0;
  /** The same, by reason; the counts add up to {@link protocolErrors}. */
  readonly protocolErrorsByReason: Record<ProtocolErrorReason, number> = {
    handshake_timeout: 0,
    frame_timeout: 0,
    truncated_frame: 0,
    invalid_frame: 0,
    internal: 0,
  };

  constructor(parts: ConnectionParts) {
    this.#parts = parts;
  }

  accept(socket: Socket): void {
    const { config, options, dispatcher } = this.#parts;
    if (!this.#parts.running()) {
      socket.destroy();
      return;
    }
    // Until HELLO the peer is a stranger: it gets what a HELLO needs, not maxFrameBytes.
    const reader = new FrameReader(
      config.maxFrameBytes,
      (frame) => this.#onFrame(session, frame),
      UNIDENTIFIED_MAX_FRAME_BYTES,
    );
    const session = new Session(socket, reader);
    this.#sessions.add(session);
    if (dispatcher.paused) session.setPaused(true);
    const frameTimeout = `a frame stayed incomplete for ${options.frameTimeoutMs} ms`;
    socket.on("data", (chunk: Buffer) => {
      if (session.closed) return;
      try {
        reader.push(chunk);
      } catch (error) {
        this.#protocolFailure(session, error);
        return;
      }
      session.watchFrame(options.frameTimeoutMs, () =>
        this.#protocolFailure(session, new ProtocolError(frameTimeout), "frame_timeout"),
      );
    });
    socket.on("end", () => {
      session.ended = true;
      // A stranger that stops mid-frame is reported here; a worker is reported when it closes
      // ("appears dead"), which also looks for its spool.
      if (reader.bufferedBytes > 0 && session.instance === undefined && !session.closed) {
        this.#protocolFailure(
          session,
          new ProtocolError(`connection ended ${reader.bufferedBytes} bytes into a frame`),
          "truncated_frame",
        );
        return;
      }
      session.finishIfDone();
    });
    socket.on("error", () => {
      // 'close' follows; a reset connection is handled there like any other close.
    });
    socket.on("close", () => this.#onClose(session));
    const handshake = `no HELLO, STATUS_QUERY or TAIL_QUERY within ${options.handshakeTimeoutMs} ms`;
    session.handshakeTimer = session.deadline(options.handshakeTimeoutMs, () =>
      this.#protocolFailure(session, new ProtocolError(handshake), "handshake_timeout"),
    );
  }

  /** Flow control: stop or resume reading every connection. */
  setPaused(paused: boolean): void {
    for (const session of this.#sessions) session.setPaused(paused);
  }

  /**
   * Shutdown: asks every worker to send what it holds (GOODBYE) and ends every other connection;
   * resolves when all of them have closed.
   */
  goodbye(): Promise<unknown> {
    return Promise.all(
      [...this.#sessions].map(
        (session) =>
          new Promise<void>((done) => {
            // A tail stays to the end: the master's last records reach it (Tails.finish).
            if (session.closed || session.isTailClient) return done();
            session.socket.once("close", () => done());
            if (session.isStatusClient || session.instance === undefined) session.socket.end();
            else session.socket.write(encodeGoodbye());
          }),
      ),
    );
  }

  /** Shutdown, after the deadline: whatever is still open is cut (tails too unless `keepTails`). */
  destroyAll(keepTails = false): void {
    for (const session of this.#sessions) {
      if (!(keepTails && session.isTailClient)) session.socket.destroy();
    }
  }

  #protocolFailure(session: Session, error: unknown, kind?: ProtocolErrorReason): void {
    this.protocolErrors++;
    this.protocolErrorsByReason[kind ?? (error instanceof ProtocolError ? "invalid_frame" : "internal")]++;
    const reason =
      error instanceof ProtocolError ? error.message : `internal error: ${describeError(error, [])}`;
    this.#parts.log.warning(`Closed connection from ${session.label()}: protocol error: ${reason}`);
    session.closed = true;
    if (session.instance) session.instance.state = "disconnected";
    session.socket.end(encodeError(reason));
    session.socket.destroySoon();
  }

  #onFrame(session: Session, frame: Buffer): void {
    const type = frameType(frame);
    session.frames++;
    if (session.isTailClient) {
      throw new ProtocolError(`tail client sent message type 0x${type.toString(16)}`);
    }
    if (session.instance === undefined && !session.isStatusClient) {
      clearTimeout(session.handshakeTimer);
      if (type === MessageType.HELLO) {
        this.#onHello(session, frame);
        return;
      }
      if (type === MessageType.STATUS_QUERY) {
        session.isStatusClient = true;
        this.#sendStatus(session);
        return;
      }
      if (type === MessageType.TAIL_QUERY) {
        this.#onTailQuery(session, frame);
        return;
      }
      throw new ProtocolError(
        `first frame must be HELLO, STATUS_QUERY or TAIL_QUERY, got type 0x${type.toString(16)}`,
      );
    }
    if (session.isStatusClient) {
      if (type !== MessageType.STATUS_QUERY) {
        throw new ProtocolError(`status client sent message type 0x${type.toString(16)}`);
      }
      this.#sendStatus(session);
      return;
    }
    const instance = session.instance!;
    switch (type) {
      case MessageType.BATCH:
        this.#onBatch(session, instance, frame);
        return;
      case MessageType.HEARTBEAT:
        this.#parts.registry.checkedIn(session, instance, decodeHeartbeat(frame).nextCheckInMs);
        return;
      case MessageType.SHUTDOWN:
        session.end = decodeShutdown(frame);
        instance.state = "shutdown";
        session.clearDeadTimer();
        return;
      case MessageType.DROPS: {
        const total = decodeU64Message(frame, "DROPS");
        const delta = this.#parts.registry.workerDropped(instance, total);
        if (delta > 0) {
          this.#parts.log.warning(
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

  #onTailQuery(session: Session, frame: Buffer): void {
    const query = decodeTailQuery(frame);
    session.isTailClient = true;
    const tails = this.#parts.tails;
    if (tails === undefined) {
      // Not the peer's fault: refused with a reason, not counted as a protocol error.
      session.closed = true;
      session.socket.end(encodeError("this master does not serve tails (it was started with tail: false)"));
      return;
    }
    if (tails.full) {
      // Each tail may hold a queue of its own; also refused with a reason, not a protocol error.
      session.closed = true;
      session.socket.end(
        encodeError(
          `this master serves at most ${tails.maxTails} tails at once (tail.maxTails); try again later`,
        ),
      );
      return;
    }
    tails.attach(session.socket, query);
  }

  #sendStatus(session: Session): void {
    session.socket.write(encodeStatus(JSON.stringify(this.#parts.status())));
  }

  #onHello(session: Session, frame: Buffer): void {
    const hello = decodeHello(frame);
    const { registry } = this.#parts;
    const instance = registry.instanceFor(hello.instanceId, hello.name, hello.pid);
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
    registry.checkedIn(session, instance, hello.heartbeatIntervalMs);
    if (!this.#parts.running()) session.socket.write(encodeGoodbye());
  }

  #onBatch(session: Session, instance: Instance, frame: Buffer): void {
    const { seq, batch } = decodeBatch(frame, session.source!);
    if (seq <= instance.dispatchedSeq) {
      // Resent after a reconnect, and already ours: never delivered twice. If it is committed the
      // worker only missed the ACK; otherwise the ACK follows when its handlers finish.
      if (seq <= instance.committedSeq) session.socket.write(encodeAck(instance.committedSeq));
      return;
    }
    const { registry, dispatcher, acks } = this.#parts;
    instance.dispatchedSeq = seq;
    registry.received(instance, batch.count);
    acks.track(instance, dispatcher.dispatch(batch), seq);
    // With no handler nothing settles on its own: the batch is acknowledged at once.
    if (dispatcher.queues.length === 0) dispatcher.recheck();
  }

  #onClose(session: Session): void {
    session.closed = true;
    this.#sessions.delete(session);
    session.clearTimers();
    const instance = session.instance;
    if (instance === undefined || instance.session !== session) return;
    instance.session = undefined;
    instance.nextCheckIn = null;
    const running = this.#parts.running();
    if (session.end !== undefined) {
      instance.state = "shutdown";
      this.#parts.reports.workerEnd(session.label(), session.end);
    } else {
      if (instance.state === "disconnected") return; // already reported (protocol error)
      instance.state = "disconnected";
      if (!running) return;
      this.#parts.log.warning(`${session.label()} appears dead: connection closed without shutdown`);
    }
    // A worker that ends without an acknowledgement for everything hands a spool over on its way
    // down (one that exits on purpose always does): deliver what this master does not have yet.
    if (running) this.#parts.recovery.checkAfterClose(instance.id);
  }
}
