import { isError } from "../protocol/value-kinds.js";

/** A function applied to the value of one top-level field before it is encoded. */
export type Serializer = (value: unknown) => unknown;

interface RequestLike {
  method?: unknown;
  url?: unknown;
  originalUrl?: unknown;
  headers?: unknown;
  id?: unknown;
  socket?: { remoteAddress?: unknown; remotePort?: unknown } | null;
  raw?: unknown;
}

interface ResponseLike {
  statusCode?: unknown;
  getHeaders?: () => unknown;
  raw?: unknown;
}

/**
 * The standard serializers, shaped as pino's (pino-std-serializers), for `serializers: { ...stdSerializers }`.
 * They run in the worker, on the caller's thread, before the value is encoded.
 */
export const stdSerializers: Readonly<{ err: Serializer; req: Serializer; res: Serializer }> = Object.freeze({
  /**
   * Error-like values (an Error from another realm, an object with `message` and `stack`) become
   * Errors, so they are encoded as errors (type, message, stack, code, cause); anything else is
   * left as it is.
   */
  err(value: unknown): unknown {
    if (isError(value) || value === null || typeof value !== "object") return value;
    const like = value as { name?: unknown; message?: unknown; stack?: unknown };
    if (typeof like.message !== "string" || typeof like.stack !== "string") return value;
    const error = new Error(like.message);
    Object.defineProperty(error, "stack", {
      value: like.stack,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    if (typeof like.name === "string") {
      Object.defineProperty(error, "name", {
        value: like.name,
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
    for (const key of Object.keys(value)) {
      if (key !== "message" && key !== "stack" && key !== "name") {
        (error as unknown as Record<string, unknown>)[key] = (value as Record<string, unknown>)[key];
      }
    }
    return error;
  },

  /** An `http.IncomingMessage` (or a fastify/express request): method, url, headers, remote address and port. */
  req(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    const outer = value as RequestLike;
    const req = (outer.raw !== undefined && typeof outer.raw === "object" ? outer.raw : outer) as RequestLike;
    const out: Record<string, unknown> = {};
    if (outer.id !== undefined) out.id = typeof outer.id === "function" ? outer.id() : outer.id;
    out.method = req.method;
    out.url = outer.originalUrl ?? req.url;
    out.headers = req.headers;
    out.remoteAddress = req.socket?.remoteAddress;
    out.remotePort = req.socket?.remotePort;
    return out;
  },

  /** An `http.ServerResponse` (or a fastify reply): status code and the headers set so far. */
  res(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    const outer = value as ResponseLike;
    const res = (
      outer.raw !== undefined && typeof outer.raw === "object" ? outer.raw : outer
    ) as ResponseLike;
    return {
      statusCode: res.statusCode,
      headers: typeof res.getHeaders === "function" ? res.getHeaders() : undefined,
    };
  },
});
