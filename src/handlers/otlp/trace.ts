/**
 * The trace context a record carries as fields (`trace_id`, `span_id`, `trace_flags`: what the
 * worker's `traceContext` option writes, and what pino's OpenTelemetry instrumentation writes),
 * for the LogRecord's own `traceId`, `spanId` and `flags`, which backends use to link a log to its
 * trace. Fields that are not a valid W3C trace context stay attributes.
 */

/** The fields this module reads; sent as the LogRecord's own fields instead of as attributes. */
export const TRACE_FIELD_KEYS: ReadonlySet<string> = new Set(["trace_id", "span_id", "trace_flags"]);

export interface RecordTrace {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  spanId: string;
  /** The W3C trace flags (bit 0: sampled), 0 when the record has none. */
  flags: number;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZEROS = /^0+$/;
const FLAGS = /^[0-9a-f]{1,2}$/;

function flagsOf(value: unknown): number {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 && value <= 0xff ? value : 0;
  if (typeof value === "string" && FLAGS.test(value)) return Number.parseInt(value, 16);
  return 0;
}

/** The record's trace context, or undefined unless both ids are valid. */
export function traceOf(fields: Readonly<Record<string, unknown>> | undefined): RecordTrace | undefined {
  if (fields === undefined) return undefined;
  const traceId = fields.trace_id;
  const spanId = fields.span_id;
  if (typeof traceId !== "string" || typeof spanId !== "string") return undefined;
  if (!TRACE_ID.test(traceId) || !SPAN_ID.test(spanId) || ZEROS.test(traceId) || ZEROS.test(spanId))
    return undefined;
  return { traceId, spanId, flags: flagsOf(fields.trace_flags) };
}

/**
 * The LogRecord members of OTLP/HTTP JSON, each with a leading comma: ids as hex (OTLP/JSON's
 * exception to proto3 JSON's base64 for bytes), `flags` (fixed32) as a number.
 */
export function traceJson(trace: RecordTrace): string {
  return `,"traceId":"${trace.traceId}","spanId":"${trace.spanId}","flags":${trace.flags}`;
}
