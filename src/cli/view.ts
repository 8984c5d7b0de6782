// The demo's live view: one frame of text from a snapshot, redrawn in place on a terminal (ANSI
// cursor movement) or printed as a plain progress line per interval when stdout is not a TTY.
import type { MasterStatus } from "../protocol/status.js";
import { formatAgo, formatCount, formatDuration, handlerCells, table } from "./format.js";

export interface WorkerRow {
  name: string;
  pid: number | undefined;
  /** What the demo did to it ("running", "killed", "stopping", "done", "exited 1"). */
  demoState: string;
  /** Records the worker reports it has logged. */
  sent: number;
}

export interface ViewWarning {
  at: number;
  message: string;
}

export interface Snapshot {
  now: number;
  elapsedMs: number;
  durationMs: number;
  title: string;
  status: MasterStatus;
  workers: readonly WorkerRow[];
  /** Records/s per worker name and for the master, over the last interval. */
  rates: ReadonlyMap<string, number>;
  masterRate: number;
  warnings: readonly ViewWarning[];
  /** Handler names not worth showing (the view's own tap). */
  hiddenHandlers: ReadonlySet<string>;
}

const MAX_WARNINGS_SHOWN = 4;

/** The full-screen frame for a terminal. */
export function renderFrame(s: Snapshot): string[] {
  const byName = new Map(s.status.workers.map((w) => [w.name, w]));
  const remaining = Math.max(0, s.durationMs - s.elapsedMs);
  const lines = [
    `${s.title}   elapsed ${formatDuration(s.elapsedMs, true)}, ${formatDuration(remaining, true)} left   (Ctrl-C stops cleanly)`,
    "",
  ];
  const rows = s.workers.map((w) => {
    const health = byName.get(w.name);
    const state = health === undefined ? "waiting" : health.state;
    return [
      w.name,
      w.pid === undefined ? "-" : String(w.pid),
      w.demoState === "running" ? state : `${state} (${w.demoState})`,
      formatCount(s.rates.get(w.name) ?? 0),
      formatCount(w.sent),
      formatCount(health?.recordsReceived ?? 0),
      health === undefined ? "-" : formatAgo(health.lastHeartbeat, s.now),
    ];
  });
  const drops =
    s.status.handlers.reduce((sum, h) => sum + h.dropped, 0) +
    s.status.workers.reduce((sum, w) => sum + w.recordsDropped, 0);
  rows.push([
    "MASTER",
    String(s.status.pid),
    `up ${formatDuration(s.status.uptimeMs)}`,
    formatCount(s.masterRate),
    "",
    formatCount(s.status.recordsReceived),
    `drops ${formatCount(drops)}`,
  ]);
  lines.push(
    ...table(["WORKER", "PID", "STATE", "REC/S", "SENT", "RECEIVED", "LAST HEARTBEAT"], rows, [
      false,
      true,
      false,
      true,
      true,
      true,
      false,
    ]),
    "",
  );
  const handlers = s.status.handlers.filter((h) => !s.hiddenHandlers.has(h.name));
  lines.push(
    ...table(
      ["HANDLER", "QUEUE", "DELIVERED", "DROPPED", "FAILURES", "STALLED"],
      handlers.map(handlerCells),
      [false, true, true, true, true, false],
    ),
    "",
    "Latest MASTER warnings:",
  );
  const shown = s.warnings.slice(-MAX_WARNINGS_SHOWN);
  if (shown.length === 0) lines.push("  (none yet)");
  for (const w of shown) lines.push(`  ${clock(w.at)}  ${w.message}`);
  return lines;
}

/** One progress line for a pipe or a file: master totals, then each worker. */
export function renderLine(s: Snapshot): string {
  const byName = new Map(s.status.workers.map((w) => [w.name, w]));
  const queued = s.status.handlers
    .filter((h) => !s.hiddenHandlers.has(h.name))
    .reduce((sum, h) => sum + h.queuedBatches, 0);
  const drops =
    s.status.handlers.reduce((sum, h) => sum + h.dropped, 0) +
    s.status.workers.reduce((sum, w) => sum + w.recordsDropped, 0);
  const parts = [
    `master ${formatCount(s.masterRate)} rec/s, ${formatCount(s.status.recordsReceived)} received, queue ${formatCount(queued)}, drops ${formatCount(drops)}`,
  ];
  for (const w of s.workers) {
    const health = byName.get(w.name);
    const state = w.demoState === "running" ? (health?.state ?? "waiting") : w.demoState;
    const heartbeat = health === undefined ? "-" : formatAgo(health.lastHeartbeat, s.now);
    parts.push(
      `${w.name} ${formatCount(s.rates.get(w.name) ?? 0)}/s ${formatCount(health?.recordsReceived ?? 0)} hb ${heartbeat} ${state}`,
    );
  }
  return `${stamp(s.elapsedMs)} ${parts.join(" | ")}`;
}

export function stamp(elapsedMs: number): string {
  return `[${formatDuration(elapsedMs, true).padStart(6)}]`;
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/**
 * Draws frames on a terminal, in place: the cursor goes back up over the previous frame, each line
 * is rewritten and cleared to its end, and whatever is below is cleared. Lines are cut to the
 * terminal's width so that wrapping never breaks the count. Elsewhere it prints lines as they come.
 */
export class LiveView {
  readonly tty: boolean;
  readonly #out: NodeJS.WriteStream;
  #height = 0;
  #printedWarnings = 0;
  readonly #restoreCursor = (): void => {
    this.#out.write("\x1b[?25h");
  };

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.#out = out;
    this.tty = out.isTTY === true;
    if (this.tty) {
      out.write("\x1b[?25l");
      process.on("exit", this.#restoreCursor);
    }
  }

  /** Interval between frames: a terminal redraws often, a log gets one line a second. */
  get intervalMs(): number {
    return this.tty ? 250 : 1000;
  }

  draw(s: Snapshot): void {
    if (!this.tty) {
      this.#printNewWarnings(s);
      this.#out.write(`${renderLine(s)}\n`);
      return;
    }
    const width = Math.max(20, (this.#out.columns ?? 120) - 1);
    const rows = Math.max(5, (this.#out.rows ?? 50) - 1);
    const lines = renderFrame(s)
      .slice(0, rows)
      .map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
    const up = this.#height > 0 ? `\x1b[${this.#height}F` : "";
    this.#out.write(`${up}${lines.map((line) => `${line}\x1b[K`).join("\n")}\n\x1b[J`);
    this.#height = lines.length;
  }

  /** A line that stays (an event such as a kill): above the frame on a terminal. */
  note(line: string): void {
    if (!this.tty) {
      this.#out.write(`${line}\n`);
      return;
    }
    const up = this.#height > 0 ? `\x1b[${this.#height}F\x1b[J` : "";
    this.#out.write(`${up}${line}\n`);
    this.#height = 0;
  }

  /** Leaves the last frame on screen and gives the cursor back. */
  close(): void {
    if (this.tty) {
      this.#restoreCursor();
      process.off("exit", this.#restoreCursor);
    }
  }

  #printNewWarnings(s: Snapshot): void {
    // Warnings are kept whole by the caller; print each once, as it arrives.
    for (const w of s.warnings.slice(this.#printedWarnings)) {
      this.#out.write(`${stamp(w.at - (s.now - s.elapsedMs))} MASTER WARNING: ${w.message}\n`);
    }
    this.#printedWarnings = s.warnings.length;
  }
}
