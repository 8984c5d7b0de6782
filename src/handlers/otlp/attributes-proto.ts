/**
 * A record's fields as OTLP `KeyValue` attributes in binary protobuf. Every decision (int64 or
 * double, bigint range, Date as ISO text, the depth cut, an Error's kvlist, `exception.*`, the
 * `fields.<key>` rule) is attributes.ts's; this file only spells the result as protobuf, walking
 * values in the same order, so both encodings carry the same attributes.
 */

import {
  attributeKey,
  dateText,
  exceptionStacktrace,
  isErrorExtra,
  isInt64BigInt,
  isInt64Number,
  looseErrorKey,
  MAX_DEPTH,
} from "./attributes.js";
import { F, type ProtoWriter } from "./proto-writer.js";
import { TRACE_FIELD_KEYS } from "./trace.js";

const V = F.anyValue;

/** The fields of one `AnyValue` message (its tag and length are the caller's). */
function anyValueBody(w: ProtoWriter, value: unknown, depth: number): void {
  switch (typeof value) {
    case "string":
      w.string(V.string, value);
      return;
    case "number":
      if (isInt64Number(value)) w.int64(V.int, value);
      else w.double(V.double, value);
      return;
    case "boolean":
      w.bool(V.bool, value);
      return;
    case "bigint":
      if (isInt64BigInt(value)) w.int64(V.int, value);
      else w.string(V.string, `${value}`);
      return;
    case "undefined":
      return;
    case "object":
      break;
    default:
      w.string(V.string, String(value));
      return;
  }
  if (value === null) return;
  if (depth >= MAX_DEPTH) {
    w.string(V.string, Array.isArray(value) ? "[Array]" : "[Object]");
    return;
  }
  if (value instanceof Date) w.string(V.string, dateText(value));
  else if (value instanceof Uint8Array) w.bytes(V.bytes, value);
  else if (value instanceof Error) {
    const list = w.begin(V.kvlist);
    errorPairs(w, value, depth);
    w.end(list);
  } else if (Array.isArray(value)) {
    const array = w.begin(V.array);
    for (let i = 0; i < value.length; i++) anyValue(w, F.values, value[i], depth + 1);
    w.end(array);
  } else {
    const object = value as Record<string, unknown>;
    const list = w.begin(V.kvlist);
    for (const key of Object.keys(object)) {
      const item = object[key];
      if (item !== undefined) keyValue(w, F.values, key, item, depth + 1);
    }
    w.end(list);
  }
}

/** An `AnyValue` as field `field` of the enclosing message. */
export function anyValue(w: ProtoWriter, field: number, value: unknown, depth = 0): void {
  const start = w.begin(field);
  anyValueBody(w, value, depth);
  w.end(start);
}

/** A `KeyValue` as field `field` of the enclosing message. */
export function keyValue(w: ProtoWriter, field: number, key: string, value: unknown, depth = 0): void {
  const start = w.begin(field);
  w.string(F.keyValue.key, key);
  anyValue(w, F.keyValue.value, value, depth);
  w.end(start);
}

/** A `KeyValue` with a string value. */
export function stringKeyValue(w: ProtoWriter, field: number, key: string, text: string): void {
  const start = w.begin(field);
  w.string(F.keyValue.key, key);
  const value = w.begin(F.keyValue.value);
  w.string(V.string, text);
  w.end(value);
  w.end(start);
}

function errorPairs(w: ProtoWriter, error: Error, depth: number): void {
  stringKeyValue(w, F.values, "type", error.name || "Error");
  stringKeyValue(w, F.values, "message", error.message);
  if (typeof error.stack === "string" && error.stack !== "")
    stringKeyValue(w, F.values, "stack", error.stack);
  errorExtras(w, F.values, error, depth);
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined) keyValue(w, F.values, "cause", cause, depth + 1);
}

/** The error's extras as KeyValues; whether there were any. */
function errorExtras(w: ProtoWriter, field: number, error: Error, depth: number): boolean {
  const extras = error as unknown as Record<string, unknown>;
  let any = false;
  for (const key of Object.keys(error)) {
    const value = extras[key];
    if (!isErrorExtra(key, value)) continue;
    keyValue(w, field, key, value, depth + 1);
    any = true;
  }
  return any;
}

/** `exception.type`, `exception.message` and (when there is one) `exception.stacktrace`. */
export function exceptionAttributes(w: ProtoWriter, field: number, error: Error): void {
  stringKeyValue(w, field, "exception.type", error.name || "Error");
  stringKeyValue(w, field, "exception.message", error.message);
  const trace = exceptionStacktrace(error);
  if (trace !== "") stringKeyValue(w, field, "exception.stacktrace", trace);
}

/** A KeyValue holding the kvlist of an error's extras, left out when it has none. */
function extrasKeyValue(w: ProtoWriter, field: number, key: string, error: Error): void {
  const mark = w.pos;
  const start = w.begin(field);
  w.string(F.keyValue.key, key);
  const value = w.begin(F.keyValue.value);
  const list = w.begin(V.kvlist);
  const any = errorExtras(w, F.values, error, 0);
  if (!any) {
    w.pos = mark;
    return;
  }
  w.end(list);
  w.end(value);
  w.end(start);
}

/**
 * The record's fields as attributes (field `field`), as fieldAttributesJson has them; with
 * `traceSent`, the trace context fields are left out (they went as the LogRecord's own).
 */
export function fieldAttributes(
  w: ProtoWriter,
  field: number,
  fields: Readonly<Record<string, unknown>>,
  err: Error | undefined,
  traceSent = false,
): void {
  let errPlaced = err === undefined;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined || (traceSent && TRACE_FIELD_KEYS.has(key))) continue;
    if (!errPlaced && value === err) {
      errPlaced = true;
      extrasKeyValue(w, field, attributeKey(key, fields), err);
      continue;
    }
    keyValue(w, field, attributeKey(key, fields), value);
  }
  if (!errPlaced) extrasKeyValue(w, field, looseErrorKey(fields), err!);
}
