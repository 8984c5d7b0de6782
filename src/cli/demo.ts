// `logmux demo`: a master in this process, N forked workers logging a realistic mix, a live view
// with the latest records, one worker killed mid-run (SIGKILL) to show the dead-worker warning, a
// burst in which the workers log as fast as they can, and a summary that counts the lines actually
// in the log file.
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LoggerConfig } from "../config.js";
import { FileLogHandler } from "../handlers/file.js";
import { LogLevel } from "../levels.js";
import { MasterLogger } from "../master/master.js";
import {
  EXIT_FAILURE,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_TERMINATED,
  intFlag,
  numberFlag,
  type OptionSpec,
  parseFlags,
  UsageError,
} from "./args.js";
import { pinoRowFor } from "./bench-figures.js";
import { countLines, message, sleep, within } from "./demo-steps.js";
import { RecentLines, WarningTap } from "./demo-taps.js";
import type { DemoWorkerOptions } from "./demo-worker.js";
import { formatCount } from "./format.js";
import { type BurstFigure, burstLines, LiveView, type Snapshot, stamp, type WorkerRow } from "./view.js";

export const DEMO_USAGE = `Usage: logmux demo [--workers 4] [--duration 10] [--burst 2] [--rate 200] [--log-dir logs] [--no-kill]

Starts a master and forked workers that log a realistic mix (mostly INFO with fields, some DEBUG
and WARNING, now and then an ERROR with an attachment), shows them live with the latest records,
kills one worker halfway (SIGKILL) so the master's dead-worker warning appears, then has the others
log as fast as they can (the burst) to show the records/s the pipeline sustains on this machine,
and ends with a summary: records sent vs lines written.

  --workers <n>     worker processes (default: 4; at most 64)
  --duration <s>    seconds of steady logging at --rate (default: 10)
  --burst <s>       seconds of logging as fast as they can after it; 0 skips the burst (default: 2)
  --rate <n>        records per second per worker in the steady phase (default: 200)
  --log-dir <dir>   where demo.log is written, replaced on each run (default: ./logs)
  --no-kill         do not kill a worker halfway (default: off, one worker is killed)
  -h, --help        show this help

On a terminal the view is redrawn in place; otherwise it prints one progress line a second.
Ctrl-C stops early and cleanly: workers shut down, the master drains, the summary is printed.
Exit status: 0 finished and every record sent was written, 1 records missing or a failure,
2 bad flags, 130 interrupted by Ctrl-C (after the clean stop and the summary).`;

/** The demo's flags, as parseArgs reads them (test/cli/help.test.ts checks DEMO_USAGE lists each). */
export const DEMO_FLAGS = {
  workers: { type: "string" },
  duration: { type: "string" },
  burst: { type: "string" },
  rate: { type: "string" },
  "log-dir": { type: "string" },
  "no-kill": { type: "boolean" },
} satisfies OptionSpec;

/** Latest records, shown last in the frame: enough to see the mix; a short terminal cuts them first. */
const RECENT_LINES = 5;

interface DemoWorker extends WorkerRow {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Longest burst --burst accepts: the workers' backlog (and spool) grows while the master lags. */
const MAX_BURST_SECONDS = 3600;

/** `--burst`: 0 (no burst) or seconds, fractions allowed. */
function burstSeconds(value: string | undefined): number {
  if (value === undefined) return 2;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > MAX_BURST_SECONDS) {
    throw new UsageError(
      `--burst expects 0 (no burst) or seconds up to ${MAX_BURST_SECONDS}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * Ends the burst's measurement: by now every worker has shut its logger down, which resolves once
 * the master acknowledged every record, and the master acknowledges only after every handler
 * settled them. So the file handler's count is final here, with no waiting: a worker whose
 * shutdown timed out (it spooled what was not acknowledged) shows as fewer lines written.
 */
function finishBurst(
  burst: { figure: BurstFigure; at: number; writtenBefore: number },
  records: number,
  written: () => number,
): void {
  const { figure } = burst;
  figure.records = records;
  figure.written = written() - burst.writtenBefore;
  figure.elapsedMs = Date.now() - burst.at;
  figure.state = "done";
}

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, DEMO_FLAGS);
  if (values.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return EXIT_OK;
  }
  const workerCount = intFlag("--workers", values.workers, 4, 1, 64);
  const durationMs = Math.round(numberFlag("--duration", values.duration, 10, 86_400) * 1000);
  const burstMs = Math.round(burstSeconds(values.burst) * 1000);
  const rate = numberFlag("--rate", values.rate, 200, 1_000_000);
  const logDir = resolve(values["log-dir"] ?? "logs");
  const kill = !values["no-kill"] && workerCount >= 2;

  const file = join(logDir, "demo.log");
  mkdirSync(logDir, { recursive: true });
  writeFileSync(file, "");
  const socketDir = mkdtempSync(join(tmpdir(), "logmux-demo-"));
  const cleanup = (): void => rmSync(socketDir, { recursive: true, force: true });
  process.on("exit", cleanup);

  const config = new LoggerConfig({
    path: `ipc://${join(socketDir, "demo.sock")}`,
    baseLevel: LogLevel.DEBUG,
    heartbeatIntervalMs: 1000,
    deadWorkerGraceMs: 1000,
    flushIntervalMs: 100,
  });
  const fileHandler = new FileLogHandler(file);
  const tap = new WarningTap();
  const recent = new RecentLines(RECENT_LINES);
  const master = new MasterLogger(config, [fileHandler, tap, recent]);
  try {
    await master.ready();
  } catch (error) {
    process.stderr.write(`logmux demo: the master cannot listen: ${(error as Error).message}\n`);
    return EXIT_FAILURE;
  }

  // `logmux demo | head`: a closed pipe must not crash the demo before it has stopped its workers.
  process.stdout.on("error", () => {});
  const view = new LiveView(process.stdout);
  const shownFile = relative(process.cwd(), file).startsWith("..") ? file : relative(process.cwd(), file);
  view.note(
    `logmux demo: ${workerCount} workers x ${formatCount(rate)} records/s for ${durationMs / 1000}s` +
      `${burstMs > 0 ? `, then as fast as they can for ${burstMs / 1000}s` : ""}, writing ${shownFile}`,
  );
  view.note(`  master listens on ${config.path} (try: logmux status --path ${config.path})`);

  const started = Date.now();
  const stopSignal = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== undefined) {
      // A second Ctrl-C: the user does not want to wait for the drain.
      for (const w of workers) w.child.kill("SIGKILL");
      view.close();
      process.stdout.write(`\nlogmux demo: ${signal} again: stopped without draining\n`);
      process.exit(EXIT_INTERRUPTED);
    }
    interrupted = signal;
    stopSignal.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const workerScript = fileURLToPath(new URL("./demo-worker.js", import.meta.url));
  const stderrLines: string[] = [];
  const workers: DemoWorker[] = Array.from({ length: workerCount }, (_, i) => {
    const options: DemoWorkerOptions = {
      path: config.path,
      name: `worker-${i + 1}`,
      rate,
      heartbeatIntervalMs: 1000,
      flushIntervalMs: 100,
      seed: 0x5eed + i,
    };
    const child = fork(workerScript, [JSON.stringify(options)], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    child.stderr?.on("data", (chunk: Buffer) => stderrLines.push(...chunk.toString().trimEnd().split("\n")));
    const worker: DemoWorker = {
      name: options.name,
      pid: child.pid,
      demoState: "running",
      sent: 0,
      child,
      exited: new Promise((done) => child.once("exit", () => done())),
    };
    child.on("message", (m: { type?: string; sent?: number }) => {
      if (typeof m?.sent === "number") worker.sent = Math.max(worker.sent, m.sent);
    });
    child.once("exit", (code, signal) => {
      if (worker.demoState === "running" || worker.demoState === "stopping") {
        worker.demoState = signal ? `died by ${signal}` : code === 0 ? "done" : `exited ${code}`;
      }
    });
    return worker;
  });

  // The burst: measured on the file handler, the end of the pipeline (see BurstFigure).
  let phase = `steady, ${formatCount(rate)} records/s per worker`;
  let burst: { figure: BurstFigure; at: number; writtenBefore: number } | undefined;
  const written = (): number =>
    master.status().handlers.find((h) => h.name === fileHandler.name)?.delivered ?? 0;
  const burstFigure = (now: number): BurstFigure | undefined => {
    if (burst === undefined || burst.figure.state === "done") return burst?.figure;
    const figure = burst.figure;
    figure.elapsedMs = now - burst.at;
    if (figure.state === "running") figure.burstMs = figure.elapsedMs;
    figure.written = written() - burst.writtenBefore;
    return figure;
  };

  // The view: rates are differences between frames.
  let previous = { at: Date.now(), master: 0, workers: new Map<string, number>() };
  const hiddenHandlers = new Set([tap.name, recent.name]);
  const snapshot = (): Snapshot => {
    const now = Date.now();
    const status = master.status();
    const seconds = Math.max(0.001, (now - previous.at) / 1000);
    const rates = new Map<string, number>();
    const received = new Map<string, number>();
    for (const w of status.workers) {
      received.set(w.name, w.recordsReceived);
      rates.set(w.name, (w.recordsReceived - (previous.workers.get(w.name) ?? 0)) / seconds);
    }
    const masterRate = (status.recordsReceived - previous.master) / seconds;
    previous = { at: now, master: status.recordsReceived, workers: received };
    return {
      now,
      elapsedMs: now - started,
      durationMs: durationMs + burstMs,
      title: `logmux demo: ${workerCount} workers, ${shownFile}`,
      phase,
      status,
      workers,
      rates,
      masterRate,
      warnings: tap.warnings,
      hiddenHandlers,
      recent: recent.lines,
      burst: burstFigure(now),
    };
  };
  // The first frame at once (workers still "waiting"), not an interval later.
  view.draw(snapshot());
  const drawTimer = setInterval(() => view.draw(snapshot()), view.intervalMs);

  // Halfway, one worker flushes what it logged and is then killed without a goodbye: the master
  // sees its connection drop and warns that it appears dead.
  let killNote = "";
  const killer = kill
    ? sleep(durationMs / 2, stopSignal.signal).then(async () => {
        if (stopSignal.signal.aborted) return;
        const victim = workers.at(-1)!;
        victim.child.send({ type: "flush" });
        const flushed = await within(message(victim.child, "flushed"), 5000);
        if (flushed !== undefined) victim.sent = flushed.sent;
        victim.demoState = "killed";
        victim.child.kill("SIGKILL");
        killNote = `${victim.name} (pid ${victim.pid}) flushed, then was killed with SIGKILL at ${((Date.now() - started) / 1000).toFixed(1)}s`;
        view.note(`${stamp(Date.now() - started)} demo: SIGKILL ${victim.name} (pid ${victim.pid})`);
      })
    : Promise.resolve();

  await sleep(durationMs, stopSignal.signal);
  await killer;

  const running = (w: DemoWorker): boolean =>
    w.child.exitCode === null && w.child.signalCode === null && w.demoState === "running";
  const bursting = workers.filter(running);
  if (burstMs > 0 && interrupted === undefined && bursting.length > 0) {
    phase = "burst, as fast as they can";
    burst = {
      at: Date.now(),
      writtenBefore: written(),
      figure: {
        state: "running",
        workers: bursting.length,
        burstMs: 0,
        records: 0,
        written: 0,
        elapsedMs: 0,
        pino: pinoRowFor(bursting.length),
      },
    };
    view.note(
      `${stamp(Date.now() - started)} demo: burst: ${bursting.length} worker${bursting.length === 1 ? "" : "s"} log as fast as they can for ${burstMs / 1000}s`,
    );
    for (const w of bursting) w.child.send({ type: "burst" }, () => {});
    await sleep(burstMs, stopSignal.signal);
    burstFigure(Date.now());
    burst.figure.state = "draining";
  }
  phase = "stopping";
  if (interrupted !== undefined)
    view.note(`${stamp(Date.now() - started)} demo: ${interrupted}, stopping cleanly`);

  // Stop: each worker stops logging and shuts its logger down (every record acknowledged), then
  // the master drains and closes the file.
  let burstRecords = 0;
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null || w.demoState === "killed") return;
      w.demoState = "stopping";
      const done = message(w.child, "done");
      w.child.send({ type: "stop" }, () => {});
      const reply = await within(done, 10_000);
      if (reply !== undefined) {
        w.sent = reply.sent;
        burstRecords += reply.burst;
      }
      if ((await within(w.exited, 5000)) === undefined) w.child.kill("SIGKILL");
      else if (w.demoState === "stopping") w.demoState = "done";
    }),
  );
  await Promise.all(workers.map((w) => w.exited));
  if (burst !== undefined) finishBurst(burst, burstRecords, written);
  const endedAt = Date.now();
  if (burst !== undefined) {
    const [first, ...rest] = burstLines(burst.figure);
    view.note(`${stamp(Date.now() - started)} demo: ${first}`);
    for (const line of rest) view.note(`${" ".repeat(stamp(0).length)} ${line}`);
  }
  await master.shutdown();
  phase = "done";
  clearInterval(drawTimer);
  view.draw(snapshot());
  view.close();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);

  const counts = countLines(file);
  const sent = workers.reduce((sum, w) => sum + w.sent, 0);
  const inFile = workers.reduce((sum, w) => sum + (counts.get(w.name) ?? 0), 0);
  const masterLines = counts.get("MASTER") ?? 0;
  const seconds = (endedAt - started) / 1000;
  const ok = sent === inFile;
  const lines = [
    "",
    "Summary",
    `  ran for          ${seconds.toFixed(1)}s with ${workerCount} workers${interrupted ? ` (stopped early by ${interrupted})` : ""}`,
    ...(killNote ? [`  killed           ${killNote}`] : []),
    `  records sent     ${formatCount(sent)}`,
    `  records written  ${formatCount(inFile)} (plus ${formatCount(masterLines)} MASTER lines)`,
    `  result           ${ok ? "every record sent was written" : `MISMATCH: ${formatCount(sent - inFile)} records sent but not written`}`,
    `  throughput       ${formatCount(inFile / seconds)} records/s over the whole run`,
    ...(burst === undefined ? [] : burstLines(burst.figure).map((line) => `  ${line}`)),
    `  log file         ${file}`,
  ];
  for (const w of workers) {
    const ofWorker = counts.get(w.name) ?? 0;
    lines.push(
      `    ${w.name.padEnd(10)} sent ${formatCount(w.sent).padStart(8)}  written ${formatCount(ofWorker).padStart(8)}  ${w.demoState}`,
    );
  }
  if (stderrLines.length > 0)
    lines.push("", "Worker stderr:", ...stderrLines.slice(-10).map((l) => `  ${l}`));
  process.stdout.write(`${lines.join("\n")}\n`);
  cleanup();
  process.off("exit", cleanup);
  if (interrupted !== undefined) return interrupted === "SIGTERM" ? EXIT_TERMINATED : EXIT_INTERRUPTED;
  return ok ? EXIT_OK : EXIT_FAILURE;
}
