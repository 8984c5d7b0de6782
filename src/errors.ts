/**
 * One class per stable code, the undici convention: callers branch on `err.code` (or
 * `instanceof`) instead of parsing messages. The README's error table lists the same pairs, and
 * `test/errors.test.ts` keeps the three in step.
 */

/** Every code a logmux error can carry. */
export type LogmuxErrorCode =
  | "LOGMUX_INVALID_CONFIG"
  | "LOGMUX_PROTOCOL_ERROR"
  | "LOGMUX_ADDRESS_IN_USE"
  | "LOGMUX_UNSAFE_PATH"
  | "LOGMUX_LISTEN_FAILED"
  | "LOGMUX_HANDLER_ERROR"
  | "LOGMUX_CLOSED"
  | "LOGMUX_NO_MASTER"
  | "LOGMUX_STATUS_TIMEOUT";

/** The base of every error logmux raises; never raised itself. */
export abstract class LogmuxError extends Error {
  abstract readonly code: LogmuxErrorCode;
}

/** A configuration value was rejected; the message names the field and what it accepts. */
export class InvalidConfigError extends LogmuxError {
  readonly code = "LOGMUX_INVALID_CONFIG";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`Invalid ${field}: ${message}`);
    this.name = "InvalidConfigError";
    this.field = field;
  }
}

/** A peer sent bytes that do not follow docs/protocol.md; only that connection is closed. */
export class ProtocolError extends LogmuxError {
  readonly code = "LOGMUX_PROTOCOL_ERROR";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** The socket path is held by a live master (or is not ours to take). */
export class AddressInUseError extends LogmuxError {
  readonly code = "LOGMUX_ADDRESS_IN_USE";
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = "AddressInUseError";
    this.path = path;
  }
}

/**
 * A directory or file logmux would listen in, read or write belongs to another user, is writable
 * by others, or is not the kind of file expected (a symbolic link, a FIFO): another local user
 * could plant or swap what logmux would trust. `path` names it; the message says why.
 */
export class UnsafePathError extends LogmuxError {
  readonly code = "LOGMUX_UNSAFE_PATH";
  /** What the path is for, e.g. "spool" or "state directory". */
  readonly what: string;
  readonly path: string;
  /** Why it is refused, e.g. "belongs to uid 65534, not to this user (uid 0)". */
  readonly reason: string;
  constructor(what: string, path: string, reason: string) {
    super(`${what} ${path} ${reason}`);
    this.name = "UnsafePathError";
    this.what = what;
    this.path = path;
    this.reason = reason;
  }
}

/**
 * The master could not listen on its socket for a reason other than another master holding it, or
 * could not serve its metrics (then `path` is the metrics URL, e.g. `http://127.0.0.1:9464/metrics`).
 */
export class ListenFailedError extends LogmuxError {
  readonly code = "LOGMUX_LISTEN_FAILED";
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ListenFailedError";
    this.path = path;
  }
}

/** A handler failed; the message has already had the handler's secrets removed. */
export class HandlerError extends LogmuxError {
  readonly code = "LOGMUX_HANDLER_ERROR";
  /** The handler's label, e.g. `FileLogHandler(/var/log/app.log)`. */
  readonly handler: string;
  constructor(handler: string, message: string, options?: ErrorOptions) {
    super(`${handler}: ${message}`, options);
    this.name = "HandlerError";
    this.handler = handler;
  }
}

/** An operation was attempted on something already closed. */
export class ClosedError extends LogmuxError {
  readonly code = "LOGMUX_CLOSED";
  constructor(what: string) {
    super(`${what} is closed`);
    this.name = "ClosedError";
  }
}

/** `queryStatus` (and `logmux status`): nothing accepts connections at the socket path. */
export class NoMasterError extends LogmuxError {
  readonly code = "LOGMUX_NO_MASTER";
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NoMasterError";
    this.path = path;
  }
}

/** `queryStatus`: the master accepted the connection but sent no status in time. */
export class StatusTimeoutError extends LogmuxError {
  readonly code = "LOGMUX_STATUS_TIMEOUT";
  readonly path: string;
  readonly timeoutMs: number;
  constructor(path: string, timeoutMs: number) {
    super(`no status from the master at ${path} within ${timeoutMs} ms`);
    this.name = "StatusTimeoutError";
    this.path = path;
    this.timeoutMs = timeoutMs;
  }
}
