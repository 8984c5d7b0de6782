// The demo's in-process handlers: what the live view shows of the records themselves, taken from
// the master as it routes them (the log file is never read back for the view).
import { BaseLogHandler, kWriteBatches } from "../handlers/base.js";
import { LogLevel } from "../levels.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import type { ViewWarning } from "./view.js";

/** Bound on the warnings kept: a runaway demo must not grow the master's memory without end. */
const MAX_WARNINGS_KEPT = 10_000;

/** Collects the master's own warnings for the view; the demo's dead-worker warning arrives here. */
export class WarningTap extends BaseLogHandler {
  readonly warnings: ViewWarning[] = [];

  constructor() {
    super({ level: LogLevel.WARNING });
  }

  override get name(): string {
    return "demo-view";
  }

  push(records: readonly LogRecord[]): void {
    for (const record of records) {
      if (record.name === "MASTER" && this.warnings.length < MAX_WARNINGS_KEPT) {
        this.warnings.push({ at: Number(record.timestampNs / 1_000_000n), message: record.message });
      }
    }
  }
}

/**
 * Keeps the last few workers' records as formatted lines (the file's format: message, then the
 * fields as logfmt). Only those few are decoded and formatted, from the end of each push, so the
 * tap costs the master next to nothing at a burst's rate, where materialising every record would not.
 */
export class RecentLines extends BaseLogHandler {
  readonly #keep: number;
  #lines: string[] = [];

  constructor(keep: number) {
    super({ level: LogLevel.DEBUG });
    this.#keep = keep;
  }

  override get name(): string {
    return "demo-recent";
  }

  /** Oldest first; one line each (a stack trace or a multi-line message is cut at its first line). */
  get lines(): readonly string[] {
    return this.#lines;
  }

  push(records: readonly LogRecord[]): void {
    const newest: string[] = [];
    for (let i = records.length - 1; i >= 0 && newest.length < this.#keep; i--) {
      if (records[i]!.name !== "MASTER") newest.push(this.#line(records[i]!));
    }
    this.#add(newest);
  }

  override [kWriteBatches](batches: readonly RecordBatch[], minLevel: number): void {
    const newest: string[] = [];
    for (let b = batches.length - 1; b >= 0 && newest.length < this.#keep; b--) {
      const batch = batches[b]!;
      if (batch.source.name === "MASTER" || batch.maxLevel < minLevel) continue;
      for (let i = batch.count - 1; i >= 0 && newest.length < this.#keep; i--) {
        if (batch.level(i) >= minLevel) newest.push(this.#line(batch.record(i)));
      }
    }
    this.#add(newest);
  }

  /** `newest` is newest first. */
  #add(newest: readonly string[]): void {
    if (newest.length === 0) return;
    this.#lines = [...this.#lines, ...[...newest].reverse()].slice(-this.#keep);
  }

  #line(record: LogRecord): string {
    const text = this.format(record);
    const end = text.indexOf("\n");
    return end === -1 ? text : text.slice(0, end);
  }
}
