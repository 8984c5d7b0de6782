import { AsyncLocalStorage } from "node:async_hooks";
import { requireHere } from "../handlers/kit/lazy-require.js";
import type { LogLevel } from "../levels.js";

/**
 * The `mixin` option: returns fields added to every record of the logger and its children, read
 * at each call (so they can come from the current async context). pino's signature:
 * `mergeObject` is the call's own fields object (an empty object when the call has none; read it,
 * do not change it) and `level` the record's {@link LogLevel}. Its fields come after the child's
 * bindings and before the call's fields, so a call's own key wins. Return `undefined` (or `null`)
 * to add nothing.
 */
export type Mixin = (
  mergeObject: Readonly<Record<string, unknown>>,
  level: LogLevel,
) => Readonly<Record<string, unknown>> | null | undefined;

const storage = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

/**
 * Runs `fn` with `fields` as the log context of everything it calls, synchronously or through
 * promises, timers and callbacks (an `AsyncLocalStorage` scope). Nested calls add to the outer
 * context; a key of the inner one replaces the outer's. Records carry the context when the
 * logger has `mixin: logContextMixin`.
 *
 * @example
 * ```ts
 * const log = new WorkerLogger(config, "api", { mixin: logContextMixin });
 * http.createServer((req, res) => {
 *   withLogContext({ reqId: req.headers["x-request-id"] ?? randomUUID() }, () => handle(req, res));
 * });
 * // anywhere below handle(), however deep and after any await:
 * log.info("charged", { amount: 12 }); // fields: reqId, amount
 * ```
 */
export function withLogContext<T>(fields: Readonly<Record<string, unknown>>, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer === undefined ? { ...fields } : { ...outer, ...fields }, fn);
}

/**
 * The fields of the current log context ({@link withLogContext}), or `undefined` outside one.
 *
 * @example
 * ```ts
 * withLogContext({ reqId: "r-1" }, () => logContext()); // { reqId: "r-1" }
 * ```
 */
export function logContext(): Readonly<Record<string, unknown>> | undefined {
  return storage.getStore();
}

/**
 * A ready-made {@link Mixin}: the fields of the current {@link withLogContext} scope.
 *
 * @example
 * ```ts
 * const log = new WorkerLogger(config, "api", { mixin: logContextMixin });
 * withLogContext({ tenant: "acme" }, () => log.info("hello")); // fields: tenant
 * ```
 */
export const logContextMixin: Mixin = () => storage.getStore();

/** What trace context needs of `@opentelemetry/api`. */
interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

export interface TraceApi {
  /** The span context active in the current async context, if any. */
  active(): SpanContextLike | undefined;
}

interface OtelApiModule {
  context: { active(): unknown };
  trace: { getSpanContext(context: unknown): SpanContextLike | undefined };
  INVALID_TRACEID?: string;
}

let loaded: TraceApi | null | undefined;

/**
 * `@opentelemetry/api`, loaded on first use from the application's node_modules, or null when it
 * is not installed: it is an optional peer, never imported by logmux itself. One copy or several,
 * ESM or CommonJS, the API keeps its registrations on a global, so this sees the application's
 * tracer provider and context manager.
 */
export function traceApi(): TraceApi | null {
  if (loaded !== undefined) return loaded;
  try {
    const api = requireHere("@opentelemetry/api") as OtelApiModule;
    const invalid = api.INVALID_TRACEID ?? "00000000000000000000000000000000";
    const { context, trace } = api;
    loaded = {
      active() {
        const span = trace.getSpanContext(context.active());
        return span === undefined || span.traceId === invalid ? undefined : span;
      },
    };
  } catch {
    loaded = null;
  }
  return loaded;
}
