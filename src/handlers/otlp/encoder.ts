import { LEVEL_NAMES, LogLevel } from "../../levels.js";
import { errorOf } from "../../protocol/record-batch.js";
import type { LogRecord } from "../../record.js";
import { anyValueJson, exceptionAttributesJson, fieldAttributesJson, keyValueJson } from "./attributes.js";
import { traceJson, traceOf } from "./trace.js";

/**
 * OTLP `SeverityNumber` for each logmux level, indexed by level number: the first value of each of
 * the spec's six ranges (TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24).
 */
export const OTLP_SEVERITY_BY_LEVEL: readonly number[] = [1, 5, 9, 13, 17, 21];

/** An attribute value the resource may carry. */
export type OtlpAttributeValue = string | number | boolean;

export const SCOPE_VERSION = "0.1.0";

/** One of the two OTLP/HTTP encodings: records encoded as they arrive, then a request body. */
export interface OtlpEncoder<T> {
  readonly contentType: string;
  record(record: LogRecord, observedNs: bigint): T;
  body(encodedRecords: readonly T[]): Buffer;
}

/**
 * Encodes records as an OTLP/HTTP JSON `ExportLogsServiceRequest`.
 *
 * Written by hand rather than with `@opentelemetry/otlp-transformer` and the SDK: the master formats
 * every record on its hot path, and the SDK path builds a `LogRecord` object graph, then a protobuf-
 * shaped object, then `JSON.stringify`s it - three allocations per record and field. Here the
 * per-batch parts (resource, scope, and each worker's attribute) are pre-serialised once, and a
 * record costs one template string, plus one string per field value (attributes.ts). The
 * encoding is small and fixed by the spec (lowerCamelCase keys, 64-bit integers as decimal
 * strings, bytes as base64, enums as numbers), and adding the SDK would pull a dependency tree
 * into a library that has none.
 */
export class OtlpJsonEncoder implements OtlpEncoder<string> {
  readonly contentType = "application/json";
  readonly #prefix: string;
  readonly #suffix = "]}]}]}";
  readonly #workerAttr = new Map<string, string>();

  constructor(resource: Readonly<Record<string, OtlpAttributeValue>>) {
    const attributes = Object.entries(resource)
      .map(([key, value]) => keyValueJson(key, anyValueJson(value)))
      .join(",");
    this.#prefix =
      `{"resourceLogs":[{"resource":{"attributes":[${attributes}]},"scopeLogs":[{"scope":` +
      `{"name":"logmux","version":"${SCOPE_VERSION}"},"logRecords":[`;
  }

  #worker(name: string): string {
    let attr = this.#workerAttr.get(name);
    if (attr === undefined) {
      attr = keyValueJson("logmux.worker.name", `{"stringValue":${JSON.stringify(name)}}`);
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
    const fields = record.fields;
    const err = record.err ?? (fields === undefined ? undefined : errorOf(fields));
    if (err !== undefined) attributes += exceptionAttributesJson(err);
    // trace_id, span_id and trace_flags go in the LogRecord's own fields, not also as attributes.
    const trace = traceOf(fields);
    if (fields !== undefined || err !== undefined)
      attributes += fieldAttributesJson(fields ?? {}, err, trace !== undefined);
    return (
      `{"timeUnixNano":"${record.timestampNs}","observedTimeUnixNano":"${observedNs}",` +
      `"severityNumber":${OTLP_SEVERITY_BY_LEVEL[level]},"severityText":"${LEVEL_NAMES[level]}",` +
      `"body":{"stringValue":${JSON.stringify(record.message)}},"attributes":[${attributes}]` +
      `${trace === undefined ? "" : traceJson(trace)}}`
    );
  }

  /** The request body for records already encoded with {@link record}. */
  request(encodedRecords: readonly string[]): string {
    return `${this.#prefix}${encodedRecords.join(",")}${this.#suffix}`;
  }

  body(encodedRecords: readonly string[]): Buffer {
    return Buffer.from(this.request(encodedRecords), "utf8");
  }
}

/** Nanoseconds since the epoch, from the high-resolution clock (Date.now() has only ms). */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
}
