// The `logmux/worker` entry: what a worker process needs to log, and nothing only the master uses
// (formatters, handlers, the batch decoder). A worker importing this loads about a third of the
// code `logmux` loads; the classes are the same objects as those `logmux` exports (one bundle
// holds them and the other requires it: scripts/bundle.mjs), so both can be mixed in one process.

export {
  logContext,
  logContextMixin,
  type Mixin,
  withLogContext,
} from "./call/context.js";
export type { ChildOptions, LoggerOptions } from "./call/options.js";
export { type Serializer, stdSerializers } from "./call/serializers.js";
export {
  type BackpressurePolicy,
  DEFAULT_FORMAT,
  LoggerConfig,
  type LoggerConfigOptions,
} from "./config.js";
export {
  AddressInUseError,
  ClosedError,
  HandlerError,
  InvalidConfigError,
  ListenFailedError,
  LogmuxError,
  type LogmuxErrorCode,
  NoMasterError,
  ProtocolError,
  StatusTimeoutError,
  UnsafePathError,
} from "./errors.js";
export { LEVEL_NAMES, LogLevel, parseLevel } from "./levels.js";
export type { LogArguments, LoggerBase, LogMessage } from "./logger-base.js";
export { DEFAULT_FIELD_LIMITS, type FieldLimits, REDACTED } from "./protocol/values.js";
export { WorkerLogger } from "./worker/worker.js";
