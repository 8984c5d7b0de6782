import type * as Http from "node:http";
import { HandlerError } from "../../errors.js";
import type { LogRecord } from "../../record.js";
import { BaseLogHandler } from "../base.js";
import { Backoff } from "../kit/backoff.js";
import { BoundedQueue } from "../kit/bounded-queue.js";
import { DropReporter, plural } from "../kit/drop-reporter.js";
import { pause } from "../kit/pause.js";
import { reportedBody } from "../kit/reported-body.js";
import { parseRetryAfter } from "../kit/retry-after.js";
import { nowNs, OtlpJsonEncoder } from "./encoder.js";
import {
  type OtlpConfig,
  type OtlpLogHandlerOptions,
  type OtlpStats,
  resolveOtlpOptions,
} from "./options.js";
import { gzipAsync, otlpAgent, postOtlp } from "./post.js";

/** The OTLP/HTTP specification's retryable statuses; every other non-2xx is final. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * Sends records to an OpenTelemetry Collector (or any OTLP/HTTP receiver) as JSON. Records are
 * batched (`maxBatchRecords`, `maxDelayMs`), one request is in flight at a time, and retryable
 * answers (429, 502, 503, 504, network errors) are retried with backoff, honouring `Retry-After`.
 * A 400 or other final status is reported with the server's reason and the batch counted as failed.
 * Delivery is at-least-once: a request whose response was lost is sent again. `close()` sends what
 * is queued without waiting for `maxDelayMs`, within `closeTimeoutMs`.
 *
 * Each record carries `timeUnixNano`, `observedTimeUnixNano`, `severityNumber`/`severityText`, the
 * message as `body.stringValue`, and attributes `logmux.worker.name`, `process.pid` and (when the
 * log call had one) `logmux.data` as `bytesValue`. The resource has `service.name` and `host.name`.
 *
 * The record's fields follow as attributes with typed values (int64 integers as `intValue`, other
 * numbers as `doubleValue`, objects as `kvlistValue`, arrays as `arrayValue`, Uint8Array as
 * `bytesValue`, Date as ISO text, null as an empty value). The record's error becomes the semantic
 * conventions' `exception.type`, `exception.message` and `exception.stacktrace` (its causes
 * appended as `Caused by:` lines); its extra properties such as `code` stay under its field's key
 * as a kvlist. A field named like an attribute logmux sets itself is sent as `fields.<key>`.
 *
 * @example
 * ```ts
 * new OtlpLogHandler({
 *   url: "http://127.0.0.1:4318/v1/logs",
 *   serviceName: "billing",
 *   headers: { authorization: `Bearer ${process.env.OTLP_TOKEN}` },
 * });
 * ```
 */
export class OtlpLogHandler extends BaseLogHandler {
  readonly url: URL;
  readonly #config: OtlpConfig;
  readonly #encoder: OtlpJsonEncoder;
  readonly #agent: Http.Agent;
  readonly #pending: BoundedQueue<string>;
  readonly #drops: DropReporter;
  readonly #backoff: Backoff;

  #inFlight = 0;
  #busy = false;
  #batchTimer: NodeJS.Timeout | undefined;
  #destroyRequest: ((error: Error) => void) | undefined;
  /** Set by onClose while it waits for the queue to empty. */
  #drained: (() => void) | undefined;
  /** Records a timed-out close() could not deliver, for its error. */
  #lost = 0;

  #sent = 0;
  #rejected = 0;
  #failed = 0;
  #requests = 0;
  #retries = 0;

  constructor(options: OtlpLogHandlerOptions = {}) {
    super(options);
    this.#config = resolveOtlpOptions(options);
    this.url = this.#config.url;
    this.#encoder = new OtlpJsonEncoder(this.#config.resource);
    this.#pending = new BoundedQueue<string>({ maxItems: this.#config.maxQueue });
    this.#drops = new DropReporter((count) =>
      this.warn(
        `dropped ${plural(count, "record", false)} (oldest first): queue full ` +
          `(maxQueue ${this.#config.maxQueue}) while ${this.url.origin} was slow or unreachable`,
      ),
    );
    this.#backoff = new Backoff({
      minMs: this.#config.retryMinMs,
      maxMs: this.#config.retryMaxMs,
      jitter: "full",
    });
    this.#agent = otlpAgent(this.url);
  }

  /** `OtlpLogHandler(http://host:4318/v1/logs)`: the endpoint without credentials or query. */
  override get label(): string {
    return `${this.name}(${this.url.protocol}//${this.url.host}${this.url.pathname})`;
  }

  /** Exact counters; see {@link OtlpStats}. */
  get stats(): OtlpStats {
    return {
      queued: this.#pending.length,
      inFlight: this.#inFlight,
      sent: this.#sent,
      dropped: this.#drops.total,
      rejected: this.#rejected,
      failed: this.#failed,
      requests: this.#requests,
      retries: this.#retries,
    };
  }

  /** Header values (auth tokens) and any password in the URL. */
  override secrets(): readonly string[] {
    const secrets = Object.values(this.#config.headers);
    if (this.url.password !== "") return [...secrets, decodeURIComponent(this.url.password)];
    return secrets;
  }

  push(records: readonly LogRecord[]): void {
    this.assertOpen();
    const observed = nowNs();
    let evicted = 0;
    for (const record of records) evicted += this.#pending.push(this.#encoder.record(record, observed));
    this.#drops.add(evicted);
    this.#pump();
  }

  #pump(): void {
    if (this.#busy || this.closeSignal.aborted || this.#pending.length === 0) return;
    if (this.#pending.length < this.#config.maxBatch && this.state === "open") {
      this.#batchTimer ??= setTimeout(() => {
        this.#batchTimer = undefined;
        this.#send();
      }, this.#config.maxDelayMs);
      return;
    }
    this.#send();
  }

  #send(): void {
    if (this.#busy || this.closeSignal.aborted || this.#pending.length === 0) return;
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const batch = this.#pending.take(this.#config.maxBatch);
    this.#busy = true;
    this.#inFlight = batch.length;
    void this.#deliver(batch).finally(() => {
      this.#busy = false;
      this.#inFlight = 0;
      if (this.state !== "open" && this.#pending.length === 0) this.#drained?.();
      else this.#pump();
    });
  }

  /** Sends one batch until it is accepted, finally refused, out of attempts, or close() gave up. */
  async #deliver(records: string[]): Promise<void> {
    let body: Buffer;
    try {
      const json = Buffer.from(this.#encoder.request(records), "utf8");
      body = this.#config.gzip ? await gzipAsync(json) : json;
    } catch (error) {
      this.#failed += records.length;
      this.reportError(new HandlerError(this.label, "could not encode a batch", { cause: error }));
      return;
    }
    const headers: Record<string, string> = { ...this.#config.headers, "content-type": "application/json" };
    if (this.#config.gzip) headers["content-encoding"] = "gzip";
    for (let attempt = 1; ; attempt++) {
      // close() gave up on this batch and counts it as failed.
      if (this.closeSignal.aborted) return;
      this.#requests++;
      const outcome = await postOtlp(
        this.url,
        this.#agent,
        headers,
        body,
        this.#config.timeoutMs,
        (destroy) => {
          this.#destroyRequest = destroy;
        },
      );
      if (this.closeSignal.aborted) return;
      let reason: string;
      let wait = this.#backoff.delay(attempt);
      if (outcome.kind === "response") {
        const { status, headers: answer } = outcome.response;
        if (status >= 200 && status < 300) {
          this.#accepted(records.length, outcome.response.body);
          return;
        }
        reason = `HTTP ${status}${this.#bodyReason(outcome.response.body)}`;
        if (!RETRYABLE_STATUS.has(status)) {
          this.#failed += records.length;
          this.reportError(
            this.#error(
              `${this.url.origin}${this.url.pathname} refused ${records.length} records with ${reason}; not retried`,
            ),
          );
          return;
        }
        const retryAfter = parseRetryAfter(answer["retry-after"]);
        if (retryAfter !== undefined) wait = retryAfter;
      } else {
        reason = outcome.error.message;
      }
      if (attempt >= this.#config.maxAttempts) {
        this.#failed += records.length;
        this.reportError(
          this.#error(
            `gave up on ${records.length} records after ${attempt} attempts to ${this.url.origin}: ${reason}`,
          ),
        );
        return;
      }
      this.#retries++;
      await pause(Math.min(wait, this.#config.retryMaxMs), this.closeSignal);
    }
  }

  #bodyReason(body: string): string {
    const text = body.trim();
    if (text === "") return "";
    try {
      // A google.rpc.Status as JSON carries the reason in `message`.
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === "string") return `: ${reportedBody(parsed.message, this.secrets())}`;
    } catch {}
    return `: ${reportedBody(text, this.secrets())}`;
  }

  #accepted(count: number, body: string): void {
    let rejected = 0;
    let message = "";
    if (body.trim() !== "") {
      try {
        const parsed = JSON.parse(body) as {
          partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown };
        };
        const partial = parsed.partialSuccess;
        // int64 in proto3 JSON: a string, though some servers send a number.
        const n = Number(partial?.rejectedLogRecords ?? 0);
        if (Number.isFinite(n) && n > 0) rejected = Math.min(count, Math.floor(n));
        if (typeof partial?.errorMessage === "string") message = partial.errorMessage;
      } catch {
        // A 2xx with a body that is not JSON is still a success.
      }
    }
    this.#sent += count - rejected;
    if (rejected > 0) {
      this.#rejected += rejected;
      this.reportError(
        this.#error(
          `${this.url.origin} rejected ${rejected} of ${count} records (partial success)` +
            `${message ? `: ${reportedBody(message, this.secrets())}` : ""}`,
        ),
      );
    } else if (message !== "") {
      // The spec allows a warning with nothing rejected.
      this.warn(`${this.url.origin} accepted the batch with a warning: ${message}`);
    }
  }

  protected override onClosing(): void {
    // What is queued goes out now, without waiting for maxDelayMs or a fuller batch.
    this.#send();
  }

  /** Waits until the queue is delivered or closeTimeoutMs ran out (closeSignal), then releases. */
  protected override async onClose(): Promise<void> {
    if (this.#busy || this.#pending.length > 0) {
      const signal = this.closeSignal;
      await new Promise<void>((done) => {
        this.#drained = done;
        signal.addEventListener("abort", () => done(), { once: true });
      });
    }
    this.#drained = undefined;
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    this.#lost = this.#pending.clear().length + this.#inFlight;
    this.#failed += this.#lost;
    this.#destroyRequest?.(new Error("handler closed"));
    this.#agent.destroy();
    this.#drops.flush();
  }

  protected override undelivered(): string {
    return `${plural(this.#lost, "record", false)} not delivered to ${this.url.origin}`;
  }

  #error(message: string): HandlerError {
    return new HandlerError(this.label, message);
  }
}
