/**
 * The OpenTelemetry exporter environment variables (OTEL_EXPORTER_OTLP_*), read as the
 * specification's "OTLP Exporter Configuration" says: the logs-specific variable wins over the
 * generic one, an empty value counts as unset, and options given in code win over both.
 */
import { InvalidConfigError } from "../../errors.js";
import { httpUrlOption, MAX_INT_OPTION } from "../kit/validate.js";

export type OtlpProtocol = "http/protobuf" | "http/json";
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ["http/protobuf", "http/json"];

type Env = Readonly<Record<string, string | undefined>>;

/** The logs-specific variable, else the generic one: `[name, value]`, or undefined when neither is set. */
function pick(env: Env, suffix: string): [string, string] | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_LOGS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "") return [name, value];
  }
  return undefined;
}

/**
 * The logs endpoint: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT as it is, or OTEL_EXPORTER_OTLP_ENDPOINT (a
 * base URL) with `v1/logs` appended to its path.
 */
export function endpointFromEnv(env: Env, example: string): URL | undefined {
  const logs = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?.trim();
  if (logs) return httpUrlOption("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs, example);
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  const url = httpUrlOption("OTEL_EXPORTER_OTLP_ENDPOINT", base, "http://collector:4318");
  url.pathname = `${url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`}v1/logs`;
  return url;
}

export function protocolFromEnv(env: Env): OtlpProtocol | undefined {
  const found = pick(env, "PROTOCOL");
  if (found === undefined) return undefined;
  const [name, value] = found;
  if ((OTLP_PROTOCOLS as readonly string[]).includes(value)) return value as OtlpProtocol;
  const grpc = value === "grpc" ? " (OTLP/gRPC is not supported; the OTLP/HTTP port is usually 4318)" : "";
  throw new InvalidConfigError(name, `expected "http/protobuf" or "http/json"${grpc}, got ${value}`);
}

export function timeoutFromEnv(env: Env): number | undefined {
  const found = pick(env, "TIMEOUT");
  if (found === undefined) return undefined;
  const [name, value] = found;
  const ms = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(ms >= 1 && ms <= MAX_INT_OPTION)) {
    throw new InvalidConfigError(
      name,
      `expected a whole number of milliseconds from 1 to ${MAX_INT_OPTION}, got ${value}`,
    );
  }
  return ms;
}

/**
 * Headers from OTEL_EXPORTER_OTLP_HEADERS, then OTEL_EXPORTER_OTLP_LOGS_HEADERS over them (per
 * name, as the OpenTelemetry JS SDK merges them): `name=value` pairs separated by commas, values
 * percent-decoded. Errors name the variable and the pair's position and header name, never a
 * value: these are credentials.
 */
export function headersFromEnv(env: Env): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS"]) {
    const text = env[name]?.trim();
    if (!text) continue;
    for (const [i, pair] of text.split(",").entries()) {
      if (pair.trim() === "") continue;
      const at = pair.indexOf("=");
      const key = at < 0 ? "" : pair.slice(0, at).trim();
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
        throw new InvalidConfigError(
          name,
          `expected comma-separated name=value pairs with a valid header name, pair ${i + 1} has none`,
        );
      }
      let value: string;
      try {
        value = decodeURIComponent(pair.slice(at + 1).trim());
      } catch {
        throw new InvalidConfigError(name, `the value of header "${key}" is not valid percent-encoding`);
      }
      if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) {
        throw new InvalidConfigError(
          name,
          `the value of header "${key}" has a character HTTP headers cannot carry (after percent-decoding)`,
        );
      }
      setHeader(headers, key, value);
    }
  }
  return headers;
}

/** Sets a header, replacing one of the same name in any letter case. */
export function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const lower = name.toLowerCase();
  for (const existing of Object.keys(headers)) {
    if (existing.toLowerCase() === lower) delete headers[existing];
  }
  headers[name] = value;
}
