// A CommonJS TypeScript consumer (type-checked only): both require forms and the exported types.
import logmux = require("logmux");

import { type InvalidConfigError, LoggerConfig, LogLevel, type LogRecord, WorkerLogger } from "logmux";
import { httpLogger } from "logmux/http";

const config: LoggerConfig = new logmux.LoggerConfig({
  path: "ipc:///tmp/consumer.sock",
  baseLevel: LogLevel.INFO,
});
const log: WorkerLogger = new WorkerLogger(config, "cts");
log.info("user logged in", { userId: 42 });
log.child({ reqId: "r-1" }).warn("order %s filled at %d", "A-17", 101.25);
export function fieldsOf(record: LogRecord): Readonly<Record<string, unknown>> | undefined {
  return record.fields;
}
export function isConfigError(error: unknown): error is InvalidConfigError {
  return error instanceof logmux.InvalidConfigError;
}
// @ts-expect-error: the types are real, not `any`: a WorkerLogger needs its config.
new WorkerLogger();
// @ts-expect-error: baseLevel takes a level, not an object.
new LoggerConfig({ baseLevel: {} });

// The logmux/http subpath, typed from either kind of file.
declare const anyLogger: WorkerLogger;
const middleware = httpLogger({ logger: anyLogger });
middleware satisfies (
  req: import("node:http").IncomingMessage,
  res: import("node:http").ServerResponse,
) => void;
// @ts-expect-error: the types are real: httpLogger needs a logger.
httpLogger({});
