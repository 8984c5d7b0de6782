import { DEFAULT_FORMAT } from "../config.js";
import { ClosedError, HandlerError, InvalidConfigError } from "../errors.js";
import { LinePattern } from "../format/pattern.js";
import { ACCEPTED_LEVELS_TEXT, LogLevel, parseLevel } from "../levels.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { describeError, redact } from "../redact.js";
import { intOption } from "./kit/validate.js";

/** Internal entry points the master uses; symbols keep them off the public surface. */
export const kAttach = Symbol("logmux.attach");
export const kPushBatches = Symbol("logmux.pushBatches");
/**
 * What a built-in handler overrides to format straight from the frames' bytes. The base's
 * {@link kPushBatches} calls it after the closed check and tracks the promise it returns, so the
 * rule for a push after close, and close() waiting for the push in flight, live in one place.
 */
export const kWriteBatches = Symbol("logmux.writeBatches");

/** Where a handler is in its life: `"closing"` from the first close() call until it has released everything. */
export type HandlerState = "open" | "closing" | "closed";

const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
/**
 * Once `closeTimeoutMs` has run out, {@link BaseLogHandler.onClose} gets this long to release what
 * it holds after `closeSignal` aborts: a built-in needs a turn or two (an aborted request settles
 * asynchronously); a user's hook that ignores the signal must not hold a shutdown much longer.
 */
const ABORT_GRACE_MS = 250;
const TIMED_OUT = Symbol("timed out");

/** What the master gives a handler when it attaches it. */
export interface HandlerContext {
  /** The config's line format, used when the handler has none of its own. */
  readonly strFormat: string;
  /**
   * Emits a WARNING record from MASTER (to every handler), e.g. a count of lines this handler had
   * to suppress. Secrets are removed before the text leaves the handler.
   */
  warn(message: string): void;
  /** Reports a failure on stderr, rate-limited and with the handler's secrets removed. */
  reportError(error: unknown): void;
}

/** Options every handler accepts. */
export interface BaseLogHandlerOptions {
  /**
   * The lowest level this handler receives (on top of the config's `baseLevel`).
   * @default LogLevel.TRACE (everything the master accepts)
   * @example { level: LogLevel.ERROR } or { level: "warning" }
   */
  level?: LogLevel | string;
  /**
   * Line format for this handler; overrides the config's `strFormat`.
   * @default the config's strFormat
   * @example { format: "%(levelname)s: %(message)s" }
   */
  format?: string;
  /**
   * How long `close()` may take, in ms: first waiting for the push in flight, then for the
   * handler's flush (a file's last write, a chat handler's queued messages at its rate limit,
   * OTLP's and syslog's queued records). When it runs out, the handler releases what it holds
   * anyway and `close()` rejects with a `HandlerError` saying how long it waited and what it did not
   * deliver.
   * @default 5000
   * @example { closeTimeoutMs: 15000 }
   */
  closeTimeoutMs?: number;
}

/**
 * The extension point: subclass it, implement {@link push}, and hand an instance to the master.
 * Each handler gets its own queue in the master, so a slow or failing one never holds up another.
 *
 * **Lifecycle.** {@link close} is implemented here, once: the first call moves {@link state} from
 * `"open"` to `"closing"`, waits for the push in flight (up to `closeTimeoutMs`), then runs the
 * {@link onClose} hook (bounded by what remains), and ends `"closed"`. Every call returns the same
 * promise; {@link closed} settles when the state reaches `"closed"` and never rejects. On timeout
 * `close()` rejects with a `HandlerError` naming {@link label}, and the handler is closed all the
 * same: its timers are cleared and its files and sockets released.
 *
 * **A push after close** (once `close()` was called) throws `ClosedError` synchronously and writes
 * nothing, in every built-in handler. The master never does it; anyone else learns it loudly.
 *
 * Subclasses release resources in {@link onClose}. An older subclass that overrides `close()`
 * itself still works (the master calls it), but gets this lifecycle only if it calls `super.close()`.
 *
 * @example
 * ```ts
 * class StderrHandler extends BaseLogHandler {
 *   push(records: readonly LogRecord[]) {
 *     for (const r of records) process.stderr.write(`${this.format(r)}\n`);
 *   }
 *   protected override onClose() {
 *     // flush, release file descriptors, sockets and timers here
 *   }
 * }
 * ```
 */
export abstract class BaseLogHandler {
  /** Records below this level never reach {@link push}. */
  readonly level: LogLevel;
  /** Settles when {@link state} reaches `"closed"`, whether close() succeeded or not; never rejects. */
  readonly closed: Promise<void>;
  #ownFormat: string | undefined;
  #pattern: LinePattern | undefined;
  #context: HandlerContext | undefined;
  readonly #closeTimeoutMs: number;
  readonly #closeAbort = new AbortController();
  #state: HandlerState = "open";
  #closing: Promise<void> | undefined;
  #markClosed!: () => void;
  /** What the last {@link kPushBatches} returned, until it settles: close() waits for it. */
  #inFlight: PromiseLike<void> | undefined;

  constructor(options: BaseLogHandlerOptions = {}) {
    this.closed = new Promise<void>((resolve) => {
      this.#markClosed = resolve;
    });
    this.#closeTimeoutMs = intOption("closeTimeoutMs", options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS, 0);
    const level = options.level === undefined ? LogLevel.TRACE : parseLevel(options.level);
    if (level === undefined) {
      throw new InvalidConfigError("level", `expected ${ACCEPTED_LEVELS_TEXT}, got ${String(options.level)}`);
    }
    this.level = level;
    if (options.format !== undefined) {
      this.#ownFormat = options.format;
      if (!this.acceptsSpecialFormat(options.format)) {
        if (typeof options.format !== "string" || !options.format.includes("%(message)s")) {
          throw new InvalidConfigError(
            "format",
            `must be a string containing "%(message)s", got ${String(options.format)}`,
          );
        }
        this.#pattern = new LinePattern(options.format, "format");
      }
    }
  }

  /** A short name for tables (`logmux status`): the class name unless a subclass says otherwise. */
  get name(): string {
    return this.constructor.name;
  }

  /**
   * How stderr reports and the master's warnings name this handler: {@link name}, plus whatever
   * tells two instances apart when a subclass has it (a file handler adds its path). Passed through
   * {@link secrets} redaction like the rest of a report.
   */
  get label(): string {
    return this.name;
  }

  /** Receives records at or above {@link level}, in order per worker. May return a promise. */
  abstract push(records: readonly LogRecord[]): void | Promise<void>;

  /** Formats a record with this handler's format, or the config's `strFormat` once attached. */
  format(record: LogRecord): string {
    return this.linePattern.format(record);
  }

  /** `"open"`, `"closing"` from the first {@link close} call, `"closed"` once resources are released. */
  get state(): HandlerState {
    return this.#state;
  }

  /**
   * Flushes and releases resources; the master awaits it during shutdown. Idempotent: every call
   * returns the same promise. Meant to be final: subclasses implement {@link onClose} instead. (The
   * declared type admits `void` only so that older subclasses overriding `close(): void` compile.)
   */
  close(): void | Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** The `closeTimeoutMs` option in force. */
  protected get closeTimeoutMs(): number {
    return this.#closeTimeoutMs;
  }

  /**
   * Aborts when `closeTimeoutMs` has run out: {@link onClose} must then stop waiting, release
   * everything and count what it could not deliver, within a few milliseconds.
   */
  protected get closeSignal(): AbortSignal {
    return this.#closeAbort.signal;
  }

  /**
   * Called once, synchronously, by the first {@link close}, before it waits for the push in flight:
   * stop waiting for more (a linger, a batch timer, a retry pause) so what is pending goes out now.
   */
  protected onClosing(): void {}

  /** Flushes and releases resources (files, sockets, timers). Runs once, after the push in flight. */
  protected onClose(): void | Promise<void> {}

  /**
   * After a timed-out close: what was not delivered, for the error, e.g. "5 records not delivered";
   * undefined when the handler cannot tell.
   */
  protected undelivered(): string | undefined {
    return undefined;
  }

  /** Throws {@link ClosedError} once close() was called: the one rule for a push after close. */
  protected assertOpen(): void {
    if (this.#state !== "open") throw new ClosedError(this.label);
  }

  async #close(): Promise<void> {
    this.#state = "closing";
    const started = performance.now();
    const deadline = timer(this.#closeTimeoutMs);
    let grace: ReturnType<typeof timer> | undefined;
    let late = false;
    let failure: unknown;
    try {
      try {
        this.onClosing();
      } catch (error) {
        // Reported below; the handler must still wait for its push and release what it holds.
        failure = error;
      }
      const inFlight = this.#inFlight;
      if (inFlight !== undefined) {
        // The push's own failure is the master's to report; here it only means "no longer in flight".
        late =
          (await Promise.race([Promise.resolve(inFlight).then(noop, noop), deadline.fired])) === TIMED_OUT;
      }
      if (late) this.#closeAbort.abort();
      const hook = Promise.resolve().then(() => this.onClose());
      if ((await Promise.race([hook, deadline.fired])) === TIMED_OUT && !late) {
        late = true;
        this.#closeAbort.abort();
      }
      if (late) {
        grace = timer(ABORT_GRACE_MS);
        await Promise.race([hook, grace.fired]);
      }
    } catch (error) {
      failure ??= error;
    } finally {
      deadline.cancel();
      grace?.cancel();
      this.#state = "closed";
      this.#markClosed();
    }
    if (late) {
      const waited = Math.round(performance.now() - started);
      const what = this.undelivered() ?? "what was still pending may not have been delivered";
      throw new HandlerError(
        this.label,
        `close gave up after ${waited} ms (closeTimeoutMs ${this.#closeTimeoutMs} ms): ${this.#clean(what)}`,
      );
    }
    if (failure !== undefined) {
      if (failure instanceof HandlerError) throw failure;
      throw new HandlerError(this.label, `close failed: ${describeError(failure, this.secrets())}`, {
        cause: failure,
      });
    }
  }

  #clean(text: string): string {
    return redact(text, this.secrets());
  }

  /** The compiled line pattern in force. */
  protected get linePattern(): LinePattern {
    this.#pattern ??= new LinePattern(DEFAULT_FORMAT);
    return this.#pattern;
  }

  /** The handler's own `format` option, if it was given. */
  protected get ownFormat(): string | undefined {
    return this.#ownFormat;
  }

  /** Lets a subclass accept non-pattern formats such as `"json"`. */
  protected acceptsSpecialFormat(_format: string): boolean {
    return false;
  }

  /** Set once the master has attached this handler. */
  protected get context(): HandlerContext | undefined {
    return this.#context;
  }

  /**
   * Reports a failure: through the master when attached (rate-limited, on stderr), else straight to
   * stderr. Either way the handler's {@link secrets} are removed first.
   */
  protected reportError(error: unknown): void {
    if (this.#context !== undefined) this.#context.reportError(error);
    else {
      const secrets = this.secrets();
      process.stderr.write(`logmux: ${redact(this.label, secrets)}: ${describeError(error, secrets)}\n`);
    }
  }

  /**
   * Emits a WARNING from MASTER through every handler when attached (e.g. "412 lines suppressed"),
   * else writes it to stderr. Secrets are removed first.
   */
  protected warn(message: string): void {
    const clean = redact(message, this.secrets());
    if (this.#context !== undefined) this.#context.warn(clean);
    else process.stderr.write(`logmux: ${redact(this.label, this.secrets())}: ${clean}\n`);
  }

  /** Strings that must never appear in anything the master reports (tokens, webhook URLs). */
  secrets(): readonly string[] {
    return [];
  }

  /** @internal Called by the master before the first push. */
  [kAttach](context: HandlerContext): void {
    this.#context = context;
    if (this.#ownFormat === undefined) this.#pattern = new LinePattern(context.strFormat);
  }

  /**
   * @internal The master's entry point: refuses a push after close (see {@link assertOpen}), then
   * hands the batches to {@link kWriteBatches} and tracks a returned promise for close().
   */
  [kPushBatches](batches: readonly RecordBatch[], minLevel: number): void | Promise<void> {
    this.assertOpen();
    const result = this[kWriteBatches](batches, minLevel);
    if (result !== undefined && typeof result.then === "function") {
      this.#inFlight = result;
      const settled = (): void => {
        if (this.#inFlight === result) this.#inFlight = undefined;
      };
      result.then(settled, settled);
    }
    return result;
  }

  /**
   * @internal The default materialises {@link LogRecord} objects and calls {@link push}; built-in
   * handlers override it to format straight from the frames' bytes.
   */
  [kWriteBatches](batches: readonly RecordBatch[], minLevel: number): void | Promise<void> {
    const records: LogRecord[] = [];
    for (const batch of batches) batch.collect(minLevel, records);
    if (records.length === 0) return;
    return this.push(records);
  }
}

function noop(): void {}

/**
 * A timer whose `fired` resolves to {@link TIMED_OUT}. Not unref'd: a close in progress is work
 * (`await handler.close()` in a script must settle, not end the process with the close pending),
 * and `closeTimeoutMs` bounds how long it can hold the process.
 */
function timer(ms: number): { fired: Promise<typeof TIMED_OUT>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const fired = new Promise<typeof TIMED_OUT>((resolve) => {
    handle = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return { fired, cancel: () => clearTimeout(handle) };
}
