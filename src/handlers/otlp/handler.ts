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
import { nowNs, type OtlpEncoder, OtlpJsonEncoder } from "./encoder.js";
import { OtlpProtoEncoder } from "./encoder-proto.js";
import {
  type OtlpConfig,
  type OtlpLogHandlerOptions,
  type OtlpStats,
  resolveOtlpOptions,
} from "./options.js";
import { gzipAsync, type OtlpResponse, otlpAgent, postOtlp } from "./post.js";
import { errorReasonOf, partialSuccessOf } from "./response.js";

/** The OTLP/HTTP specification's retryable statuses; every other non-2xx is final. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * Sends records to an OpenTelemetry Collector (or any OTLP/HTTP receiver) as binary protobuf (the
 * OTLP default) or JSON (`protocol`). Records are batched (`maxBatchRecords`, `maxDelayMs`), up to
 * `maxConcurrentRequests` requests are in flight at a time (each one's records in the order they
 * arrived; 1 keeps requests in order too), and retryable answers (429, 502, 503, 504, network
 * errors) are retried with backoff, honouring `Retry-After`. Options left out are read from the
 * standard OTEL_EXPORTER_OTLP_* variables (endpoint, headers, protocol, timeout).
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
  readonly #encoder: OtlpEncoder<unknown>;
  readonly #agent: Http.Agent;
  readonly #pending: BoundedQueue<unknown>;
  readonly #drops: DropReporter;
  readonly #backoff: Backoff;

  /** Records in requests being sent or retried. */
  #inFlight = 0;
  /** Requests being sent or retried. */
  #active = 0;
  #batchTimer: NodeJS.Timeout | undefined;
  /** maxDelayMs ran out while every request slot was taken: the next free slot sends at once. */
  #overdue = false;
  readonly #destroyRequests = new Set<(error: Error) => void>();
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
    this.#encoder =
      this.#config.protocol === "http/json"
        ? new OtlpJsonEncoder(this.#config.resource)
        : new OtlpProtoEncoder(this.#config.resource);
    this.#pending = new BoundedQueue<unknown>({ maxItems: this.#config.maxQueue });
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
    this.#agent = otlpAgent(this.url, this.#config.maxConcurrent);
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

  /**
   * Starts requests while a slot is free: full batches at once, a partial one when maxDelayMs ran
   * out or the handler is closing.
   */
  #pump(): void {
    while (
      this.#active < this.#config.maxConcurrent &&
      !this.closeSignal.aborted &&
      this.#pending.length > 0
    ) {
      if (this.#pending.length < this.#config.maxBatch && this.state === "open" && !this.#overdue) {
        this.#batchTimer ??= setTimeout(() => {
          this.#batchTimer = undefined;
          this.#overdue = true;
          this.#pump();
        }, this.#config.maxDelayMs);
        return;
      }
      this.#sendOne();
    }
  }

  #sendOne(): void {
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    this.#overdue = false;
    const batch = this.#pending.take(this.#config.maxBatch);
    this.#active++;
    this.#inFlight += batch.length;
    void this.#deliver(batch).finally(() => {
      this.#active--;
      this.#inFlight -= batch.length;
      if (this.state !== "open" && this.#pending.length === 0) {
        if (this.#active === 0) this.#drained?.();
      } else this.#pump();
    });
  }

  /** Sends one batch until it is accepted, finally refused, out of attempts, or close() gave up. */
  async #deliver(records: unknown[]): Promise<void> {
    let body: Buffer;
    try {
      const encoded = this.#encoder.body(records);
      body = this.#config.gzip ? await gzipAsync(encoded) : encoded;
    } catch (error) {
      this.#failed += records.length;
      this.reportError(new HandlerError(this.label, "could not encode a batch", { cause: error }));
      return;
    }
    const headers: Record<string, string> = {
      ...this.#config.headers,
      "content-type": this.#encoder.contentType,
    };
    if (this.#config.gzip) headers["content-encoding"] = "gzip";
    let destroyer: ((error: Error) => void) | undefined;
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
          if (destroy !== undefined) {
            destroyer = destroy;
            this.#destroyRequests.add(destroy);
          } else if (destroyer !== undefined) this.#destroyRequests.delete(destroyer);
        },
      );
      if (this.closeSignal.aborted) return;
      let reason: string;
      let wait = this.#backoff.delay(attempt);
      if (outcome.kind === "response") {
        const { status, headers: answer } = outcome.response;
        if (status >= 200 && status < 300) {
          this.#accepted(records.length, outcome.response);
          return;
        }
        const why = errorReasonOf(outcome.response);
        reason = `HTTP ${status}${why === "" ? "" : `: ${reportedBody(why, this.secrets())}`}`;
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

  #accepted(count: number, response: OtlpResponse): void {
    const partial = partialSuccessOf(response);
    const rejected = Math.min(count, partial?.rejected ?? 0);
    const message = partial?.message ?? "";
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
      this.warn(
        `${this.url.origin} accepted the batch with a warning: ${reportedBody(message, this.secrets())}`,
      );
    }
  }

  protected override onClosing(): void {
    // What is queued goes out now, without waiting for maxDelayMs or a fuller batch.
    this.#pump();
  }

  /** Waits until the queue is delivered or closeTimeoutMs ran out (closeSignal), then releases. */
  protected override async onClose(): Promise<void> {
    if (this.#active > 0 || this.#pending.length > 0) {
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
    for (const destroy of this.#destroyRequests) destroy(new Error("handler closed"));
    this.#destroyRequests.clear();
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
