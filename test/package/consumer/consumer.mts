// An ES module TypeScript consumer (type-checked only), including that the ESM and the CommonJS
// views of the package declare the SAME classes: an instance of one is an instance of the other,
// #private fields and all, as at run time.
import * as logmux from "logmux";
import { InvalidConfigError, LoggerConfig, type LogRecord, MasterLogger, WorkerLogger } from "logmux";
import { httpLogger } from "logmux/http";

/** What `require("logmux")` gives a CommonJS file. */
type AsRequired = typeof import("logmux", { with: { "resolution-mode": "require" }});

const config = new LoggerConfig({ path: "ipc:///tmp/consumer.sock" });
export const master: MasterLogger = new MasterLogger(config, []);
export const same: typeof MasterLogger = logmux.MasterLogger;
export const log: WorkerLogger = new WorkerLogger(config, "mts");
export const asRequired: InstanceType<AsRequired["InvalidConfigError"]> = new InvalidConfigError(
  "path",
  "bad",
);
export function fromRequired(logger: InstanceType<AsRequired["WorkerLogger"]>): WorkerLogger {
  return logger;
}
export function message(record: LogRecord): string {
  return record.message;
}
// @ts-expect-error: the types are real, not `any`: a path is a string.
new LoggerConfig({ path: 42 });

// The logmux/http subpath, typed from either kind of file.
declare const anyLogger: WorkerLogger;
const middleware = httpLogger({ logger: anyLogger });
middleware satisfies (
  req: import("node:http").IncomingMessage,
  res: import("node:http").ServerResponse,
) => void;
// @ts-expect-error: the types are real: httpLogger needs a logger.
httpLogger({});
