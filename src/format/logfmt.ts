import { renderData } from "./data.js";

/**
 * Fields as logfmt: `userId=42 plan=pro note="two words"`. Nested objects flatten to dotted keys
 * (`req.method=GET`), arrays are JSON text, an Error is `Type: message` (its stack follows the
 * line, see stack.ts), a Date its ISO time, bytes as the attachment renders. A value is quoted
 * when it is empty or holds a space, `=`, `"`, a backslash or a control character; inside quotes
 * `"` and `\` are escaped, and newlines, tabs and other control characters are written as
 * escapes, so a record stays one line. Keys lose what logfmt cannot carry (space, `=`, `"`,
 * control characters become `_`).
 */
export function logfmt(fields: Readonly<Record<string, unknown>>, skip?: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const key in fields) {
    if (skip?.has(key)) continue;
    pushPairs(parts, safeKey(key), fields[key], 0);
  }
  return parts.join(" ");
}

/** Objects nested deeper than this are written as JSON text rather than flattened further. */
const MAX_FLATTEN_DEPTH = 4;

/** Appends the logfmt pairs of one field (several for an object, which flattens). */
export function pushPairs(parts: string[], key: string, value: unknown, depth: number): void {
  if (value === undefined) return;
  if (isPlainObject(value) && depth < MAX_FLATTEN_DEPTH) {
    let any = false;
    for (const inner in value as Record<string, unknown>) {
      any = true;
      pushPairs(parts, `${key}.${safeKey(inner)}`, (value as Record<string, unknown>)[inner], depth + 1);
    }
    if (!any) parts.push(`${key}={}`);
    return;
  }
  parts.push(`${key}=${quote(fieldText(value))}`);
}

/** The text of one field value, unquoted: what `%(key)s` prints. */
export function fieldText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    case "undefined":
      return "";
    default:
      break;
  }
  if (value === null) return "null";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Uint8Array) return renderData(value);
  return jsonText(value);
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  if (value instanceof Date || value instanceof Error || value instanceof Uint8Array) return false;
  return true;
}

const NEEDS_QUOTES = /[\s="\\\u0000-\u001f\u007f]/;
const ESCAPED = /["\\\u0000-\u001f\u007f]/g;
const BAD_KEY = /[\s="\u0000-\u001f\u007f]/g;

function quote(text: string): string {
  if (text !== "" && !NEEDS_QUOTES.test(text)) return text;
  return `"${text.replace(ESCAPED, escapeChar)}"`;
}

function escapeChar(char: string): string {
  switch (char) {
    case '"':
      return '\\"';
    case "\\":
      return "\\\\";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default:
      return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  }
}

function safeKey(key: string): string {
  return key === "" ? "_" : key.replace(BAD_KEY, "_");
}
