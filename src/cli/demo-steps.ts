// The demo's waiting and counting: replies from its workers over IPC, sleeps that Ctrl-C cuts
// short, deadlines, and the count of lines per worker in the log file for the summary.
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** What a worker's "flushed" and "done" replies say: records logged in all, and in the burst. */
export interface Counts {
  sent: number;
  burst: number;
}

/** Resolves with the first IPC message of `type` from `child`, or undefined if it exits first. */
export function message(child: ChildProcess, type: string): Promise<Counts | undefined> {
  return new Promise((done) => {
    const onMessage = (m: { type?: string; sent?: number; burst?: number }): void => {
      if (m?.type !== type) return;
      cleanup();
      done({ sent: m.sent ?? 0, burst: m.burst ?? 0 });
    };
    const onExit = (): void => {
      cleanup();
      done(undefined);
    };
    const cleanup = (): void => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      done();
    }
    signal.addEventListener("abort", finish);
  });
}

export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<undefined>((done) => {
      timer = setTimeout(() => done(undefined), ms);
    }),
  ]);
}

/**
 * Counts lines per logger name in a file written with the default format. Read in chunks, not as
 * one string: a burst on a fast machine writes close to a gigabyte, past V8's longest string, and
 * reading it whole threw, so the summary reported every record missing.
 */
export function countLines(file: string, chunkBytes = 1 << 20): Map<string, number> {
  const counts = new Map<string, number>();
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return counts;
  }
  const line = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[[A-Z]+\] (\S+) - /gm;
  const chunk = Buffer.allocUnsafe(chunkBytes);
  // Keeps a character cut by a chunk's end for the next chunk.
  const decoder = new StringDecoder("utf8");
  let carry = "";
  try {
    for (
      let n = readSync(fd, chunk, 0, chunkBytes, null);
      n > 0;
      n = readSync(fd, chunk, 0, chunkBytes, null)
    ) {
      const text = carry + decoder.write(chunk.subarray(0, n));
      // Only whole lines: the last, possibly cut, waits for the next chunk.
      const end = text.lastIndexOf("\n") + 1;
      carry = text.slice(end);
      for (const match of text.slice(0, end).matchAll(line))
        counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
    }
    for (const match of carry.matchAll(line)) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  } finally {
    closeSync(fd);
  }
  return counts;
}
