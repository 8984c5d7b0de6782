/**
 * A record's fields as RFC 5424 SD-PARAMs (section 6.3.3): names sanitised to PARAM-NAME, nested
 * objects flattened with dotted names, values as text with `"`, `\` and `]` escaped.
 */

/** RFC 5424 6.3.2/6.3.3: an SD-NAME (SD-ID, PARAM-NAME) has at most 32 characters. */
export const MAX_SD_NAME = 32;

/** Objects nest at most this deep before the rest is written as JSON text (guards hand-built cycles). */
const MAX_DEPTH = 32;

/** Escapes a PARAM-VALUE per RFC 5424 6.3.3: `"`, `\` and `]` are preceded by a backslash. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, "\\$&");
}

/** True for a character allowed in an SD-NAME: PRINTUSASCII (33-126) except `=`, `]` and `"`. */
function sdNameChar(code: number): boolean {
  return code >= 33 && code <= 126 && code !== 61 && code !== 93 && code !== 34;
}

const nameCache = new Map<string, string>();

/**
 * A valid PARAM-NAME for `key`: every character outside PRINTUSASCII, and `=`, `]`, `"`, becomes
 * `_` (one per character, so "é" is one `_`), the result is cut to 32 characters, and an empty key
 * is `_`. Two keys may sanitise to the same name; both params are written.
 */
export function paramName(key: string): string {
  let name = nameCache.get(key);
  if (name !== undefined) return name;
  name = "";
  for (const char of key) {
    if (name.length >= MAX_SD_NAME) break;
    name += sdNameChar(char.charCodeAt(0)) && char.length === 1 ? char : "_";
  }
  if (name === "") name = "_";
  // Field keys repeat from record to record; the cap only guards against keys minted per record.
  if (nameCache.size >= 4096) nameCache.clear();
  nameCache.set(key, name);
  return name;
}

/**
 * True when `id` is a valid private SD-ID: `name@<enterprise number>`, at most 32 PRINTUSASCII
 * characters, without `=`, `]`, `"` or a second `@` (RFC 5424 6.3.2; names without `@` are
 * reserved for IANA registration).
 */
export function isPrivateSdId(id: unknown): id is string {
  if (typeof id !== "string" || id.length > MAX_SD_NAME) return false;
  for (let i = 0; i < id.length; i++) if (!sdNameChar(id.charCodeAt(i))) return false;
  return /^[^@]+@\d+$/.test(id);
}

function dateText(date: Date): string {
  return Number.isNaN(date.getTime()) ? "Invalid Date" : date.toISOString();
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * JSON text for an array (and anything nested in one): bigint as its digits, Date as its ISO
 * string, Uint8Array as a base64 string, an Error as `{"type","message",...extras}`, non-finite
 * numbers as the strings "NaN", "Infinity", "-Infinity", and null for undefined in an array.
 */
export function jsonText(value: unknown, depth = 0): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : `"${value}"`;
    case "bigint":
      return `${value}`;
    case "boolean":
      return String(value);
    case "object":
      break;
    case "undefined":
      return "null";
    default:
      return JSON.stringify(String(value));
  }
  if (value === null) return "null";
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '"[Array]"' : '"[Object]"';
  if (value instanceof Date) return JSON.stringify(dateText(value));
  if (value instanceof Uint8Array) return `"${base64(value)}"`;
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += `${i === 0 ? "" : ","}${jsonText(value[i], depth + 1)}`;
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = "{";
  if (value instanceof Error) {
    out += `"type":${JSON.stringify(value.name || "Error")},"message":${JSON.stringify(value.message)}`;
  }
  for (const key of Object.keys(object)) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out === "{" ? "" : ","}${JSON.stringify(key)}:${jsonText(item, depth + 1)}`;
  }
  return `${out}}`;
}

/**
 * Appends ` name="value"` params for `value` under the dotted name `path`. Objects are flattened
 * (`req.method`), an empty one is `{}`; an Error is `path.type`, `path.message`, its extras
 * (`path.code`) and its cause (`path.cause.type`...), its stack left to MSG; arrays are JSON text.
 */
function addParams(out: string[], path: string, value: unknown, depth: number): void {
  let text: string;
  switch (typeof value) {
    case "string":
      text = value;
      break;
    case "number":
    case "boolean":
    case "bigint":
      text = String(value);
      break;
    case "undefined":
      return;
    case "object": {
      if (value === null) text = "null";
      else if (value instanceof Date) text = dateText(value);
      else if (value instanceof Uint8Array) text = base64(value);
      else if (Array.isArray(value) || depth >= MAX_DEPTH) text = jsonText(value, depth);
      else {
        const object = value as Record<string, unknown>;
        const before = out.length;
        if (value instanceof Error) {
          addParams(out, `${path}.type`, value.name || "Error", depth + 1);
          addParams(out, `${path}.message`, value.message, depth + 1);
        }
        for (const key of Object.keys(object)) addParams(out, `${path}.${key}`, object[key], depth + 1);
        if (value instanceof Error) {
          const cause = (value as { cause?: unknown }).cause;
          if (cause !== undefined) addParams(out, `${path}.cause`, cause, depth + 1);
        }
        if (out.length > before) return;
        text = "{}";
      }
      break;
    }
    default:
      text = String(value);
  }
  out.push(` ${paramName(path)}="${escapeParamValue(text)}"`);
}

/** The fields as SD-PARAMs, each ` name="value"` with its leading space, in field order. */
export function fieldParams(fields: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(fields)) addParams(out, key, fields[key], 0);
  return out;
}
