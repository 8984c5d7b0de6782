import type * as Os from "node:os";
import { lazyBuiltin } from "../handlers/kit/lazy-require.js";
import { EndKind } from "../protocol/constants.js";
import type { WorkerEnd } from "../protocol/encoder.js";

/** node:os for a signal's number, loaded when a signal arrives (see config.ts). */
const os = lazyBuiltin<typeof Os>("node:os");

/** What a logger does when its process (or thread) ends without `shutdown()`. */
export interface ExitParticipant {
  /** The process is ending: hand everything over and say how it ends. */
  endSync(end: WorkerEnd): void;
  /** The application handles the signal and may go on: hand over what is held, keep logging. */
  flushSync(): void;
}

/** Loggers alive in this process; one set of listeners serves them all. */
const live = new Set<ExitParticipant>();
let installed = false;
/** The last uncaught exception seen, so the 'exit' hook can tell a crash from a plain exit. */
let uncaught: unknown;

/** Signals after which the process would otherwise die with records still in memory. */
const FLUSH_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

function describeUncaught(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return `thrown value: ${String(error)}`;
  } catch {
    return "thrown value that cannot be printed";
  }
}

function endAll(end: WorkerEnd): void {
  for (const participant of live) participant.endSync(end);
}

function onExit(code: number): void {
  // An app may catch an uncaught exception ('uncaughtException' handler) and exit cleanly later:
  // only a non-zero exit after one is a crash.
  endAll(
    code !== 0 && uncaught !== undefined
      ? { kind: EndKind.UNCAUGHT, detail: code, text: describeUncaught(uncaught) }
      : { kind: EndKind.EXIT, detail: code, text: "" },
  );
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) === 1) {
    // Ours is the only handler: the application expects the default, which is to die by the
    // signal. Re-raising it after removing ourselves gives exactly that (exit status included).
    endAll({ kind: EndKind.SIGNAL, detail: os().constants.signals[signal] ?? 0, text: signal });
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
    return;
  }
  // The application handles the signal and may go on logging (a graceful shutdown): hand over
  // what we hold without ending the logger; its own shutdown() or the 'exit' hook ends it.
  for (const participant of live) participant.flushSync();
}

/** Hooks the process's end for `participant` (idempotent per process for the listeners). */
export function watchExit(participant: ExitParticipant, signals: boolean): void {
  live.add(participant);
  if (!installed) {
    installed = true;
    // 'exit' also runs after process.exit() and after an uncaught exception has been printed.
    process.on("exit", onExit);
    // A monitor observes without changing what an uncaught exception does to the process.
    process.on("uncaughtExceptionMonitor", (error) => {
      uncaught = error;
    });
  }
  // Signals reach only the main thread; a worker_threads logger relies on the 'exit' hook. Node
  // never delivers a signal to a worker thread's `process`, so there these listeners are inert,
  // which spares every process the import of node:worker_threads (~1 ms of CPU) to ask.
  if (signals) {
    for (const signal of FLUSH_SIGNALS) {
      if (!process.listeners(signal).includes(onSignal)) process.on(signal, onSignal);
    }
  }
}

export function unwatchExit(participant: ExitParticipant): void {
  live.delete(participant);
}
