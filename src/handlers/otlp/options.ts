import { hostname as osHostname } from "node:os";
import { basename } from "node:path";
import { InvalidConfigError } from "../../errors.js";
import type { BaseLogHandlerOptions } from "../base.js";
import { boolOption, httpUrlOption, intOption, oneOfOption, stringOption } from "../kit/validate.js";
import type { OtlpAttributeValue } from "./encoder.js";
import {
  endpointFromEnv,
  headersFromEnv,
  OTLP_PROTOCOLS,
  type OtlpProtocol,
  protocolFromEnv,
  setHeader,
  timeoutFromEnv,
} from "./env.js";

export type { OtlpProtocol } from "./env.js";

/** Options for {@link OtlpLogHandler}. */
export interface OtlpLogHandlerOptions extends BaseLogHandlerOptions {
  /**
   * The OTLP/HTTP logs endpoint, used as it is (no path is appended).
   * @default OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/logs", else "http://127.0.0.1:4318/v1/logs"
   * @example { url: "https://otel-collector.internal:4318/v1/logs" }
   */
  url?: string;
  /**
   * The request encoding: binary protobuf (`Content-Type: application/x-protobuf`, the OTLP
   * default, the encoding receivers support as a rule) or JSON (`application/json`).
   * @default OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else "http/protobuf"
   * @example { protocol: "http/json" }
   */
  protocol?: OtlpProtocol;
  /**
   * Extra request headers, typically authentication. Every value is treated as a secret: the
   * master removes it from anything it reports. Merged over the headers of
   * OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_LOGS_HEADERS: a name given here wins.
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
   * Requests sent at the same time. Each request's records are in the order the master received
   * them; with more than one, requests may arrive (and be retried) out of order, so a receiver
   * orders by `timeUnixNano`. 1 sends strictly in order, one request after the other.
   * @default 4
   * @example { maxConcurrentRequests: 1 }
   */
  maxConcurrentRequests?: number;
  /**
   * Time limit for one request, response included, in ms; a timed-out request is retried.
   * @default OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT, else 10000
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
   * in `stats.failed`, and `close()` rejects saying how many records were not delivered.
   * @default 5000
   * @example { closeTimeoutMs: 15000 }
   */
  closeTimeoutMs?: number;
}

/** Exact counters, readable at any time (see {@link OtlpLogHandler.stats}). */
export interface OtlpStats {
  /** Records waiting for a request. */
  readonly queued: number;
  /** Records in the requests currently being sent or retried. */
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
  maxConcurrentRequests: 4,
  timeoutMs: 10_000,
  maxAttempts: 8,
  retryMinMs: 500,
  retryMaxMs: 30_000,
} as const;

/** The options after validation, defaults applied. */
export interface OtlpConfig {
  readonly url: URL;
  readonly protocol: OtlpProtocol;
  readonly maxConcurrent: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly resource: Readonly<Record<string, OtlpAttributeValue>>;
  readonly gzip: boolean;
  readonly maxBatch: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/**
 * Validates every option, then reads the OTEL_EXPORTER_OTLP_* variables for what the options
 * leave out; errors name the field or variable and what it accepts.
 */
export function resolveOtlpOptions(
  options: OtlpLogHandlerOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): OtlpConfig {
  const url =
    options.url !== undefined
      ? httpUrlOption("url", options.url, DEFAULTS.url)
      : (endpointFromEnv(env, DEFAULTS.url) ?? new URL(DEFAULTS.url));
  const protocol =
    options.protocol !== undefined
      ? oneOfOption("protocol", options.protocol, "http/protobuf", OTLP_PROTOCOLS)
      : (protocolFromEnv(env) ?? "http/protobuf");
  const headers = options.headers ?? {};
  if (typeof headers !== "object" || headers === null) {
    throw new InvalidConfigError("headers", "expected an object of header names to string values");
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string") {
      throw new InvalidConfigError(`headers.${name}`, `expected a string value, got ${typeof value}`);
    }
  }
  const serviceName = stringOption("serviceName", options.serviceName, undefined);
  const hostName = stringOption("hostName", options.hostName, undefined);
  const extra = options.resourceAttributes ?? {};
  for (const [key, value] of Object.entries(extra)) {
    if (!["string", "number", "boolean"].includes(typeof value)) {
      throw new InvalidConfigError(
        `resourceAttributes.${key}`,
        `expected a string, number or boolean, got ${typeof value}`,
      );
    }
  }
  const merged = headersFromEnv(env);
  for (const [name, value] of Object.entries(headers)) setHeader(merged, name, value);
  const retryMinMs = intOption("retryMinMs", options.retryMinMs, DEFAULTS.retryMinMs, 0);
  return {
    url,
    protocol,
    maxConcurrent: intOption(
      "maxConcurrentRequests",
      options.maxConcurrentRequests,
      DEFAULTS.maxConcurrentRequests,
      1,
      256,
    ),
    headers: merged,
    resource: {
      "service.name": serviceName ?? `unknown_service:${basename(process.execPath)}`,
      "host.name": hostName ?? osHostname(),
      ...extra,
    },
    gzip: boolOption("gzip", options.gzip, false),
    maxBatch: intOption("maxBatchRecords", options.maxBatchRecords, DEFAULTS.maxBatchRecords, 1),
    maxDelayMs: intOption("maxDelayMs", options.maxDelayMs, DEFAULTS.maxDelayMs, 0),
    maxQueue: intOption("maxQueue", options.maxQueue, DEFAULTS.maxQueue, 1),
    timeoutMs:
      options.timeoutMs !== undefined
        ? intOption("timeoutMs", options.timeoutMs, DEFAULTS.timeoutMs, 1)
        : (timeoutFromEnv(env) ?? DEFAULTS.timeoutMs),
    maxAttempts: intOption("maxAttempts", options.maxAttempts, DEFAULTS.maxAttempts, 1),
    retryMinMs,
    retryMaxMs: intOption(
      "retryMaxMs",
      options.retryMaxMs,
      Math.max(DEFAULTS.retryMaxMs, retryMinMs),
      retryMinMs,
    ),
  };
}
