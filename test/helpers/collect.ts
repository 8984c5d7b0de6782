import { kWriteBatches } from "../../src/handlers/base.js";
import { BaseLogHandler, type BaseLogHandlerOptions, type LogRecord } from "../../src/index.js";
import type { RecordBatch } from "../../src/protocol/record-batch.js";

/** A real handler that keeps what it receives and lets a test wait for a condition on it. */
export class CollectHandler extends BaseLogHandler {
  readonly records: LogRecord[] = [];
  /** Each batch the master handed over, as (worker name, record count), in order. */
  readonly batches: { name: string; count: number }[] = [];
  #waiters: { check: () => boolean; resolve: () => void }[] = [];
  constructor(options: BaseLogHandlerOptions = {}) {
    super(options);
  }

  override [kWriteBatches](batches: readonly RecordBatch[], minLevel: number): void | Promise<void> {
    for (const batch of batches) this.batches.push({ name: batch.source.name, count: batch.count });
    return super[kWriteBatches](batches, minLevel);
  }

  push(records: readonly LogRecord[]): void {
    this.records.push(...records);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when `check` holds after some push; rejects after `timeoutMs` with what it saw. */
  until(check: (records: LogRecord[]) => boolean, timeoutMs = 15_000, what = "records"): Promise<void> {
    if (check(this.records)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for ${what}; have ${this.records.length} records`));
      }, timeoutMs);
      this.#waiters.push({
        check: () => check(this.records),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  fromWorkers(): LogRecord[] {
    return this.records.filter((r) => r.name !== "MASTER");
  }

  masterMessages(): string[] {
    return this.records.filter((r) => r.name === "MASTER").map((r) => r.message);
  }
}
