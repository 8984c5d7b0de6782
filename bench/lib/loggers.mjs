// One adapter per benchmarked logger, used inside child processes:
// `await createLogger(kind, options)` -> { log(message), close(): Promise<void> }.
// Each is set up the way its documentation recommends for the case, with default formats.
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { DIST_WORKER } from "./env.mjs";

const adapters = {
  /** The floor: copy the message into a preallocated buffer (UTF-8), as a logger's own append would. */
  async floor() {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let offset = 0;
    return {
      log(message) {
        if (offset > buffer.length - 4096) offset = 0;
        offset += buffer.utf8Write(message, offset);
      },
      async close() {},
    };
  },

  /** No logging at all (the end-to-end floor); the loop skips the call. */
  async none() {
    return { log: undefined, async close() {} };
  },

  /** `reconnectMs`: a fixed reconnect delay, for runs that start the master after the workers. */
  async logmux({ socketPath, name, flushIntervalMs = 1000, reconnectMs }) {
    const { LoggerConfig, LogLevel, WorkerLogger } = await import(DIST_WORKER);
    const config = new LoggerConfig({
      path: `ipc://${socketPath}`,
      flushIntervalMs,
      baseLevel: LogLevel.INFO,
      ...(reconnectMs === undefined ? {} : { reconnectMinMs: reconnectMs, reconnectMaxMs: reconnectMs }),
    });
    const worker = new WorkerLogger(config, name);
    return {
      log: (message) => worker.info(message),
      /** Resolves once the master has acknowledged what was logged so far (connection included). */
      ready: () => worker.flush(),
      async close() {
        await worker.flush();
        await worker.shutdown();
      },
    };
  },

  async pino({ file }) {
    const { default: pino } = await import("pino");
    const destination = pino.destination({ dest: file, sync: false, append: true, mkdir: true });
    const logger = pino({}, destination);
    return {
      log: (message) => logger.info(message),
      ready: () => (destination.fd >= 0 ? undefined : once(destination, "ready")),
      async close() {
        const closed = once(destination, "close");
        destination.end();
        await closed;
      },
    };
  },

  async "pino-transport"({ file }) {
    const { default: pino } = await import("pino");
    const transport = pino.transport({ target: "pino/file", options: { destination: file, mkdir: true } });
    const logger = pino({}, transport);
    const ready = once(transport, "ready");
    return {
      log: (message) => logger.info(message),
      ready: () => ready,
      async close() {
        const closed = once(transport, "close");
        transport.end();
        await closed;
      },
    };
  },

  async winston({ file }) {
    const { default: winston } = await import("winston");
    const transport = new winston.transports.File({ filename: file });
    const logger = winston.createLogger({ level: "info", transports: [transport] });
    return {
      log: (message) => logger.info(message),
      async close() {
        // logger.end() ends the transports at once, even while formatted records still wait in the
        // logger's readable buffer for the transport to drain ("write after end", lost lines); so
        // let that buffer empty first.
        while (logger.readableLength > 0 || transport.writableNeedDrain) await sleep(1);
        const finished = once(logger, "finish");
        logger.end();
        await finished;
      },
    };
  },

  /**
   * LogTape with @logtape/file's stream sink, which its documentation gives for high-volume
   * production logging (a fs.WriteStream, asynchronous like pino's sync:false). Its getFileSink()
   * default writes and fsyncs every short record while its buffer is empty: ~230 µs a call here.
   */
  async logtape({ file }) {
    const { configure, dispose, getLogger } = await import("@logtape/logtape");
    const { getStreamFileSink } = await import("@logtape/file");
    await configure({
      sinks: { file: getStreamFileSink(file) },
      loggers: [
        { category: ["bench"], sinks: ["file"], lowestLevel: "info" },
        // Configured so LogTape does not print its own notice to the console.
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
      ],
    });
    const logger = getLogger(["bench"]);
    return {
      log: (message) => logger.info(message),
      close: () => dispose(),
    };
  },

  /** log4js writing to a file in-process (hot path). */
  async "log4js-file"({ file, name }) {
    const { default: log4js } = await import("log4js");
    log4js.configure({
      appenders: { file: { type: "file", filename: file } },
      categories: { default: { appenders: ["file"], level: "info" } },
    });
    const logger = log4js.getLogger(name);
    return {
      log: (message) => logger.info(message),
      close: () => new Promise((resolve, reject) => log4js.shutdown((e) => (e ? reject(e) : resolve()))),
    };
  },

  /** log4js' multiprocess appender, worker side: events go over TCP to the log4js master. */
  async log4js({ port, name }) {
    const { default: log4js } = await import("log4js");
    log4js.configure({
      appenders: {
        master: { type: "multiprocess", mode: "worker", loggerHost: "127.0.0.1", loggerPort: port },
      },
      categories: { default: { appenders: ["master"], level: "info" } },
    });
    const logger = log4js.getLogger(name);
    return {
      log: (message) => logger.info(message),
      close: () => new Promise((resolve, reject) => log4js.shutdown((e) => (e ? reject(e) : resolve()))),
    };
  },
};

export const LOGGER_KINDS = Object.keys(adapters);

export async function createLogger(kind, options) {
  const adapter = adapters[kind];
  if (!adapter) throw new Error(`unknown logger kind "${kind}"`);
  return adapter(options);
}
