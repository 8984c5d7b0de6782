import { DEFAULT_FORMAT } from "../config.js";
import { InvalidConfigError } from "../errors.js";
import { LinePattern } from "../format/pattern.js";
import { ACCEPTED_LEVELS_TEXT, LogLevel, parseLevel } from "../levels.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { describeError, redact } from "../redact.js";

/** Internal entry points the master uses; symbols keep them off the public surface. */
export const kAttach = Symbol("logmux.attach");
export const kPushBatches = Symbol("logmux.pushBatches");

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
}

/**
 * The extension point: subclass it, implement {@link push}, and hand an instance to the master.
 * Each handler gets its own queue in the master, so a slow or failing one never holds up another.
 *
 * @example
 * ```ts
 * class StderrHandler extends BaseLogHandler {
 *   push(records: readonly LogRecord[]) {
 *     for (const r of records) process.stderr.write(`${this.format(r)}\n`);
 *   }
 * }
 * ```
 */
export abstract class BaseLogHandler {
  /** Records below this level never reach {@link push}. */
  readonly level: LogLevel;
  #ownFormat: string | undefined;
  #pattern: LinePattern | undefined;
  #context: HandlerContext | undefined;

  constructor(options: BaseLogHandlerOptions = {}) {
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

  /** Flushes and releases resources; the master awaits it during shutdown. */
  close(): void | Promise<void> {}

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
   * @internal The master's entry point. The default materialises {@link LogRecord} objects and calls
   * {@link push}; built-in handlers override it to format straight from the frames' bytes.
   */
  [kPushBatches](batches: readonly RecordBatch[], minLevel: number): void | Promise<void> {
    const records: LogRecord[] = [];
    for (const batch of batches) batch.collect(minLevel, records);
    if (records.length === 0) return;
    return this.push(records);
  }
}
