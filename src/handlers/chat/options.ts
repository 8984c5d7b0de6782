import type { LogLevel } from "../../levels.js";
import type { BaseLogHandlerOptions } from "../base.js";

/** Options shared by {@link DiscordLogHandler}, {@link TelegramLogHandler} and {@link SlackLogHandler}. */
export interface ChatLogHandlerOptions extends BaseLogHandlerOptions {
  /**
   * The lowest level sent. Chat channels are for things someone should look at, so the default
   * leaves out INFO and below.
   * @default LogLevel.WARNING
   * @example { level: LogLevel.ERROR } or { level: "error" }
   */
  level?: LogLevel | string;
  /**
   * Most lines held while waiting to send. Past it the oldest lines are dropped and replaced by
   * one "… N earlier lines suppressed" line, and the exact count is reported as a warning.
   * @default 1000
   * @example { maxQueueLines: 200 }
   */
  maxQueueLines?: number;
  /**
   * Most characters held while waiting to send (same policy as `maxQueueLines`), so a few huge
   * records cannot hold megabytes in memory for hours of rate-limited sending.
   * @default 1000000
   * @example { maxQueueChars: 200000 }
   */
  maxQueueChars?: number;
  /**
   * Sustained pacing: one request per this many milliseconds on average (retries included).
   * Each handler's default follows its service's documented limit.
   * @default Discord 2000, Telegram 1000 (3000 with `group: true`), Slack 1000
   * @example { minIntervalMs: 5000 }
   */
  minIntervalMs?: number;
  /**
   * Requests that may go out back to back before `minIntervalMs` pacing applies.
   * @default Discord 5, Telegram 1, Slack 3
   * @example { burst: 1 }
   */
  burst?: number;
  /**
   * How long the first line of a quiet period waits for company before it is sent, so a burst of
   * records becomes one message instead of several.
   * @default 250
   * @example { lingerMs: 1000 }
   */
  lingerMs?: number;
  /**
   * Attempts per message when the network fails or the service answers 5xx; then the message is
   * counted as failed and reported. Rate-limit answers (429) wait as told and do not use attempts.
   * @default 5
   * @example { maxAttempts: 3 }
   */
  maxAttempts?: number;
  /**
   * First retry delay after a transient failure; it doubles per attempt (with jitter: each delay
   * is between half and all of its step) up to `retryMaxMs`.
   * @default 1000
   * @example { retryBaseMs: 500 }
   */
  retryBaseMs?: number;
  /**
   * Longest delay between two attempts at one message.
   * @default 30000
   * @example { retryMaxMs: 10000 }
   */
  retryMaxMs?: number;
  /**
   * Per-request timeout: a request that has not completed by then is aborted and retried.
   * @default 10000
   * @example { requestTimeoutMs: 5000 }
   */
  requestTimeoutMs?: number;
  /**
   * How long `close()` keeps sending what is queued (still respecting the rate limits) before it
   * gives up, counts the rest as failed and rejects saying how many lines it could not send.
   * @default 5000
   * @example { closeTimeoutMs: 10000 }
   */
  closeTimeoutMs?: number;
}

/** Counters of a chat handler; every accepted line ends in exactly one of sent, suppressed or failed. */
export interface ChatHandlerStats {
  /** Lines handed to the handler (after level filtering). */
  readonly acceptedLines: number;
  /** Messages (HTTP requests) the service accepted. */
  readonly sentMessages: number;
  /** Lines delivered in full. */
  readonly sentLines: number;
  /** Oldest lines dropped because the queue was full (each gap was announced by a summary line). */
  readonly suppressedLines: number;
  /** Lines given up on: rejected, out of attempts, endpoint gone, or unsent at close. */
  readonly failedLines: number;
  /** Lines waiting to be sent. */
  readonly queuedLines: number;
  /** Retries after transient failures. */
  readonly retries: number;
  /** 429 answers received. */
  readonly rateLimited: number;
  /** True once the endpoint said it is gone (401/403/404); nothing more is sent. */
  readonly stopped: boolean;
}

/** How a subclass reads one response. */
export type ChatVerdict =
  | { readonly kind: "sent" }
  /** 429: wait this long, then resend the same message. */
  | { readonly kind: "rate-limited"; readonly retryAfterMs: number | undefined }
  /** Transient (5xx and the like): resend with backoff while attempts remain. */
  | { readonly kind: "retry"; readonly reason: string }
  /** This message was refused for good (e.g. 400); drop it and go on with the next. */
  | { readonly kind: "reject"; readonly reason: string }
  /** The endpoint is gone or refuses us (401/403/404): stop sending altogether. */
  | { readonly kind: "stop"; readonly reason: string };

/** What a subclass tells the shared machinery about its service. */
export interface ChatProfile {
  /** Hard limit of the service on one message's text. */
  readonly maxMessageChars: number;
  readonly defaultMinIntervalMs: number;
  readonly defaultBurst: number;
  /** Names the endpoint in reports without its secret part, e.g. "Discord webhook at 127.0.0.1:80". */
  readonly service: string;
}
