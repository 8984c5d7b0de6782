import type { ChildOptions } from "./call/options.js";
import { type Serializer, stdSerializers } from "./call/serializers.js";
import { type CallParts, CallShape } from "./call/shape.js";
import { InvalidConfigError } from "./errors.js";
import { ACCEPTED_LEVELS_TEXT, LEVEL_NAMES, LogLevel, parseLevel } from "./levels.js";

/** What a log call accepts as its message: text, or UTF-8 bytes that are copied as they are. */
export type LogMessage = string | Uint8Array;

/**
 * The arguments of a log call, in any of the shapes docs/fields.md describes:
 * `("message")`, `("message", { fields })`, `({ fields }, "message")`, `("order %s at %d", id, px)`,
 * `("failed", err)`, `(err)`, `({ err, orderId }, "retrying")`, `("raw", bytes)`.
 */
export type LogArguments = readonly unknown[];

/**
 * The level of a logger that logs nothing (pino's and fastify's `"silent"`): above every level a
 * record can have, so each method's one comparison turns it away.
 */
const SILENT = LogLevel.CRITICAL + 1;

/** Parses a level as `log.level = ...` takes it: a LogLevel, a name or an alias, or `"silent"`. */
function parseLoggerLevel(value: unknown, field: string): number {
  if (typeof value === "string" && value.trim().toLowerCase() === "silent") return SILENT;
  const level = parseLevel(value);
  if (level === undefined)
    throw new InvalidConfigError(field, `expected ${ACCEPTED_LEVELS_TEXT} or "silent", got ${String(value)}`);
  return level;
}

/**
 * The log methods shared by {@link WorkerLogger}, {@link MasterLogger} and their children. Each
 * checks the level first (a disabled level costs one comparison) and never throws: a logging
 * failure must not become the application's failure.
 */
export abstract class LoggerBase {
  /** Records below this level are discarded before anything is encoded. */
  protected minLevel: number = LogLevel.INFO;
  /** Bindings, serializers, redact paths and the encoder. Set by the subclass constructor. */
  protected shape!: CallShape;

  /**
   * Queues one record that already passed the level check. `values` holds the record's values
   * section in its first `valuesLength` bytes (see CallParts).
   */
  protected abstract emit(
    level: number,
    message: LogMessage,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
    valuesLength: number,
  ): void;

  /**
   * Queues a plain record: a string message and, for a child, its fixed bindings (`section`, a
   * values section encoded once by child() and never written again). A root may keep both
   * references and encode them later (WorkerLogger does); this default encodes at once.
   */
  protected emitPlain(level: number, message: string, section: Uint8Array | undefined): void {
    this.emit(level, message, undefined, section, section === undefined ? 0 : section.length);
  }

  abstract isRunning(): boolean;

  /**
   * The lowest level logged, as a lower-case name (pino's habit): `log.level = "debug"`. Also
   * accepts a {@link LogLevel} number, the aliases of `baseLevel` and `"silent"` (nothing is
   * logged); anything else throws InvalidConfigError.
   */
  get level(): string {
    if (this.minLevel === SILENT) return "silent";
    return (LEVEL_NAMES[this.minLevel] ?? "INFO").toLowerCase();
  }

  set level(value: string | LogLevel) {
    this.minLevel = parseLoggerLevel(value, "level");
  }

  /**
   * The serializers this logger applies to top-level fields (its own and its ancestors'), with
   * `err` as {@link stdSerializers} has it unless replaced. fastify reads a logger instance's
   * `serializers` and lets them win over its own defaults, so an Error it logs stays an Error
   * (type, message, stack, code, cause) rather than pino's plain-object rendering of one.
   */
  get serializers(): Readonly<Record<string, Serializer>> {
    return { err: stdSerializers.err, ...this.shape.serializers };
  }

  /** Whether a record at `level` would be logged (fastify's and pino's `isLevelEnabled`). */
  isLevelEnabled(level: LogLevel | string): boolean {
    const parsed = parseLevel(level);
    return parsed !== undefined && parsed >= this.minLevel;
  }

  /**
   * A logger whose every record carries `bindings` as fields (after its parent's: a later key
   * replaces an earlier one), with `options` added to its parent's. It shares the parent's
   * connection and batch, and starts at the parent's level unless `options.level` sets its own.
   * Bindings are encoded once, here. This is the call fastify makes for each request
   * (`child({ reqId }, { level, serializers })`).
   * @example
   * ```ts
   * const req = log.child({ reqId: "r-1" });
   * req.child({ step: "auth" }).warn("slow", { ms: 812 });
   * ```
   */
  child(bindings: Readonly<Record<string, unknown>>, options?: ChildOptions): LoggerBase {
    const shape = this.shape.child(bindings, options);
    const level =
      options?.level === undefined ? this.minLevel : parseLoggerLevel(options.level, "child options.level");
    return new ChildLogger(this.root, shape, level);
  }

  /**
   * The logger whose emit queues this logger's records: itself, or for a child the WorkerLogger
   * or MasterLogger it descends from. A child's call goes straight there, not through a chain of
   * forwarding calls, one per generation of children.
   */
  protected root: LoggerBase = this;

  /** Queues a record through the root's emit (TypeScript lets only LoggerBase itself call it). */
  protected toRoot(
    level: number,
    message: LogMessage,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
    valuesLength: number,
  ): void {
    this.root.emit(level, message, data, values, valuesLength);
  }

  /**
   * Logs at an explicit level.
   * @example logger.log(LogLevel.WARNING, "disk %d%% full", 91)
   */
  log(level: LogLevel, ...args: LogArguments): void {
    if (level >= this.minLevel && level <= LogLevel.CRITICAL) this.#call(level, args);
  }

  trace(...args: LogArguments): void {
    if (LogLevel.TRACE >= this.minLevel) this.#call(LogLevel.TRACE, args);
  }

  debug(...args: LogArguments): void {
    if (LogLevel.DEBUG >= this.minLevel) this.#call(LogLevel.DEBUG, args);
  }

  info(...args: LogArguments): void {
    if (LogLevel.INFO >= this.minLevel) this.#call(LogLevel.INFO, args);
  }

  warning(...args: LogArguments): void {
    if (LogLevel.WARNING >= this.minLevel) this.#call(LogLevel.WARNING, args);
  }

  /** Same as {@link warning}. */
  warn(...args: LogArguments): void {
    if (LogLevel.WARNING >= this.minLevel) this.#call(LogLevel.WARNING, args);
  }

  error(...args: LogArguments): void {
    if (LogLevel.ERROR >= this.minLevel) this.#call(LogLevel.ERROR, args);
  }

  critical(...args: LogArguments): void {
    if (LogLevel.CRITICAL >= this.minLevel) this.#call(LogLevel.CRITICAL, args);
  }

  /** Same as {@link critical} (pino's name). */
  fatal(...args: LogArguments): void {
    if (LogLevel.CRITICAL >= this.minLevel) this.#call(LogLevel.CRITICAL, args);
  }

  /** Logs nothing, whatever the level: pino's and fastify's `silent` method. */
  silent(..._args: LogArguments): void {}

  #call(level: number, args: LogArguments): void {
    try {
      const first = args[0];
      // A plain message: nothing to encode but the text, and a child's bindings, encoded once.
      // Not with a mixin or trace context, whose fields are read at each call.
      if (args.length === 1 && typeof first === "string" && this.shape.context === undefined) {
        this.root.emitPlain(level, first, this.shape.plainSection);
        return;
      }
      const parts: CallParts = this.shape.shape(args, level as LogLevel);
      this.root.emit(level, parts.message, parts.data, parts.values, parts.valuesLength);
    } catch (error) {
      this.#fallback(level, args, error);
    }
  }

  /**
   * The call's arguments defeated the encoder (which turns every value it cannot read into a
   * marker, so this is a bug or an exotic object): the record is still logged, with what could
   * be read of its message and the reason.
   */
  #fallback(level: number, args: LogArguments, error: unknown): void {
    try {
      const first = args[0];
      const message = typeof first === "string" ? first : "";
      const reason = error instanceof Error ? error.message : "unknown";
      this.root.emit(
        level,
        `${message} [logmux: arguments could not be encoded: ${reason}]`,
        undefined,
        undefined,
        0,
      );
    } catch {
      // Swallowed, as promised: a logging failure must not become the application's failure.
    }
  }
}

/**
 * A logger made by `child()`: its own bindings, options and level; records go into the root's
 * batch through the root's emit.
 */
class ChildLogger extends LoggerBase {
  constructor(root: LoggerBase, shape: CallShape, minLevel: number) {
    super();
    this.root = root;
    this.shape = shape;
    this.minLevel = minLevel;
  }

  /** LoggerBase sends a child's records to its root's emit; this is that, for any other caller. */
  protected override emit(
    level: number,
    message: LogMessage,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
    valuesLength: number,
  ): void {
    this.toRoot(level, message, data, values, valuesLength);
  }

  isRunning(): boolean {
    return this.root.isRunning();
  }
}

export { CallShape };
