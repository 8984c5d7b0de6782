import { HandlerError } from "../../errors.js";
import { LogLevel } from "../../levels.js";
import type { LogRecord } from "../../record.js";
import { describeError, redact } from "../../redact.js";
import { BaseLogHandler } from "../base.js";
import { Backoff } from "../kit/backoff.js";
import { plural } from "../kit/drop-reporter.js";
import { pause } from "../kit/pause.js";
import { reportedBody } from "../kit/reported-body.js";
import { parseRetryAfter } from "../kit/retry-after.js";
import { intOption } from "../kit/validate.js";
import { cutIndex, LineQueue, type Message, type MessageShape } from "./line-queue.js";
import type { ChatHandlerStats, ChatLogHandlerOptions, ChatProfile, ChatVerdict } from "./options.js";
import { Pacer } from "./pacer.js";
import { postJson } from "./post.js";

/**
 * What the chat handlers share: a bounded line queue filled by a `push()` that never waits, and
 * one background loop that coalesces lines into messages, paces requests with a token bucket,
 * honours rate-limit answers, retries transient failures with backoff, and stops for good when the
 * endpoint says it is gone. Subclasses describe their service: URL, body, and how to read answers.
 */
export abstract class ChatLogHandler extends BaseLogHandler {
  readonly #profile: ChatProfile;
  readonly #maxQueueLines: number;
  readonly #maxQueueChars: number;
  readonly #lingerMs: number;
  readonly #maxAttempts: number;
  readonly #requestTimeoutMs: number;
  readonly #queue: LineQueue;
  readonly #pacer: Pacer;
  readonly #backoff: Backoff;
  readonly #shape: MessageShape;

  #pump: Promise<void> | undefined;
  /** Cut short by a full message or by close(), so the linger wait ends early. */
  #lingerCut: AbortController | undefined;
  #stopped = false;
  #inFlight: Message | undefined;
  /** Lines a timed-out close() could not send, for its error. */
  #unsent = 0;

  #acceptedLines = 0;
  #sentMessages = 0;
  #sentLines = 0;
  #failedLines = 0;
  #retries = 0;
  #rateLimited = 0;

  protected constructor(options: ChatLogHandlerOptions, profile: ChatProfile) {
    super({ ...options, level: options.level ?? LogLevel.WARNING });
    this.#profile = profile;
    this.#maxQueueLines = intOption("maxQueueLines", options.maxQueueLines, 1000, 1);
    this.#maxQueueChars = intOption("maxQueueChars", options.maxQueueChars, 1_000_000, 1);
    const minIntervalMs = intOption("minIntervalMs", options.minIntervalMs, profile.defaultMinIntervalMs, 0);
    const burst = intOption("burst", options.burst, profile.defaultBurst, 1);
    this.#lingerMs = intOption("lingerMs", options.lingerMs, 250, 0);
    this.#maxAttempts = intOption("maxAttempts", options.maxAttempts, 5, 1);
    const retryBaseMs = intOption("retryBaseMs", options.retryBaseMs, 1000, 0);
    const retryMaxMs = intOption("retryMaxMs", options.retryMaxMs, 30_000, 0);
    this.#requestTimeoutMs = intOption("requestTimeoutMs", options.requestTimeoutMs, 10_000, 1);
    this.#queue = new LineQueue(this.#maxQueueLines, this.#maxQueueChars);
    this.#pacer = new Pacer(minIntervalMs, burst);
    // Half fixed, half random: retries from many processes do not arrive in lockstep, and each step
    // still waits at least half its ceiling, as retryBaseMs documents.
    this.#backoff = new Backoff({ minMs: retryBaseMs, maxMs: retryMaxMs, jitter: "equal" });
    const handler = this;
    this.#shape = {
      // A getter: the subclass's fields that decide the overhead are not set yet at this point.
      get room() {
        return profile.maxMessageChars - handler.wrapOverhead;
      },
      cut: (text, max) => this.cut(text, max),
      wrap: (text) => this.wrap(text),
    };
  }

  /** A snapshot of the counters. */
  get stats(): ChatHandlerStats {
    return {
      acceptedLines: this.#acceptedLines,
      sentMessages: this.#sentMessages,
      sentLines: this.#sentLines,
      suppressedLines: this.#queue.suppressed,
      failedLines: this.#failedLines,
      queuedLines: this.#queue.length,
      retries: this.#retries,
      rateLimited: this.#rateLimited,
      stopped: this.#stopped,
    };
  }

  /** Queues the records' lines and returns at once; sending happens in the background. */
  push(records: readonly LogRecord[]): void {
    this.assertOpen();
    for (const record of records) {
      this.#acceptedLines++;
      // A stopped handler has nowhere to send: the line is failed at once, not held.
      if (this.#stopped) this.#failedLines++;
      else this.#queue.push(this.escapeLine(this.format(record)));
    }
    if (this.#queue.length > 0) this.#kick();
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
  protected interpret(status: number, headers: Headers, body: string): ChatVerdict {
    if (status >= 200 && status < 300) return { kind: "sent" };
    const reason = `HTTP ${status}${body === "" ? "" : `: ${reportedBody(body, this.secrets())}`}`;
    if (status === 429)
      return { kind: "rate-limited", retryAfterMs: parseRetryAfter(headers.get("retry-after")) };
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
    this.#pacer.holdFor(ms);
  }

  /** Reports with the handler's secrets removed, whatever the error carries. */
  protected clean(text: string): string {
    return redact(text, this.secrets());
  }

  // --- Sending loop --------------------------------------------------------------------------------

  #kick(): void {
    if (this.#queue.chars >= this.#profile.maxMessageChars) this.#lingerCut?.abort();
    if (this.#pump !== undefined) return;
    this.#pump = this.#run().then(
      () => {
        this.#pump = undefined;
        // Lines pushed while the loop was finishing start a new one.
        if (this.#queue.length > 0 && !this.#stopped && !this.closeSignal.aborted) this.#kick();
      },
      (error: unknown) => {
        this.#pump = undefined;
        this.reportError(this.#error(`send loop failed: ${describeError(error, this.secrets())}`));
      },
    );
  }

  async #run(): Promise<void> {
    const signal = this.closeSignal;
    while (this.#queue.length > 0 && !this.#stopped && !signal.aborted) {
      if (this.state === "open" && this.#lingerMs > 0 && this.#queue.chars < this.#profile.maxMessageChars) {
        await this.#linger(signal);
      }
      if (!(await this.#pacer.slot(signal))) return;
      const { message, announced } = this.#queue.take(this.#shape);
      if (announced > 0) {
        this.warn(
          `queue full (maxQueueLines ${this.#maxQueueLines}, maxQueueChars ${this.#maxQueueChars}): suppressed ${plural(announced, "line")}`,
        );
      }
      if (message === undefined) return;
      this.#inFlight = message;
      // An unfinished delivery (close() ran out of time) stays in flight for onClose to count.
      if (!(await this.#deliver(message))) return;
      this.#inFlight = undefined;
    }
  }

  /** Waits for the first line's company, until lingerMs, a full message, or close(). */
  async #linger(signal: AbortSignal): Promise<void> {
    const wait = this.#queue.firstQueuedAt + this.#lingerMs - performance.now();
    if (wait <= 0) return;
    const cut = new AbortController();
    this.#lingerCut = cut;
    const onAbort = (): void => cut.abort();
    signal.addEventListener("abort", onAbort);
    await pause(wait, cut.signal);
    signal.removeEventListener("abort", onAbort);
    this.#lingerCut = undefined;
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
          // A stated delay is obeyed and costs no attempt; without one, back off as for a failure.
          if (verdict.retryAfterMs !== undefined) {
            attempt--;
            this.holdFor(Math.max(verdict.retryAfterMs, 1));
            break;
          }
          if (attempt >= this.#maxAttempts) {
            this.#fail(message, `rate limited (429) without Retry-After, ${plural(attempt, "attempt")}`);
            return true;
          }
          this.holdFor(this.#backoff.delay(attempt));
          break;
        }
        case "retry":
          if (attempt >= this.#maxAttempts) {
            this.#fail(message, `gave up after ${plural(attempt, "attempt")}: ${verdict.reason}`);
            return true;
          }
          this.#retries++;
          this.holdFor(this.#backoff.delay(attempt));
          break;
        case "reject":
          this.#fail(message, `${this.#profile.service} refused a message: ${verdict.reason}`);
          return true;
        case "stop":
          this.#stop(message, verdict.reason);
          return true;
      }
      if (!(await this.#pacer.slot(this.closeSignal))) return false;
    }
  }

  /** One HTTP request; undefined when aborted by close(). */
  async #attempt(text: string): Promise<ChatVerdict | undefined> {
    const outcome = await postJson(
      this.endpoint(),
      this.body(text),
      this.#requestTimeoutMs,
      this.closeSignal,
    );
    switch (outcome.kind) {
      case "cancelled":
        return undefined;
      case "timeout":
        return { kind: "retry", reason: `no answer within requestTimeoutMs (${this.#requestTimeoutMs} ms)` };
      case "error":
        return { kind: "retry", reason: describeError(outcome.error, this.secrets()) };
      case "response":
        this.observe(outcome.status, outcome.headers);
        return this.interpret(outcome.status, outcome.headers, outcome.body);
    }
  }

  /** Counts a message's lines as failed; a partial last piece damages the entry it belongs to. */
  #countFailed(message: Message): number {
    this.#failedLines += message.lines;
    if (message.endsPartial) this.#queue.damageHead();
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
        `${this.#profile.service} answered ${reason}; the endpoint is gone or refuses this handler, so it stops sending (${plural(message.lines + queued, "line")} not sent, later lines are dropped)`,
      ),
    );
  }

  /** Moves every queued line to failed; returns how many. */
  #discardQueue(): number {
    const count = this.#queue.discard();
    this.#failedLines += count;
    return count;
  }

  // --- Close ---------------------------------------------------------------------------------------

  protected override onClosing(): void {
    // What is queued goes out now, still paced, instead of lingering for company.
    this.#lingerCut?.abort();
  }

  /** Sends what is queued; once closeTimeoutMs has run out (closeSignal), counts the rest as failed. */
  protected override async onClose(): Promise<void> {
    while (this.#pump !== undefined) await this.#pump;
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    let unsent = 0;
    if (inFlight !== undefined) {
      this.#countFailed(inFlight);
      unsent += inFlight.lines;
    }
    // A partly sent entry is still at the head of the queue and is counted here.
    unsent += this.#discardQueue();
    const announced = this.#queue.takeUnannounced();
    if (announced > 0) this.warn(`queue full: suppressed ${plural(announced, "line")}`);
    this.#unsent = unsent;
  }

  protected override undelivered(): string {
    return `${plural(this.#unsent, "line")} unsent (${this.#profile.service} did not take them in time)`;
  }

  #error(message: string): HandlerError {
    return new HandlerError(this.label, this.clean(message));
  }
}
