// A local HTTP server standing in for Discord, Telegram or Slack: real HTTP on 127.0.0.1, answers
// chosen per request by a responder, every request recorded with its arrival time.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { BaseLogHandler } from "../../src/handlers/base.js";
import { kAttach } from "../../src/handlers/base.js";
import { LogLevel } from "../../src/levels.js";
import type { LogRecord } from "../../src/record.js";
import { describeError } from "../../src/redact.js";

export interface FakeRequest {
  readonly index: number;
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: Record<string, unknown> | undefined;
  /** performance.now() when the request body had arrived. */
  readonly at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as it is; anything else as JSON. */
  body?: unknown;
}

/** "hang" never answers (the connection stays open until the server closes). */
export type Responder = (request: FakeRequest) => Reply | "hang";

export class FakeApi {
  readonly requests: FakeRequest[] = [];
  readonly #server: Server;
  readonly #waiters = new Set<() => void>();
  #responder: Responder;
  #hanging = new Set<ServerResponse>();

  private constructor(server: Server, responder: Responder) {
    this.#server = server;
    this.#responder = responder;
  }

  static async start(responder: Responder): Promise<FakeApi> {
    let api: FakeApi | undefined;
    const server = createServer((req, res) => {
      api?.handle(req, res);
    });
    // Keep-alive sockets must not outlive close(): closeAllConnections handles them.
    api = new FakeApi(server, responder);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return api;
  }

  /** http://127.0.0.1:<port> (no trailing slash). */
  get origin(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  set responder(responder: Responder) {
    this.#responder = responder;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      const request: FakeRequest = {
        index: this.requests.length,
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body,
        json,
        at: performance.now(),
      };
      this.requests.push(request);
      const reply = this.#responder(request);
      if (reply === "hang") {
        this.#hanging.add(res);
      } else {
        const payload =
          reply.body === undefined
            ? ""
            : typeof reply.body === "string"
              ? reply.body
              : JSON.stringify(reply.body);
        const headers: Record<string, string> = { ...reply.headers };
        if (reply.body !== undefined && typeof reply.body !== "string")
          headers["content-type"] = "application/json";
        res.writeHead(reply.status, headers);
        res.end(payload);
      }
      for (const wake of [...this.#waiters]) wake();
    });
  }

  /** Resolves once `predicate` holds for the recorded requests; rejects after `timeoutMs`. */
  waitFor(predicate: (requests: readonly FakeRequest[]) => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate(this.requests)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.requests)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`FakeApi: condition not met within ${timeoutMs} ms (${this.requests.length} requests)`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor((requests) => requests.length >= count, timeoutMs);
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A fixed-window limiter like the services apply: `limit` requests per `windowMs`, counted from
 * the first request of a window. `take()` reports what the service would: whether this request is
 * allowed, how many remain, and when the window resets.
 */
export class WindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #used = 0;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  take(now = performance.now()): { allowed: boolean; remaining: number; resetAfterMs: number } {
    if (now - this.#windowStart >= this.windowMs) {
      this.#windowStart = now;
      this.#used = 0;
    }
    const resetAfterMs = this.#windowStart + this.windowMs - now;
    if (this.#used >= this.limit) return { allowed: false, remaining: 0, resetAfterMs };
    this.#used++;
    return { allowed: true, remaining: this.limit - this.#used, resetAfterMs };
  }
}

/** What a handler reported through its context (as the master would receive it). */
export interface Captured {
  readonly warnings: string[];
  /** Reported errors as text (message and causes, no redaction applied here). */
  readonly errors: string[];
}

/** Attaches `handler` to a context that records its warnings and errors, as the master would. */
export function capture(handler: BaseLogHandler, strFormat = "%(levelname)s %(message)s"): Captured {
  const captured: Captured = { warnings: [], errors: [] };
  handler[kAttach]({
    strFormat,
    warn: (message) => captured.warnings.push(message),
    reportError: (error) => captured.errors.push(describeError(error, [])),
  });
  return captured;
}

let clock = 1_800_000_000_000_000_000n;

/** A record as the master would hand it over; timestamps increase by 1 µs per record. */
export function record(message: string, level: LogLevel = LogLevel.ERROR, name = "api"): LogRecord {
  clock += 1000n;
  return { timestampNs: clock, level, name, message, pid: 4242 };
}

/** Every line of every message, in arrival order, from the requests' bodies. */
export function linesOf(texts: readonly string[]): string[] {
  return texts.flatMap((text) => text.split("\n"));
}

/** Polls `condition` every few milliseconds until it holds; rejects after `timeoutMs`. */
export async function eventually(
  condition: () => boolean,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What `result` rejected with, or undefined when it settled fine: for asserting on a close() error. */
export async function rejection(result: void | Promise<void>): Promise<unknown> {
  try {
    await result;
    return undefined;
  } catch (error) {
    return error;
  }
}
