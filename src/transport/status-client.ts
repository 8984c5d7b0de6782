import { isAbsolute } from "node:path";
import { parseIpcPath } from "../config.js";
import { InvalidConfigError, NoMasterError, ProtocolError, StatusTimeoutError } from "../errors.js";
import { MessageType } from "../protocol/constants.js";
import { encodeStatusQuery } from "../protocol/encoder.js";
import { FrameReader, frameText, frameType } from "../protocol/frame-reader.js";
import type { MasterStatus } from "../protocol/status.js";
import { connectUnix } from "./client.js";

/** A STATUS body lists at most ~1000 workers; anything near this is not a logmux master. */
const MAX_STATUS_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Asks the master listening at `path` (`"ipc:///run/app/log.sock"`, or the bare socket path) for
 * its {@link MasterStatus}: one STATUS_QUERY, one STATUS reply, then the connection is closed.
 * Rejects with {@link NoMasterError} (`LOGMUX_NO_MASTER`) when nothing accepts the connection,
 * {@link StatusTimeoutError} (`LOGMUX_STATUS_TIMEOUT`) when no reply arrives within `timeoutMs`,
 * and {@link ProtocolError} (`LOGMUX_PROTOCOL_ERROR`) when the reply is not a STATUS.
 *
 * @example
 * ```ts
 * const status = await queryStatus("ipc:///run/app/log.sock");
 * console.log(status.recordsReceived, status.workers.length);
 * ```
 */
export function queryStatus(path: string, timeoutMs = 2000): Promise<MasterStatus> {
  let socketPath: string;
  try {
    socketPath = typeof path === "string" && isAbsolute(path) ? path : parseIpcPath(path);
  } catch (error) {
    return Promise.reject(error);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return Promise.reject(
      new InvalidConfigError("timeoutMs", `expected a positive number, got ${timeoutMs}`),
    );
  }
  return new Promise((resolve, reject) => {
    const socket = connectUnix(socketPath);
    let settled = false;
    const finish = (error: Error | undefined, status?: MasterStatus): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(status!);
    };
    const timer = setTimeout(() => finish(new StatusTimeoutError(socketPath, timeoutMs)), timeoutMs);
    const reader = new FrameReader(MAX_STATUS_FRAME_BYTES, (frame) => {
      const type = frameType(frame);
      if (type === MessageType.STATUS) {
        try {
          finish(undefined, JSON.parse(frameText(frame)) as MasterStatus);
        } catch (error) {
          finish(new ProtocolError(`the master's STATUS is not valid JSON: ${(error as Error).message}`));
        }
      } else if (type === MessageType.ERROR) {
        finish(new ProtocolError(`the master refused the status query: ${frameText(frame)}`));
      } else {
        finish(new ProtocolError(`expected a STATUS reply, got message type 0x${type.toString(16)}`));
      }
    });
    socket.on("connect", () => socket.write(encodeStatusQuery()));
    socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        finish(new ProtocolError(`bad reply from the master: ${(error as Error).message}`));
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "ENOENT"
          ? "no socket there"
          : error.code === "ECONNREFUSED"
            ? "nothing accepts connections there"
            : error.message;
      finish(
        new NoMasterError(socketPath, `no master is listening at ${socketPath} (${why})`, { cause: error }),
      );
    });
    socket.on("close", () =>
      finish(new ProtocolError(`the master at ${socketPath} closed the connection without a status`)),
    );
  });
}
