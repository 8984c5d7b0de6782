import type { LogLevel } from "./levels.js";

/**
 * One log record as handlers receive it.
 *
 * @example
 * ```ts
 * class Collect extends BaseLogHandler {
 *   lines: string[] = [];
 *   push(records: readonly LogRecord[]) { for (const r of records) this.lines.push(this.format(r)); }
 * }
 * ```
 */
export interface LogRecord {
  /** Nanoseconds since the Unix epoch, taken by the worker when the log call was made. */
  readonly timestampNs: bigint;
  readonly level: LogLevel;
  /** The worker's name (`MASTER` for the master's own records). */
  readonly name: string;
  /**
   * The message, decoded as UTF-8 (invalid sequences become U+FFFD), with %-arguments
   * interpolated as `util.format` does.
   */
  readonly message: string;
  /**
   * The record's fields: a child logger's bindings, then the fields of the call (a later key
   * replaces an earlier one), with an Error argument under `err`; every record a handler receives
   * has it (empty when the call had none), a record built by hand may leave it out. Values are plain objects and
   * arrays, strings, numbers, bigint, booleans, null, Date, Uint8Array and Error (with `name` set
   * to its type, `stack`, `cause` and extra properties such as `code`). Decoded on first read.
   */
  readonly fields?: Readonly<Record<string, unknown>> | undefined;
  /** The record's error: the field `err` when it is an Error, else the first field that is one. */
  readonly err?: Error | undefined;
  /** The optional binary attachment given to the log call. */
  readonly data?: Uint8Array;
  /** Process id of the worker that logged it. */
  readonly pid: number;
}
