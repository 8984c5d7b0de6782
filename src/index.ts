// The only public entry point. Everything a user may import is listed here explicitly.

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
export { FORMAT_KEYS, LinePattern } from "./format/pattern.js";
export {
  BaseLogHandler,
  type BaseLogHandlerOptions,
  type HandlerContext,
  type HandlerState,
} from "./handlers/base.js";
export { DiscordLogHandler, type DiscordLogHandlerOptions } from "./handlers/chat/discord.js";
export type {
  ChatHandlerStats,
  /** @deprecated The former name of {@link ChatHandlerStats}. */
  ChatHandlerStats as NetworkHandlerStats,
  ChatLogHandlerOptions,
  /** @deprecated The former name of {@link ChatLogHandlerOptions}. */
  ChatLogHandlerOptions as NetworkLogHandlerOptions,
} from "./handlers/chat/options.js";
export { SlackLogHandler, type SlackLogHandlerOptions } from "./handlers/chat/slack.js";
export { TelegramLogHandler, type TelegramLogHandlerOptions } from "./handlers/chat/telegram.js";
export { ConsoleLogHandler, type ConsoleLogHandlerOptions } from "./handlers/console.js";
export { FileLogHandler, type FileLogHandlerOptions } from "./handlers/file.js";
export { OTLP_SEVERITY_BY_LEVEL, type OtlpAttributeValue } from "./handlers/otlp/encoder.js";
export { OtlpLogHandler } from "./handlers/otlp/handler.js";
export type { OtlpLogHandlerOptions, OtlpProtocol, OtlpStats } from "./handlers/otlp/options.js";
export type { RotateOptions } from "./handlers/rotation/options.js";
export {
  SYSLOG_FACILITIES,
  SYSLOG_SEVERITY_BY_LEVEL,
  type SyslogFacilityName,
  SyslogLogHandler,
  type SyslogLogHandlerOptions,
  type SyslogStats,
  type SyslogTlsOptions,
  type SyslogTransport,
} from "./handlers/syslog/handler.js";
export { LEVEL_NAMES, LogLevel, parseLevel } from "./levels.js";
export type { LogArguments, LoggerBase, LogMessage } from "./logger-base.js";
export { MasterLogger } from "./master/master.js";
export type { MetricsAddress } from "./master/metrics.js";
export type { MetricsOptions } from "./master/metrics-options.js";
export type { MasterLoggerOptions } from "./master/options.js";
export type { TailOptions } from "./master/tail-options.js";
export type { HandlerStats, MasterStatus, TailStats, WorkerHealth } from "./protocol/status.js";
export { DEFAULT_FIELD_LIMITS, type FieldLimits, REDACTED } from "./protocol/values.js";
export type { LogRecord } from "./record.js";
export { queryStatus } from "./transport/status-client.js";
export { WorkerLogger } from "./worker/worker.js";
