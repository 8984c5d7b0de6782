import { isAbsolute } from "node:path";
import { parseIpcPath } from "../config.js";
import { NoMasterError, ProtocolError } from "../errors.js";
import { MessageType } from "../protocol/constants.js";
import { FrameReader, frameText, frameType } from "../protocol/decoder.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import {
  decodeTailQuery,
  decodeTailRecords,
  decodeTailSkipped,
  encodeTailQuery,
  type TailQuery,
} from "../protocol/tail.js";
import { connectUnix } from "./client.js";

/**
 * A TAIL_RECORDS frame holds one batch's matching records, so it is at most a worker's
 * maxFrameBytes; this is over the largest the config allows, and anything larger is no master.
 */
const MAX_TAIL_FRAME_BYTES = 1024 * 1024 * 1024;

/** What a tail hears, in the order the master sent it. */
export interface TailListener {
  /**
   * Records (a promise: reading pauses until it settles, so a slow output slows the master's sends;
   * one that rejects ends the tail, {@link Tail.ended} rejecting with its error).
   */
  records(batch: RecordBatch): void | Promise<void>;
  /** The master dropped this many matching records here because they were not read in time. */
  skipped(count: number): void;
  /** The kept records asked for are all here; what follows is live. */
  live(): void;
}

/**
 * How a tail ended: `finished` (not following, everything asked for arrived), `stopped`
 * ({@link Tail.stop}), or `gone` (the master closed the connection: it stopped or died).
 */
export type TailEnd = "finished" | "stopped" | "gone";

export interface Tail {
  /** Settles when the tail ends; rejects with NoMasterError (nothing at the path) or ProtocolError. */
  readonly ended: Promise<TailEnd>;
  stop(): void;
}

/**
 * Attaches to the master at `path` (`ipc://...` or the bare socket path) as a tail: one TAIL_QUERY
 * (checked here as the master will check it), then records until the connection ends.
 *
 * @example
 * ```ts
 * const tail = openTail("ipc:///run/app/log.sock", { level: 3, workers: ["api-*"], where: [],
 *   last: 10, sinceMs: 0, follow: true }, { records: (b) => console.log(b.count),
 *   skipped: (n) => console.warn(n, "skipped"), live: () => {} });
 * ```
 */
export function openTail(path: string, query: TailQuery, listener: TailListener): Tail {
  let socketPath: string;
  let frame: Buffer;
  try {
    socketPath = isAbsolute(path) ? path : parseIpcPath(path);
    frame = encodeTailQuery(query);
    decodeTailQuery(frame);
  } catch (error) {
    return { ended: Promise.reject(error), stop: () => {} };
  }
  const socket = connectUnix(socketPath);
  let settle: (end: TailEnd | Error) => void = () => {};
  const ended = new Promise<TailEnd>((resolve, reject) => {
    let done = false;
    settle = (end) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (end instanceof Error) reject(end);
      else resolve(end);
    };
  });
  let liveSeen = false;
  let pending = 0;
  const reader = new FrameReader(MAX_TAIL_FRAME_BYTES, (frame) => {
    const type = frameType(frame);
    switch (type) {
      case MessageType.TAIL_RECORDS: {
        const result = listener.records(decodeTailRecords(frame));
        if (result !== undefined) {
          pending++;
          socket.pause();
          // An output that failed ends the tail with its error (else an unhandled rejection).
          result.then(
            () => {
              if (--pending === 0) socket.resume();
            },
            (error: unknown) => settle(error instanceof Error ? error : new Error(String(error))),
          );
        }
        return;
      }
      case MessageType.TAIL_SKIPPED:
        listener.skipped(decodeTailSkipped(frame));
        return;
      case MessageType.TAIL_LIVE:
        liveSeen = true;
        listener.live();
        return;
      case MessageType.ERROR:
        throw new ProtocolError(`the master refused the tail: ${frameText(frame)}`);
      default:
        throw new ProtocolError(`unexpected message type 0x${type.toString(16)} from the master`);
    }
  });
  socket.on("connect", () => socket.write(frame));
  socket.on("data", (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (error) {
      settle(error as Error);
    }
  });
  socket.on("end", () => settle(liveSeen && !query.follow ? "finished" : "gone"));
  socket.on("error", (error: NodeJS.ErrnoException) => {
    if (
      socket.connecting ||
      error.code === "ENOENT" ||
      error.code === "ECONNREFUSED" ||
      error.code === "EACCES"
    ) {
      const why =
        error.code === "ENOENT"
          ? "no socket there"
          : error.code === "ECONNREFUSED"
            ? "nothing accepts connections there"
            : error.code === "EACCES"
              ? "permission denied: only the master's own user may attach"
              : error.message;
      settle(
        new NoMasterError(socketPath, `no master is listening at ${socketPath} (${why})`, { cause: error }),
      );
    } else settle("gone");
  });
  socket.on("close", () => settle("gone"));
  return { ended, stop: () => settle("stopped") };
}
