import { close, closeSync, existsSync, mkdirSync, openSync, write, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InvalidConfigError } from "../errors.js";
import { JsonLines, type LineFormatter } from "../format/json.js";
import { ByteSink } from "../format/sink.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { BaseLogHandler, type BaseLogHandlerOptions, kPushBatches } from "./base.js";

/** Options for {@link FileLogHandler}. */
export interface FileLogHandlerOptions extends BaseLogHandlerOptions {
  /**
   * Create the file, and any missing parent directories, when they do not exist. When false, a
   * missing file is an error at construction.
   * @default true
   * @example { create: false }
   */
  create?: boolean;
  /**
   * Line format: a %-style pattern, or `"json"` for JSON lines (see README, "JSON lines").
   * @default the config's strFormat
   * @example { format: "json" }
   */
  format?: string;
  /**
   * Write synchronously (the default, like pino's destination): a slice of formatted lines is on
   * the file by the time the master acknowledges it, and the master's commit journal is written
   * microseconds later, which is what keeps a crashed-and-restarted master from writing a batch
   * twice. `false` overlaps disk writes with formatting (a little more throughput on slow disks)
   * at the cost of a wider window in which a master crash can duplicate one slice.
   * @default true
   * @example { sync: false }
   */
  sync?: boolean;
  /**
   * Mode for a file this handler creates (before the umask).
   * @default 0o640
   * @example { mode: 0o600 }
   */
  mode?: number;
}

/** A sink grows to this before it is written, so a burst becomes a few large writes. */
const INITIAL_SINK_BYTES = 256 * 1024;
const MAX_RETAINED_SINK_BYTES = 8 * 1024 * 1024;

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((done, fail) => {
    const step = (offset: number): void => {
      write(fd, buf, offset, buf.length - offset, null, (error, written) => {
        if (error) fail(error);
        else if (offset + written < buf.length) step(offset + written);
        else done();
      });
    };
    step(0);
  });
}

/**
 * Appends lines to a file (never truncates). Writes are batched: each push formats its records
 * into one buffer and issues one write (synchronous by default, see `sync`); `close()` waits for
 * any write in flight. `reopen()` closes and
 * reopens the path, which is what logrotate's `postrotate` (or SIGHUP to `logmux master`) needs.
 *
 * @example
 * ```ts
 * new FileLogHandler("/var/log/myapp.log", { create: true, level: LogLevel.INFO });
 * ```
 */
export class FileLogHandler extends BaseLogHandler {
  readonly path: string;
  readonly #mode: number;
  readonly #sync: boolean;
  readonly #json: JsonLines | undefined;
  #fd: number | undefined;
  #sink = new ByteSink(INITIAL_SINK_BYTES);
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(path: string, options: FileLogHandlerOptions = {}) {
    super(options);
    if (typeof path !== "string" || path === "") {
      throw new InvalidConfigError("path", `expected a file path string, got ${String(path)}`);
    }
    this.path = resolve(path);
    const create = options.create ?? true;
    this.#mode = options.mode ?? 0o640;
    this.#sync = options.sync ?? true;
    this.#json = options.format === "json" ? new JsonLines() : undefined;
    if (create) {
      mkdirSync(dirname(this.path), { recursive: true });
    } else if (!existsSync(this.path)) {
      throw new InvalidConfigError(
        "path",
        `${this.path} does not exist and create is false (pass { create: true } to create it)`,
      );
    }
    this.#fd = this.#open();
  }

  /** `FileLogHandler(/var/log/app.log)`: which file, when a master has several. */
  override get label(): string {
    return `${this.name}(${this.path})`;
  }

  protected override acceptsSpecialFormat(format: string): boolean {
    return format === "json";
  }

  #open(): number {
    return openSync(this.path, "a", this.#mode);
  }

  get #formatter(): LineFormatter {
    return this.#json ?? this.linePattern;
  }

  push(records: readonly LogRecord[]): void | Promise<void> {
    const sink = this.#sink;
    for (const record of records) {
      sink.writeString(this.#formatter.format(record));
      sink.writeByte(0x0a);
    }
    return this.#flushSink();
  }

  override [kPushBatches](batches: readonly RecordBatch[], minLevel: number): void | Promise<void> {
    const formatter = this.#formatter;
    for (const batch of batches) formatter.writeBatch(batch, minLevel, this.#sink);
    return this.#flushSink();
  }

  #flushSink(): void | Promise<void> {
    const sink = this.#sink;
    if (sink.length === 0) return this.#sync ? undefined : this.#writing;
    if (this.#sync) {
      if (this.#fd === undefined) throw new Error(`${this.path} is closed`);
      const bytes = sink.view();
      let done = 0;
      while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done);
      // A sink that grew for one huge burst is not kept at that size forever.
      if (sink.buffer.length > MAX_RETAINED_SINK_BYTES) this.#sink = new ByteSink(INITIAL_SINK_BYTES);
      else sink.reset();
      return;
    }
    // The bytes are copied out so the sink can be refilled while the write is in flight.
    const bytes = Buffer.from(sink.view());
    sink.reset();
    const next = this.#writing.then(() => {
      if (this.#fd === undefined) throw new Error(`${this.path} is closed`);
      return writeAll(this.#fd, bytes);
    });
    this.#writing = next.catch(() => {});
    return next;
  }

  /** Closes and reopens the file by path (after log rotation moved the old one away). */
  async reopen(): Promise<void> {
    await this.#writing;
    if (this.#closed) return;
    const old = this.#fd;
    mkdirSync(dirname(this.path), { recursive: true });
    this.#fd = this.#open();
    if (old !== undefined) closeSync(old);
  }

  override async close(): Promise<void> {
    if (this.#closed) return this.#writing;
    this.#closed = true;
    await this.#writing;
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) await new Promise<void>((done) => close(fd, () => done()));
  }
}
