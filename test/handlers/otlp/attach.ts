import { kAttach } from "../../../src/handlers/base.js";
import type { OtlpLogHandler } from "../../../src/handlers/otlp/handler.js";

/** Attaches `handler` as a master would, keeping what it warns and the messages of what it reports. */
export function attach(handler: OtlpLogHandler): { warnings: string[]; errors: string[] } {
  const seen = { warnings: [] as string[], errors: [] as string[] };
  handler[kAttach]({
    strFormat: "%(message)s",
    warn: (message) => seen.warnings.push(message),
    reportError: (error) => seen.errors.push(error instanceof Error ? error.message : String(error)),
  });
  return seen;
}
