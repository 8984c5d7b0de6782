import { lstat, readdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { ListenFailedError } from "../errors.js";
import type { WorkerHealth } from "../protocol/status.js";
import { describeError } from "../redact.js";
import { ACTIVE_SUFFIX } from "../state/spool.js";
import type { Connections } from "./connections.js";
import type { Dispatcher } from "./dispatcher.js";
import type { ResolvedMetricsOptions } from "./metrics-options.js";
import { EXPOSITION_CONTENT_TYPE, Exposition, type Labels } from "./metrics-text.js";
import type { Registry } from "./registry.js";
import { labelOf } from "./reports.js";
import type { WorkerCounts } from "./worker-counts.js";

/**
 * The event-loop delay is sampled by a timer of this period. 10 ms (prom-client's choice too)
 * costs one timer callback per 10 ms, and a stall shorter than it barely matters for a logger.
 */
const LOOP_SAMPLE_MS = 10;
const NS_PER_SECOND = 1e9;

/** Where the metrics are served, once the server listens. */
export interface MetricsAddress {
  host: string;
  port: number;
  path: string;
  /** e.g. `http://127.0.0.1:9464/metrics` */
  url: string;
}

/** The parts of the master the metrics read; nothing here is counted twice. */
export interface MetricsParts {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly connections: Connections;
  readonly counts: WorkerCounts;
  /** The spool directory beside the socket, for spool bytes. */
  readonly spoolDir: string;
}

/**
 * The master's Prometheus endpoint: a node:http server that answers GET (and HEAD) on one path
 * with the text exposition format, built at scrape time from what the master already counts
 * (docs/metrics.md lists every metric). Only the worker tallies and the event-loop histogram run
 * between scrapes.
 */
export class MetricsServer {
  readonly #options: ResolvedMetricsOptions;
  readonly #parts: MetricsParts;
  readonly #server: Server;
  readonly #loopDelay: IntervalHistogram;
  /** One per handler queue, unique (a second handler with the same label gets " #2"). */
  readonly #handlerLabels: string[];
  readonly #startTimeSeconds = Date.now() / 1000 - process.uptime();
  /** The last window's event-loop delay, reused when a scrape follows another within one sample. */
  #loopWindow = { p50: 0, p99: 0, max: 0 };
  #listening: Promise<void> | undefined;
  #address: MetricsAddress | undefined;

  constructor(options: ResolvedMetricsOptions, parts: MetricsParts) {
    this.#options = options;
    this.#parts = parts;
    this.#handlerLabels = uniqueLabels(parts.dispatcher.queues.map((queue) => labelOf(queue.handler)));
    this.#loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    this.#server = createServer((request, response) => this.#respond(request, response));
  }

  /** Starts serving; rejects with {@link ListenFailedError} when the address cannot be bound. */
  listen(): Promise<void> {
    this.#listening ??= new Promise<void>((resolve, reject) => {
      const { host, port, path } = this.#options;
      const server = this.#server;
      const onError = (error: Error): void => {
        reject(
          new ListenFailedError(
            `http://${hostForUrl(host)}:${port}${path}`,
            `cannot serve metrics on ${hostForUrl(host)}:${port}: ${describeError(error, [])}`,
            { cause: error },
          ),
        );
      };
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        const bound = server.address() as AddressInfo;
        this.#address = {
          host,
          port: bound.port,
          path,
          url: `http://${hostForUrl(host)}:${bound.port}${path}`,
        };
        this.#loopDelay.enable();
        resolve();
      });
    });
    return this.#listening;
  }

  /** Where it serves, once {@link listen} has resolved. */
  address(): MetricsAddress | undefined {
    return this.#address;
  }

  /** Stops serving, cutting idle keep-alive connections (a scraper holds one open). Idempotent. */
  async close(): Promise<void> {
    await this.#listening?.catch(() => {});
    this.#loopDelay.disable();
    if (!this.#server.listening) return;
    const closed = new Promise<void>((done) => this.#server.close(() => done()));
    this.#server.closeAllConnections();
    await closed;
  }

  #respond(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (path !== this.#options.path) {
      finish(response, 404, `Not found: metrics are at ${this.#options.path}\n`);
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      finish(response, 405, "Method not allowed: use GET\n");
      return;
    }
    this.collect().then(
      (text) => {
        response.setHeader("Content-Type", EXPOSITION_CONTENT_TYPE);
        finish(response, 200, text, request.method === "HEAD");
      },
      (error: unknown) => {
        // A scrape must never take the master down; the scraper sees the failure as a 500.
        finish(response, 500, `logmux: collecting metrics failed: ${describeError(error, [])}\n`);
      },
    );
  }

  /** One scrape's body in the text exposition format. */
  async collect(): Promise<string> {
    const spool = await spoolUsage(this.#parts.spoolDir);
    const { registry, dispatcher, connections, counts } = this.#parts;
    const out = new Exposition();

    const tallies = [...counts.entries()];
    out.family(
      "logmux_records_received_total",
      "counter",
      'Records the master received from workers (socket and spools), by worker name; names beyond metrics.maxWorkerLabels share worker="other".',
      tallies.map(([worker, tally]) => [{ worker }, tally.received]),
    );
    out.family(
      "logmux_worker_records_dropped_total",
      "counter",
      'Records workers report they dropped themselves under backpressure (onBackpressure "drop"), by worker name.',
      tallies.map(([worker, tally]) => [{ worker }, tally.dropped]),
    );
    const byState: Record<WorkerHealth["state"], number> = {
      connected: 0,
      unresponsive: 0,
      disconnected: 0,
      shutdown: 0,
    };
    for (const worker of registry.workers()) byState[worker.state]++;
    out.family(
      "logmux_workers",
      "gauge",
      "Worker instances the master knows, by state: connected, unresponsive (missed a check-in), disconnected (closed without shutdown), shutdown (said goodbye); ended ones are remembered up to 1024.",
      Object.entries(byState).map(([state, n]) => [{ state }, n]),
    );

    const queues = dispatcher.queues;
    const perHandler = (value: (i: number) => number): [Labels, number][] =>
      this.#handlerLabels.map((handler, i) => [{ handler }, value(i)]);
    out.family(
      "logmux_handler_records_written_total",
      "counter",
      "Records each handler took: its push completed without an error (a network handler may still retry or drop them on its own).",
      perHandler((i) => queues[i]!.delivered - queues[i]!.failedRecords),
    );
    out.family(
      "logmux_handler_records_failed_total",
      "counter",
      "Records in pushes that threw or rejected (each failure is also reported on stderr).",
      perHandler((i) => queues[i]!.failedRecords),
    );
    out.family(
      "logmux_handler_records_dropped_total",
      "counter",
      "Records dropped from a stalled handler's full queue.",
      perHandler((i) => queues[i]!.dropped),
    );
    out.family(
      "logmux_handler_errors_total",
      "counter",
      "Pushes to the handler that threw or rejected.",
      perHandler((i) => queues[i]!.failures),
    );
    out.family(
      "logmux_handler_queue_records",
      "gauge",
      "Records held for the handler at or above its level: queued, plus the slice it is writing.",
      perHandler((i) => queues[i]!.pendingRecords()),
    );
    out.family(
      "logmux_handler_queue_bytes",
      "gauge",
      "Wire bytes held for the handler: queued, plus the slice it is writing (bounded by maxQueueBytes).",
      perHandler((i) => queues[i]!.queuedBytes),
    );
    out.family(
      "logmux_handler_stalled",
      "gauge",
      "1 while the handler's current push has been pending longer than handlerStallMs, else 0.",
      perHandler((i) => (queues[i]!.stalled ? 1 : 0)),
    );
    out.single(
      "logmux_reading_paused",
      "gauge",
      "1 while the master has stopped reading worker sockets because a healthy handler's queue is full, else 0.",
      dispatcher.paused ? 1 : 0,
    );

    out.family(
      "logmux_protocol_errors_total",
      "counter",
      "Connections closed for breaking the protocol, by reason.",
      Object.entries(connections.protocolErrorsByReason).map(([reason, n]) => [{ reason }, n]),
    );
    out.single(
      "logmux_spool_bytes",
      "gauge",
      "Bytes in spool files beside the socket: records workers keep on disk while the master is away or slow, and spools handed over and not yet replayed.",
      spool.bytes,
    );
    out.single("logmux_spool_files", "gauge", "Spool files beside the socket.", spool.files);

    const loop = this.#loopWindowSeconds();
    const since = "since the previous scrape";
    out.single(
      "logmux_event_loop_delay_p50_seconds",
      "gauge",
      `Median lateness of a ${LOOP_SAMPLE_MS} ms timer on the master's event loop, ${since}.`,
      loop.p50,
    );
    out.single(
      "logmux_event_loop_delay_p99_seconds",
      "gauge",
      `99th percentile lateness of a ${LOOP_SAMPLE_MS} ms timer on the master's event loop, ${since}.`,
      loop.p99,
    );
    out.single(
      "logmux_event_loop_delay_max_seconds",
      "gauge",
      `Longest lateness of a ${LOOP_SAMPLE_MS} ms timer on the master's event loop, ${since}.`,
      loop.max,
    );

    const cpu = process.cpuUsage();
    out.single(
      "process_cpu_seconds_total",
      "counter",
      "User and system CPU time the master's process has spent.",
      (cpu.user + cpu.system) / 1e6,
    );
    out.single(
      "process_resident_memory_bytes",
      "gauge",
      "Resident memory of the master's process.",
      process.memoryUsage.rss(),
    );
    out.single(
      "process_start_time_seconds",
      "gauge",
      "Start time of the master's process since the Unix epoch.",
      Math.round(this.#startTimeSeconds),
    );
    return out.text();
  }

  /**
   * The histogram measures the time between the sampling timer's callbacks, which is the period
   * plus the lateness; the period is taken off so that an idle master reads 0, not 10 ms.
   */
  #loopWindowSeconds(): { p50: number; p99: number; max: number } {
    const histogram = this.#loopDelay;
    if (histogram.count > 0) {
      const late = (ns: number): number => Math.max(0, ns / NS_PER_SECOND - LOOP_SAMPLE_MS / 1000);
      this.#loopWindow = {
        p50: late(histogram.percentile(50)),
        p99: late(histogram.percentile(99)),
        max: late(histogram.max),
      };
      histogram.reset();
    }
    return this.#loopWindow;
  }
}

function finish(response: ServerResponse, status: number, body: string, headOnly = false): void {
  const bytes = Buffer.from(body, "utf8");
  response.statusCode = status;
  if (!response.hasHeader("Content-Type")) response.setHeader("Content-Type", "text/plain; charset=utf-8");
  response.setHeader("Content-Length", bytes.length);
  response.end(headOnly ? undefined : bytes);
}

/** An IPv6 literal goes in brackets in a URL. */
function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Labels as given, with " #2", " #3"... on repeats: two series with the same labels are invalid. */
function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} #${n}`;
  });
}

/** Total size of the spool files; an absent directory (no spool yet) is 0. */
async function spoolUsage(dir: string): Promise<{ bytes: number; files: number }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { bytes: 0, files: 0 };
  }
  let bytes = 0;
  let files = 0;
  for (const name of names) {
    if (!name.endsWith(ACTIVE_SUFFIX)) continue;
    try {
      const stats = await lstat(join(dir, name));
      if (!stats.isFile()) continue;
      bytes += stats.size;
      files++;
    } catch {
      // Replayed and deleted between the listing and now.
    }
  }
  return { bytes, files };
}
