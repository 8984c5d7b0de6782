// The demo's waiting and counting: replies from its workers over IPC, sleeps that Ctrl-C cuts
// short, deadlines, and the count of lines per worker in the log file for the summary.
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

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

/** Counts lines per logger name in a file written with the default format. */
export function countLines(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return counts;
  }
  const line = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[[A-Z]+\] (\S+) - /gm;
  for (const match of text.matchAll(line)) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  return counts;
}
