/**
 * A record's fields as OTLP `KeyValue` attributes in OTLP/HTTP JSON (the proto3 JSON mapping of
 * opentelemetry/proto/common/v1/common.proto), written as text like the rest of the encoder.
 */

import { TRACE_FIELD_KEYS } from "./trace.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// The decisions below (which AnyValue a value becomes, which key a field is sent under, what an
// error carries) are exported for the protobuf encoder (attributes-proto.ts), so that both
// encodings carry the same data; only the spelling differs.
/** 2^63 as a double: the first integer-valued double past int64. */
const TWO_63 = 2 ** 63;

/**
 * Values nest at most this deep; deeper ones become "[Object]" / "[Array]". Each level is up to
 * three protobuf messages (AnyValue, KeyValueList, KeyValue) below the six of the request, and
 * protoc-based receivers refuse more than 100 nested messages. The worker's `limits.depth`
 * (default 8) has no upper bound, and a hand-built record may have a cycle.
 */
export const MAX_DEPTH = 20;

/** Causes followed in `exception.stacktrace`; like MAX_DEPTH, a guard against hand-built cycles. */
export const MAX_CAUSES = 16;

/**
 * Attribute keys the encoder sets itself. A field with one of these keys is sent as
 * `fields.<key>` instead: two values under one key would break the spec's unique-key rule, and the
 * encoder's own value is the one receivers rely on.
 */
export const RESERVED_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set([
  "logmux.worker.name",
  "process.pid",
  "logmux.data",
  "exception.type",
  "exception.message",
  "exception.stacktrace",
]);

/** Error properties the error's own kvlist spells out; an enumerable extra of that name is left out. */
const ERROR_KEYS = new Set(["type", "message", "stack", "cause"]);

function stringJson(text: string): string {
  return `{"stringValue":${JSON.stringify(text)}}`;
}

/** Whether a JS number is sent as `intValue` (an int64 integer, not -0) rather than `doubleValue`. */
export function isInt64Number(value: number): boolean {
  return Number.isInteger(value) && value >= -TWO_63 && value < TWO_63 && !Object.is(value, -0);
}

/** Whether a bigint is sent as `intValue`; one outside int64 is sent as its digits, a string. */
export function isInt64BigInt(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** A JS number as `intValue` (decimal string) when it is an int64, else as `doubleValue`. */
function numberJson(value: number): string {
  if (isInt64Number(value)) {
    // Past 2^53 a double prints as its shortest round-trip digits ("9223372036854775000"), a
    // different integer; BigInt gives the exact one.
    return `{"intValue":"${Number.isSafeInteger(value) ? value : BigInt(value)}"}`;
  }
  // proto3 JSON spells non-finite doubles as strings.
  if (!Number.isFinite(value))
    return `{"doubleValue":"${Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity"}"}`;
  return `{"doubleValue":${Object.is(value, -0) ? "-0" : value}}`;
}

export function dateText(date: Date): string {
  return Number.isNaN(date.getTime()) ? "Invalid Date" : date.toISOString();
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** `{"key":…,"value":…}`. */
export function keyValueJson(key: string, valueJson: string): string {
  return `{"key":${JSON.stringify(key)},"value":${valueJson}}`;
}

/** Whether an error's own enumerable property is sent among its extras. */
export function isErrorExtra(key: string, value: unknown): boolean {
  return value !== undefined && !ERROR_KEYS.has(key);
}

/** An Error nested in the fields: a kvlist of its type, message, stack, extras and cause. */
function errorJson(error: Error, depth: number): string {
  let pairs = keyValueJson("type", stringJson(error.name || "Error"));
  pairs += `,${keyValueJson("message", stringJson(error.message))}`;
  if (typeof error.stack === "string" && error.stack !== "")
    pairs += `,${keyValueJson("stack", stringJson(error.stack))}`;
  const extras = errorExtrasJson(error, depth);
  if (extras !== "") pairs += `,${extras}`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined) pairs += `,${keyValueJson("cause", anyValueJson(cause, depth + 1))}`;
  return `{"kvlistValue":{"values":[${pairs}]}}`;
}

/** The error's own enumerable properties (`code`, `errno`...) as comma-separated KeyValues. */
function errorExtrasJson(error: Error, depth: number): string {
  let pairs = "";
  const extras = error as unknown as Record<string, unknown>;
  for (const key of Object.keys(error)) {
    const value = extras[key];
    if (!isErrorExtra(key, value)) continue;
    pairs += `${pairs === "" ? "" : ","}${keyValueJson(key, anyValueJson(value, depth + 1))}`;
  }
  return pairs;
}

/**
 * One decoded field value as an OTLP `AnyValue`: strings (markers such as "[Circular]" included)
 * as `stringValue`; numbers as `intValue` when they are int64 integers, else `doubleValue`; bigint
 * as `intValue` within int64, else its digits as `stringValue`; booleans; Date as its ISO text;
 * Uint8Array as `bytesValue`; arrays as `arrayValue`; objects and Errors as `kvlistValue`; null
 * as an AnyValue with no value (the spec's empty value).
 */
export function anyValueJson(value: unknown, depth = 0): string {
  switch (typeof value) {
    case "string":
      return stringJson(value);
    case "number":
      return numberJson(value);
    case "boolean":
      return `{"boolValue":${value}}`;
    case "bigint":
      return isInt64BigInt(value) ? `{"intValue":"${value}"}` : stringJson(`${value}`);
    case "undefined":
      return "{}";
    case "object":
      break;
    default:
      // Functions and symbols reach here only from a hand-built record.
      return stringJson(String(value));
  }
  if (value === null) return "{}";
  if (depth >= MAX_DEPTH) return stringJson(Array.isArray(value) ? "[Array]" : "[Object]");
  if (value instanceof Date) return stringJson(dateText(value));
  if (value instanceof Uint8Array) return `{"bytesValue":"${base64(value)}"}`;
  if (value instanceof Error) return errorJson(value, depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '{"arrayValue":{}}';
    let items = "";
    for (let i = 0; i < value.length; i++)
      items += `${i === 0 ? "" : ","}${anyValueJson(value[i], depth + 1)}`;
    return `{"arrayValue":{"values":[${items}]}}`;
  }
  const object = value as Record<string, unknown>;
  let pairs = "";
  for (const key of Object.keys(object)) {
    const item = object[key];
    if (item === undefined) continue;
    pairs += `${pairs === "" ? "" : ","}${keyValueJson(key, anyValueJson(item, depth + 1))}`;
  }
  return pairs === "" ? '{"kvlistValue":{}}' : `{"kvlistValue":{"values":[${pairs}]}}`;
}

/**
 * The semantic-convention exception attributes of the record's error, each with a leading comma:
 * `exception.type`, `exception.message` and `exception.stacktrace`, the stack followed by one
 * `Caused by: <stack>` line group per cause in its chain.
 */
export function exceptionAttributesJson(error: Error): string {
  let out = `,${keyValueJson("exception.type", stringJson(error.name || "Error"))}`;
  out += `,${keyValueJson("exception.message", stringJson(error.message))}`;
  const trace = exceptionStacktrace(error);
  if (trace !== "") out += `,${keyValueJson("exception.stacktrace", stringJson(trace))}`;
  return out;
}

/** `exception.stacktrace`: the stack, then `Caused by: …` per cause; "" for none (then left out). */
export function exceptionStacktrace(error: Error): string {
  let trace = typeof error.stack === "string" ? error.stack : "";
  let cause = (error as { cause?: unknown }).cause;
  for (let i = 0; cause !== undefined && i < MAX_CAUSES; i++) {
    trace += `${trace === "" ? "" : "\n"}Caused by: ${causeText(cause)}`;
    cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
  }
  return trace;
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) {
    if (typeof cause.stack === "string" && cause.stack !== "") return cause.stack;
    return `${cause.name || "Error"}: ${cause.message}`;
  }
  if (typeof cause === "string") return cause;
  try {
    return JSON.stringify(cause, (_key, v: unknown) => (typeof v === "bigint" ? `${v}` : v)) ?? String(cause);
  } catch {
    return String(cause);
  }
}

/** The key a field is sent under: its own, or `fields.<key>` (repeated) while that is taken. */
export function attributeKey(key: string, fields: Readonly<Record<string, unknown>>): string {
  let name = key;
  while (RESERVED_ATTRIBUTE_KEYS.has(name) || (name !== key && Object.hasOwn(fields, name))) {
    name = `fields.${name}`;
  }
  return name;
}

/**
 * The record's fields as attributes, each with a leading comma. The field holding `err` (the
 * record's error, sent as `exception.*`) appears only when that error has extra properties such
 * as `code`, as a kvlist of just those; any other Error field is a full kvlist. With `traceSent`,
 * the trace context fields are left out: the LogRecord carries them (trace.ts).
 */
export function fieldAttributesJson(
  fields: Readonly<Record<string, unknown>>,
  err: Error | undefined,
  traceSent = false,
): string {
  let out = "";
  let errPlaced = err === undefined;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined || (traceSent && TRACE_FIELD_KEYS.has(key))) continue;
    if (!errPlaced && value === err) {
      errPlaced = true;
      const extras = errorExtrasJson(err, 0);
      if (extras !== "")
        out += `,${keyValueJson(attributeKey(key, fields), `{"kvlistValue":{"values":[${extras}]}}`)}`;
      continue;
    }
    out += `,${keyValueJson(attributeKey(key, fields), anyValueJson(value))}`;
  }
  if (!errPlaced) {
    // A hand-built record whose `err` is not among its fields: its extras go under "err".
    const extras = errorExtrasJson(err!, 0);
    if (extras !== "")
      out += `,${keyValueJson(looseErrorKey(fields), `{"kvlistValue":{"values":[${extras}]}}`)}`;
  }
  return out;
}

/** The key for the extras of a record's error that is not among its fields: "err", or `fields.err`... */
export function looseErrorKey(fields: Readonly<Record<string, unknown>>): string {
  let name = "err";
  while (RESERVED_ATTRIBUTE_KEYS.has(name) || Object.hasOwn(fields, name)) name = `fields.${name}`;
  return name;
}
