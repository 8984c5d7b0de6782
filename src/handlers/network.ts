import { HandlerError, InvalidConfigError } from "../errors.js";
import { LogLevel } from "../levels.js";
import type { LogRecord } from "../record.js";
import { describeError, redact } from "../redact.js";
import { BaseLogHandler, type BaseLogHandlerOptions } from "./base.js";

/** Options shared by {@link DiscordLogHandler}, {@link TelegramLogHandler} and {@link SlackLogHandler}. */
export interface NetworkLogHandlerOptions extends BaseLogHandlerOptions {
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
   * First retry delay after a transient failure; it doubles per attempt (with jitter) up to
   * `retryMaxMs`.
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
   * gives up and reports how many lines it could not send.
   * @default 5000
   * @example { closeTimeoutMs: 10000 }
   */
  closeTimeoutMs?: number;
}

/** Counters of a network handler; every accepted line ends in exactly one of sent, suppressed or failed. */
export interface NetworkHandlerStats {
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
export type NetworkVerdict =
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
export interface NetworkProfile {
  /** Hard limit of the service on one message's text. */
  readonly maxMessageChars: number;
  readonly defaultMinIntervalMs: number;
  readonly defaultBurst: number;
  /** Names the endpoint in reports without its secret part. */
  readonly label: string;
}

interface Message {
  readonly text: string;
  /** Entries whose last piece is in this message. */
  readonly lines: number;
  /** Whether entries completed here had an earlier piece fail (they count as failed, not sent). */
  readonly damagedLines: number;
  /** True when the message ends with a piece of an entry that continues in the next one. */
  readonly endsPartial: boolean;
}

/**
 * Bounds a response body we read for error reports; services answer errors in a few hundred bytes.
 * Applied only after redaction (see {@link reportedBody}): a secret cut in half no longer matches
 * the redactor, so cutting first would print the half before the cut.
 */
export const MAX_REPORTED_BODY_CHARS = 300;

/** A response body as it may appear in a report: secrets removed first, then bounded. */
export function reportedBody(body: string, secrets: readonly string[]): string {
  return redact(body, secrets).slice(0, MAX_REPORTED_BODY_CHARS);
}

/** Below this many pending entries the queue array is not worth compacting. */
const COMPACT_MIN_HEAD = 1024;

function readInt(field: string, value: unknown, fallback: number, min: number, what = "an integer"): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new InvalidConfigError(field, `expected ${what} >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * Parses `Retry-After` (RFC 9110: delay in seconds, or an HTTP date) into milliseconds. Services
 * in this file send seconds, Discord sometimes with a fraction.
 */
export function parseRetryAfterHeader(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Index at which to cut `text` so the first part has at most `max` UTF-16 units and ends no pair. */
export function cutIndex(text: string, max: number): number {
  if (text.length <= max) return text.length;
  // Prefer the last newline inside a multi-line record: the cut then falls on a line boundary.
  const newline = text.lastIndexOf("\n", max);
  if (newline > 0) return newline;
  let at = Math.max(1, max);
  const code = text.charCodeAt(at - 1);
  // Never separate a high surrogate from the low surrogate after it.
  if (code >= 0xd800 && code <= 0xdbff && at > 1) at--;
  return at;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * What the chat handlers share: a bounded line queue filled by a `push()` that never waits, and
 * one background loop that coalesces lines into messages, paces requests with a token bucket,
 * honours rate-limit answers, retries transient failures with backoff, and stops for good when the
 * endpoint says it is gone. Subclasses describe their service: URL, body, and how to read answers.
 */
export abstract class NetworkLogHandler extends BaseLogHandler {
  readonly #profile: NetworkProfile;
  readonly #maxQueueLines: number;
  readonly #maxQueueChars: number;
  readonly #minIntervalMs: number;
  readonly #burst: number;
  readonly #lingerMs: number;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #requestTimeoutMs: number;
  readonly #closeTimeoutMs: number;

  // The queue: entries[head..] are pending, oldest first. The head entry may be partly sent.
  #entries: string[] = [];
  #head = 0;
  #queuedChars = 0;
  #headDamaged = false;
  #firstQueuedAt = 0;
  /** Lines dropped since the last summary line was put in a message. */
  #unannouncedSuppressed = 0;

  #tokens: number;
  #refilledAt = performance.now();
  /** No request before this time (performance.now() ms), from 429s and exhausted buckets. */
  #blockedUntil = 0;

  #pump: Promise<void> | undefined;
  /** Cut short by a full message or by close(), so the linger wait ends early. */
  #lingerCut: AbortController | undefined;
  /** Aborted when close() runs out of time: every wait and request ends at once. */
  readonly #abort = new AbortController();
  #closing: Promise<void> | undefined;
  #closed = false;
  #stopped = false;
  #inFlight: Message | undefined;

  #acceptedLines = 0;
  #sentMessages = 0;
  #sentLines = 0;
  #suppressedLines = 0;
  #failedLines = 0;
  #retries = 0;
  #rateLimited = 0;

  protected constructor(options: NetworkLogHandlerOptions, profile: NetworkProfile) {
    super({ ...options, level: options.level ?? LogLevel.WARNING });
    this.#profile = profile;
    this.#maxQueueLines = readInt("maxQueueLines", options.maxQueueLines, 1000, 1);
    this.#maxQueueChars = readInt("maxQueueChars", options.maxQueueChars, 1_000_000, 1);
    this.#minIntervalMs = readInt("minIntervalMs", options.minIntervalMs, profile.defaultMinIntervalMs, 0);
    this.#burst = readInt("burst", options.burst, profile.defaultBurst, 1);
    this.#lingerMs = readInt("lingerMs", options.lingerMs, 250, 0);
    this.#maxAttempts = readInt("maxAttempts", options.maxAttempts, 5, 1);
    this.#retryBaseMs = readInt("retryBaseMs", options.retryBaseMs, 1000, 0);
    this.#retryMaxMs = readInt("retryMaxMs", options.retryMaxMs, 30_000, 0);
    this.#requestTimeoutMs = readInt("requestTimeoutMs", options.requestTimeoutMs, 10_000, 1);
    this.#closeTimeoutMs = readInt("closeTimeoutMs", options.closeTimeoutMs, 5000, 0);
    this.#tokens = this.#burst;
  }

  /** A snapshot of the counters. */
  get stats(): NetworkHandlerStats {
    return {
      acceptedLines: this.#acceptedLines,
      sentMessages: this.#sentMessages,
      sentLines: this.#sentLines,
      suppressedLines: this.#suppressedLines,
      failedLines: this.#failedLines,
      queuedLines: this.#entries.length - this.#head,
      retries: this.#retries,
      rateLimited: this.#rateLimited,
      stopped: this.#stopped,
    };
  }

  /** Queues the records' lines and returns at once; sending happens in the background. */
  push(records: readonly LogRecord[]): void {
    for (const record of records) this.#enqueue(this.escapeLine(this.format(record)));
    if (this.#entries.length > this.#head) this.#kick();
  }

  /**
   * Sends what is queued (still paced), for at most `closeTimeoutMs`, then reports how many lines
   * were left unsent. Later pushes are refused. Safe to call more than once.
   */
  override close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  // --- What subclasses provide -------------------------------------------------------------------

  /** The URL each message is POSTed to. */
  protected abstract endpoint(): string;

  /** The JSON body for one message's text. */
  protected abstract body(text: string): unknown;

  /**
   * Reads a response. The default: 2xx sent, 429 per `Retry-After`, 401/403/404 stop, other 4xx
   * reject, anything else retry.
   */
  protected interpret(status: number, headers: Headers, body: string): NetworkVerdict {
    if (status >= 200 && status < 300) return { kind: "sent" };
    const reason = `HTTP ${status}${body === "" ? "" : `: ${reportedBody(body, this.secrets())}`}`;
    if (status === 429)
      return { kind: "rate-limited", retryAfterMs: parseRetryAfterHeader(headers.get("retry-after")) };
    if (status === 401 || status === 403 || status === 404) return { kind: "stop", reason };
    if (status >= 300 && status < 400) {
      // A redirect would re-send the body somewhere we were not pointed at; treat it as misconfiguration.
      return { kind: "stop", reason: `${reason} (redirects are not followed; check the URL)` };
    }
    if (status >= 400 && status < 500 && status !== 408) return { kind: "reject", reason };
    return { kind: "retry", reason };
  }

  /** Sees every response's headers before {@link interpret}, for proactive rate limiting. */
  protected observe(_status: number, _headers: Headers): void {}

  /** Transforms a formatted line before it is queued (escaping for the service's markup). */
  protected escapeLine(line: string): string {
    return line;
  }

  /** Wraps a message's text (e.g. in a code block); {@link wrapOverhead} characters are reserved for it. */
  protected wrap(text: string): string {
    return text;
  }

  /** Characters {@link wrap} adds to a message. */
  protected get wrapOverhead(): number {
    return 0;
  }

  /** Where a long entry may be cut; the default avoids splitting surrogate pairs. */
  protected cut(text: string, max: number): number {
    return cutIndex(text, max);
  }

  /** Holds all requests until `ms` from now (e.g. a bucket with no requests remaining). */
  protected holdFor(ms: number): void {
    if (!(ms > 0)) return;
    this.#blockedUntil = Math.max(this.#blockedUntil, performance.now() + ms);
  }

  /** Reports with the handler's secrets removed, whatever the error carries. */
  protected clean(text: string): string {
    return redact(text, this.secrets());
  }

  // --- Queue ---------------------------------------------------------------------------------------

  #enqueue(line: string): void {
    if (this.#stopped || this.#closed) {
      this.#acceptedLines++;
      this.#failedLines++;
      return;
    }
    if (this.#entries.length === this.#head) this.#firstQueuedAt = performance.now();
    this.#entries.push(line);
    this.#queuedChars += line.length;
    this.#acceptedLines++;
    // The newest entry always stays, even alone over maxQueueChars: it is split when sent.
    while (
      this.#entries.length - this.#head > 1 &&
      (this.#entries.length - this.#head > this.#maxQueueLines || this.#queuedChars > this.#maxQueueChars)
    ) {
      this.#dropHead();
      this.#suppressedLines++;
      this.#unannouncedSuppressed++;
    }
  }

  #dropHead(): string {
    const line = this.#entries[this.#head]!;
    this.#entries[this.#head] = "";
    this.#head++;
    this.#queuedChars -= line.length;
    this.#headDamaged = false;
    if (this.#head >= COMPACT_MIN_HEAD && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return line;
  }

  /** Takes the next message off the queue: whole lines while they fit, a piece when one cannot. */
  #takeMessage(): Message | undefined {
    const room = this.#profile.maxMessageChars - this.wrapOverhead;
    const parts: string[] = [];
    let used = 0;
    let lines = 0;
    let damagedLines = 0;
    let endsPartial = false;
    if (this.#unannouncedSuppressed > 0) {
      const count = this.#unannouncedSuppressed;
      this.#unannouncedSuppressed = 0;
      const summary = `… ${plural(count, "earlier line")} suppressed (queue full)`;
      parts.push(summary);
      used = summary.length;
      this.warn(
        `queue full (maxQueueLines ${this.#maxQueueLines}, maxQueueChars ${this.#maxQueueChars}): suppressed ${plural(count, "line")}`,
      );
    }
    while (this.#entries.length > this.#head) {
      const line = this.#entries[this.#head]!;
      const separator = parts.length > 0 ? 1 : 0;
      if (used + separator + line.length <= room) {
        parts.push(line);
        used += separator + line.length;
        if (this.#headDamaged) damagedLines++;
        lines++;
        this.#dropHead();
        continue;
      }
      // A line that fits in a message of its own starts the next one; only a longer one is cut.
      if (line.length <= room && parts.length > 0) break;
      const available = room - used - separator;
      if (available < Math.min(room, 64) && parts.length > 0) break;
      const at = this.cut(line, available);
      parts.push(line.slice(0, at));
      // A cut on a newline consumes it: the next message starts with the next line of the record.
      const rest = line.charCodeAt(at) === 0x0a ? line.slice(at + 1) : line.slice(at);
      this.#entries[this.#head] = rest;
      this.#queuedChars -= line.length - rest.length;
      endsPartial = true;
      break;
    }
    if (parts.length === 0) return undefined;
    return { text: this.wrap(parts.join("\n")), lines, damagedLines, endsPartial };
  }

  // --- Sending loop --------------------------------------------------------------------------------

  #kick(): void {
    if (this.#queuedChars >= this.#profile.maxMessageChars) this.#lingerCut?.abort();
    if (this.#pump !== undefined) return;
    this.#pump = this.#run().then(
      () => {
        this.#pump = undefined;
        // Lines pushed while the loop was finishing start a new one.
        if (this.#entries.length > this.#head && !this.#stopped && !this.#abort.signal.aborted) this.#kick();
      },
      (error: unknown) => {
        this.#pump = undefined;
        this.reportError(this.#error(`send loop failed: ${this.#describe(error)}`));
      },
    );
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (this.#entries.length > this.#head && !this.#stopped && !signal.aborted) {
      if (!this.#closed && this.#lingerMs > 0 && this.#queuedChars < this.#profile.maxMessageChars) {
        const wait = this.#firstQueuedAt + this.#lingerMs - performance.now();
        if (wait > 0) {
          const cut = new AbortController();
          this.#lingerCut = cut;
          const onAbort = (): void => cut.abort();
          signal.addEventListener("abort", onAbort);
          await pause(wait, cut.signal);
          signal.removeEventListener("abort", onAbort);
          this.#lingerCut = undefined;
        }
      }
      if (!(await this.#waitForSlot())) return;
      const message = this.#takeMessage();
      if (message === undefined) return;
      this.#inFlight = message;
      // An unfinished delivery (close() ran out of time) stays in flight for #close to count.
      if (!(await this.#deliver(message))) return;
      this.#inFlight = undefined;
    }
  }

  /** Waits for a token and for any rate-limit hold; false when close() ran out of time meanwhile. */
  async #waitForSlot(): Promise<boolean> {
    const signal = this.#abort.signal;
    for (;;) {
      if (signal.aborted) return false;
      const now = performance.now();
      if (this.#minIntervalMs === 0) this.#tokens = this.#burst;
      else if (this.#tokens < this.#burst) {
        const earned = Math.floor((now - this.#refilledAt) / this.#minIntervalMs);
        if (earned > 0) {
          this.#tokens = Math.min(this.#burst, this.#tokens + earned);
          this.#refilledAt =
            this.#tokens === this.#burst ? now : this.#refilledAt + earned * this.#minIntervalMs;
        }
      }
      const tokenWait = this.#tokens > 0 ? 0 : this.#refilledAt + this.#minIntervalMs - now;
      const wait = Math.max(tokenWait, this.#blockedUntil - now);
      if (wait <= 0) {
        if (this.#tokens === this.#burst) this.#refilledAt = now;
        this.#tokens--;
        return true;
      }
      await pause(wait, signal);
    }
  }

  /** Sends one message until it is sent or given up on: true; false when close() ran out of time. */
  async #deliver(message: Message): Promise<boolean> {
    let attempt = 0;
    for (;;) {
      attempt++;
      const verdict = await this.#attempt(message.text);
      if (verdict === undefined) return false;
      switch (verdict.kind) {
        case "sent":
          this.#sentMessages++;
          this.#sentLines += message.lines - message.damagedLines;
          this.#failedLines += message.damagedLines;
          return true;
        case "rate-limited": {
          this.#rateLimited++;
          attempt--;
          // Without a stated delay, back off as for a transient failure (and spend an attempt).
          if (verdict.retryAfterMs === undefined) {
            attempt++;
            if (attempt >= this.#maxAttempts) {
              this.#fail(message, `rate limited (429) without Retry-After, ${plural(attempt, "attempt")}`);
              return true;
            }
            this.holdFor(this.#backoff(attempt));
          } else this.holdFor(Math.max(verdict.retryAfterMs, 1));
          break;
        }
        case "retry":
          if (attempt >= this.#maxAttempts) {
            this.#fail(message, `gave up after ${plural(attempt, "attempt")}: ${verdict.reason}`);
            return true;
          }
          this.#retries++;
          this.holdFor(this.#backoff(attempt));
          break;
        case "reject":
          this.#fail(message, `${this.#profile.label} refused a message: ${verdict.reason}`);
          return true;
        case "stop":
          this.#stop(message, verdict.reason);
          return true;
      }
      if (!(await this.#waitForSlot())) return false;
    }
  }

  /** One HTTP request; undefined when aborted by close(). */
  async #attempt(text: string): Promise<NetworkVerdict | undefined> {
    const closeSignal = this.#abort.signal;
    const controller = new AbortController();
    const onClose = (): void => controller.abort();
    closeSignal.addEventListener("abort", onClose);
    const timer = setTimeout(() => controller.abort(), this.#requestTimeoutMs);
    try {
      const response = await fetch(this.endpoint(), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(this.body(text)),
        redirect: "manual",
        signal: controller.signal,
      });
      const body = await response.text();
      this.observe(response.status, response.headers);
      return this.interpret(response.status, response.headers, body);
    } catch (error) {
      if (closeSignal.aborted) return undefined;
      if (controller.signal.aborted) {
        return { kind: "retry", reason: `no answer within requestTimeoutMs (${this.#requestTimeoutMs} ms)` };
      }
      return { kind: "retry", reason: this.#describe(error) };
    } finally {
      clearTimeout(timer);
      closeSignal.removeEventListener("abort", onClose);
    }
  }

  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (attempt - 1));
    // Half fixed, half random: retries from many processes do not arrive in lockstep.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Counts a message's lines as failed; a partial last piece damages the entry it belongs to. */
  #countFailed(message: Message): number {
    this.#failedLines += message.lines;
    if (message.endsPartial) this.#headDamaged = true;
    return message.lines + (message.endsPartial ? 1 : 0);
  }

  #fail(message: Message, reason: string): void {
    const lines = this.#countFailed(message);
    this.reportError(this.#error(`dropped a message of ${plural(lines, "line")}: ${reason}`));
  }

  #stop(message: Message, reason: string): void {
    this.#stopped = true;
    this.#countFailed(message);
    const queued = this.#discardQueue();
    this.reportError(
      this.#error(
        `${this.#profile.label} answered ${reason}; the endpoint is gone or refuses this handler, so it stops sending (${plural(message.lines + queued, "line")} not sent, later lines are dropped)`,
      ),
    );
  }

  /** Moves every queued line to failed; returns how many. */
  #discardQueue(): number {
    let count = 0;
    while (this.#entries.length > this.#head) {
      this.#dropHead();
      count++;
    }
    this.#failedLines += count;
    return count;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#lingerCut?.abort();
    const pump = this.#pump;
    if (pump !== undefined) {
      const deadline = new AbortController();
      const timedOut = await Promise.race([
        pump.then(() => false),
        pause(this.#closeTimeoutMs, deadline.signal).then(() => true),
      ]);
      deadline.abort();
      if (timedOut) {
        this.#abort.abort();
        await pump;
      }
    }
    this.#abort.abort();
    let unsent = 0;
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    if (inFlight !== undefined) {
      this.#countFailed(inFlight);
      unsent += inFlight.lines;
    }
    // A partly sent entry is still at the head of the queue and is counted here.
    unsent += this.#discardQueue();
    if (this.#unannouncedSuppressed > 0) {
      this.warn(`queue full: suppressed ${plural(this.#unannouncedSuppressed, "line")}`);
      this.#unannouncedSuppressed = 0;
    }
    if (unsent > 0) {
      this.reportError(
        this.#error(
          `closed with ${plural(unsent, "line")} unsent (closeTimeoutMs ${this.#closeTimeoutMs} ms; ${this.#profile.label} did not take them in time)`,
        ),
      );
    }
  }

  #describe(error: unknown): string {
    return describeError(error, this.secrets());
  }

  #error(message: string): HandlerError {
    return new HandlerError(this.name, this.clean(message));
  }
}
