// `logmux master`'s settings: what each is called as a flag and in a config file, how a config
// file is read and checked, and how the rotate* and metrics settings become handler options.
import { readFileSync } from "node:fs";
import { InvalidConfigError } from "../errors.js";
import type { RotateOptions } from "../handlers/rotation/options.js";
import { type MetricsOptions, resolveMetricsOptions } from "../master/metrics-options.js";
import { UsageError } from "./args.js";

export interface MasterSettings {
  path?: string;
  file?: string;
  level?: string;
  format?: string;
  json?: boolean;
  console?: boolean;
  discord?: string;
  telegram?: string;
  slack?: string;
  alertLevel?: string;
  metrics?: string;
  rotateSize?: string;
  rotateInterval?: string;
  rotateAtMidnight?: boolean;
  /** A number in the config file; the flag's text until buildMaster checks it. */
  rotateKeep?: number | string;
  rotateCompress?: boolean;
}

/** Setting name -> its flag, and the JSON type the config file must give it. */
export const SETTINGS: Record<keyof MasterSettings, { flag: string; type: "string" | "boolean" | "number" }> =
  {
    path: { flag: "--path", type: "string" },
    file: { flag: "--file", type: "string" },
    level: { flag: "--level", type: "string" },
    format: { flag: "--format", type: "string" },
    json: { flag: "--json", type: "boolean" },
    console: { flag: "--console", type: "boolean" },
    discord: { flag: "--discord", type: "string" },
    telegram: { flag: "--telegram", type: "string" },
    slack: { flag: "--slack", type: "string" },
    alertLevel: { flag: "--alert-level", type: "string" },
    metrics: { flag: "--metrics", type: "string" },
    rotateSize: { flag: "--rotate-size", type: "string" },
    rotateInterval: { flag: "--rotate-interval", type: "string" },
    rotateAtMidnight: { flag: "--rotate-at-midnight", type: "boolean" },
    rotateKeep: { flag: "--rotate-keep", type: "number" },
    rotateCompress: { flag: "--rotate-compress", type: "boolean" },
  };

/** Which setting an InvalidConfigError from FileLogHandler's `rotate` is about. */
export const ROTATE_FIELDS: Record<string, keyof MasterSettings> = {
  "rotate.size": "rotateSize",
  "rotate.interval": "rotateInterval",
  "rotate.keep": "rotateKeep",
};

/** The `rotate` option from the rotate* settings, or undefined when none is given. */
export function rotateOptions(settings: MasterSettings, origin: Origin): RotateOptions | undefined {
  const keys = ["rotateSize", "rotateInterval", "rotateAtMidnight", "rotateKeep", "rotateCompress"] as const;
  const given = keys.filter((key) => settings[key] !== undefined);
  if (given.length === 0) return undefined;
  if (settings.file === undefined)
    throw new UsageError(`${origin(given[0]!)} applies to --file, which is not given`);
  if (
    settings.rotateSize === undefined &&
    settings.rotateInterval === undefined &&
    !settings.rotateAtMidnight
  ) {
    throw new UsageError(
      `${origin(given[0]!)} needs a moment to rotate at: give --rotate-size, --rotate-interval or --rotate-at-midnight`,
    );
  }
  const rotate: RotateOptions = {};
  if (settings.rotateSize !== undefined) rotate.size = settings.rotateSize;
  if (settings.rotateInterval !== undefined) rotate.interval = settings.rotateInterval;
  if (settings.rotateAtMidnight !== undefined) rotate.atMidnight = settings.rotateAtMidnight;
  if (settings.rotateCompress !== undefined) rotate.compress = settings.rotateCompress;
  const keep = settings.rotateKeep;
  if (keep !== undefined) {
    const n = typeof keep === "number" ? keep : keep.trim() === "" ? Number.NaN : Number(keep);
    // Text that is no number goes to the handler as it is, which refuses it quoting it.
    rotate.keep = Number.isNaN(n) ? (keep as never) : n;
  }
  return rotate;
}

/** What the banner says about rotation: the settings as given. */
export function describeRotation(settings: MasterSettings): string {
  const when = [
    settings.rotateSize === undefined ? undefined : `at ${settings.rotateSize}`,
    settings.rotateInterval === undefined ? undefined : `every ${settings.rotateInterval}`,
    settings.rotateAtMidnight ? "at midnight" : undefined,
  ].filter((part) => part !== undefined);
  return `rotated ${when.join(", ")}, keeping ${settings.rotateKeep ?? 14}${settings.rotateCompress ? ", gzipped" : ""}`;
}

const SECRET_SETTINGS = new Set<keyof MasterSettings>(["discord", "telegram", "slack"]);

/** Reads and checks a config file; every problem is a UsageError naming the file and the key. */
export function readConfigFile(file: string): MasterSettings {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--config: cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`--config: ${file} must hold a JSON object of settings`);
  }
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const spec = SETTINGS[key as keyof MasterSettings];
    if (spec === undefined) {
      throw new UsageError(
        `--config: unknown key "${key}" in ${file}; accepted keys: ${Object.keys(SETTINGS).join(", ")}`,
      );
    }
    if (typeof value !== spec.type) {
      // A secret's value is never echoed, even a wrong one.
      const got = SECRET_SETTINGS.has(key as keyof MasterSettings) ? typeof value : JSON.stringify(value);
      throw new UsageError(`--config: "${key}" in ${file} must be a ${spec.type}, got ${got}`);
    }
    settings[key] = value;
  }
  return settings as MasterSettings;
}

/** Names where a setting came from: its flag, or its key in the config file. */
export type Origin = (key: keyof MasterSettings) => string;

/** An InvalidConfigError from the library, restated as a UsageError naming the flag or key. */
export function usageFrom(origin: string, error: InvalidConfigError): UsageError {
  const prefix = `Invalid ${error.field}: `;
  return new UsageError(
    `${origin}: ${error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message}`,
  );
}

/** `host:port`, `[v6]:port` or a port alone (on 127.0.0.1), checked as MasterLogger checks it. */
export function metricsAddress(value: string, origin: string): MetricsOptions {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]*):)?(\d+)$/.exec(value);
  if (match === null || match[2] === "") {
    throw new UsageError(
      `${origin}: expected HOST:PORT such as 127.0.0.1:9464, [::1]:9464 or a port alone, got ${JSON.stringify(value)}`,
    );
  }
  const host = match[1] ?? match[2];
  const metrics: MetricsOptions = { port: Number(match[3]) };
  if (host !== undefined) metrics.host = host;
  try {
    resolveMetricsOptions(metrics);
  } catch (error) {
    throw error instanceof InvalidConfigError ? usageFrom(origin, error) : error;
  }
  return metrics;
}
