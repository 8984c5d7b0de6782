import { InvalidConfigError } from "../errors.js";
import { DEFAULT_FIELD_LIMITS, type FieldLimits } from "../protocol/values.js";
import type { Mixin } from "./context.js";
import type { Serializer } from "./serializers.js";

/**
 * Options of one logger (the third argument of `new WorkerLogger(config, name, options)`) and of a
 * child (`log.child(bindings, options)`, where `limits` does not apply).
 *
 * @example
 * ```ts
 * const log = new WorkerLogger(config, "api", {
 *   redact: ["password", "req.headers.authorization", "*.token"],
 *   serializers: { user: (u) => ({ id: (u as User).id }), ...stdSerializers },
 * });
 * ```
 */
export interface LoggerOptions {
  /**
   * Field paths whose values are replaced by `"[Redacted]"` in the worker, before anything is
   * encoded: the secret never reaches the socket, a spool file or a handler. pino's syntax:
   * `a.b`, `a["b-c"]`, `a[0]`, wildcards `*.token` and `a[*].b`. A child adds its paths to its
   * parent's. Applies to fields (and to an Error's properties), not to %-arguments.
   * pino's object form `{ paths }` is taken too (without `censor` or `remove`).
   * @default []
   */
  redact?: readonly string[] | { readonly paths: readonly string[] };
  /**
   * Functions applied in the worker to the value of a top-level field of that name (bindings
   * included, and an Error argument as `err`) before it is encoded, as pino's. A child's
   * serializers are added to its parent's; the same key replaces the parent's.
   * @default {}
   */
  serializers?: Readonly<Record<string, Serializer>>;
  /**
   * Bounds on what one call encodes (nesting depth, entries per object or array, bytes). Only at
   * the root logger: children share its encoder.
   * @default { depth: 8, entries: 100, bytes: 65536 }
   */
  limits?: Partial<FieldLimits>;
  /**
   * Fields added to every record at the call, e.g. from the current async context
   * (`logContextMixin`, docs/context.md): after the child's bindings, before the call's fields
   * (the call's own key wins). pino's `mixin(mergeObject, level)`. Only at the root logger;
   * children inherit it. A mixin that throws leaves the field `mixin: "[Unloggable: ...]"`.
   * Costs nothing when not set.
   * @default undefined
   */
  mixin?: Mixin;
  /**
   * With `@opentelemetry/api` installed and a span active, records carry `trace_id`, `span_id`
   * (lower-case hex) and `trace_flags` (two hex digits, "01" when sampled) as fields, as pino's
   * OpenTelemetry instrumentation writes them. Only at the root logger; children inherit it.
   * @default false
   */
  traceContext?: boolean;
}

/**
 * Child options: like the logger's, without the root-only limits, mixin and traceContext, and with
 * the child's own level (fastify passes a route's `logLevel` this way, `"silent"` included).
 */
export interface ChildOptions extends Omit<LoggerOptions, "limits" | "mixin" | "traceContext"> {
  /**
   * The child's lowest level (a name, `"silent"` or a {@link LogLevel} number); its parent's when
   * left out. Only this child and its own children, never the parent.
   */
  level?: string | number;
}

function checkObject(value: unknown, field: string): void {
  if (value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value))) {
    throw new InvalidConfigError(field, `expected an object, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}

export function checkRedact(value: unknown, field: string): readonly string[] {
  if (value === undefined) return [];
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      if (key !== "paths" && (value as Record<string, unknown>)[key] !== undefined)
        throw new InvalidConfigError(`${field}.${key}`, "not supported; only { paths } is taken");
    }
    return checkRedact((value as { paths?: unknown }).paths ?? [], `${field}.paths`);
  }
  if (!Array.isArray(value))
    throw new InvalidConfigError(field, `expected an array of path strings, got ${describe(value)}`);
  return value as string[];
}

export function checkSerializers(
  value: unknown,
  field: string,
): Readonly<Record<string, Serializer>> | undefined {
  checkObject(value, field);
  if (value === undefined) return undefined;
  for (const [key, fn] of Object.entries(value as object)) {
    if (typeof fn !== "function") {
      throw new InvalidConfigError(`${field}.${key}`, `expected a function, got ${describe(fn)}`);
    }
  }
  return value as Record<string, Serializer>;
}

export function checkLimits(value: unknown, field: string): FieldLimits {
  checkObject(value, field);
  const limits = { ...DEFAULT_FIELD_LIMITS, ...(value as Partial<FieldLimits> | undefined) };
  for (const [key, min] of [
    ["depth", 1],
    ["entries", 1],
    ["bytes", 256],
  ] as const) {
    const n = limits[key];
    if (typeof n !== "number" || !Number.isInteger(n) || n < min) {
      throw new InvalidConfigError(`${field}.${key}`, `expected an integer ≥ ${min}, got ${describe(n)}`);
    }
  }
  for (const key of Object.keys(limits)) {
    if (!(key in DEFAULT_FIELD_LIMITS)) {
      throw new InvalidConfigError(`${field}.${key}`, "unknown limit; accepted: depth, entries, bytes");
    }
  }
  return limits;
}

export function checkMixin(value: unknown, field: string): Mixin | undefined {
  if (value === undefined || typeof value === "function") return value as Mixin | undefined;
  throw new InvalidConfigError(field, `expected a function returning fields, got ${describe(value)}`);
}

export function checkTraceContext(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean")
    throw new InvalidConfigError(field, `expected a boolean, got ${describe(value)}`);
  return value;
}

const ROOT_ONLY = ["limits", "mixin", "traceContext"];

export function checkOptions(value: unknown, field: string, allowLimits: boolean): void {
  checkObject(value, field);
  if (value === undefined) return;
  const known = allowLimits ? ["redact", "serializers", ...ROOT_ONLY] : ["redact", "serializers", "level"];
  for (const [key, option] of Object.entries(value as object)) {
    // An option set to undefined is one not given: fastify hands its child options over with
    // `logger` and `genReqId` cleared that way.
    if (option !== undefined && !known.includes(key)) {
      throw new InvalidConfigError(`${field}.${key}`, `unknown option; accepted: ${known.join(", ")}`);
    }
  }
}
