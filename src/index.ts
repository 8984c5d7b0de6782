// The only public entry point. Everything a user may import is listed here explicitly.

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
export { BaseLogHandler, type BaseLogHandlerOptions, type HandlerContext } from "./handlers/base.js";
export { ConsoleLogHandler, type ConsoleLogHandlerOptions } from "./handlers/console.js";
export { DiscordLogHandler, type DiscordLogHandlerOptions } from "./handlers/discord.js";
export { FileLogHandler, type FileLogHandlerOptions } from "./handlers/file.js";
export type { NetworkHandlerStats, NetworkLogHandlerOptions } from "./handlers/network.js";
export {
  OTLP_SEVERITY_BY_LEVEL,
  type OtlpAttributeValue,
  OtlpLogHandler,
  type OtlpLogHandlerOptions,
  type OtlpStats,
} from "./handlers/otlp.js";
export { SlackLogHandler, type SlackLogHandlerOptions } from "./handlers/slack.js";
export {
  SYSLOG_FACILITIES,
  SYSLOG_SEVERITY_BY_LEVEL,
  type SyslogFacilityName,
  SyslogLogHandler,
  type SyslogLogHandlerOptions,
  type SyslogStats,
  type SyslogTlsOptions,
  type SyslogTransport,
} from "./handlers/syslog.js";
export { TelegramLogHandler, type TelegramLogHandlerOptions } from "./handlers/telegram.js";
export { LEVEL_NAMES, LogLevel, parseLevel } from "./levels.js";
export type { LogMessage } from "./logger-base.js";
export { MasterLogger } from "./master/master.js";
export type { MasterLoggerOptions } from "./master/options.js";
export type { HandlerStats, MasterStatus, WorkerHealth } from "./protocol/status.js";
export type { LogRecord } from "./record.js";
export { queryStatus } from "./transport/status-client.js";
export { WorkerLogger } from "./worker/worker.js";
