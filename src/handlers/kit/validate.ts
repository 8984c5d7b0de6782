import { InvalidConfigError } from "../../errors.js";

/**
 * The largest integer an option takes unless it says otherwise: Node's timers treat any delay above
 * 2^31 - 1 ms as 1 ms, so a larger "timeout" would silently become a hot loop.
 */
export const MAX_INT_OPTION = 2 ** 31 - 1;

/**
 * An integer option: `fallback` when absent, else an integer from `min` to `max`. The error names
 * the field and the accepted range ("expected an integer from 1 to 65535, got 70000").
 */
export function intOption(
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number = MAX_INT_OPTION,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidConfigError(field, `expected an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Milliseconds from a duration written as a number and a unit (`"500ms"`, `"1.5s"`, `"10m"`,
 * `"6h"`, `"1d"`), rounded; NaN for anything else. The one syntax of every option and flag that
 * takes a duration as text; each caller checks the range and words its own error.
 */
export function durationMs(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  return match === null ? Number.NaN : Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

/** A boolean option: `fallback` when absent, else exactly true or false. */
export function boolOption(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new InvalidConfigError(field, `expected true or false, got ${String(value)}`);
  }
  return value;
}

/** A string option: `fallback` when absent, else a string (non-empty unless `allowEmpty`). */
export function stringOption<F extends string | undefined>(
  field: string,
  value: unknown,
  fallback: F,
  allowEmpty = false,
): string | F {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || (!allowEmpty && value === "")) {
    throw new InvalidConfigError(
      field,
      `expected ${allowEmpty ? "a string" : "a non-empty string"}, got ${value === "" ? '""' : String(value)}`,
    );
  }
  return value;
}

/**
 * An absolute http:// or https:// URL. `example` shows what is accepted; the value given is not
 * echoed, because URLs often carry credentials.
 */
export function httpUrlOption(field: string, value: unknown, example: string): URL {
  if (typeof value !== "string" || !URL.canParse(value)) {
    throw new InvalidConfigError(field, `expected an http:// or https:// URL such as ${example}`);
  }
  const url = new URL(value);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidConfigError(field, `expected an http:// or https:// URL, got protocol ${url.protocol}`);
  }
  return url;
}

/** One of a fixed set of strings; the error lists them all. */
export function oneOfOption<T extends string>(
  field: string,
  value: unknown,
  fallback: T,
  allowed: readonly T[],
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `"${a}"`);
    const text = list.length > 1 ? `${list.slice(0, -1).join(", ")} or ${list.at(-1)}` : list.join("");
    throw new InvalidConfigError(field, `expected ${text}, got ${String(value)}`);
  }
  return value as T;
}
