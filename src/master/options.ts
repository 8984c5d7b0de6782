import { InvalidConfigError } from "../errors.js";
import {
  type MetricsOptions,
  type ResolvedMetricsOptions,
  resolveMetricsOptions,
} from "./metrics-options.js";
import { type ResolvedTailOptions, resolveTail, type TailOptions } from "./tail-options.js";

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
  /**
   * Serve Prometheus metrics (records per worker and handler, queues, stalls, workers by state,
   * spool bytes, protocol errors, event-loop delay) over HTTP at `http://host:port/metrics`;
   * docs/metrics.md lists them. Off unless given.
   * @default undefined (no metrics endpoint)
   * @example { metrics: { port: 9464 } }
   */
  metrics?: MetricsOptions;
  /**
   * `logmux tail`: how many of the last records routed the master keeps for `tail -n`/`--since`
   * (`ring`, 0 for none; bounded by `ringBytes` of wire bytes too, since kept batches pin their
   * frames), and how many wire bytes may wait for one tail that reads too slowly before its oldest
   * are dropped and counted (`maxQueueBytes`), and how many tails may be connected at once
   * (`maxTails`). `false` refuses tail connections and keeps nothing.
   * Keeping costs one array push per batch (not per record): no measurable throughput.
   * @default { ring: 1000, ringBytes: 8388608 (8 MiB), maxQueueBytes: 4194304 (4 MiB), maxTails: 16 }
   * @example { tail: { ring: 10_000 } } or { tail: false }
   */
  tail?: TailOptions | false;
}

/** {@link MasterLoggerOptions} with every default applied and every value checked. */
export interface ResolvedMasterOptions {
  readonly maxQueueBytes: number;
  readonly handlerStallMs: number;
  readonly handshakeTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly name: string;
  readonly metrics: ResolvedMetricsOptions | undefined;
  /** undefined: tails are refused. */
  readonly tail: ResolvedTailOptions | undefined;
}

/** Applies the defaults; throws InvalidConfigError naming the first field that is not accepted. */
export function resolveMasterOptions(options: MasterLoggerOptions): ResolvedMasterOptions {
  const resolved = {
    maxQueueBytes: options.maxQueueBytes ?? 64 * 1024 * 1024,
    handlerStallMs: options.handlerStallMs ?? 5000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    frameTimeoutMs: options.frameTimeoutMs ?? 30_000,
    name: options.name ?? "MASTER",
  };
  for (const field of ["maxQueueBytes", "handlerStallMs", "handshakeTimeoutMs", "frameTimeoutMs"] as const) {
    const value = resolved[field];
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidConfigError(field, `expected a positive integer, got ${String(value)}`);
    }
  }
  if (typeof resolved.name !== "string" || resolved.name === "") {
    throw new InvalidConfigError("name", `expected a non-empty string, got ${String(resolved.name)}`);
  }
  return { ...resolved, metrics: resolveMetricsOptions(options.metrics), tail: resolveTail(options.tail) };
}
