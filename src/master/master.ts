import type { Server } from "node:net";
import { LoggerConfig } from "../config.js";
import { InvalidConfigError, UnsafePathError } from "../errors.js";
import { BaseLogHandler, kAttach } from "../handlers/base.js";
import { CallShape, LoggerBase } from "../logger-base.js";
import { decodeBatch } from "../protocol/decoder.js";
import { BatchBuilder } from "../protocol/encoder.js";
import type { RecordSource } from "../protocol/record-batch.js";
import type { MasterStatus, WorkerHealth } from "../protocol/status.js";
import { describeError } from "../redact.js";
import { ensureStateDirectories, spoolDir } from "../state/dirs.js";
import { listenUnix, removeSocketFile } from "../transport/server.js";
import { Acks } from "./acks.js";
import { Connections } from "./connections.js";
import { Dispatcher } from "./dispatcher.js";
import { CommitJournal } from "./journal.js";
import { type MetricsAddress, MetricsServer } from "./metrics.js";
import { type MasterLoggerOptions, resolveMasterOptions } from "./options.js";
import { SpoolRecovery } from "./recovery.js";
import { Registry } from "./registry.js";
import { labelOf, type MasterLog, Reports } from "./reports.js";
import { Tails } from "./tails.js";
import { WorkerCounts } from "./worker-counts.js";

/**
 * The aggregating end: listens on the config's Unix socket, reads every worker's batches, and
 * routes records through the handlers, each on its own queue. It is also a logger: its own
 * records (name `MASTER`) go straight to the handlers.
 *
 * The work is split by concern: {@link Connections} (sockets, deadlines, frames), {@link Registry}
 * (workers and their health), {@link Dispatcher} (handler queues, tickets, flow control),
 * {@link Acks} (commits, journal, ACKs), {@link SpoolRecovery} (spools left by workers) and
 * {@link Reports} (what the master says about all of them). This class wires them and owns the
 * lifecycle: listen, shutdown.
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
  readonly #source: RecordSource;
  readonly #dispatcher: Dispatcher;
  readonly #acks = new Acks();
  readonly #registry: Registry;
  readonly #reports: Reports;
  readonly #recovery: SpoolRecovery;
  readonly #connections: Connections;
  readonly #metrics: MetricsServer | undefined;
  readonly #tails: Tails | undefined;
  readonly #ready: Promise<void>;
  readonly #startedAt = Date.now();
  #server: Server | undefined;
  /** "closing" from the start of shutdown(), "closed" once it is done. */
  #phase: "running" | "closing" | "closed" = "running";
  #shutdown: Promise<void> | undefined;

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
    const resolved = resolveMasterOptions(options);
    this.config = config;
    this.#source = { name: resolved.name, nameBytes: Buffer.from(resolved.name, "utf8"), pid: process.pid };
    this.minLevel = config.baseLevel;
    this.shape = CallShape.root(undefined, Math.floor(config.maxFrameBytes / 4));
    const log: MasterLog = {
      info: (message) => this.info(message),
      warning: (message) => this.warning(message),
      error: (message) => this.error(message),
    };
    const acks = this.#acks;
    const tails = resolved.tail === undefined ? undefined : new Tails(resolved.tail, config.baseLevel);
    this.#tails = tails;
    // The events fire later (handlers settle asynchronously), once every part below exists.
    const dispatcher = new Dispatcher(
      handlers,
      {
        baseLevel: config.baseLevel,
        maxQueueBytes: resolved.maxQueueBytes,
        stallTimeoutMs: resolved.handlerStallMs,
        tap: tails === undefined ? undefined : (batch) => tails.observe(batch),
      },
      {
        onSettled: (ackable) => acks.settled(ackable),
        onFailure: (queue, error) => this.#reports.handlerError(queue, error),
        onStall: (queue) => this.#reports.stalled(queue),
        onPauseChange: (paused) => this.#connections.setPaused(paused),
      },
    );
    this.#dispatcher = dispatcher;
    const reports = new Reports(log, dispatcher.queues, resolved.handlerStallMs);
    this.#reports = reports;
    for (const queue of dispatcher.queues) {
      queue.handler[kAttach]({
        strFormat: config.strFormat,
        warn: (message) => this.warning(`${labelOf(queue.handler)}: ${message}`),
        reportError: (error) => reports.handlerError(queue, error),
      });
    }
    const counts = resolved.metrics && new WorkerCounts(resolved.metrics.maxWorkerLabels);
    const registry = new Registry({
      deadWorkerGraceMs: config.deadWorkerGraceMs,
      committed: (id) => acks.committed(id),
      awaitingAck: (instance) => acks.isAwaiting(instance),
      warning: log.warning,
      counts,
    });
    this.#registry = registry;
    this.#recovery = new SpoolRecovery(config.socketPath, config.maxFrameBytes, {
      registry,
      dispatcher,
      acks,
      warning: log.warning,
      phase: () => this.#phase,
    });
    this.#connections = new Connections({
      config,
      options: resolved,
      registry,
      dispatcher,
      acks,
      reports,
      recovery: this.#recovery,
      log,
      tails,
      running: () => this.#phase === "running",
      status: () => this.status(),
    });
    this.#metrics =
      resolved.metrics &&
      counts &&
      new MetricsServer(resolved.metrics, {
        registry,
        dispatcher,
        connections: this.#connections,
        counts,
        spoolDir: spoolDir(config.socketPath),
      });
    this.#ready = Promise.all([this.#listen(), this.#metrics?.listen()]).then(() => {});
    // ready() is how callers see a failure; this keeps an unobserved failure from crashing the process.
    this.#ready.catch(() => {});
  }

  async #listen(): Promise<void> {
    this.#server = await listenUnix(this.config.socketPath, (socket) => this.#connections.accept(socket));
    if (this.#phase !== "running") {
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
      this.#acks.useJournal(new CommitJournal(this.config.socketPath));
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

  /**
   * Resolves once the master listens (and serves its metrics, when `options.metrics` asks);
   * rejects with a clear error (e.g. the path is in use, or the metrics port).
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Where the Prometheus metrics are served (options.metrics), once ready() resolved; else undefined. */
  metricsAddress(): MetricsAddress | undefined {
    return this.#metrics?.address();
  }

  isRunning(): boolean {
    return this.#phase === "running";
  }

  /** Writes one of the master's own records (already level-filtered by LoggerBase). */
  protected override emit(
    level: number,
    message: string | Uint8Array,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
    valuesLength: number,
  ): void {
    if (this.#phase === "closed") return;
    const builder = new BatchBuilder(
      72 +
        (typeof message === "string" ? message.length * 3 : message.length) +
        (data?.length ?? 0) +
        valuesLength,
    );
    builder.append(level, message, data, values, valuesLength);
    const { batch } = decodeBatch(builder.seal(0), this.#source);
    this.#dispatcher.dispatch(batch);
  }

  /** Health of every worker seen (connected ones and recently ended ones). */
  workers(): WorkerHealth[] {
    return this.#registry.workers();
  }

  status(): MasterStatus {
    return {
      pid: process.pid,
      path: this.config.path,
      uptimeMs: Date.now() - this.#startedAt,
      recordsReceived: this.#registry.recordsReceived,
      protocolErrors: this.#connections.protocolErrors,
      handlers: this.#dispatcher.queues.map((queue) => queue.stats()),
      workers: this.#registry.workers(),
      tails: { connected: this.#tails?.stats() ?? [], skipped: this.#tails?.skipped ?? 0 },
    };
  }

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
    this.#phase = "closing";
    await this.#ready.catch(() => {});
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    const server = this.#server;
    const serverClosed = server ? new Promise<void>((done) => server.close(() => done())) : Promise.resolve();
    removeSocketFile(this.config.socketPath);
    this.#dispatcher.release();
    await withDeadline(this.#connections.goodbye(), deadline);
    await withDeadline(this.#dispatcher.idle(), deadline);
    this.#connections.destroyAll(true);
    this.#reports.close();
    // Counted before the drop summary, which is a record of its own in every handler's queue.
    this.#reports.undelivered();
    this.#reports.drops();
    // Give the master's own last records (e.g. the drop report) a chance to reach the handlers.
    await withDeadline(this.#dispatcher.idle(), deadline);
    // Tails get their last records while the handlers close, never holding the close up (one that
    // stopped reading is cut, see TailSubscriber.finish).
    const tails = this.#tails;
    const tailsDone =
      tails === undefined
        ? Promise.resolve()
        : withDeadline(tails.finish(), deadline).then(() => this.#connections.destroyAll());
    await Promise.all(
      this.#dispatcher.queues.map(async (queue) => {
        try {
          await withDeadline(
            Promise.resolve(queue.handler.close()),
            Date.now() + this.config.shutdownTimeoutMs,
          );
        } catch (error) {
          this.#reports.handlerError(queue, error);
        }
      }),
    );
    await tailsDone;
    await withDeadline(serverClosed, Date.now() + 100);
    this.#recovery.close();
    this.#acks.close();
    await this.#metrics?.close();
    this.#phase = "closed";
  }
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
