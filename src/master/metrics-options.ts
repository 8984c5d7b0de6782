import { InvalidConfigError } from "../errors.js";

/**
 * Where the master serves its Prometheus metrics (docs/metrics.md lists them). The endpoint has no
 * authentication: it names workers and handlers (file paths, redacted webhook addresses, never a
 * secret), so keep it on loopback or a private network.
 */
export interface MetricsOptions {
  /**
   * TCP port of the HTTP server; 0 lets the system pick one (see `MasterLogger.metricsAddress()`).
   * 9464 is the port OpenTelemetry's Prometheus exporters use by convention.
   * @example { port: 9464 }
   */
  port: number;
  /**
   * Address to listen on. The default keeps the endpoint on this machine; `"0.0.0.0"` or `"::"`
   * opens it to the network.
   * @default "127.0.0.1"
   * @example { port: 9464, host: "10.0.0.5" }
   */
  host?: string;
  /**
   * The path that answers with the metrics; every other path is a 404.
   * @default "/metrics"
   * @example { port: 9464, path: "/logmux/metrics" }
   */
  path?: string;
  /**
   * Distinct worker names that get their own `worker` label value. Workers first seen after that
   * many are counted together under `worker="other"`, so a fleet that names workers by pid cannot
   * grow the series without bound.
   * @default 100
   * @example { port: 9464, maxWorkerLabels: 500 }
   */
  maxWorkerLabels?: number;
}

export interface ResolvedMetricsOptions {
  readonly port: number;
  readonly host: string;
  readonly path: string;
  readonly maxWorkerLabels: number;
}

const MAX_PORT = 65_535;

/** Applies the defaults; throws InvalidConfigError naming the first field that is not accepted. */
export function resolveMetricsOptions(options: unknown): ResolvedMetricsOptions | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidConfigError(
      "metrics",
      `expected an object such as { port: 9464 }, got ${String(options)}`,
    );
  }
  const given = options as Partial<MetricsOptions>;
  const { port } = given;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > MAX_PORT) {
    throw new InvalidConfigError(
      "metrics.port",
      `expected a whole number from 0 to ${MAX_PORT}, got ${String(port)}`,
    );
  }
  const host = given.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "" || /[\s/]/.test(host)) {
    throw new InvalidConfigError(
      "metrics.host",
      `expected a host name or IP address such as "127.0.0.1", got ${JSON.stringify(host)}`,
    );
  }
  const path = given.path ?? "/metrics";
  if (typeof path !== "string" || !path.startsWith("/") || /[?#\s]/.test(path)) {
    throw new InvalidConfigError(
      "metrics.path",
      `expected a URL path starting with "/", without query or fragment, got ${JSON.stringify(path)}`,
    );
  }
  const maxWorkerLabels = given.maxWorkerLabels ?? 100;
  if (typeof maxWorkerLabels !== "number" || !Number.isInteger(maxWorkerLabels) || maxWorkerLabels <= 0) {
    throw new InvalidConfigError(
      "metrics.maxWorkerLabels",
      `expected a positive whole number, got ${String(maxWorkerLabels)}`,
    );
  }
  return { port, host, path, maxWorkerLabels };
}
