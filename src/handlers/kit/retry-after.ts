/**
 * The longest wait a server's answer can impose, in ms. Discord and Slack ask for seconds, Telegram
 * for seconds to minutes; a day-long value is a misparse or a misbehaving proxy, and obeying it
 * would silence a handler until the next deploy. An hour keeps a real, long flood-wait honoured.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** RFC 9110 delta-seconds, plus the fraction Discord and Slack put after it ("1.25"). */
const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;

/**
 * `Retry-After` (RFC 9110 §10.2.3) in ms: delta-seconds (with a fraction, as Discord and Slack send
 * it) or an HTTP-date, relative to `now`. A date in the past is 0. Undefined when absent or
 * unparsable; clamped to {@link MAX_RETRY_AFTER_MS}.
 *
 * @example parseRetryAfter("1.5") // 1500
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (DELTA_SECONDS.test(trimmed)) return clampMs(Number(trimmed) * 1000);
  // Only a string with a letter can be a date: Date.parse("2") would read a bare number as a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : clampMs(date - now);
}

/**
 * A JSON body's seconds (Discord's `retry_after`, Telegram's `parameters.retry_after`) in ms:
 * undefined unless a finite number >= 0; clamped to {@link MAX_RETRY_AFTER_MS}.
 */
export function retryAfterSecondsToMs(seconds: unknown): number | undefined {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return undefined;
  return clampMs(seconds * 1000);
}

function clampMs(ms: number): number {
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
