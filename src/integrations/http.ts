// `logmux/http`: one record per HTTP request, for express and plain node:http servers, in the
// spirit of pino-http. Self-contained on purpose (type imports only): it is its own entry point
// and must not load a second copy of the library's classes.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { LoggerBase } from "../logger-base.js";

declare module "node:http" {
  interface IncomingMessage {
    /** The request's id, set by logmux/http's httpLogger (from the request header, or generated);
     * declared as pino-http declares it, present once the middleware ran. */
    id: string;
    /** A child of httpLogger's logger whose records carry the request's id; set by httpLogger. */
    log: LoggerBase;
  }
}

/** The level names httpLogger logs its record at. */
export type HttpLogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

export interface HttpLoggerOptions {
  /** The logger (a WorkerLogger, or a child of one) whose child each request gets as `req.log`. */
  logger: LoggerBase;
  /**
   * The request header an incoming id is taken from (a proxy's or the caller's), or `false` to
   * always generate one. A value longer than 128 characters or with control characters is ignored.
   * @default "x-request-id"
   */
  requestIdHeader?: string | false;
  /** Makes an id when the request brings none. @default crypto.randomUUID */
  genReqId?: (req: IncomingMessage) => string;
  /**
   * The binding that carries the id on `req.log`'s records and on the completion record; fastify
   * names it `reqId` too, so queries work across both.
   * @default "reqId"
   */
  idKey?: string;
  /** A response header that echoes the id back to the caller, or `false` for none. @default false */
  responseIdHeader?: string | false;
  /**
   * The level of the completion record. @default error for a 5xx status, an error on `res.err`
   * or an aborted request, warn for a 4xx, info otherwise
   */
  customLogLevel?: (req: IncomingMessage, res: ServerResponse, err: unknown) => HttpLogLevel;
  /** Requests for which no completion record is written (health checks); `req.log` is still set. */
  ignore?: (req: IncomingMessage) => boolean;
}

/** The middleware: `app.use(mw)` in express, or `mw(req, res)` first thing in a request listener. */
export interface HttpLogger {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** A node:http request listener that runs the middleware, then `listener`. */
  wrap(listener: RequestListener): RequestListener;
}

const MAX_INCOMING_ID = 128;

function incomingId(value: string | string[] | undefined): string | undefined {
  const id = Array.isArray(value) ? value[0] : value;
  if (id === undefined || id.length === 0 || id.length > MAX_INCOMING_ID) return undefined;
  return /[\u0000-\u001f\u007f]/.test(id) ? undefined : id;
}

function defaultLevel(res: ServerResponse, err: unknown, aborted: boolean): HttpLogLevel {
  if (err !== undefined || aborted || res.statusCode >= 500) return "error";
  return res.statusCode >= 400 ? "warn" : "info";
}

/**
 * Logs each request once, when its response is finished or the connection is dropped before:
 * `reqId`, `req: { method, url, remoteAddress, remotePort }`, `res: { statusCode }` and
 * `responseTime` (milliseconds), the same fields as fastify's "request completed", with the message
 * "request completed" ("request aborted" when the client went away first, "request errored"
 * when `res.err` holds an error, as pino-http has it). Sets `req.id` and `req.log`.
 *
 * @example
 * ```ts
 * app.use(httpLogger({ logger: log }));              // express
 * createServer(httpLogger({ logger: log }).wrap(handler)); // node:http
 * ```
 */
export function httpLogger(options: HttpLoggerOptions): HttpLogger {
  const logger = options?.logger;
  if (logger === undefined || logger === null || typeof logger.child !== "function") {
    throw new TypeError("httpLogger: options.logger must be a logmux logger (a WorkerLogger or a child)");
  }
  const header = options.requestIdHeader === undefined ? "x-request-id" : options.requestIdHeader;
  const headerKey = header === false ? undefined : header.toLowerCase();
  const genReqId = options.genReqId ?? (() => randomUUID());
  const idKey = options.idKey ?? "reqId";
  const responseIdHeader = options.responseIdHeader ?? false;
  const { customLogLevel, ignore } = options;

  const middleware = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const start = performance.now();
    const id = (headerKey === undefined ? undefined : incomingId(req.headers[headerKey])) ?? genReqId(req);
    const log = logger.child({ [idKey]: id });
    req.id = id;
    req.log = log;
    if (responseIdHeader !== false && !res.headersSent) res.setHeader(responseIdHeader, id);
    if (ignore === undefined || !ignore(req)) {
      // 'close' comes once per response, after 'finish' or instead of it when the connection
      // ends first: one record per request either way.
      res.once("close", () => {
        const aborted = !res.writableFinished;
        const err = (res as { err?: unknown }).err;
        const level = customLogLevel?.(req, res, err) ?? defaultLevel(res, err, aborted);
        if (level === "silent") return;
        const message = aborted
          ? "request aborted"
          : err !== undefined
            ? "request errored"
            : "request completed";
        const socket = req.socket;
        const fields: Record<string, unknown> = {
          req: {
            method: req.method,
            url: (req as { originalUrl?: string }).originalUrl ?? req.url,
            remoteAddress: socket?.remoteAddress,
            remotePort: socket?.remotePort,
          },
          res: { statusCode: res.statusCode },
          responseTime: performance.now() - start,
        };
        if (err !== undefined) fields.err = err;
        log[level](fields, message);
      });
    }
    next?.();
  };
  return Object.assign(middleware, {
    wrap(listener: RequestListener): RequestListener {
      return (req, res) => {
        middleware(req, res);
        listener(req, res);
      };
    },
  });
}
