import { errorType, isError } from "../protocol/value-kinds.js";
import { FormattedArg } from "../protocol/value-reader.js";

/**
 * JSON text of field values for {@link JsonLines}, from JavaScript values: the object path, and
 * the slow path of the byte transcoder (json-transcode.ts), which decodes a value it cannot copy
 * and renders it here, so both give the same bytes by construction.
 */

/** The keys a JSON line has of its own; `data` only when the record has an attachment. */
export const LINE_KEYS: readonly string[] = ["level", "time", "pid", "hostname", "name", "msg"];

/** What a field whose key clashes with a line key is renamed with (repeatedly, until unique). */
export const CLASH_PREFIX = "fields.";

/**
 * Past this nesting a value of a hand-built record is shown as a marker. Decoded values stop at
 * MAX_DECODE_DEPTH (64), well inside it, so the byte path never meets this limit.
 */
const MAX_RENDER_DEPTH = 100;

/** The line key a field must not take, if `key` is one. */
export function clashes(key: string, hasData: boolean): boolean {
  return LINE_KEYS.includes(key) || (hasData && key === "data");
}

/**
 * The key `key` is written under: itself, or when it clashes with a line key, prefixed with
 * `fields.` as many times as it takes not to meet another key of the record.
 */
export function outputKey(key: string, fields: Readonly<Record<string, unknown>>, hasData: boolean): string {
  if (!clashes(key, hasData)) return key;
  let renamed = CLASH_PREFIX + key;
  while (Object.hasOwn(fields, renamed)) renamed = CLASH_PREFIX + renamed;
  return renamed;
}

/**
 * `,"key":value` for each field in the object's own order, values undefined (or functions,
 * symbols) left out as JSON.stringify leaves them out.
 */
export function fieldsJson(fields: Readonly<Record<string, unknown>>, hasData: boolean): string {
  let out = "";
  const path: object[] = [fields];
  for (const key of Object.keys(fields)) {
    const text = valueJson(fields[key], path);
    if (text === undefined) continue;
    out += `,${JSON.stringify(outputKey(key, fields, hasData))}:${text}`;
  }
  return out;
}

/**
 * The JSON text of one value, or undefined for a value JSON leaves out (undefined, a function, a
 * symbol). Numbers as JSON.stringify has them (NaN and ±Infinity become null), a bigint as its exact
 * digits, a Date as its ISO string (null when invalid), a Uint8Array as base64, an Error in pino's
 * shape (see {@link errorJson}). `path` holds the objects enclosing the value, so a cycle in a
 * hand-built record becomes `"[Circular]"` instead of a stack overflow.
 */
export function valueJson(value: unknown, path: object[] = []): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "object":
      return value === null ? "null" : objectJson(value, path);
    default:
      return undefined;
  }
}

function objectJson(value: object, path: object[]): string | undefined {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "null" : `"${value.toISOString()}"`;
  }
  if (value instanceof Uint8Array) {
    return `"${Buffer.from(value.buffer, value.byteOffset, value.length).toString("base64")}"`;
  }
  if (value instanceof FormattedArg) return JSON.stringify(value.text);
  if (path.includes(value)) return '"[Circular]"';
  if (path.length >= MAX_RENDER_DEPTH) return Array.isArray(value) ? '"[Array]"' : '"[Object]"';
  path.push(value);
  try {
    if (isError(value)) return errorJson(value as Error, path);
    if (Array.isArray(value)) {
      let out = "[";
      for (let i = 0; i < value.length; i++) {
        if (i > 0) out += ",";
        out += valueJson(value[i], path) ?? "null";
      }
      return `${out}]`;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return valueJson(toJSON.call(value), path);
    return pairsJson(value as Record<string, unknown>, path);
  } catch {
    // Only a hand-built record gets here (a getter or toJSON that throws): the line still goes out.
    return '"[Unloggable]"';
  } finally {
    path.pop();
  }
}

function pairsJson(object: Record<string, unknown>, path: object[]): string {
  let out = "";
  for (const key of Object.keys(object)) {
    const text = valueJson(object[key], path);
    if (text === undefined) continue;
    out += `${out === "" ? "" : ","}${JSON.stringify(key)}:${text}`;
  }
  return `{${out}}`;
}

/** Properties an Error shows in its own right; an extra property of the same name does not replace them. */
const ERROR_OWN_KEYS = new Set(["type", "message", "stack", "cause"]);

/**
 * pino's err shape: `{"type":..,"message":..,"stack":..,<other own enumerable properties such as
 * "code">,"cause":<the same shape, or the value when the cause is no Error>}`. A decoded Error is
 * an `Error` whose `name` holds the type the worker sent; any other Error's type is its
 * constructor's name, as pino has it.
 */
function errorJson(error: Error, path: object[]): string {
  const type = error.constructor === Error ? String(error.name) : errorType(error);
  const message = (error as { message?: unknown }).message;
  const stack = (error as { stack?: unknown }).stack;
  let out = `{"type":${JSON.stringify(type)},"message":${JSON.stringify(
    typeof message === "string" ? message : String(message ?? ""),
  )},"stack":${JSON.stringify(typeof stack === "string" ? stack : "")}`;
  const record = error as unknown as Record<string, unknown>;
  for (const key of Object.keys(error)) {
    if (ERROR_OWN_KEYS.has(key)) continue;
    const text = valueJson(record[key], path);
    if (text !== undefined) out += `,${JSON.stringify(key)}:${text}`;
  }
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause === undefined ? undefined : valueJson(cause, path);
  if (causeText !== undefined) out += `,"cause":${causeText}`;
  return `${out}}`;
}
