import { JsonLines, type LineFormatter } from "../format/json.js";
import { ByteSink } from "../format/sink.js";
import { LogLevel } from "../levels.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { BaseLogHandler, type BaseLogHandlerOptions, kWriteBatches } from "./base.js";
import { boolOption } from "./kit/validate.js";

/** Options for {@link ConsoleLogHandler}. */
export interface ConsoleLogHandlerOptions extends BaseLogHandlerOptions {
  /**
   * Line format: a %-style pattern, or `"json"` for JSON lines (never coloured).
   * @default the config's strFormat
   * @example { format: "json" }
   */
  format?: string;
  /**
   * Send ERROR and CRITICAL lines to stderr (`errorStream`) and the rest to stdout, as command-line
   * tools do. When false everything goes to stdout.
   * @default false
   * @example { stderr: true }
   */
  stderr?: boolean;
  /**
   * Colour lines by level. When not given: on if `FORCE_COLOR` says so (it wins, as in Node),
   * off if `NO_COLOR` is set (https://no-color.org) or `NODE_DISABLE_COLORS` or `TERM=dumb`,
   * else on exactly when the stream is a TTY. An explicit value overrides all of that.
   * @default undefined (detected per stream)
   * @example { colors: false }
   */
  colors?: boolean;
  /**
   * Where lines go.
   * @default process.stdout
   * @example { stream: process.stderr }
   */
  stream?: NodeJS.WritableStream;
  /**
   * Where ERROR and above go when `stderr` is true.
   * @default process.stderr
   * @example { errorStream: fs.createWriteStream("errors.log", { flags: "a" }) }
   */
  errorStream?: NodeJS.WritableStream;
}

/** A sink grows to this before it is written; terminal bursts rarely need more. */
const INITIAL_SINK_BYTES = 64 * 1024;

const RESET = "\x1b[0m";
/** Per level: TRACE and DEBUG dim, INFO plain, WARNING yellow, ERROR red, CRITICAL bold red. */
const LEVEL_COLORS: readonly string[] = ["\x1b[2m", "\x1b[2m", "", "\x1b[33m", "\x1b[31m", "\x1b[1;31m"];
const LEVEL_COLOR_BYTES = LEVEL_COLORS.map((c) => Buffer.from(c));
const RESET_BYTES = Buffer.from(RESET);

/** FORCE_COLOR values Node treats as "on"; any other value turns colour off. */
const FORCE_COLOR_ON = new Set(["", "1", "true", "2", "3"]);

/** Whether to colour output to `stream`, following Node's and no-color.org's conventions. */
export function detectColors(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return FORCE_COLOR_ON.has(force);
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.NODE_DISABLE_COLORS !== undefined) return false;
  if (env.TERM === "dumb") return false;
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** One output: a stream, its pending bytes, and whether it is coloured. */
class Output {
  readonly stream: NodeJS.WritableStream;
  readonly colors: boolean;
  readonly sink = new ByteSink(INITIAL_SINK_BYTES);
  /** Settles when the stream has drained after a write() that returned false. */
  drained: Promise<void> | undefined;
  failed = false;
  /** Set by the owning handler: reports the first error of this stream. */
  onError: ((error: unknown) => void) | undefined;
  /** Stops waiting for 'drain' (a close that ran out of time), removing the listeners. */
  #stopWaiting: (() => void) | undefined;

  constructor(stream: NodeJS.WritableStream, colors: boolean) {
    this.stream = stream;
    this.colors = colors;
  }

  /** Writes the sink's bytes in one write; returns a promise only when the stream asks us to wait. */
  flush(): Promise<void> | undefined {
    const sink = this.sink;
    // A destroyed stream will never emit 'drain': waiting on it would hang the master.
    if ((this.stream as { destroyed?: boolean }).destroyed === true) this.failed = true;
    if (sink.length > 0 && !this.failed) {
      // Copied: the stream may hold the buffer until it is written, and the sink is reused.
      const ok = this.stream.write(Buffer.from(sink.view()));
      if (!ok && this.drained === undefined && (this.stream as { destroyed?: boolean }).destroyed !== true) {
        this.drained = new Promise<void>((resolve) => {
          const done = (): void => {
            this.stream.off("drain", done);
            this.stream.off("close", done);
            this.stream.off("error", done);
            this.drained = undefined;
            this.#stopWaiting = undefined;
            resolve();
          };
          this.#stopWaiting = done;
          this.stream.on("drain", done);
          this.stream.on("close", done);
          this.stream.on("error", done);
        });
      }
    }
    sink.reset();
    return this.drained;
  }

  /** Gives up on 'drain' and stops listening to the stream. */
  release(): void {
    this.#stopWaiting?.();
    if (this.onError !== undefined) this.stream.off("error", this.onError);
  }

  /** `stdout`, `stderr`, a file stream's path, or `stream`: what the handler's label shows. */
  get description(): string {
    if (this.stream === process.stdout) return "stdout";
    if (this.stream === process.stderr) return "stderr";
    const path = (this.stream as { path?: unknown }).path;
    return typeof path === "string" ? path : "stream";
  }
}

/**
 * Writes lines to stdout (and, with `stderr: true`, errors to stderr): coloured by level on a
 * terminal, plain in a pipe, or JSON lines. Each push becomes one write per stream; when a stream
 * is backed up, the push returns a promise that settles on 'drain', so the master slows down
 * instead of buffering without bound.
 *
 * @example
 * ```ts
 * new ConsoleLogHandler({ stderr: true, level: LogLevel.INFO });
 * new ConsoleLogHandler({ format: "json" }); // for a log shipper reading stdout
 * ```
 */
export class ConsoleLogHandler extends BaseLogHandler {
  readonly #json: JsonLines | undefined;
  readonly #out: Output;
  readonly #err: Output | undefined;

  constructor(options: ConsoleLogHandlerOptions = {}) {
    super(options);
    boolOption("colors", options.colors, false);
    this.#json = options.format === "json" ? new JsonLines() : undefined;
    const colorsFor = (stream: NodeJS.WritableStream): boolean =>
      this.#json === undefined && (options.colors ?? detectColors(stream));
    const stream = options.stream ?? process.stdout;
    this.#out = new Output(stream, colorsFor(stream));
    if (options.stderr) {
      const errorStream = options.errorStream ?? process.stderr;
      this.#err = new Output(errorStream, colorsFor(errorStream));
    }
    // A closed pipe (EPIPE) must not crash the master; it is reported and that output stops.
    for (const output of this.#outputs()) {
      output.onError = (error: unknown): void => {
        if (output.failed) return;
        output.failed = true;
        this.reportError(error);
      };
      output.stream.on("error", output.onError);
    }
  }

  /** `ConsoleLogHandler(stdout)`, or `ConsoleLogHandler(stdout+stderr)` with `stderr: true`. */
  override get label(): string {
    return `${this.name}(${this.#outputs()
      .map((output) => output.description)
      .join("+")})`;
  }

  protected override acceptsSpecialFormat(format: string): boolean {
    return format === "json";
  }

  get #formatter(): LineFormatter {
    return this.#json ?? this.linePattern;
  }

  push(records: readonly LogRecord[]): void | Promise<void> {
    this.assertOpen();
    const formatter = this.#formatter;
    for (const record of records) this.#writeLine(formatter.format(record), record.level);
    return this.#flush();
  }

  override [kWriteBatches](batches: readonly RecordBatch[], minLevel: number): void | Promise<void> {
    const formatter = this.#formatter;
    const out = this.#out;
    const err = this.#err;
    for (const batch of batches) {
      if (batch.maxLevel < minLevel) continue;
      if (!out.colors && (err === undefined || batch.maxLevel < LogLevel.ERROR)) {
        formatter.writeBatch(batch, minLevel, out.sink);
      } else if (err !== undefined && !err.colors && batch.minLevel >= LogLevel.ERROR) {
        formatter.writeBatch(batch, minLevel, err.sink);
      } else {
        // Mixed destinations or colours: line by line (a terminal is not the fast path).
        for (let i = 0; i < batch.count; i++) {
          const level = batch.level(i);
          if (level >= minLevel) this.#writeLine(formatter.format(batch.record(i)), level);
        }
      }
    }
    return this.#flush();
  }

  /** Waits for backed-up output to drain (until closeTimeoutMs), then stops listening to the streams. */
  protected override async onClose(): Promise<void> {
    const stop = (): void => {
      for (const output of this.#outputs()) output.release();
    };
    this.closeSignal.addEventListener("abort", stop, { once: true });
    try {
      await this.#flush();
    } finally {
      this.closeSignal.removeEventListener("abort", stop);
      stop();
    }
  }

  #outputs(): Output[] {
    return this.#err === undefined || this.#err.stream === this.#out.stream
      ? [this.#out]
      : [this.#out, this.#err];
  }

  #writeLine(line: string, level: number): void {
    const output = this.#err !== undefined && level >= LogLevel.ERROR ? this.#err : this.#out;
    const sink = output.sink;
    const color = output.colors ? LEVEL_COLOR_BYTES[level] : undefined;
    if (color !== undefined && color.length > 0) {
      sink.writeBytes(color);
      sink.writeString(line);
      sink.writeBytes(RESET_BYTES);
    } else sink.writeString(line);
    sink.writeByte(0x0a);
  }

  #flush(): void | Promise<void> {
    const first = this.#out.flush();
    const second = this.#err?.flush();
    if (first === undefined && second === undefined) return;
    return Promise.all([first, second]).then(() => {});
  }
}
