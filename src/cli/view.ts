// The demo's live view: one frame of text from a snapshot, redrawn in place on a terminal (ANSI
// cursor movement) or printed as a plain progress line per interval when stdout is not a TTY.
import type { MasterStatus } from "../protocol/status.js";
import { BENCH_SOURCE, type BenchRow, formatRate } from "./bench-figures.js";
import { formatAgo, formatCount, formatDuration, handlerCells, table } from "./format.js";

export interface WorkerRow {
  name: string;
  pid: number | undefined;
  /** What the demo did to it ("running", "killed", "stopping", "done", "exited 1"). */
  demoState: string;
  /**
   * Records the worker reports it has logged. A worker reports a count before it logs what it
   * counts (src/cli/demo-worker.ts), so this is never below what the master has received from it.
   */
  sent: number;
}

export interface ViewWarning {
  at: number;
  message: string;
}

/**
 * The burst phase: workers log as fast as they can, and the view shows the rate the pipeline
 * sustains, measured as the benchmark measures its lines/s: the records logged in the burst over
 * the time from its start until the last of them is written to the file.
 */
export interface BurstFigure {
  /** "running" while the workers burst, "draining" until they have shut down (every record acknowledged), then "done". */
  state: "running" | "draining" | "done";
  workers: number;
  /** How long the workers logged as fast as they could (so far, while running). */
  burstMs: number;
  /** Records logged in the burst (known once the workers have stopped). */
  records: number;
  /** Records written to the file since the burst started. */
  written: number;
  /** From the burst's start until now, or until the workers had shut down once done. */
  elapsedMs: number;
  /** pino's measured end-to-end figure, for scale. */
  pino: BenchRow;
}

export interface Snapshot {
  now: number;
  elapsedMs: number;
  durationMs: number;
  title: string;
  /** What the workers are doing now: "steady, 200 records/s each", "burst", "stopping". */
  phase: string;
  status: MasterStatus;
  workers: readonly WorkerRow[];
  /** Records/s per worker name and for the master, over the last interval. */
  rates: ReadonlyMap<string, number>;
  masterRate: number;
  warnings: readonly ViewWarning[];
  /** Handler names not worth showing (the view's own taps). */
  hiddenHandlers: ReadonlySet<string>;
  /** The latest records as formatted lines, oldest first. */
  recent: readonly string[];
  burst: BurstFigure | undefined;
}

const MAX_WARNINGS_SHOWN = 4;

/** The burst's lines: live while it runs; then the sustained rate, and pino's figure for scale. */
export function burstLines(b: BurstFigure): string[] {
  const seconds = Math.max(0.001, b.elapsedMs / 1000);
  if (b.state === "running") {
    return [
      `burst: ${b.workers} worker${b.workers === 1 ? "" : "s"} logging as fast as they can for ${formatDuration(b.burstMs, true)}: ` +
        `${formatRate(b.written / seconds)} records/s written so far`,
    ];
  }
  if (b.state === "draining") {
    return [
      `burst: over after ${formatDuration(b.burstMs, true)}; writing what the workers logged: ` +
        `${formatCount(b.written)} of ${b.records > 0 ? formatCount(b.records) : "?"} written`,
    ];
  }
  const processes = `${b.pino.processes} process${b.pino.processes === 1 ? "" : "es"}`;
  return [
    `burst: ${formatRate(b.records / seconds)} records/s sustained: ${formatCount(b.records)} records logged in ` +
      `${formatDuration(b.burstMs, true)} by ${b.workers} worker${b.workers === 1 ? "" : "s"}, ` +
      // Fewer only when a worker's shutdown timed out and it spooled the rest for the next master.
      `${b.written >= b.records ? "all" : `${formatCount(b.written)} of them`} in the file after ${formatDuration(b.elapsedMs, true)}`,
    `  for scale, pino (measured, ${BENCH_SOURCE}), ${processes} appending to one file: ` +
      `${formatRate(b.pino.linesPerSecond)} lines/s`,
  ];
}

function totalSent(s: Snapshot): number {
  return s.workers.reduce((sum, w) => sum + w.sent, 0);
}

/** The full-screen frame for a terminal. */
export function renderFrame(s: Snapshot): string[] {
  const byName = new Map(s.status.workers.map((w) => [w.name, w]));
  const remaining = Math.max(0, s.durationMs - s.elapsedMs);
  const lines = [
    `${s.title}   ${s.phase}   elapsed ${formatDuration(s.elapsedMs, true)}, ${formatDuration(remaining, true)} left   (Ctrl-C stops cleanly)`,
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
    formatCount(totalSent(s)),
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
  );
  if (s.burst !== undefined) lines.push(...burstLines(s.burst), "");
  lines.push("Latest MASTER warnings:");
  const shown = s.warnings.slice(-MAX_WARNINGS_SHOWN);
  if (shown.length === 0) lines.push("  (none yet)");
  for (const w of shown) lines.push(`  ${clock(w.at)}  ${w.message}`);
  // Last, so that a short terminal cuts these before the counters and the warnings.
  lines.push("", "Latest records:");
  if (s.recent.length === 0) lines.push("  (none yet)");
  for (const line of s.recent) lines.push(`  ${line}`);
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
    `master ${formatCount(s.masterRate)} rec/s, ${formatCount(totalSent(s))} sent, ${formatCount(s.status.recordsReceived)} received, queue ${formatCount(queued)}, drops ${formatCount(drops)}`,
  ];
  for (const w of s.workers) {
    const health = byName.get(w.name);
    const state = w.demoState === "running" ? (health?.state ?? "waiting") : w.demoState;
    const heartbeat = health === undefined ? "-" : formatAgo(health.lastHeartbeat, s.now);
    parts.push(
      `${w.name} ${formatCount(s.rates.get(w.name) ?? 0)}/s sent ${formatCount(w.sent)} received ${formatCount(health?.recordsReceived ?? 0)} hb ${heartbeat} ${state}`,
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
