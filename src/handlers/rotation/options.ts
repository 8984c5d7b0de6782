import { InvalidConfigError } from "../../errors.js";
import { durationMs } from "../kit/validate.js";

/** `rotate` in {@link FileLogHandlerOptions}: when the file is rotated, and what is kept. */
export interface RotateOptions {
  /**
   * Rotate before a write would take the file past this size. A number is bytes; a string is a
   * number with a unit, `B`, `KB`, `MB` or `GB` (also `K`, `M`, `G`, `KiB`, `MiB`, `GiB`, any
   * case). Units are binary (1 KB = 1024 bytes), as in logrotate, pino-roll and
   * rotating-file-stream, so `"100MB"` means what it means in the logrotate config it replaces.
   * A file is rotated only between slices of lines, so it ends at most this large, unless one slice
   * alone (at most 256 KiB of input) is larger.
   * @default no size limit
   * @example { size: "100MB" } or { size: 50 * 1024 * 1024 }
   */
  size?: number | string;
  /**
   * Rotate once the file has been in use this long, counted from when it began (its birth time,
   * when the filesystem records one, for a file that was already there). A number is
   * milliseconds; a string is a number with a unit, `s`, `m` (minutes), `h` or `d`. At least 1 s.
   * @default no age limit
   * @example { interval: "1d" } or { interval: "6h" }
   */
  interval?: number | string;
  /**
   * Rotate at every local midnight (the machine's time zone, `TZ`), so each rotated file holds
   * one calendar day (or less, with `size` too).
   * @default false
   * @example { atMidnight: true, keep: 30 }
   */
  atMidnight?: boolean;
  /**
   * How many rotated files to keep besides the file being written; once there are more, the
   * oldest are deleted. Only files named like this handler's rotated files are ever deleted.
   * `Infinity` keeps them all.
   * @default 14
   * @example { keep: 30 }
   */
  keep?: number;
  /**
   * Gzip each rotated file to `<name>.gz` in the background (node:zlib on libuv's thread pool,
   * while the handler writes to the new file), then delete the uncompressed one.
   * @default false
   * @example { size: "100MB", compress: true }
   */
  compress?: boolean;
}

/** {@link RotateOptions} checked and in numbers. */
export interface RotationPlan {
  /** Bytes, or undefined for no size trigger. */
  size: number | undefined;
  /** Milliseconds, or undefined for no age trigger. */
  intervalMs: number | undefined;
  atMidnight: boolean;
  keep: number;
  compress: boolean;
}

const DEFAULT_KEEP = 14;
/** Shorter would rotate faster than anyone reads a file, and is surely a unit mistake ("1" meaning 1 s). */
const MIN_INTERVAL_MS = 1000;
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};
const ACCEPTED_KEYS = ["size", "interval", "atMidnight", "keep", "compress"];
const SIZE_TEXT = 'a number of bytes, or a string like "100MB" (units B, KB, MB, GB; 1 KB = 1024 B)';
const INTERVAL_TEXT = `milliseconds (at least ${MIN_INTERVAL_MS}), or a string like "1d", "6h", "30m", "90s"`;

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** Bytes from `"100MB"`, `"1.5 GB"`, `"512k"` or a number; InvalidConfigError naming `field` otherwise. */
export function parseSize(field: string, value: unknown): number {
  let bytes = Number.NaN;
  if (typeof value === "number") bytes = value;
  else if (typeof value === "string") {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const unit = SIZE_UNITS[(match?.[2] || "b").toLowerCase()];
    if (match && unit !== undefined) bytes = Math.floor(Number(match[1]) * unit);
  }
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidConfigError(field, `expected ${SIZE_TEXT}, at least 1 byte; got ${show(value)}`);
  }
  return bytes;
}

/** Milliseconds from `"1d"`, `"6h"`, `"30m"`, `"90s"` or a number; InvalidConfigError naming `field` otherwise. */
export function parseInterval(field: string, value: unknown): number {
  let ms = Number.NaN;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") ms = durationMs(value);
  if (!Number.isSafeInteger(ms) || ms < MIN_INTERVAL_MS) {
    throw new InvalidConfigError(field, `expected ${INTERVAL_TEXT}; got ${show(value)}`);
  }
  return ms;
}

/** Checks `rotate` at construction: every problem names its field (`rotate.size`) and what is accepted. */
export function rotationPlan(value: unknown): RotationPlan {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidConfigError(
      "rotate",
      `expected an object such as { size: "100MB", keep: 14 }, got ${show(value)}`,
    );
  }
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!ACCEPTED_KEYS.includes(key)) {
      throw new InvalidConfigError(
        "rotate",
        `unknown key "${key}"; accepted keys: ${ACCEPTED_KEYS.join(", ")}`,
      );
    }
  }
  const plan: RotationPlan = {
    size: options.size === undefined ? undefined : parseSize("rotate.size", options.size),
    intervalMs:
      options.interval === undefined ? undefined : parseInterval("rotate.interval", options.interval),
    atMidnight: false,
    keep: DEFAULT_KEEP,
    compress: false,
  };
  for (const key of ["atMidnight", "compress"] as const) {
    const flag = options[key];
    if (flag === undefined) continue;
    if (typeof flag !== "boolean") {
      throw new InvalidConfigError(`rotate.${key}`, `expected true or false, got ${show(flag)}`);
    }
    plan[key] = flag;
  }
  const keep = options.keep;
  if (keep !== undefined) {
    if (
      typeof keep !== "number" ||
      !(keep === Number.POSITIVE_INFINITY || Number.isSafeInteger(keep)) ||
      keep < 1
    ) {
      throw new InvalidConfigError(
        "rotate.keep",
        `expected a whole number of rotated files of at least 1, or Infinity to keep them all; got ${show(keep)}`,
      );
    }
    plan.keep = keep;
  }
  if (plan.size === undefined && plan.intervalMs === undefined && !plan.atMidnight) {
    throw new InvalidConfigError(
      "rotate",
      "says nothing about when to rotate: give at least one of size, interval, atMidnight: true",
    );
  }
  return plan;
}
