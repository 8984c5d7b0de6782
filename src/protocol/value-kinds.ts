import { types } from "node:util";

// What the value writer needs to know about the values a caller hands it; no state of its own.

/** An Error of this realm or another (worker_threads, vm). */
export function isError(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (value instanceof Error) return true;
  // The binding call (an Error of another realm) only for what is not a plain object: log calls
  // ask this of every trailing argument.
  return Object.getPrototypeOf(value) !== Object.prototype && types.isNativeError(value);
}

/** pino's `type`: the constructor's name, else `name`. */
export function errorType(error: Error): string {
  try {
    const ctor = (error as { constructor?: unknown }).constructor;
    if (typeof ctor === "function" && ctor.name !== "") return ctor.name;
    return typeof error.name === "string" ? error.name : "Error";
  } catch {
    return "Error";
  }
}

export function noEnumerableKeys(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/** The marker for a value whose reading threw. */
export function unloggable(error: unknown): string {
  let reason: string;
  try {
    reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    reason = "unknown";
  }
  return `[Unloggable: ${reason.slice(0, 200)}]`;
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  let bytes = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdbff ? 4 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    if (size === 4) i++;
  }
  return text.slice(0, i);
}
