import { format, inspect } from "node:util";
import { InvalidConfigError } from "../errors.js";
import { LogLevel } from "../levels.js";
import { isError, unloggable } from "../protocol/value-kinds.js";
import { childNode, type RedactNode, ValueWriter } from "../protocol/value-writer.js";
import { type FieldLimits, REDACTED } from "../protocol/values.js";
import { type Mixin, type TraceApi, traceApi } from "./context.js";
import {
  type ChildOptions,
  checkLimits,
  checkMixin,
  checkOptions,
  checkRedact,
  checkSerializers,
  checkTraceContext,
  type LoggerOptions,
} from "./options.js";
import { isPlainTree } from "./plain-tree.js";
import { compileRedact } from "./redact-paths.js";
import type { Serializer } from "./serializers.js";

/** The values section counts its arguments in one byte. */
const MAX_ARGS = 255;

/** What `mixin` gets as the merge object of a call without fields. */
const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Fields read at each call rather than fixed when the logger is made: the mixin and the active
 * span. Shared by a root logger and its children, as the writer is.
 */
interface CallContext {
  readonly mixin: Mixin | undefined;
  readonly trace: TraceApi | undefined;
  /** The span context last encoded, and its three pairs: records of one span repeat them. */
  span: object | undefined;
  spanPairs: Uint8Array | undefined;
}

/** What a log call becomes: the message (or %-template), the attachment, the values section. */
export interface CallParts {
  message: string | Uint8Array;
  data: Uint8Array | undefined;
  /**
   * The writer's buffer, whose first {@link valuesLength} bytes are the values section, valid
   * until the next call; undefined for a plain message. Not a view cut to size: that would be an
   * allocation per call.
   */
  values: Uint8Array | undefined;
  valuesLength: number;
}

/**
 * What a logger adds to each call: its child bindings (encoded once, when the child is made),
 * serializers and redact paths, and the encoder they share with the root logger.
 */
export class CallShape {
  readonly writer: ValueWriter;
  readonly serializers: Readonly<Record<string, Serializer>> | undefined;
  readonly redactPaths: readonly string[];
  readonly redact: RedactNode | undefined;
  /** The bindings of this logger and its ancestors as encoded (key, value) pairs. */
  readonly bindings: Uint8Array | undefined;
  /**
   * The whole values section of a plain message from this logger (no arguments, its bindings as
   * the fields), built once: a child's `info("text")` copies it and encodes nothing.
   */
  readonly plainSection: Uint8Array | undefined;
  /**
   * Set when records take fields at the call (a mixin, trace context): then no call is plain, and
   * the logger skips its fast path for `info("text")`.
   */
  readonly context: CallContext | undefined;
  /** Reused for every call: a log call allocates no result object. */
  readonly #parts: CallParts = { message: "", data: undefined, values: undefined, valuesLength: 0 };
  /**
   * The message and argument count of the last call with arguments, and how many of them its
   * placeholders take: a logger repeats its templates, and the walk was a tenth of a %-call.
   */
  #countedTemplate: string | undefined;
  #countedAvailable = 0;
  #counted = 0;

  private constructor(
    writer: ValueWriter,
    serializers: Readonly<Record<string, Serializer>> | undefined,
    redactPaths: readonly string[],
    bindings: Uint8Array | undefined,
    context: CallContext | undefined,
  ) {
    this.writer = writer;
    this.context = context;
    this.serializers = serializers;
    this.redactPaths = redactPaths;
    this.redact = compileRedact(redactPaths, "redact");
    this.bindings = bindings;
    if (bindings !== undefined) {
      const section = new Uint8Array(1 + bindings.length);
      section.set(bindings, 1);
      this.plainSection = section;
    }
  }

  /** A root logger's shape; throws InvalidConfigError naming the bad option. */
  static root(options: LoggerOptions | undefined, maxValueBytes: number): CallShape {
    checkOptions(options, "options", true);
    const limits: FieldLimits = checkLimits(options?.limits, "options.limits");
    // A section larger than a frame could never be sent: keep it well inside one.
    limits.bytes = Math.min(limits.bytes, maxValueBytes);
    const redact = checkRedact(options?.redact, "options.redact");
    compileRedact(redact, "options.redact");
    const mixin = checkMixin(options?.mixin, "options.mixin");
    // Without @opentelemetry/api there is no span to read: the option then costs nothing.
    const trace = checkTraceContext(options?.traceContext, "options.traceContext")
      ? (traceApi() ?? undefined)
      : undefined;
    const context =
      mixin === undefined && trace === undefined
        ? undefined
        : { mixin, trace, span: undefined, spanPairs: undefined };
    return new CallShape(
      new ValueWriter(limits),
      checkSerializers(options?.serializers, "options.serializers"),
      redact,
      undefined,
      context,
    );
  }

  /** A child's shape: the parent's options and bindings, then its own. */
  child(bindings: unknown, options: ChildOptions | undefined): CallShape {
    checkOptions(options, "child options", false);
    if (bindings === null || typeof bindings !== "object" || Array.isArray(bindings)) {
      throw new InvalidConfigError("bindings", "expected a plain object of fields, e.g. child({ reqId })");
    }
    const redactOwn = checkRedact(options?.redact, "child options.redact");
    const redactPaths = redactOwn.length === 0 ? this.redactPaths : [...this.redactPaths, ...redactOwn];
    compileRedact(redactPaths, "child options.redact");
    const own = checkSerializers(options?.serializers, "child options.serializers");
    const serializers = own === undefined ? this.serializers : { ...this.serializers, ...own };
    const shape = new CallShape(this.writer, serializers, redactPaths, undefined, undefined);
    const w = this.writer;
    w.reset();
    if (this.bindings !== undefined) w.raw(this.bindings);
    w.fieldPairs(bindings, shape.redact, serializers);
    // A plain Uint8Array, not a Buffer: the copy loop in raw() indexes it on every call.
    const encoded = Uint8Array.prototype.slice.call(w.buffer, 0, w.pos);
    return new CallShape(
      this.writer,
      serializers,
      redactPaths,
      encoded.length === 0 ? undefined : encoded,
      this.context,
    );
  }

  /**
   * Splits a call's arguments (see docs/fields.md):
   * - `(fields, message?, ...args)` and `(error, message?, ...args)`, pino's order;
   * - `(message, ...args)`: %-placeholders take arguments first, then, from the end and in any
   *   order, a plain object is the fields, an Error the `err` field, a Uint8Array the attachment
   *   (one of each); what is left is appended as `util.format` appends it.
   * Arguments are encoded, not formatted: the master interpolates them. `level` is the record's,
   * for the mixin.
   */
  shape(args: readonly unknown[], level: LogLevel = LogLevel.INFO): CallParts {
    const parts = this.#parts;
    const n = args.length;
    const first = args[0];
    let i = 1;
    let fields: object | undefined;
    let err: unknown;
    let message: string | Uint8Array;
    if (typeof first === "string" || first instanceof Uint8Array) {
      message = first;
    } else if (typeof first === "object" && first !== null) {
      if (isError(first)) err = first;
      else fields = first;
      if (typeof args[1] === "string") {
        message = args[1];
        i = 2;
      } else {
        message = err === undefined ? "" : errorMessage(err);
      }
    } else {
      message = String(first);
    }
    const consumed = typeof message === "string" && i < n ? this.#placeholders(message, n - i) : 0;
    const from = i + consumed;
    let tail = n;
    // `log.info(message, maybeBytes)` with no bytes: a trailing undefined is no argument.
    while (tail > from && args[tail - 1] === undefined) tail--;
    // From the end, in any order: one plain object (the fields), one Error, one Uint8Array.
    let data: Uint8Array | undefined;
    while (tail > from) {
      const last = args[tail - 1];
      if (fields === undefined && isPlainObject(last)) fields = last as object;
      else if (err === undefined && isError(last)) err = last;
      else if (data === undefined && last instanceof Uint8Array) data = last;
      else break;
      tail--;
    }
    const argCount = consumed + tail - from;
    parts.data = data;
    if (
      argCount === 0 &&
      fields === undefined &&
      err === undefined &&
      this.bindings === undefined &&
      this.context === undefined
    ) {
      parts.message = message;
      parts.values = undefined;
      return parts;
    }
    if (argCount > MAX_ARGS) {
      // util.format itself, in the worker: a call with hundreds of arguments is not a hot path.
      parts.message = format(message, ...args.slice(i, tail));
      this.#encode("", 0, args, 0, 0, 0, fields, err, level);
    } else {
      parts.message = message;
      this.#encode(message as string, argCount, args, i, consumed, tail, fields, err, level);
      if (this.writer.pos === 1 && argCount === 0) {
        // The mixin and trace context added nothing: the record is as plain as without them.
        parts.values = undefined;
        return parts;
      }
    }
    parts.values = this.writer.memory;
    parts.valuesLength = this.writer.pos;
    return parts;
  }

  /** {@link countPlaceholders}, remembered for the last template (compared by value). */
  #placeholders(template: string, available: number): number {
    if (template === this.#countedTemplate && available === this.#countedAvailable) return this.#counted;
    const count = countPlaceholders(template, available);
    this.#countedTemplate = template;
    this.#countedAvailable = available;
    this.#counted = count;
    return count;
  }

  #encode(
    template: string,
    argCount: number,
    args: readonly unknown[],
    from: number,
    consumed: number,
    tail: number,
    fields: object | undefined,
    err: unknown,
    level: LogLevel,
  ): void {
    const w = this.writer;
    w.reset();
    w.u8(argCount);
    if (argCount > 0) {
      const limits = w.limits;
      for (let k = 0; k < consumed; k++) {
        const arg = args[from + k];
        if (isPlainTree(arg, limits.depth, limits.entries)) w.value(arg, 0, undefined);
        else w.formatted(safely(() => format(`%${conversionAt(template, k)}`, arg)));
      }
      for (let k = from + consumed; k < tail; k++) {
        const arg = args[k];
        if (isPlainTree(arg, limits.depth, limits.entries)) w.value(arg, 0, undefined);
        else w.formatted(safely(() => inspect(arg)));
      }
    }
    if (this.bindings !== undefined) w.raw(this.bindings);
    const redact = this.redact;
    if (this.context !== undefined) contextFields(w, this.context, level, fields, redact, this.serializers);
    if (err !== undefined) {
      let value: unknown = err;
      const serializers = this.serializers;
      if (serializers !== undefined && Object.hasOwn(serializers, "err"))
        value = safely(() => serializers.err!(err));
      const node = redact === undefined ? undefined : childNode(redact, "err");
      if (node?.terminal) {
        w.key("err");
        w.string(REDACTED);
      } else {
        w.pair("err", value, redact);
      }
    }
    if (fields !== undefined) w.fieldPairs(fields, redact, this.serializers);
  }
}

/**
 * The trace context of the active span (`trace_id`, `span_id`, `trace_flags`, as pino's
 * OpenTelemetry instrumentation names them), then the mixin's fields. Between the bindings and
 * the call's fields: a later key wins, so the call's own keys replace these.
 */
function contextFields(
  w: ValueWriter,
  context: CallContext,
  level: LogLevel,
  fields: object | undefined,
  redact: RedactNode | undefined,
  serializers: Readonly<Record<string, Serializer>> | undefined,
): void {
  const trace = context.trace;
  if (trace !== undefined) {
    let span: ReturnType<TraceApi["active"]>;
    try {
      span = trace.active();
    } catch {
      span = undefined;
    }
    if (span !== undefined) {
      if (span === context.span && context.spanPairs !== undefined) {
        // About 100 bytes: set() copies them in a fifth of raw()'s loop.
        w.rawBlock(context.spanPairs);
      } else {
        const start = w.pos;
        w.key("trace_id");
        w.string(String(span.traceId));
        w.key("span_id");
        w.string(String(span.spanId));
        w.key("trace_flags");
        w.string(((span.traceFlags & 0xff) | 0x100).toString(16).slice(1));
        if (!w.exhausted) {
          context.span = span;
          context.spanPairs = Uint8Array.prototype.slice.call(w.memory, start, w.pos);
        }
      }
    }
  }
  const mixin = context.mixin;
  if (mixin === undefined) return;
  let extra: unknown;
  try {
    extra = mixin((fields ?? NO_FIELDS) as Readonly<Record<string, unknown>>, level);
  } catch (error) {
    w.key("mixin");
    w.marker(unloggable(error));
    return;
  }
  if (extra === undefined || extra === null) return;
  if (typeof extra !== "object" || Array.isArray(extra)) {
    w.key("mixin");
    w.marker(`[Unloggable: mixin returned ${Array.isArray(extra) ? "an array" : typeof extra}]`);
    return;
  }
  w.fieldPairs(extra, redact, serializers);
}

/**
 * The conversions that take an argument, as util.format has them (`%%` takes none), indexed by
 * character code: a table lookup, where `"sjdOoifc".includes(letter)` cost a third of a
 * %-argument call.
 */
const TAKES_ARGUMENT = new Uint8Array(128);
for (const letter of "sjdOoifc") TAKES_ARGUMENT[letter.charCodeAt(0)] = 1;

/**
 * How many of `available` arguments the %-placeholders of `template` take, as util.format walks
 * them: `%s %d %i %f %j %o %O %c` take one each, `%%` none, and the walk stops when the arguments
 * run out. Most messages have no `%` and cost one indexOf.
 */
export function countPlaceholders(template: string, available: number): number {
  let at = template.indexOf("%");
  if (at < 0) return 0;
  let count = 0;
  const last = template.length - 1;
  while (at >= 0 && at < last && count < available) {
    if (TAKES_ARGUMENT[template.charCodeAt(at + 1)] === 1) count++;
    at = template.indexOf("%", at + 2);
  }
  return count;
}

/** The conversion letter of the `index`th placeholder that takes an argument (a rare path). */
function conversionAt(template: string, index: number): string {
  let at = template.indexOf("%");
  let count = 0;
  while (at >= 0 && at < template.length - 1) {
    const letter = template[at + 1]!;
    if (TAKES_ARGUMENT[letter.charCodeAt(0)] === 1 && count++ === index) return letter;
    at = template.indexOf("%", at + 2);
  }
  return "s";
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function errorMessage(err: unknown): string {
  try {
    const message = (err as { message?: unknown }).message;
    return typeof message === "string" ? message : String(message);
  } catch {
    return "";
  }
}

function safely<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (error) {
    try {
      return `[Unloggable: ${error instanceof Error ? error.message : String(error)}]`;
    } catch {
      return "[Unloggable]";
    }
  }
}
