import type * as Os from "node:os";
import { isAbsolute, join } from "node:path";
import { InvalidConfigError } from "./errors.js";
import { lazyBuiltin } from "./handlers/kit/lazy-require.js";
import { ACCEPTED_LEVELS_TEXT, LogLevel, parseLevel } from "./levels.js";

/**
 * node:os only for the default socket directory, loaded on first use: a worker process that has
 * not loaded it otherwise pays ~0.2 ms of CPU for it at import (median of 11, 2-core VM), and a
 * worker given its socket path never needs it.
 */
const os = lazyBuiltin<typeof Os>("node:os");

/** See {@link LoggerConfigOptions.maxBatchBytes}. */
const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;
/** A default batch is at most this fraction of maxBacklogBytes, so a small backlog still holds several. */
const BATCHES_PER_BACKLOG = 4;

/** Python-logging style default line: `2026-11-28 13:05:14,123 [INFO] DataProcessor - message`. */
export const DEFAULT_FORMAT = "%(asctime)s [%(levelname)s] %(name)s - %(message)s";

/**
 * Linux's `sockaddr_un.sun_path` is 108 bytes including the terminating NUL; a longer path fails
 * at `listen()` with an opaque ENAMETOOLONG, so we reject it at construction instead.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

export type BackpressurePolicy = "block" | "drop";

/** Options accepted by {@link LoggerConfig}. Every field is optional. */
export interface LoggerConfigOptions {
  /**
   * Lowest level that is recorded. Workers discard lower levels before encoding anything.
   * @default LogLevel.INFO
   * @example { baseLevel: LogLevel.DEBUG } or { baseLevel: "debug" }
   */
  baseLevel?: LogLevel | string;
  /**
   * Where the master listens: `"ipc://"` followed by an absolute Unix socket path.
   * @default "ipc://" + a socket in a per-user private directory ($XDG_RUNTIME_DIR/logmux, else <tmp>/logmux-<uid>)
   * @example "ipc:///run/myapp/log.sock"
   */
  path?: string;
  /**
   * How often a worker sends its batch when nothing else triggers a send, in milliseconds.
   * @default 1000
   * @example { flushIntervalMs: 100 }
   */
  flushIntervalMs?: number;
  /**
   * How often a worker checks in with the master, in milliseconds. A worker that misses a check-in
   * by more than `deadWorkerGraceMs` is reported as appearing dead.
   * @default 60000
   * @example { heartbeatIntervalMs: 5000 }
   */
  heartbeatIntervalMs?: number;
  /**
   * Python `logging` style line format; must contain `%(message)s`.
   * @default "%(asctime)s [%(levelname)s] %(name)s - %(message)s"
   * @example "%(asctime)s %(levelname)-8s %(name)s[%(process)d]: %(message)s"
   */
  strFormat?: string;
  /**
   * A worker sends its batch as soon as it holds this many bytes, without waiting for the interval
   * (its first batch as soon as it holds 4 KiB).
   * Each batch is one buffer of this size, reused once the master acknowledges it, so a busy worker
   * holds about two to five of them. 256 KiB measured ~15% less worker CPU per record than 64 KiB
   * (fewer writes and acknowledgements); larger gained little.
   * @default 262144, or maxFrameBytes / a quarter of maxBacklogBytes when either is smaller
   * @example { maxBatchBytes: 64 * 1024 }
   */
  maxBatchBytes?: number;
  /**
   * Largest frame the master accepts; a larger one closes that connection as a protocol error.
   * Workers truncate a single message that could not fit (and say so in the message).
   * @default 16777216 (16 MiB)
   * @example { maxFrameBytes: 4 * 1024 * 1024 }
   */
  maxFrameBytes?: number;
  /**
   * Bytes a worker keeps in memory while the master is away or slow (sent-but-unacknowledged batches
   * included). What happens past it is `onBackpressure`.
   * @default 67108864 (64 MiB)
   * @example { maxBacklogBytes: 16 * 1024 * 1024 }
   */
  maxBacklogBytes?: number;
  /**
   * What a worker does when its in-memory backlog is full: `"block"` writes the overflow to an
   * owner-only spool file next to the socket (the log call then costs a synchronous disk write, but
   * nothing is lost); `"drop"` discards new records, counts them, and reports the exact count to the
   * master, so the log call never waits on anything.
   * @default "block"
   * @example { onBackpressure: "drop" }
   */
  onBackpressure?: BackpressurePolicy;
  /**
   * Bound of a worker's on-disk spool (used with `onBackpressure: "block"` when memory is full, and
   * when a process exits with records no master has acknowledged). Past it, records are dropped
   * and counted: a full disk must not take the application down with it.
   * @default 268435456 (256 MiB)
   * @example { maxSpoolBytes: 1024 * 1024 * 1024 }
   */
  maxSpoolBytes?: number;
  /**
   * Whether a worker hooks SIGTERM and SIGINT to write out pending records before the process
   * dies. When the application has no handler of its own for the signal, the default behaviour
   * (exit by that signal) follows the flush; when it has one, the worker only flushes.
   * @default true
   * @example { handleSignals: false }
   */
  handleSignals?: boolean;
  /**
   * How long `shutdown()` waits for the other side (worker: acknowledgements; master: connections
   * and handlers) before giving up and reporting what it could not deliver, in milliseconds.
   * @default 5000
   * @example { shutdownTimeoutMs: 10000 }
   */
  shutdownTimeoutMs?: number;
  /**
   * Extra time after a missed check-in before the master reports a worker as appearing dead.
   * @default 1000
   * @example { deadWorkerGraceMs: 2000 }
   */
  deadWorkerGraceMs?: number;
  /**
   * First reconnect delay of a worker that lost (or never had) its master; doubles up to
   * `reconnectMaxMs`.
   * @default 50
   * @example { reconnectMinMs: 100 }
   */
  reconnectMinMs?: number;
  /**
   * Longest delay between a worker's reconnect attempts.
   * @default 2000
   * @example { reconnectMaxMs: 5000 }
   */
  reconnectMaxMs?: number;
}

/** The per-user private directory that holds the default socket (and worker spools). */
export function defaultSocketDir(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) return join(runtime, "logmux");
  const uid = typeof process.getuid === "function" ? process.getuid() : "user";
  return join(os().tmpdir(), `logmux-${uid}`);
}

function requirePositiveInt(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || !Number.isInteger(value)) {
    throw new InvalidConfigError(field, `expected a positive integer, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  return Object.prototype.toString.call(value);
}

/**
 * Parses `ipc:///absolute/path` into the socket path, or throws an {@link InvalidConfigError}
 * naming `path`.
 */
export function parseIpcPath(value: unknown, field = "path"): string {
  const accepted = 'expected "ipc://" followed by an absolute socket path, e.g. "ipc:///tmp/my_app_logger"';
  if (typeof value !== "string") throw new InvalidConfigError(field, `${accepted}, got ${describe(value)}`);
  if (!value.startsWith("ipc://")) throw new InvalidConfigError(field, `${accepted}, got ${describe(value)}`);
  const socketPath = value.slice("ipc://".length);
  if (!isAbsolute(socketPath) || socketPath.endsWith("/") || socketPath.includes("\0")) {
    throw new InvalidConfigError(field, `${accepted}, got ${describe(value)}`);
  }
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new InvalidConfigError(
      field,
      `socket path is ${Buffer.byteLength(socketPath)} bytes; Unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}`,
    );
  }
  return socketPath;
}

/**
 * Validated, immutable settings shared by a master and its workers. Every invalid value throws an
 * {@link InvalidConfigError} here, at construction, naming the field and what it accepts.
 *
 * @example
 * ```ts
 * const config = new LoggerConfig({ path: "ipc:///tmp/my_app_logger", baseLevel: LogLevel.DEBUG });
 * ```
 */
export class LoggerConfig {
  readonly baseLevel: LogLevel;
  /** The `ipc://` address as given (or defaulted). */
  readonly path: string;
  /** The filesystem path of the Unix socket behind {@link path}. */
  readonly socketPath: string;
  readonly flushIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly strFormat: string;
  readonly maxBatchBytes: number;
  readonly maxFrameBytes: number;
  readonly maxBacklogBytes: number;
  readonly onBackpressure: BackpressurePolicy;
  readonly maxSpoolBytes: number;
  readonly handleSignals: boolean;
  readonly shutdownTimeoutMs: number;
  readonly deadWorkerGraceMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;

  constructor(options: LoggerConfigOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new InvalidConfigError("options", `expected an object, got ${describe(options)}`);
    }
    const level = options.baseLevel === undefined ? LogLevel.INFO : parseLevel(options.baseLevel);
    if (level === undefined) {
      throw new InvalidConfigError(
        "baseLevel",
        `expected ${ACCEPTED_LEVELS_TEXT}, got ${describe(options.baseLevel)}`,
      );
    }
    this.baseLevel = level;
    this.path = options.path ?? `ipc://${join(defaultSocketDir(), "default.sock")}`;
    this.socketPath = parseIpcPath(this.path);
    this.flushIntervalMs = requirePositiveInt("flushIntervalMs", options.flushIntervalMs, 1000);
    this.heartbeatIntervalMs = requirePositiveInt("heartbeatIntervalMs", options.heartbeatIntervalMs, 60_000);
    const format = options.strFormat ?? DEFAULT_FORMAT;
    if (typeof format !== "string" || !format.includes("%(message)s")) {
      throw new InvalidConfigError(
        "strFormat",
        `must be a string containing "%(message)s" (Python logging style), got ${describe(format)}`,
      );
    }
    this.strFormat = format;
    this.maxFrameBytes = requirePositiveInt("maxFrameBytes", options.maxFrameBytes, 16 * 1024 * 1024);
    if (this.maxFrameBytes < 1024) {
      throw new InvalidConfigError("maxFrameBytes", `must be at least 1024, got ${this.maxFrameBytes}`);
    }
    this.maxBacklogBytes = requirePositiveInt("maxBacklogBytes", options.maxBacklogBytes, 64 * 1024 * 1024);
    // A default batch never exceeds a smaller maxFrameBytes, and leaves room for several batches in
    // a small backlog; only an explicit maxBatchBytes is held to those limits with an error.
    const defaultBatchBytes = Math.min(
      DEFAULT_MAX_BATCH_BYTES,
      this.maxFrameBytes,
      Math.max(1024, Math.floor(this.maxBacklogBytes / BATCHES_PER_BACKLOG)),
    );
    this.maxBatchBytes = requirePositiveInt("maxBatchBytes", options.maxBatchBytes, defaultBatchBytes);
    if (this.maxBatchBytes > this.maxFrameBytes) {
      throw new InvalidConfigError(
        "maxBatchBytes",
        `must not exceed maxFrameBytes (${this.maxFrameBytes}), got ${this.maxBatchBytes}`,
      );
    }
    const policy = options.onBackpressure ?? "block";
    if (policy !== "block" && policy !== "drop") {
      throw new InvalidConfigError("onBackpressure", `expected "block" or "drop", got ${describe(policy)}`);
    }
    this.onBackpressure = policy;
    this.maxSpoolBytes = requirePositiveInt("maxSpoolBytes", options.maxSpoolBytes, 256 * 1024 * 1024);
    if (options.handleSignals !== undefined && typeof options.handleSignals !== "boolean") {
      throw new InvalidConfigError(
        "handleSignals",
        `expected true or false, got ${describe(options.handleSignals)}`,
      );
    }
    this.handleSignals = options.handleSignals ?? true;
    this.shutdownTimeoutMs = requirePositiveInt("shutdownTimeoutMs", options.shutdownTimeoutMs, 5000);
    this.deadWorkerGraceMs = requirePositiveInt("deadWorkerGraceMs", options.deadWorkerGraceMs, 1000);
    this.reconnectMinMs = requirePositiveInt("reconnectMinMs", options.reconnectMinMs, 50);
    this.reconnectMaxMs = requirePositiveInt("reconnectMaxMs", options.reconnectMaxMs, 2000);
    if (this.reconnectMaxMs < this.reconnectMinMs) {
      throw new InvalidConfigError(
        "reconnectMaxMs",
        `must be at least reconnectMinMs (${this.reconnectMinMs}), got ${this.reconnectMaxMs}`,
      );
    }
    Object.freeze(this);
  }
}
