// `logmux demo`: a master in this process, N forked workers logging a realistic mix, a live view,
// one worker killed mid-run (SIGKILL) to show the dead-worker warning, and a summary that counts
// the lines actually in the log file.
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LoggerConfig } from "../config.js";
import { BaseLogHandler } from "../handlers/base.js";
import { FileLogHandler } from "../handlers/file.js";
import { LogLevel } from "../levels.js";
import { MasterLogger } from "../master/master.js";
import type { LogRecord } from "../record.js";
import {
  EXIT_FAILURE,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_TERMINATED,
  intFlag,
  numberFlag,
  parseFlags,
} from "./args.js";
import type { DemoWorkerOptions } from "./demo-worker.js";
import { formatCount } from "./format.js";
import { LiveView, type Snapshot, stamp, type ViewWarning, type WorkerRow } from "./view.js";

export const DEMO_USAGE = `Usage: logmux demo [--workers 4] [--duration 10] [--rate 200] [--log-dir logs] [--no-kill]

Starts a master and forked workers that log a realistic mix (mostly INFO, some DEBUG and WARNING,
now and then an ERROR with an attachment), shows them live, kills one worker halfway (SIGKILL) so
the master's dead-worker warning appears, and ends with a summary: records sent vs lines written.

  --workers <n>     worker processes (default 4, at most 64)
  --duration <s>    seconds to run (default 10)
  --rate <n>        records per second per worker (default 200)
  --log-dir <dir>   where demo.log is written, replaced on each run (default ./logs)
  --no-kill         do not kill a worker halfway
  -h, --help        show this help

On a terminal the view is redrawn in place; otherwise it prints one progress line a second.
Ctrl-C stops early and cleanly: workers shut down, the master drains, the summary is printed.
Exit status: 0 finished and every record sent was written, 1 records missing or a failure,
2 bad flags, 130 interrupted by Ctrl-C (after the clean stop and the summary).`;

/** Collects the master's own warnings for the view; the demo's dead-worker warning arrives here. */
class WarningTap extends BaseLogHandler {
  readonly warnings: ViewWarning[] = [];

  constructor() {
    super({ level: LogLevel.WARNING });
  }

  override get name(): string {
    return "demo-view";
  }

  push(records: readonly LogRecord[]): void {
    for (const record of records) {
      if (record.name === "MASTER" && this.warnings.length < 10_000) {
        this.warnings.push({ at: Number(record.timestampNs / 1_000_000n), message: record.message });
      }
    }
  }
}

interface DemoWorker extends WorkerRow {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Resolves with the first IPC message of `type` from `child`, or undefined if it exits first. */
function message(child: ChildProcess, type: string): Promise<{ sent: number } | undefined> {
  return new Promise((done) => {
    const onMessage = (m: { type?: string; sent?: number }): void => {
      if (m?.type !== type) return;
      cleanup();
      done({ sent: m.sent ?? 0 });
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<undefined>((done) => {
      timer = setTimeout(() => done(undefined), ms);
    }),
  ]);
}

/** Counts lines per logger name in a file written with the default format. */
function countLines(file: string): Map<string, number> {
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

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    workers: { type: "string" },
    duration: { type: "string" },
    rate: { type: "string" },
    "log-dir": { type: "string" },
    "no-kill": { type: "boolean" },
  });
  if (values.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return EXIT_OK;
  }
  const workerCount = intFlag("--workers", values.workers, 4, 1, 64);
  const durationMs = Math.round(numberFlag("--duration", values.duration, 10, 86_400) * 1000);
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
  const master = new MasterLogger(config, [fileHandler, tap]);
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
    `logmux demo: ${workerCount} workers x ${formatCount(rate)} records/s for ${durationMs / 1000}s, writing ${shownFile}`,
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

  // The view: rates are differences between frames.
  let previous = { at: Date.now(), master: 0, workers: new Map<string, number>() };
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
      durationMs,
      title: `logmux demo: ${workerCount} workers, ${shownFile}`,
      status,
      workers,
      rates,
      masterRate,
      warnings: tap.warnings,
      hiddenHandlers: new Set([tap.name]),
    };
  };
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
  if (interrupted !== undefined)
    view.note(`${stamp(Date.now() - started)} demo: ${interrupted}, stopping cleanly`);

  // Stop: each worker stops logging and shuts its logger down (every record acknowledged), then
  // the master drains and closes the file.
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null || w.demoState === "killed") return;
      w.demoState = "stopping";
      const done = message(w.child, "done");
      w.child.send({ type: "stop" }, () => {});
      const reply = await within(done, 10_000);
      if (reply !== undefined) w.sent = reply.sent;
      if ((await within(w.exited, 5000)) === undefined) w.child.kill("SIGKILL");
      else if (w.demoState === "stopping") w.demoState = "done";
    }),
  );
  await Promise.all(workers.map((w) => w.exited));
  const endedAt = Date.now();
  await master.shutdown();
  clearInterval(drawTimer);
  view.draw(snapshot());
  view.close();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);

  const counts = countLines(file);
  const sent = workers.reduce((sum, w) => sum + w.sent, 0);
  const written = workers.reduce((sum, w) => sum + (counts.get(w.name) ?? 0), 0);
  const masterLines = counts.get("MASTER") ?? 0;
  const seconds = (endedAt - started) / 1000;
  const ok = sent === written;
  const lines = [
    "",
    "Summary",
    `  ran for          ${seconds.toFixed(1)}s with ${workerCount} workers${interrupted ? ` (stopped early by ${interrupted})` : ""}`,
    ...(killNote ? [`  killed           ${killNote}`] : []),
    `  records sent     ${formatCount(sent)}`,
    `  records written  ${formatCount(written)} (plus ${formatCount(masterLines)} MASTER lines)`,
    `  result           ${ok ? "every record sent was written" : `MISMATCH: ${formatCount(sent - written)} records sent but not written`}`,
    `  throughput       ${formatCount(written / seconds)} records/s`,
    `  log file         ${file}`,
  ];
  for (const w of workers) {
    const inFile = counts.get(w.name) ?? 0;
    lines.push(
      `    ${w.name.padEnd(10)} sent ${formatCount(w.sent).padStart(8)}  written ${formatCount(inFile).padStart(8)}  ${w.demoState}`,
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
