/**
 * Every error logmux raises is a {@link LogmuxError} with a stable `code`, so callers can branch on
 * `err.code` instead of parsing messages (the undici convention).
 */
export class LogmuxError extends Error {
  readonly code: string;
  constructor(message: string, code = "LOGMUX_ERROR", options?: ErrorOptions) {
    super(message, options);
    this.name = "LogmuxError";
    this.code = code;
  }
}

/** A configuration value was rejected; the message names the field and what it accepts. */
export class InvalidConfigError extends LogmuxError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`Invalid ${field}: ${message}`, "LOGMUX_INVALID_CONFIG");
    this.name = "InvalidConfigError";
    this.field = field;
  }
}

/** A peer sent bytes that do not follow docs/protocol.md; only that connection is closed. */
export class ProtocolError extends LogmuxError {
  constructor(message: string) {
    super(message, "LOGMUX_PROTOCOL_ERROR");
    this.name = "ProtocolError";
  }
}

/** The socket path is held by a live master (or is not ours to take). */
export class AddressInUseError extends LogmuxError {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message, "LOGMUX_ADDRESS_IN_USE");
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
  /** What the path is for, e.g. "spool" or "state directory". */
  readonly what: string;
  readonly path: string;
  /** Why it is refused, e.g. "belongs to uid 65534, not to this user (uid 0)". */
  readonly reason: string;
  constructor(what: string, path: string, reason: string) {
    super(`${what} ${path} ${reason}`, "LOGMUX_UNSAFE_PATH");
    this.name = "UnsafePathError";
    this.what = what;
    this.path = path;
    this.reason = reason;
  }
}

/** A handler failed; the message has already had the handler's secrets removed. */
export class HandlerError extends LogmuxError {
  readonly handler: string;
  constructor(handler: string, message: string, options?: ErrorOptions) {
    super(`${handler}: ${message}`, "LOGMUX_HANDLER_ERROR", options);
    this.name = "HandlerError";
    this.handler = handler;
  }
}

/** An operation was attempted on something already closed. */
export class ClosedError extends LogmuxError {
  constructor(what: string) {
    super(`${what} is closed`, "LOGMUX_CLOSED");
    this.name = "ClosedError";
  }
}
