import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatRate, pinoRowFor } from "../../src/cli/bench-figures.js";
import { tempDir } from "../helpers/processes.js";
import { MAIN, requireBuiltCli, spawnCli, until } from "./cli-helpers.js";

/** pino's figure the demo prints for `processes` (src/cli/bench-figures.ts, from docs/benchmarks.md). */
const pinoFigure = (processes: number) =>
  formatRate(pinoRowFor(processes).linesPerSecond).replace(".", "\\.");

/**
 * Lines of `file` matching an extended regular expression, counted by grep: the burst's file can
 * be larger than the longest string V8 holds, so it is never read into one.
 */
function grepCount(file: string, pattern: string): number {
  const result = spawnSync("grep", ["-c", "-E", pattern, file], { encoding: "utf8" });
  // grep exits 1 when nothing matches (and prints 0), 2 on an error.
  assert.ok(result.status === 0 || result.status === 1, result.stderr);
  return Number(result.stdout.trim());
}

/** The summary's numbers, and the demo's log file counted independently. */
function checkSummary(stdout: string, file: string, workers: number): { sent: number; written: number } {
  const number = (label: string): number => {
    const match = new RegExp(`^  ${label}\\s+([\\d,]+)`, "m").exec(stdout);
    assert.ok(match, `summary line "${label}" in ${stdout}`);
    return Number(match[1]!.replaceAll(",", ""));
  };
  const sent = number("records sent");
  const written = number("records written");
  assert.ok(sent > 0);
  assert.equal(written, sent, "every record sent was written");
  assert.match(stdout, /^ {2}result\s+every record sent was written$/m);
  assert.match(stdout, new RegExp(`^ {2}log file\\s+${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  assert.equal(grepCount(file, " worker-[0-9]+ - "), sent, "lines in the file");
  for (let i = 1; i <= workers; i++)
    assert.ok(grepCount(file, ` worker-${i} - `) > 0, `worker-${i} has lines`);
  return { sent, written };
}

/** The burst's figure: the rate it sustained, and pino's measured figure cited for scale. */
const BURST_FIGURE =
  /burst: [\d.]+(?: [kM])? records\/s sustained: [\d,]+ records logged in [\d.]+s by \d+ workers?, all in the file after [\d.]+s\n.* {2}for scale, pino \(measured, docs\/benchmarks\.md: npm run bench, 2-core Intel Xeon\), \d+ process(?:es)? appending to one file: [\d.]+ [kM] lines\/s$/m;

const num = (text: string): number => Number(text.replaceAll(",", ""));

/**
 * Every progress line of the non-terminal output, as sent and received per worker and in all:
 * the counts a reader compares.
 */
function progressCounts(out: string): { line: string; name: string; sent: number; received: number }[] {
  const counts = [];
  for (const line of out.split("\n")) {
    const master = /^\[\s*[\d.]+s\] master [\d,]+ rec\/s, ([\d,]+) sent, ([\d,]+) received, /.exec(line);
    if (master === null) continue;
    counts.push({ line, name: "all", sent: num(master[1]!), received: num(master[2]!) });
    for (const w of line.matchAll(/ \| (worker-\d+) [\d,]+\/s sent ([\d,]+) received ([\d,]+) /g)) {
      counts.push({ line, name: w[1]!, sent: num(w[2]!), received: num(w[3]!) });
    }
  }
  return counts;
}

describe("logmux demo", () => {
  it("runs without a terminal: progress lines, a killed worker's warning, and an exact summary", async (t) => {
    const dir = tempDir(t);
    const demo = spawnCli(t, ["demo", "--duration", "3", "--workers", "2", "--burst", "1"], { cwd: dir });
    const { code } = await demo.exited();
    const out = demo.stdout();
    assert.equal(code, 0, `${out}\n${demo.stderr()}`);
    // The default --log-dir is ./logs, relative to the working directory.
    const file = join(dir, "logs", "demo.log");
    checkSummary(out, file, 2);
    assert.match(
      out,
      /^\[\s*\d+\.\ds\] master [\d,]+ rec\/s, [\d,]+ sent, [\d,]+ received, queue \d+, drops 0 \| worker-1 [\d,]+\/s sent [\d,]+ received [\d,]+ hb /m,
    );
    // No line shows a worker (or all of them) with more records received than sent.
    const counts = progressCounts(out);
    assert.ok(counts.filter((c) => c.name === "all" && c.received > 0).length >= 2, out);
    for (const c of counts) {
      assert.ok(c.received <= c.sent, `${c.name}: ${c.received} received > ${c.sent} sent in ${c.line}`);
    }
    // The burst: the surviving worker alone, then the figure, with pino's for scale (1 process).
    assert.match(out, /demo: burst: 1 worker log as fast as they can for 1s/);
    assert.match(out, BURST_FIGURE);
    assert.match(out, new RegExp(`1 process appending to one file: ${pinoFigure(1)} lines/s$`, "m"));
    assert.match(out, /^ {2}burst: .* sustained: /m);
    assert.match(out, /demo: SIGKILL worker-2 \(pid \d+\)/);
    assert.match(
      out,
      /MASTER WARNING: Worker worker-2 \(pid \d+\) appears dead: connection closed without shutdown/,
    );
    assert.match(out, /^ {2}killed\s+worker-2 \(pid \d+\) flushed, then was killed with SIGKILL/m);
    assert.equal(grepCount(file, "\\[WARNING\\] MASTER - Worker worker-2 .* appears dead"), 1);
    // A realistic mix: every level the demo uses, and errors carry an attachment.
    for (const level of ["DEBUG", "INFO", "WARNING", "ERROR"]) {
      assert.ok(grepCount(file, `\\[${level}\\] worker-`) > 0, `a ${level} line`);
    }
    assert.ok(grepCount(file, "\\[ERROR\\] worker-[0-9]+ - payment .* \\[data [0-9]+B utf8: ") > 0);
  });

  it("Ctrl-C stops it cleanly: workers shut down, the master drains, summary printed, exit 130", async (t) => {
    const dir = tempDir(t);
    const demo = spawnCli(t, ["demo", "--duration", "60", "--workers", "2", "--log-dir", join(dir, "out")]);
    await demo.waitFor("stdout", /^\[\s*\d+\.\ds\] master [\d,]+ rec\/s, [\d,]+ sent, [1-9][\d,]* received/m);
    demo.child.kill("SIGINT");
    const { code } = await demo.exited();
    assert.equal(code, 130, demo.stderr());
    const out = demo.stdout();
    assert.match(out, /demo: SIGINT, stopping cleanly/);
    assert.match(out, /stopped early by SIGINT/);
    checkSummary(out, join(dir, "out", "demo.log"), 2);
  });

  it("redraws a live view in place on a terminal (tmux)", async (t) => {
    requireBuiltCli();
    if (spawnSync("tmux", ["-V"]).status !== 0) {
      if (process.env.CI)
        assert.fail("tmux is required for this test in CI: install it (apt-get install tmux)");
      t.skip("tmux is not installed");
      return;
    }
    // Not tempDir(): the tmux server must be gone before its socket's directory is removed.
    const dir = mkdtempSync(join(tmpdir(), "lmx-"));
    // A private tmux server on a socket in the temp dir: the user's own tmux is never touched.
    const server = join(dir, "tmux.sock");
    const tmux = (...args: string[]): string => {
      const result = spawnSync("tmux", ["-S", server, ...args], { encoding: "utf8" });
      if (result.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };
    // The pane stays after the demo exits, so the final screen can be read. The shell records the
    // exit status in a file: under load tmux 3.3 was seen to mark the pane dead and never record a
    // status for it.
    const conf = join(dir, "tmux.conf");
    writeFileSync(conf, "set -g remain-on-exit on\n");
    t.after(() => {
      spawnSync("tmux", ["-S", server, "kill-server"]);
      rmSync(dir, { recursive: true, force: true });
    });
    const statusFile = join(dir, "exit-status");
    const command = `cd ${quote(dir)} && ${quote(process.execPath)} ${quote(MAIN)} demo --duration 4 --workers 3 --burst 1.5; echo $? > ${quote(statusFile)}`;
    spawnSync("tmux", [
      "-S",
      server,
      "-f",
      conf,
      "new-session",
      "-d",
      "-s",
      "demo",
      "-x",
      "160",
      "-y",
      "50",
      command,
    ]);
    // Every capture is kept, to check the counts of every frame seen.
    const captures: string[] = [];
    const screen = (): string => {
      const text = tmux("capture-pane", "-p", "-t", "demo");
      captures.push(text);
      return text;
    };

    // Mid-run: the worker table, with heartbeats, once on screen (redrawn, not scrolled).
    await until(
      () => /^worker-3\s+\d+\s+connected\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+\d+\.\ds ago$/m.test(screen()),
      10_000,
      "the live worker table",
    );
    const live = screen();
    assert.match(live, /^WORKER\s+PID\s+STATE\s+REC\/S\s+SENT\s+RECEIVED\s+LAST HEARTBEAT$/m);
    assert.match(live, /^MASTER\s+\d+\s+up \S+\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+drops 0$/m);
    assert.match(live, /^HANDLER\s+QUEUE\s+DELIVERED\s+DROPPED\s+FAILURES\s+STALLED$/m);
    assert.match(live, /^FileLogHandler\s+\d+ \(/m);
    assert.equal(count(live, /^WORKER\s+PID/gm), 1, live);
    // Under the counters, the latest records as the file has them: fields in logfmt after the message.
    await until(
      () =>
        /^Latest records:\n(?: {2}.*\n)* {2}\d{4}-\d\d-\d\d [\d:,]+ \[INFO\] worker-\d - .* (?:reqId=r-|userId=|jobId=)\d+/m.test(
          screen(),
        ),
      10_000,
      "a latest record with fields",
    );

    // The end: still one table (the last frame), the dead-worker warning in it, then the summary.
    // The status file is written once the demo has exited; pane_dead once the shell has too and
    // tmux has read everything the pane printed.
    const paneDead = (): boolean => tmux("display", "-p", "-t", "demo", "#{pane_dead}").trim() === "1";
    await until(() => existsSync(statusFile) && paneDead(), 15_000, "the demo to exit").catch(
      (error: Error) => {
        throw new Error(`${error.message}; screen:\n${screen()}`);
      },
    );
    const final = screen();
    assert.equal(readFileSync(statusFile, "utf8").trim(), "0", final);
    assert.equal(count(final, /^WORKER\s+PID/gm), 1, final);
    assert.match(final, /^worker-3\s+\d+\s+disconnected \(killed\)/m);
    assert.match(
      final,
      /^Latest MASTER warnings:\n {2}\d\d:\d\d:\d\d {2}Worker worker-3 \(pid \d+\) appears dead/m,
    );
    assert.match(final, /^ {2}result\s+every record sent was written$/m);
    // The burst's figure stays in the last frame (and in the summary), with pino's for scale.
    assert.match(final, BURST_FIGURE);
    assert.match(
      final,
      new RegExp(
        `^ {2}for scale, pino .*, 2 processes appending to one file: ${pinoFigure(2)} lines/s$`,
        "m",
      ),
    );

    // No frame showed a worker, or the master's total, with more records received than sent. A
    // capture can catch tmux mid-redraw; only frames seen twice in a row are read.
    let frames = 0;
    for (let i = 1; i < captures.length; i++) {
      if (captures[i] !== captures[i - 1]) continue;
      for (const row of captures[i]!.matchAll(FRAME_ROW)) {
        frames++;
        assert.ok(
          num(row[3]!) <= num(row[2]!),
          `${row[1]}: received ${row[3]} > sent ${row[2]}:\n${captures[i]}`,
        );
      }
    }
    assert.ok(frames > 0, "frames were read");
  });
});

/** A row of the worker table: name, then SENT and RECEIVED (between REC/S and LAST HEARTBEAT). */
const FRAME_ROW =
  /^(worker-\d+|MASTER)\s+\d+\s+.+?\s+[\d,]+\s+([\d,]+)\s+([\d,]+)\s+(?:.+ ago|-|never|drops [\d,]+)$/gm;

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}
