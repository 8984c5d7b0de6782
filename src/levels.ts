/**
 * Severity levels, numbered like the wire format carries them (one byte, 0-5).
 *
 * @example
 * ```ts
 * new LoggerConfig({ baseLevel: LogLevel.WARNING });
 * ```
 */
export const LogLevel = {
  TRACE: 0,
  DEBUG: 1,
  INFO: 2,
  WARNING: 3,
  ERROR: 4,
  CRITICAL: 5,
} as const;

/** One of the numeric {@link LogLevel} values. */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Upper-case names indexed by level number, as `%(levelname)s` prints them. */
export const LEVEL_NAMES: readonly string[] = ["TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

export const MIN_LEVEL = LogLevel.TRACE;
export const MAX_LEVEL = LogLevel.CRITICAL;

/** Names accepted in configuration, including common aliases, mapped to their level. */
const LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = {
  TRACE: LogLevel.TRACE,
  DEBUG: LogLevel.DEBUG,
  INFO: LogLevel.INFO,
  WARNING: LogLevel.WARNING,
  WARN: LogLevel.WARNING,
  ERROR: LogLevel.ERROR,
  CRITICAL: LogLevel.CRITICAL,
  FATAL: LogLevel.CRITICAL,
};

export const ACCEPTED_LEVELS_TEXT =
  "a LogLevel (0-5) or one of TRACE, DEBUG, INFO, WARNING (WARN), ERROR, CRITICAL (FATAL)";

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "number" && Number.isInteger(value) && value >= MIN_LEVEL && value <= MAX_LEVEL;
}

/** Resolves a level given as a number or a case-insensitive name; `undefined` when it is neither. */
export function parseLevel(value: unknown): LogLevel | undefined {
  if (isLogLevel(value)) return value;
  if (typeof value === "string") return LEVEL_ALIASES[value.trim().toUpperCase()];
  return undefined;
}
