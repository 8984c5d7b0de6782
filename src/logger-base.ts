import { LogLevel } from "./levels.js";

/** What a log call accepts as its message: text, or UTF-8 bytes that are copied as they are. */
export type LogMessage = string | Uint8Array;

/**
 * The log methods shared by {@link WorkerLogger} and {@link MasterLogger}. Each checks the level
 * first (a disabled level costs one comparison) and never throws: a logging failure must not
 * become the application's failure.
 */
export abstract class LoggerBase {
  /** Records below this level are discarded before anything is encoded. */
  protected minLevel: number = LogLevel.INFO;

  /** Encodes and queues one record that already passed the level check. */
  protected abstract emit(level: number, message: LogMessage, data: Uint8Array | undefined): void;

  abstract isRunning(): boolean;

  /**
   * Logs at an explicit level.
   * @example logger.log(LogLevel.WARNING, "disk 91% full")
   */
  log(level: LogLevel, message: LogMessage, data?: Uint8Array): void {
    if (level >= this.minLevel && level <= LogLevel.CRITICAL) this.#safeEmit(level, message, data);
  }

  trace(message: LogMessage, data?: Uint8Array): void {
    if (LogLevel.TRACE >= this.minLevel) this.#safeEmit(LogLevel.TRACE, message, data);
  }

  debug(message: LogMessage, data?: Uint8Array): void {
    if (LogLevel.DEBUG >= this.minLevel) this.#safeEmit(LogLevel.DEBUG, message, data);
  }

  info(message: LogMessage, data?: Uint8Array): void {
    if (LogLevel.INFO >= this.minLevel) this.#safeEmit(LogLevel.INFO, message, data);
  }

  warning(message: LogMessage, data?: Uint8Array): void {
    if (LogLevel.WARNING >= this.minLevel) this.#safeEmit(LogLevel.WARNING, message, data);
  }

  /** Same as {@link warning}. */
  warn(message: LogMessage, data?: Uint8Array): void {
    if (LogLevel.WARNING >= this.minLevel) this.#safeEmit(LogLevel.WARNING, message, data);
  }

  error(message: LogMessage, data?: Uint8Array): void {
    if (LogLevel.ERROR >= this.minLevel) this.#safeEmit(LogLevel.ERROR, message, data);
  }

  critical(message: LogMessage, data?: Uint8Array): void {
    if (LogLevel.CRITICAL >= this.minLevel) this.#safeEmit(LogLevel.CRITICAL, message, data);
  }

  #safeEmit(level: number, message: LogMessage, data: Uint8Array | undefined): void {
    try {
      if (typeof message !== "string" && !(message instanceof Uint8Array)) message = String(message);
      if (data !== undefined && !(data instanceof Uint8Array)) data = undefined;
      this.emit(level, message, data);
    } catch {
      // Swallowed, as promised: a logging failure must not become the application's failure.
    }
  }
}
