import { HandlerError } from "../errors.js";
import type { BaseLogHandler } from "../handlers/base.js";
import { EndKind } from "../protocol/constants.js";
import type { Shutdown } from "../protocol/decoder.js";
import { describeError, redact } from "../redact.js";
import type { HandlerQueue } from "./handler-queue.js";

/** Handler error reports beyond this many per interval are counted, not printed. */
const ERROR_REPORTS_PER_INTERVAL = 5;
const ERROR_REPORT_INTERVAL_MS = 10_000;
/** Drops by stalled handlers are summarised at most this often, with exact counts. */
const DROP_REPORT_INTERVAL_MS = 1000;

/** Where the master's own records go (its LoggerBase methods). */
export interface MasterLog {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

/**
 * A handler's failure as its report says it: a HandlerError already names its handler, which the
 * report names too, so its own text starts after that prefix.
 */
function describeFailure(error: unknown, secrets: readonly string[]): string {
  if (!(error instanceof HandlerError) || !error.message.startsWith(`${error.handler}: `)) {
    return describeError(error, secrets);
  }
  const own = redact(error.message.slice(error.handler.length + 2), secrets);
  return error.cause === undefined ? own : `${own} <- caused by ${describeError(error.cause, secrets)}`;
}

/** A handler as reports name it (e.g. with its file path), with its secrets removed. */
export function labelOf(handler: BaseLogHandler): string {
  return redact(handler.label, handler.secrets());
}

/**
 * What the master says about its handlers and workers: failures on stderr (rate-limited, secrets
 * removed), stalls, exact drop counts as MASTER warnings, what a shutdown could not deliver, and
 * how each worker ended. Rate limits and summaries live here so a failing handler is reported
 * the same way whichever part of the master noticed.
 */
export class Reports {
  readonly #log: MasterLog;
  readonly #queues: readonly HandlerQueue[];
  readonly #stallTimeoutMs: number;
  readonly #reportedDrops = new Map<HandlerQueue, number>();
  readonly #errorWindows = new Map<HandlerQueue, { start: number; printed: number; suppressed: number }>();
  #dropTimer: NodeJS.Timeout | undefined;

  constructor(log: MasterLog, queues: readonly HandlerQueue[], stallTimeoutMs: number) {
    this.#log = log;
    this.#queues = queues;
    this.#stallTimeoutMs = stallTimeoutMs;
  }

  /** A handler failed: on stderr, at most 5 times per 10 s per handler, then a count. */
  handlerError(queue: HandlerQueue, error: unknown): void {
    const now = Date.now();
    let window = this.#errorWindows.get(queue);
    if (window === undefined || now - window.start > ERROR_REPORT_INTERVAL_MS) {
      if (window !== undefined && window.suppressed > 0) {
        process.stderr.write(
          `logmux: handler ${labelOf(queue.handler)}: ${window.suppressed} more errors not shown in the last interval\n`,
        );
      }
      window = { start: now, printed: 0, suppressed: 0 };
      this.#errorWindows.set(queue, window);
    }
    if (window.printed >= ERROR_REPORTS_PER_INTERVAL) {
      window.suppressed++;
      return;
    }
    window.printed++;
    process.stderr.write(
      `logmux: handler ${labelOf(queue.handler)} failed: ${describeFailure(error, queue.handler.secrets())}\n`,
    );
  }

  /** A handler stalled: said once on stderr, and its drops are summarised while it stays so. */
  stalled(queue: HandlerQueue): void {
    process.stderr.write(
      `logmux: handler ${labelOf(queue.handler)} has not finished a write for ${this.#stallTimeoutMs} ms; the others carry on without it\n`,
    );
    this.#scheduleDropReport();
  }

  #scheduleDropReport(): void {
    if (this.#dropTimer !== undefined) return;
    this.#dropTimer = setTimeout(() => {
      this.#dropTimer = undefined;
      this.drops();
      if (this.#queues.some((q) => q.stalled)) this.#scheduleDropReport();
    }, DROP_REPORT_INTERVAL_MS);
    this.#dropTimer.unref();
  }

  /** A WARNING per handler that dropped records since the last summary, with exact counts. */
  drops(): void {
    for (const queue of this.#queues) {
      const delta = queue.dropped - (this.#reportedDrops.get(queue) ?? 0);
      if (delta <= 0) continue;
      this.#reportedDrops.set(queue, queue.dropped);
      this.#log.warning(
        `Handler ${labelOf(queue.handler)} is stalled: dropped ${delta} records from its full queue (${queue.dropped} in total)`,
      );
    }
  }

  /** At shutdown: what each handler has not taken, on stderr. */
  undelivered(): void {
    for (const queue of this.#queues) {
      const pending = queue.pendingRecords();
      if (pending === 0) continue;
      process.stderr.write(
        `logmux: handler ${labelOf(queue.handler)} did not take ${pending} records before the shutdown timeout\n`,
      );
    }
  }

  /**
   * How a worker that said SHUTDOWN ended. An orderly end is INFO; a failing exit code is a
   * WARNING and a crash an ERROR, for alerting. `shutdown()` is not reported: the application
   * ended its logger itself, and says so in its own records if it wants to.
   */
  workerEnd(who: string, end: Shutdown): void {
    const text = end.text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === "\n" ? "\\n" : " "));
    switch (end.kind) {
      case EndKind.SHUTDOWN:
        return;
      case EndKind.EXIT:
        if (end.detail === 0) this.#log.info(`${who} exited (code 0)`);
        else this.#log.warning(`${who} exited with code ${end.detail}`);
        return;
      case EndKind.SIGNAL:
        this.#log.info(`${who} was stopped by ${text || `signal ${end.detail}`}`);
        return;
      case EndKind.UNCAUGHT:
        this.#log.error(`${who} crashed (exit code ${end.detail}): uncaught ${text}`);
        return;
      default:
        // decodeShutdown admits only the kinds above; a new one must be reported, not lost.
        this.#log.warning(`${who} ended (end kind ${String(end.kind)}, detail ${end.detail}) ${text}`);
    }
  }

  close(): void {
    if (this.#dropTimer !== undefined) clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
  }
}
