// The calls of the structured-records scenario, one adapter per logger, used inside child
// processes: `await createCases(kind, options)` -> { cases: { [row]: () => void }, ready?, close }.
// Every logger makes the same calls with the same values; each is set up as bench/lib/loggers.mjs
// sets it up for the plain hot path, so the plain row here matches that scenario's.
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { DIST_WORKER, MESSAGE } from "./env.mjs";

/** The rows, in table order. `marker` is the text every line of the row carries once. */
export const ROWS = [
  { key: "plain", label: "plain message (reference)", marker: MESSAGE },
  { key: "fields", label: "4 fields (string, int, float, bool)", marker: "user logged in" },
  { key: "args", label: "2 %-arguments (%s, %d)", marker: "filled at" },
  { key: "concat", label: "same message built with +, logged plainly", marker: "filled at" },
  { key: "child", label: "child with 3 bindings, plain message", marker: MESSAGE },
  { key: "mixin", label: "mixin (AsyncLocalStorage, 2 fields), plain message", marker: "with context" },
  { key: "trace", label: "traceContext on, span active, plain message", marker: "inside a span" },
];

/** The fields of the async context the mixin rows read. */
export const CONTEXT = { reqId: "r-7", tenant: "acme" };
export const MIXIN_MESSAGE = "request handled with context";
export const SPAN_MESSAGE = "request handled inside a span";

/**
 * A real SDK tracer provider with the AsyncLocalStorage context manager, and a started span;
 * `around(fn)` runs fn with that span active. Undefined when the packages are not installed.
 */
async function activeSpan() {
  try {
    const api = await import("@opentelemetry/api");
    const { BasicTracerProvider } = await import("@opentelemetry/sdk-trace-base");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const provider = new BasicTracerProvider();
    api.trace.setGlobalTracerProvider(provider);
    const span = provider.getTracer("bench").startSpan("request");
    const active = api.trace.setSpan(api.context.active(), span);
    return { around: (fn) => api.context.with(active, fn), end: () => span.end() };
  } catch {
    return undefined;
  }
}

export const BINDINGS = { reqId: "r-1", user: "bob", region: "eu" };

// Two alternating values, read per call: constants would let V8 fold the `+` row into one string.
const IDS = ["A-17", "B-42"];
const PXS = [101.25, 99.5];
let turn = 0;
const next = () => {
  turn ^= 1;
  return turn;
};

const adapters = {
  async logmux({ socketPath, name, flushIntervalMs = 1000 }) {
    const mod = await import(DIST_WORKER);
    const { LoggerConfig, LogLevel, WorkerLogger } = mod;
    const config = new LoggerConfig({
      path: `ipc://${socketPath}`,
      flushIntervalMs,
      baseLevel: LogLevel.INFO,
    });
    const log = new WorkerLogger(config, name);
    const c = log.child(BINDINGS);
    // Builds before the mixin and traceContext options have neither row.
    const extra = {};
    const loggers = [log];
    let around = (fn) => fn();
    if (mod.logContextMixin !== undefined) {
      const withMixin = new WorkerLogger(config, `${name}-mixin`, { mixin: mod.logContextMixin });
      loggers.push(withMixin);
      extra.mixin = () => withMixin.info(MIXIN_MESSAGE);
      const span = await activeSpan();
      if (span !== undefined) {
        const traced = new WorkerLogger(config, `${name}-trace`, { traceContext: true });
        loggers.push(traced);
        extra.trace = () => traced.info(SPAN_MESSAGE);
        around = (fn) => mod.withLogContext(CONTEXT, () => span.around(fn));
      } else {
        around = (fn) => mod.withLogContext(CONTEXT, fn);
      }
    }
    return {
      around,
      cases: {
        plain: () => log.info(MESSAGE),
        fields: () => log.info("user logged in", { user: "bob", id: 42, px: 101.25, ok: true }),
        args: () => {
          const k = next();
          log.info("order %s filled at %d", IDS[k], PXS[k]);
        },
        concat: () => {
          const k = next();
          // biome-ignore lint/style/useTemplate: the row is a message built with +, as applications write it
          log.info("order " + IDS[k] + " filled at " + PXS[k]);
        },
        child: () => c.info(MESSAGE),
        ...extra,
      },
      ready: () => Promise.all(loggers.map((l) => l.flush())),
      async close() {
        await Promise.all(loggers.map((l) => l.flush()));
        await Promise.all(loggers.map((l) => l.shutdown()));
      },
    };
  },

  async pino({ file }) {
    const { default: pino } = await import("pino");
    const destination = pino.destination({ dest: file, sync: false, append: true, mkdir: true });
    const logger = pino({}, destination);
    const c = logger.child(BINDINGS);
    const { AsyncLocalStorage } = await import("node:async_hooks");
    const storage = new AsyncLocalStorage();
    const withMixin = pino({ mixin: () => storage.getStore() }, destination);
    return {
      around: (fn) => storage.run(CONTEXT, fn),
      cases: {
        plain: () => logger.info(MESSAGE),
        fields: () => logger.info({ user: "bob", id: 42, px: 101.25, ok: true }, "user logged in"),
        args: () => {
          const k = next();
          logger.info("order %s filled at %d", IDS[k], PXS[k]);
        },
        concat: () => {
          const k = next();
          // biome-ignore lint/style/useTemplate: the row is a message built with +, as applications write it
          logger.info("order " + IDS[k] + " filled at " + PXS[k]);
        },
        child: () => c.info(MESSAGE),
        mixin: () => withMixin.info(MIXIN_MESSAGE),
      },
      ready: () => (destination.fd >= 0 ? undefined : once(destination, "ready")),
      async close() {
        const closed = once(destination, "close");
        destination.end();
        await closed;
      },
    };
  },

  /**
   * winston's default (json) logger, and for the %-argument row a second one with
   * format.combine(format.splat(), format.json()) as winston documents for interpolation; it
   * writes to `${file}.splat`.
   */
  async winston({ file }) {
    const { default: winston } = await import("winston");
    const transport = new winston.transports.File({ filename: file });
    const logger = winston.createLogger({ level: "info", transports: [transport] });
    const splatTransport = new winston.transports.File({ filename: `${file}.splat` });
    const splat = winston.createLogger({
      level: "info",
      format: winston.format.combine(winston.format.splat(), winston.format.json()),
      transports: [splatTransport],
    });
    const c = logger.child(BINDINGS);
    /** Until the records queued in the logger's streams (formatted after the call) are written. */
    const settle = async (l, t) => {
      while (l.readableLength > 0 || l.writableLength > 0 || t.writableNeedDrain) await sleep(1);
    };
    const end = async (l, t) => {
      // As in loggers.mjs: let the logger's readable buffer empty before ending the transports.
      while (l.readableLength > 0 || t.writableNeedDrain) await sleep(1);
      const finished = once(l, "finish");
      l.end();
      await finished;
    };
    return {
      cases: {
        plain: () => logger.info(MESSAGE),
        fields: () => logger.info("user logged in", { user: "bob", id: 42, px: 101.25, ok: true }),
        args: () => {
          const k = next();
          splat.info("order %s filled at %d", IDS[k], PXS[k]);
        },
        concat: () => {
          const k = next();
          // biome-ignore lint/style/useTemplate: the row is a message built with +, as applications write it
          logger.info("order " + IDS[k] + " filled at " + PXS[k]);
        },
        child: () => c.info(MESSAGE),
      },
      ready: () => Promise.all([settle(logger, transport), settle(splat, splatTransport)]),
      async close() {
        await Promise.all([end(logger, transport), end(splat, splatTransport)]);
      },
    };
  },

  /**
   * LogTape as in loggers.mjs, plain row only: its default text formatter writes no properties,
   * so the other rows would be less work than the others do.
   */
  async logtape({ file }) {
    const { configure, dispose, getLogger } = await import("@logtape/logtape");
    const { getStreamFileSink } = await import("@logtape/file");
    await configure({
      sinks: { file: getStreamFileSink(file) },
      loggers: [
        { category: ["bench"], sinks: ["file"], lowestLevel: "info" },
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
      ],
    });
    const logger = getLogger(["bench"]);
    return { cases: { plain: () => logger.info(MESSAGE) }, close: () => dispose() };
  },
};

export const STRUCTURED_KINDS = Object.keys(adapters);

export async function createCases(kind, options) {
  const adapter = adapters[kind];
  if (!adapter) throw new Error(`unknown logger kind "${kind}"`);
  return adapter(options);
}

/** Expected occurrences of each marker in a logger's files after `callsPerRow` calls of every row. */
export function expectedMarkers(rowKeys, callsPerRow) {
  const expected = new Map();
  for (const row of ROWS.filter((r) => rowKeys.includes(r.key)))
    expected.set(row.marker, (expected.get(row.marker) ?? 0) + callsPerRow);
  return expected;
}
