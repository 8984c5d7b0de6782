// A tail client made of a raw socket, for tests that need one that stops reading (a terminal that
// froze) or that speaks the protocol wrong.
import { createConnection, type Socket } from "node:net";
import type { TestContext } from "node:test";
import { parseIpcPath } from "../../src/config.js";
import { MessageType } from "../../src/protocol/constants.js";
import { FrameReader, frameType } from "../../src/protocol/decoder.js";
import {
  decodeTailRecords,
  decodeTailSkipped,
  encodeTailQuery,
  type TailQuery,
} from "../../src/protocol/tail.js";

export const QUERY: TailQuery = { level: 0, workers: [], where: [], last: 0, sinceMs: 0, follow: true };

export interface StalledTail {
  socket: Socket;
  /** Reads again until the master ends the connection; what arrived after TAIL_LIVE. */
  readToEnd(): Promise<{ records: number; skipped: number; frames: number[] }>;
}

/** Sends a TAIL_QUERY, waits for TAIL_LIVE, then stops reading. */
export async function stalledTail(
  t: TestContext,
  path: string,
  query: Partial<TailQuery> = {},
): Promise<StalledTail> {
  const socket = createConnection(parseIpcPath(path));
  t.after(() => {
    socket.destroy();
  });
  const seen = { records: 0, skipped: 0, frames: [] as number[] };
  let onLive: () => void = () => {};
  const live = new Promise<void>((resolve) => {
    onLive = resolve;
  });
  const reader = new FrameReader(1 << 30, (frame) => {
    const type = frameType(frame);
    seen.frames.push(type);
    if (type === MessageType.TAIL_LIVE) {
      socket.pause();
      onLive();
    } else if (type === MessageType.TAIL_RECORDS) seen.records += decodeTailRecords(frame).count;
    else if (type === MessageType.TAIL_SKIPPED) seen.skipped += decodeTailSkipped(frame);
    else throw new Error(`unexpected frame type 0x${type.toString(16)}`);
  });
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    socket.once("end", () => resolve());
    socket.once("error", reject);
  });
  socket.write(encodeTailQuery({ ...QUERY, ...query }));
  await live;
  return {
    socket,
    readToEnd: async () => {
      socket.resume();
      await ended;
      return seen;
    },
  };
}
