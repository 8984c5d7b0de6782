import { close, closeSync, existsSync, mkdirSync, openSync, write, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ClosedError, InvalidConfigError } from "../errors.js";
import { JsonLines, type LineFormatter } from "../format/json.js";
import { ByteSink } from "../format/sink.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { BaseLogHandler, type BaseLogHandlerOptions, kWriteBatches } from "./base.js";
import { countLines, type Unwritten, WriteRetry } from "./file-retry.js";
import { type RotateOptions, rotationPlan } from "./rotation/options.js";
import { type Clock, kRotationClock, Rotator } from "./rotation/rotator.js";

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
  /**
   * Rotate the file from within the master: by size, by age, at local midnight, keeping `keep`
   * rotated files, optionally gzipped. `app.log` is renamed to `app.2026-12-02.001.log` (the local
   * date its first line was written, then a sequence number), `.gz` added once compressed. The
   * master is the only writer, so rotation falls between two slices of lines: no line is split,
   * none lost or written twice. See README, "Log rotation".
   * @default no rotation (use an external logrotate with {@link FileLogHandler.reopen})
   * @example { rotate: { size: "100MB", keep: 14, compress: true } }
   * @example { rotate: { atMidnight: true, keep: 30, compress: true } }
   */
  rotate?: RotateOptions;
}

/** A sink grows to this before it is written, so a burst becomes a few large writes. */
const INITIAL_SINK_BYTES = 256 * 1024;
const MAX_RETAINED_SINK_BYTES = 8 * 1024 * 1024;
function writeAsync(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((done, fail) => {
    write(fd, buf, offset, buf.length - offset, null, (error, written) =>
      error ? fail(error) : done(written),
    );
  });
}

/**
 * Appends lines to a file (never truncates). Writes are batched: each push formats its records
 * into one buffer and issues one write (synchronous by default, see `sync`); `close()` waits for
 * any write in flight. `reopen()` closes and
 * reopens the path, which is what logrotate's `postrotate` (or SIGHUP to `logmux master`) needs.
 *
 * **A file that cannot be written** (a full disk, a quota): the handler keeps the slice it was
 * writing and tries again, 10 ms after the failure and then doubling up to once a second, until
 * the file takes it. A write that stopped part-way resumes at the first byte the file did not take,
 * so after the disk recovers every line is in the file once and whole. Meanwhile the push stays
 * pending, so the master's queue for this handler holds the records behind it, within
 * `maxQueueBytes` (workers are paused, then, once the handler counts as stalled after
 * `handlerStallMs`, the oldest records are dropped and reported with exact counts). Failures are
 * reported on stderr as `FileLogHandler(<path>)`, on the 1st, 2nd, 4th, 8th... attempt, and a
 * WARNING says when writes work again. Every write error is retried this way: ENOSPC and EDQUOT
 * clear when space returns, others (EFBIG, EROFS) when the file is rotated and {@link reopen}ed or
 * the filesystem remounted. `close()` makes one last attempt, then gives up and says how many
 * bytes and lines it could not write.
 *
 * **Rotation** (`rotate`): before a slice that would take the file past `size`, or at the first
 * moment between slices after `interval` or a local midnight, the file is renamed to its rotated
 * name and a new one is created at the path; the old one is then gzipped in the background and the
 * oldest beyond `keep` deleted. A slice is acknowledged once it is on whichever file it went to, and
 * neither the rename nor the gzip (which replaces a file only by a complete copy) can lose it.
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
  /** Bytes at the start of the sink already on the file: a write that stopped part-way resumes here. */
  #written = 0;
  #writing: Promise<void> = Promise.resolve();
  readonly #retry = new WriteRetry({
    isOpen: () => this.state === "open",
    reportError: (error) => this.reportError(error),
    warn: (message) => this.warn(message),
    giveUp: (error, unwritten) => this.#giveUp(error, unwritten),
  });
  readonly #rotation: Rotator | undefined;
  /**
   * Where a rotation renamed the file before it failed to create the next one (EMFILE, ENOSPC):
   * the handler writes on into that file, and the next attempt only creates the path.
   */
  #renamedTo: string | undefined;

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
    // Checked before anything is created on disk.
    const plan = options.rotate === undefined ? undefined : rotationPlan(options.rotate);
    if (create) {
      mkdirSync(dirname(this.path), { recursive: true });
    } else if (!existsSync(this.path)) {
      throw new InvalidConfigError(
        "path",
        `${this.path} does not exist and create is false (pass { create: true } to create it)`,
      );
    }
    this.#fd = this.#open();
    if (plan !== undefined) {
      const clock = (options.rotate as { [kRotationClock]?: Clock })[kRotationClock];
      this.#rotation = new Rotator(
        this.path,
        plan,
        { due: () => this.#rotateWhenIdle(), reportError: (error) => this.reportError(error) },
        clock,
      );
      this.#rotation.opened(this.#fd);
    }
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
    this.assertOpen();
    const sink = this.#sink;
    for (const record of records) {
      sink.writeString(this.#formatter.format(record));
      sink.writeByte(0x0a);
    }
    return this.#flushSink();
  }

  override [kWriteBatches](batches: readonly RecordBatch[], minLevel: number): void | Promise<void> {
    const formatter = this.#formatter;
    for (const batch of batches) formatter.writeBatch(batch, minLevel, this.#sink);
    return this.#flushSink();
  }

  #flushSink(): void | Promise<void> {
    const sink = this.#sink;
    if (this.#sync) {
      // A push while a refused write is retried (the master waits instead) joins that write.
      const retrying = this.#retry.current;
      if (retrying !== undefined) return retrying;
      if (sink.length === 0) return;
      if (this.#fd === undefined) throw new ClosedError(this.label);
      if (this.#rotation?.before(sink.length)) this.#rotate();
      const error = this.#writeSink();
      if (error === undefined) return;
      return this.#retry.start(
        error,
        () => this.#writeSink(),
        () => ({ bytes: this.#sink.view(), from: this.#written }),
      );
    }
    if (sink.length === 0) return this.#writing;
    // The bytes are copied out so the sink can be refilled while the write is in flight.
    const bytes = Buffer.from(sink.view());
    sink.reset();
    const next = this.#writing.then(() => this.#writeAll(bytes));
    this.#writing = next.catch(() => {});
    return next;
  }

  /** Writes the sink from {@link #written} on; returns what stopped it, or undefined once it is all on the file. */
  #writeSink(): unknown {
    const fd = this.#fd;
    if (fd === undefined) return new Error(`${this.path} is closed`);
    const sink = this.#sink;
    try {
      // A short write (the disk filled mid-slice) continues where it stopped: nothing is written twice.
      while (this.#written < sink.length) {
        this.#written += writeSync(fd, sink.buffer, this.#written, sink.length - this.#written);
      }
    } catch (error) {
      return error;
    }
    this.#written = 0;
    this.#rotation?.wrote(sink.length);
    // A sink that grew for one huge burst is not kept at that size forever.
    if (sink.buffer.length > MAX_RETAINED_SINK_BYTES) this.#sink = new ByteSink(INITIAL_SINK_BYTES);
    else sink.reset();
    return undefined;
  }

  /** `sync: false`: writes all of `bytes`, continuing after a short write and retrying a refusal. */
  async #writeAll(bytes: Buffer): Promise<void> {
    // Writes are chained, so none is in flight here: the rotation falls between two of them.
    if (this.#rotation?.before(bytes.length)) this.#rotate();
    let from = 0;
    const attempt = async (): Promise<unknown> => {
      try {
        while (from < bytes.length) {
          if (this.#fd === undefined) return new Error(`${this.path} is closed`);
          from += await writeAsync(this.#fd, bytes, from);
        }
        return undefined;
      } catch (error) {
        return error;
      }
    };
    const error = await attempt();
    if (error !== undefined) await this.#retry.start(error, attempt, () => ({ bytes, from }));
    this.#rotation?.wrote(bytes.length);
  }

  /**
   * A timer made the file due. Synchronous writes finish within their turn, so unless a refused
   * write is being retried (then the next slice rotates first) nothing is mid-write now; with
   * `sync: false` the rotation waits its turn behind the writes queued.
   */
  #rotateWhenIdle(): void {
    if (this.state !== "open") return;
    if (!this.#sync) {
      this.#writing = this.#writing.then(() => {
        if (this.state === "open" && this.#rotation?.due) this.#rotate();
      });
      return;
    }
    if (this.#retry.current === undefined && this.#rotation?.due) this.#rotate();
  }

  /**
   * Renames the file to its rotated name and goes on in a new one. Everything before is on the
   * old file (the fd keeps it through the rename), everything after on the new one. A rotation
   * that fails is reported and the handler writes on in the file it has; when the rename was done
   * and only the new file could not be made, the next attempt makes it (renaming again would fail
   * for good: nothing is at the path any more).
   */
  #rotate(): void {
    const rotation = this.#rotation!;
    let target = this.#renamedTo;
    if (target === undefined) {
      try {
        target = rotation.rename();
      } catch (error) {
        this.reportError(new Error(`cannot rotate ${this.path}; writing on to it`, { cause: error }));
        rotation.postpone();
        return;
      }
    }
    let fd: number;
    try {
      fd = this.#open();
    } catch (error) {
      // The old fd still works: lines go on into the renamed file until the next attempt.
      this.#renamedTo = target;
      this.reportError(new Error(`rotated to ${target} but cannot create ${this.path}`, { cause: error }));
      rotation.postpone();
      return;
    }
    this.#renamedTo = undefined;
    this.#replaceFd(fd);
    rotation.rotated(target);
  }

  /** Goes on in `fd` (just opened at the path), closing the one written so far. */
  #replaceFd(fd: number): void {
    const old = this.#fd;
    this.#fd = fd;
    if (old !== undefined) closeSync(old);
    this.#rotation?.opened(fd);
  }

  /** Resolves once no rotated file waits to be gzipped (tests, and a caller about to read them). */
  compressed(): Promise<void> {
    return this.#rotation?.compressed() ?? Promise.resolve();
  }

  /** Closed while the file still refused: the rest is lost, and the report says exactly how much. */
  #giveUp(error: unknown, unwritten: Unwritten): Error {
    const { bytes, from } = unwritten;
    const rest = bytes.subarray(from);
    let cut = "";
    if (from > 0 && bytes[from - 1] !== 0x0a) {
      // End the partly written line, so whoever appends next starts a whole line of their own.
      let ended = false;
      try {
        if (this.#fd !== undefined) ended = writeSync(this.#fd, "\n") === 1;
      } catch {}
      cut = ended
        ? "; the first of them is in the file cut short, ended with a newline"
        : "; the first of them is in the file cut short, with no newline after it";
    }
    if (this.#sync) {
      this.#sink.reset();
      this.#written = 0;
    }
    return new Error(`closed with ${rest.length} bytes (${countLines(rest)} lines) never written${cut}`, {
      cause: error,
    });
  }

  /**
   * Closes and reopens the file by path (after log rotation moved the old one away). During an
   * outage, `sync: false` first waits for the retried write to finish; with `sync: true` the retry
   * goes on in the new file, so a line the old file had cut short is split between the two.
   */
  async reopen(): Promise<void> {
    await this.#writing;
    if (this.state !== "open") return;
    mkdirSync(dirname(this.path), { recursive: true });
    this.#replaceFd(this.#open());
    // A rotation that renamed the file but could not make the next one is finished by this open.
    const renamed = this.#renamedTo;
    this.#renamedTo = undefined;
    if (renamed !== undefined) this.#rotation?.rotated(renamed);
  }

  protected override onClosing(): void {
    // A write the file is refusing gets one last attempt now, then is given up (and reported).
    this.#retry.wake();
  }

  /** Waits for the write in flight (a refused one has made its last attempt), then closes the fd. */
  protected override async onClose(): Promise<void> {
    await this.#retry.current?.catch(() => {});
    await this.#writing;
    // The last rotated files are gzipped before close() resolves (bounded by closeTimeoutMs).
    await this.#rotation?.close(this.closeSignal);
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) await new Promise<void>((done) => close(fd, () => done()));
  }
}
