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
  /** The message, decoded as UTF-8 (invalid sequences become U+FFFD). */
  readonly message: string;
  /** The optional binary attachment given to the log call. */
  readonly data?: Uint8Array;
  /** Process id of the worker that logged it. */
  readonly pid: number;
}
