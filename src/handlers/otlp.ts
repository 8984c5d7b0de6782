import type * as Http from "node:http";
import type * as Https from "node:https";
import { hostname as osHostname } from "node:os";
import { basename } from "node:path";
import type * as Zlib from "node:zlib";
import { HandlerError, InvalidConfigError } from "../errors.js";
import { LEVEL_NAMES, LogLevel } from "../levels.js";
import type { LogRecord } from "../record.js";
import { redact } from "../redact.js";
import { BaseLogHandler, type BaseLogHandlerOptions } from "./base.js";
import { lazyBuiltin } from "./lazy-require.js";

const http = lazyBuiltin<typeof Http>("node:http");
const https = lazyBuiltin<typeof Https>("node:https");
const zlib = lazyBuiltin<typeof Zlib>("node:zlib");

/**
 * OTLP `SeverityNumber` for each logmux level, indexed by level number: the first value of each of
 * the spec's six ranges (TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24).
 */
export const OTLP_SEVERITY_BY_LEVEL: readonly number[] = [1, 5, 9, 13, 17, 21];

/** An attribute value the resource may carry. */
export type OtlpAttributeValue = string | number | boolean;

/** Options for {@link OtlpLogHandler}. */
export interface OtlpLogHandlerOptions extends BaseLogHandlerOptions {
  /**
   * The OTLP/HTTP logs endpoint (JSON encoding is used).
   * @default "http://127.0.0.1:4318/v1/logs"
   * @example { url: "https://otel-collector.internal:4318/v1/logs" }
   */
  url?: string;
  /**
   * Extra request headers, typically authentication. Every value is treated as a secret: the
   * master removes it from anything it reports.
   * @default {}
   * @example { headers: { authorization: `Bearer ${process.env.OTLP_TOKEN}` } }
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * The resource's `service.name`.
   * @default "unknown_service:" + the process's executable name (the OpenTelemetry SDK default)
   * @example { serviceName: "billing" }
   */
  serviceName?: string;
  /**
   * The resource's `host.name`.
   * @default os.hostname()
   * @example { hostName: "web-01" }
   */
  hostName?: string;
  /**
   * More resource attributes, e.g. `deployment.environment.name`.
   * @default {}
   * @example { resourceAttributes: { "deployment.environment.name": "prod" } }
   */
  resourceAttributes?: Readonly<Record<string, OtlpAttributeValue>>;
  /**
   * Most records per request (the OpenTelemetry SDK's `maxExportBatchSize`).
   * @default 512
   * @example { maxBatchRecords: 2000 }
   */
  maxBatchRecords?: number;
  /**
   * Longest a record waits for a fuller batch before a request is sent, in ms.
   * @default 1000
   * @example { maxDelayMs: 200 }
   */
  maxDelayMs?: number;
  /**
   * Records held in memory while the receiver is slow or away. When full, the oldest are dropped
   * and the exact count is reported through the master as a WARNING.
   * @default 10000
   * @example { maxQueue: 50000 }
   */
  maxQueue?: number;
  /**
   * Compress request bodies with gzip (`Content-Encoding: gzip`). Worth it across a WAN; on a
   * local network the CPU usually costs more than the bytes saved.
   * @default false
   * @example { gzip: true }
   */
  gzip?: boolean;
  /**
   * Time limit for one request, response included, in ms; a timed-out request is retried.
   * @default 10000
   * @example { timeoutMs: 30000 }
   */
  timeoutMs?: number;
  /**
   * Attempts per batch (first try included) on 429, 502, 503, 504 and network errors; then the
   * batch is counted as failed and reported.
   * @default 8
   * @example { maxAttempts: 20 }
   */
  maxAttempts?: number;
  /**
   * First delay between attempts when the server gives no `Retry-After`, in ms; it doubles per
   * attempt, up to `retryMaxMs`.
   * @default 500
   * @example { retryMinMs: 1000 }
   */
  retryMinMs?: number;
  /**
   * Longest delay between attempts, in ms; a larger `Retry-After` is capped to it.
   * @default 30000
   * @example { retryMaxMs: 60000 }
   */
  retryMaxMs?: number;
  /**
   * How long `close()` keeps trying to deliver what is queued, in ms; what is left then is counted
   * in `stats.failed` and reported.
   * @default 5000
   * @example { closeTimeoutMs: 15000 }
   */
  closeTimeoutMs?: number;
}

/** Exact counters, readable at any time (see {@link OtlpLogHandler.stats}). */
export interface OtlpStats {
  /** Records waiting for a request. */
  readonly queued: number;
  /** Records in the request currently being sent or retried. */
  readonly inFlight: number;
  /** Records the receiver accepted (2xx, less any it reported as rejected). */
  readonly sent: number;
  /** Records dropped because the queue was full (oldest first). */
  readonly dropped: number;
  /** Records the receiver rejected in a partial success response. */
  readonly rejected: number;
  /** Records given up on: non-retryable status, attempts exhausted, or still undelivered at close. */
  readonly failed: number;
  /** Requests sent, retries included. */
  readonly requests: number;
  /** Requests that were retried (429/502/503/504, network error, timeout). */
  readonly retries: number;
}

const DEFAULTS = {
  url: "http://127.0.0.1:4318/v1/logs",
  maxBatchRecords: 512,
  maxDelayMs: 1000,
  maxQueue: 10_000,
  timeoutMs: 10_000,
  maxAttempts: 8,
  retryMinMs: 500,
  retryMaxMs: 30_000,
  closeTimeoutMs: 5000,
} as const;

/** The OTLP/HTTP specification's retryable statuses; every other non-2xx is final. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** Drops are summed over this period, so a flood yields one WARNING per second. */
const DROP_REPORT_INTERVAL_MS = 1000;

/**
 * Error bodies are quoted in reports up to this length: enough for a reason, not a dump. Cut only
 * after redaction (see #quote): a header value cut in half no longer matches the redactor.
 */
const MAX_REPORTED_BODY_CHARS = 300;

/** Response bodies are read up to this size; a success response is tiny, an error a few KB. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const SCOPE_VERSION = "0.1.0";

function positiveInt(field: string, value: unknown, fallback: number, min = 1, max = 2 ** 31): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidConfigError(field, `expected an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** An OTLP `AnyValue` in JSON; integers are int64, which proto3 JSON writes as decimal strings. */
function anyValueJson(value: OtlpAttributeValue): string {
  if (typeof value === "string") return `{"stringValue":${JSON.stringify(value)}}`;
  if (typeof value === "boolean") return `{"boolValue":${value}}`;
  if (Number.isInteger(value)) return `{"intValue":"${value}"}`;
  // proto3 JSON spells non-finite doubles as strings.
  if (!Number.isFinite(value))
    return `{"doubleValue":"${Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity"}"}`;
  return `{"doubleValue":${value}}`;
}

function keyValueJson(key: string, value: OtlpAttributeValue): string {
  return `{"key":${JSON.stringify(key)},"value":${anyValueJson(value)}}`;
}

/**
 * Encodes records as an OTLP/HTTP JSON `ExportLogsServiceRequest`.
 *
 * Written by hand rather than with `@opentelemetry/otlp-transformer` and the SDK: the master formats
 * every record on its hot path, and the SDK path builds a `LogRecord` object graph, then a protobuf-
 * shaped object, then `JSON.stringify`s it - three allocations per record and field. Here the
 * per-batch parts (resource, scope, and each worker's attribute) are pre-serialised once, and a
 * record costs one template string. The encoding is small and fixed by the spec (lowerCamelCase
 * keys, 64-bit integers as decimal strings, bytes as base64, enums as numbers), and adding the SDK
 * would pull a dependency tree into a library that has none.
 */
export class OtlpJsonEncoder {
  readonly #prefix: string;
  readonly #suffix = "]}]}]}";
  readonly #workerAttr = new Map<string, string>();

  constructor(resource: Readonly<Record<string, OtlpAttributeValue>>) {
    const attributes = Object.entries(resource)
      .map(([key, value]) => keyValueJson(key, value))
      .join(",");
    this.#prefix =
      `{"resourceLogs":[{"resource":{"attributes":[${attributes}]},"scopeLogs":[{"scope":` +
      `{"name":"logmux","version":"${SCOPE_VERSION}"},"logRecords":[`;
  }

  #worker(name: string): string {
    let attr = this.#workerAttr.get(name);
    if (attr === undefined) {
      attr = keyValueJson("logmux.worker.name", name);
      // Worker names are few; the cap only guards against a caller minting names per record.
      if (this.#workerAttr.size >= 1024) this.#workerAttr.clear();
      this.#workerAttr.set(name, attr);
    }
    return attr;
  }

  /** One `LogRecord` object. `observedNs` is when the master handled it. */
  record(record: LogRecord, observedNs: bigint): string {
    const level = OTLP_SEVERITY_BY_LEVEL[record.level] === undefined ? LogLevel.INFO : record.level;
    let attributes = `${this.#worker(record.name)},{"key":"process.pid","value":{"intValue":"${record.pid}"}}`;
    if (record.data !== undefined) {
      const data = Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength);
      attributes += `,{"key":"logmux.data","value":{"bytesValue":"${data.toString("base64")}"}}`;
    }
    return (
      `{"timeUnixNano":"${record.timestampNs}","observedTimeUnixNano":"${observedNs}",` +
      `"severityNumber":${OTLP_SEVERITY_BY_LEVEL[level]},"severityText":"${LEVEL_NAMES[level]}",` +
      `"body":{"stringValue":${JSON.stringify(record.message)}},"attributes":[${attributes}]}`
    );
  }

  /** The request body for records already encoded with {@link record}. */
  request(encodedRecords: readonly string[]): string {
    return `${this.#prefix}${encodedRecords.join(",")}${this.#suffix}`;
  }
}

/** Nanoseconds since the epoch, from the high-resolution clock (Date.now() has only ms). */
function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
}

/** `Retry-After` in ms: delay-seconds or an HTTP-date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const gzipAsync = (data: Buffer): Promise<Buffer> =>
  new Promise((done, fail) => zlib().gzip(data, (error, out) => (error ? fail(error) : done(out))));

interface Response {
  readonly status: number;
  readonly headers: Http.IncomingMessage["headers"];
  readonly body: string;
}

type Attempt = { kind: "response"; response: Response } | { kind: "error"; error: Error };

/**
 * Sends records to an OpenTelemetry Collector (or any OTLP/HTTP receiver) as JSON. Records are
 * batched (`maxBatchRecords`, `maxDelayMs`), one request is in flight at a time, and retryable
 * answers (429, 502, 503, 504, network errors) are retried with backoff, honouring `Retry-After`.
 * A 400 or other final status is reported with the server's reason and the batch counted as failed.
 * Delivery is at-least-once: a request whose response was lost is sent again.
 *
 * Each record carries `timeUnixNano`, `observedTimeUnixNano`, `severityNumber`/`severityText`, the
 * message as `body.stringValue`, and attributes `logmux.worker.name`, `process.pid` and (when the
 * log call had one) `logmux.data` as `bytesValue`. The resource has `service.name` and `host.name`.
 *
 * @example
 * ```ts
 * new OtlpLogHandler({
 *   url: "http://127.0.0.1:4318/v1/logs",
 *   serviceName: "billing",
 *   headers: { authorization: `Bearer ${process.env.OTLP_TOKEN}` },
 * });
 * ```
 */
export class OtlpLogHandler extends BaseLogHandler {
  readonly url: URL;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #encoder: OtlpJsonEncoder;
  readonly #gzip: boolean;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  readonly #maxQueue: number;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #closeTimeoutMs: number;
  readonly #agent: Http.Agent;

  #pending: string[] = [];
  #inFlight = 0;
  #busy = false;
  #batchTimer: NodeJS.Timeout | undefined;
  #retryTimer: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #activeRequest: { destroy: (error: Error) => void } | undefined;

  #dropsUnreported = 0;
  #dropTimer: NodeJS.Timeout | undefined;

  #closing = false;
  #closed = false;
  #closeWaiter: (() => void) | undefined;
  #closePromise: Promise<void> | undefined;

  #sent = 0;
  #dropped = 0;
  #rejected = 0;
  #failed = 0;
  #requests = 0;
  #retries = 0;

  constructor(options: OtlpLogHandlerOptions = {}) {
    super(options);
    const rawUrl = options.url ?? DEFAULTS.url;
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new InvalidConfigError(
        "url",
        "expected an http:// or https:// URL such as http://127.0.0.1:4318/v1/logs",
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new InvalidConfigError(
        "url",
        `expected an http:// or https:// URL, got protocol ${url.protocol}`,
      );
    }
    this.url = url;
    const headers = options.headers ?? {};
    if (typeof headers !== "object" || headers === null) {
      throw new InvalidConfigError("headers", "expected an object of header names to string values");
    }
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== "string") {
        throw new InvalidConfigError(`headers.${name}`, `expected a string value, got ${typeof value}`);
      }
    }
    this.#headers = { ...headers };
    for (const field of ["serviceName", "hostName"] as const) {
      const value = options[field];
      if (value !== undefined && (typeof value !== "string" || value === "")) {
        throw new InvalidConfigError(field, `expected a non-empty string, got ${String(value)}`);
      }
    }
    const extra = options.resourceAttributes ?? {};
    for (const [key, value] of Object.entries(extra)) {
      if (!["string", "number", "boolean"].includes(typeof value)) {
        throw new InvalidConfigError(
          `resourceAttributes.${key}`,
          `expected a string, number or boolean, got ${typeof value}`,
        );
      }
    }
    this.#encoder = new OtlpJsonEncoder({
      "service.name": options.serviceName ?? `unknown_service:${basename(process.execPath)}`,
      "host.name": options.hostName ?? osHostname(),
      ...extra,
    });
    if (options.gzip !== undefined && typeof options.gzip !== "boolean") {
      throw new InvalidConfigError("gzip", `expected true or false, got ${String(options.gzip)}`);
    }
    this.#gzip = options.gzip ?? false;
    this.#maxBatch = positiveInt("maxBatchRecords", options.maxBatchRecords, DEFAULTS.maxBatchRecords);
    this.#maxDelayMs = positiveInt("maxDelayMs", options.maxDelayMs, DEFAULTS.maxDelayMs, 0);
    this.#maxQueue = positiveInt("maxQueue", options.maxQueue, DEFAULTS.maxQueue);
    this.#timeoutMs = positiveInt("timeoutMs", options.timeoutMs, DEFAULTS.timeoutMs);
    this.#maxAttempts = positiveInt("maxAttempts", options.maxAttempts, DEFAULTS.maxAttempts);
    this.#retryMinMs = positiveInt("retryMinMs", options.retryMinMs, DEFAULTS.retryMinMs, 0);
    this.#retryMaxMs = positiveInt(
      "retryMaxMs",
      options.retryMaxMs,
      Math.max(DEFAULTS.retryMaxMs, this.#retryMinMs),
      this.#retryMinMs,
    );
    this.#closeTimeoutMs = positiveInt("closeTimeoutMs", options.closeTimeoutMs, DEFAULTS.closeTimeoutMs, 0);
    // One connection, kept alive: requests are sequential, so a second socket would only idle.
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    this.#agent =
      url.protocol === "https:" ? new (https().Agent)(agentOptions) : new (http().Agent)(agentOptions);
  }

  /** Exact counters; see {@link OtlpStats}. */
  get stats(): OtlpStats {
    return {
      queued: this.#pending.length,
      inFlight: this.#inFlight,
      sent: this.#sent,
      dropped: this.#dropped,
      rejected: this.#rejected,
      failed: this.#failed,
      requests: this.#requests,
      retries: this.#retries,
    };
  }

  /** Header values (auth tokens) and any password in the URL. */
  override secrets(): readonly string[] {
    const secrets = Object.values(this.#headers);
    if (this.url.password !== "") return [...secrets, decodeURIComponent(this.url.password)];
    return secrets;
  }

  push(records: readonly LogRecord[]): void {
    if (this.#closed) return;
    const observed = nowNs();
    for (const record of records) this.#pending.push(this.#encoder.record(record, observed));
    const over = this.#pending.length - this.#maxQueue;
    if (over > 0) {
      this.#pending.splice(0, over);
      this.#dropped += over;
      this.#dropsUnreported += over;
      this.#dropTimer ??= setTimeout(() => this.#reportDrops(), DROP_REPORT_INTERVAL_MS).unref();
    }
    this.#pump();
  }

  #reportDrops(): void {
    if (this.#dropTimer !== undefined) clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
    const count = this.#dropsUnreported;
    if (count === 0) return;
    this.#dropsUnreported = 0;
    this.warn(
      `${this.name} dropped ${count} record${count === 1 ? "" : "s"} (oldest first): queue full ` +
        `(maxQueue ${this.#maxQueue}) while ${this.url.origin} was slow or unreachable`,
    );
  }

  #pump(): void {
    if (this.#busy || this.#closed || this.#pending.length === 0) return;
    if (this.#pending.length < this.#maxBatch && !this.#closing) {
      this.#batchTimer ??= setTimeout(() => {
        this.#batchTimer = undefined;
        this.#send();
      }, this.#maxDelayMs);
      return;
    }
    this.#send();
  }

  #send(): void {
    if (this.#busy || this.#closed || this.#pending.length === 0) return;
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const batch = this.#pending.splice(0, this.#maxBatch);
    this.#busy = true;
    this.#inFlight = batch.length;
    void this.#deliver(batch).finally(() => {
      this.#busy = false;
      this.#inFlight = 0;
      if (this.#closing && this.#pending.length === 0) this.#closeWaiter?.();
      else this.#pump();
    });
  }

  /** Sends one batch until it is accepted, finally refused, out of attempts, or the handler closed. */
  async #deliver(records: string[]): Promise<void> {
    let body: Buffer;
    try {
      const json = Buffer.from(this.#encoder.request(records), "utf8");
      body = this.#gzip ? await gzipAsync(json) : json;
    } catch (error) {
      this.#failed += records.length;
      this.reportError(new HandlerError(this.name, "could not encode a batch", { cause: error }));
      return;
    }
    let delay = this.#retryMinMs;
    for (let attempt = 1; ; attempt++) {
      // close() gave up on this batch and already counted it as failed.
      if (this.#closed) return;
      this.#requests++;
      const outcome = await this.#post(body);
      if (this.#closed) return;
      let reason: string;
      let wait = delay;
      if (outcome.kind === "response") {
        const { status, headers } = outcome.response;
        if (status >= 200 && status < 300) {
          this.#accepted(records.length, outcome.response.body);
          return;
        }
        reason = `HTTP ${status}${this.#bodyReason(outcome.response.body)}`;
        if (!RETRYABLE_STATUS.has(status)) {
          this.#failed += records.length;
          this.reportError(
            new HandlerError(
              this.name,
              `${this.url.origin}${this.url.pathname} refused ${records.length} records with ${reason}; not retried`,
            ),
          );
          return;
        }
        const retryAfter = parseRetryAfter(headers["retry-after"]);
        if (retryAfter !== undefined) wait = retryAfter;
      } else {
        reason = outcome.error.message;
      }
      if (attempt >= this.#maxAttempts) {
        this.#failed += records.length;
        this.reportError(
          new HandlerError(
            this.name,
            `gave up on ${records.length} records after ${attempt} attempts to ${this.url.origin}: ${reason}`,
          ),
        );
        return;
      }
      this.#retries++;
      await this.#sleep(Math.min(wait, this.#retryMaxMs));
      delay = Math.min(this.#retryMaxMs, delay * 2);
    }
  }

  #bodyReason(body: string): string {
    const text = body.trim();
    if (text === "") return "";
    try {
      // A google.rpc.Status as JSON carries the reason in `message`.
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === "string") return `: ${this.#quote(parsed.message)}`;
    } catch {}
    return `: ${this.#quote(text)}`;
  }

  /** Text from the receiver as a report may quote it: secrets removed first, then bounded. */
  #quote(text: string): string {
    return redact(text, this.secrets()).slice(0, MAX_REPORTED_BODY_CHARS);
  }

  #accepted(count: number, body: string): void {
    let rejected = 0;
    let message = "";
    if (body.trim() !== "") {
      try {
        const parsed = JSON.parse(body) as {
          partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown };
        };
        const partial = parsed.partialSuccess;
        // int64 in proto3 JSON: a string, though some servers send a number.
        const n = Number(partial?.rejectedLogRecords ?? 0);
        if (Number.isFinite(n) && n > 0) rejected = Math.min(count, Math.floor(n));
        if (typeof partial?.errorMessage === "string") message = partial.errorMessage;
      } catch {
        // A 2xx with a body that is not JSON is still a success.
      }
    }
    this.#sent += count - rejected;
    if (rejected > 0) {
      this.#rejected += rejected;
      this.reportError(
        new HandlerError(
          this.name,
          `${this.url.origin} rejected ${rejected} of ${count} records (partial success)` +
            `${message ? `: ${this.#quote(message)}` : ""}`,
        ),
      );
    } else if (message !== "") {
      // The spec allows a warning with nothing rejected.
      this.warn(`${this.name}: ${this.url.origin} accepted the batch with a warning: ${message}`);
    }
  }

  #post(body: Buffer): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      const headers: Record<string, string | number> = {
        ...this.#headers,
        "content-type": "application/json",
        "content-length": body.length,
      };
      if (this.#gzip) headers["content-encoding"] = "gzip";
      const send = this.url.protocol === "https:" ? https().request : http().request;
      let settled = false;
      const finish = (attempt: Attempt): void => {
        if (settled) return;
        settled = true;
        this.#activeRequest = undefined;
        resolve(attempt);
      };
      const request = send(this.url, {
        method: "POST",
        headers,
        agent: this.#agent,
        timeout: this.#timeoutMs,
      });
      this.#activeRequest = { destroy: (error) => request.destroy(error) };
      request.on("timeout", () => request.destroy(new Error(`no response within ${this.#timeoutMs} ms`)));
      request.on("error", (error) => finish({ kind: "error", error }));
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on("error", (error) => finish({ kind: "error", error }));
        response.on("end", () =>
          finish({
            kind: "response",
            response: {
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            },
          }),
        );
      });
      request.end(body);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#retryTimer = undefined;
        done();
      };
      const timer = setTimeout(wake, ms);
      this.#retryTimer = { timer, wake };
    });
  }

  /**
   * Sends what is queued (without waiting for `maxDelayMs`), within `closeTimeoutMs`. Records still
   * undelivered at the deadline are counted in `stats.failed` and reported.
   */
  override close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    let deadline: NodeJS.Timeout | undefined;
    await new Promise<void>((done) => {
      this.#closeWaiter = done;
      deadline = setTimeout(done, this.#closeTimeoutMs);
      if (!this.#busy && this.#pending.length === 0) done();
      else this.#pump();
    });
    clearTimeout(deadline);
    this.#closed = true;
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const lost = this.#pending.length + this.#inFlight;
    this.#pending = [];
    this.#failed += lost;
    this.#activeRequest?.destroy(new Error("handler closed"));
    this.#retryTimer?.wake();
    this.#agent.destroy();
    this.#reportDrops();
    if (lost > 0) {
      this.reportError(
        new HandlerError(
          this.name,
          `closed after ${this.#closeTimeoutMs} ms with ${lost} record${lost === 1 ? "" : "s"} not delivered ` +
            `to ${this.url.origin}`,
        ),
      );
    }
  }
}
