// The worker's way out: a process that ends without shutdown() while the master is slow, stopped,
// or dies at the same moment; flush() in a process with nothing else alive; and what the master
// says about how each worker ended. Real processes, a real socket, a real file.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { LoggerConfig, type LoggerConfigOptions, type LogRecord, MasterLogger } from "../../src/index.js";
import { LEVEL_NAMES, LogLevel } from "../../src/levels.js";
import { journalPath } from "../../src/state/dirs.js";
import { CollectHandler } from "../helpers/collect.js";
import { assertDeliveredAcrossCrashes, assertExactlyOnceInOrder } from "../helpers/delivery.js";
import {
  exited,
  fixturesDir,
  forkFixture,
  nextMessage,
  readLines,
  stderrOf,
  stopProcess,
  tempDir,
  waitFor,
} from "../helpers/processes.js";

function rig(t: TestContext, extra: LoggerConfigOptions = {}): { options: LoggerConfigOptions; dir: string } {
  const dir = tempDir(t);
  // A one-minute flush interval: nothing leaves the worker but full batches and the exit path.
  return { dir, options: { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 60_000, ...extra } };
}

async function startMasterProcess(t: TestContext, options: LoggerConfigOptions, file: string) {
  const child = forkFixture(t, "master.js", { config: options, file });
  await nextMessage(child, "ready");
  return child;
}

/**
 * Starts the exit fixture and resolves once it is connected, welcomed and waiting for "go", and,
 * with a master of `options` up, once that master has committed its "record 0" (journal on disk).
 * A test that then stops or kills the master must not do so between that record's write and its
 * journal entry: that is the documented duplicate window, not what these tests are about.
 */
async function startExitWorker(
  t: TestContext,
  args: { config: LoggerConfigOptions } & Record<string, unknown>,
  masterUp = true,
): Promise<ChildProcess> {
  const child = forkFixture(t, "exit-worker.js", args);
  await nextMessage(child, "ready");
  if (masterUp) {
    const journal = journalPath(new LoggerConfig(args.config).socketPath);
    // One 16-byte entry per commit; no event announces it to another process.
    await waitFor(() => existsSync(journal) && statSync(journal).size >= 16, 5000, "record 0 committed");
  }
  return child;
}

/** Worker records in the file, as per-worker indexes in file order. */
function fileIndexes(file: string, name: string): number[] {
  const out: number[] = [];
  for (const line of readLines(file)) {
    const match = new RegExp(` ${name} - ${name} record (\\d+)(?: x+)?$`).exec(line);
    if (match) out.push(Number(match[1]));
  }
  return out;
}

const lineCount = (file: string, name: string) => fileIndexes(file, name).length;

describe("a worker that exits while its master fails", () => {
  it("master SIGKILLed while the worker computes, then process.exit(0): the next master delivers all 5,001 records once", async (t) => {
    const { dir, options } = rig(t);
    const file = join(dir, "out.log");
    const flag = join(dir, "master-is-dead");
    const first = await startMasterProcess(t, options, file);
    const worker = await startExitWorker(t, {
      config: options,
      name: "busy",
      count: 5000,
      end: "busy-exit",
      flag,
    });
    const spinning = nextMessage(worker, "spinning");
    worker.send({ type: "go" });
    await spinning;
    // The worker is spinning with 5,000 records in memory: its master dies under it.
    first.kill("SIGKILL");
    await exited(first);
    writeFileSync(flag, "");
    assert.deepEqual(await exited(worker), { code: 0, signal: null });
    await startMasterProcess(t, options, file);
    await waitFor(() => lineCount(file, "busy") >= 5001, 10_000, "5,001 records in the file");
    await waitFor(() => readFileSync(file, "utf8").includes("Delivered"), 5000, "the replay report");
    assertExactlyOnceInOrder(fileIndexes(file, "busy"), 5001, "busy");
  });

  it("master stopped (reads nothing) when the worker exits, then SIGKILLed: what was written to the socket is not lost", async (t) => {
    const { dir, options } = rig(t);
    const file = join(dir, "out.log");
    const first = await startMasterProcess(t, options, file);
    const worker = await startExitWorker(t, { config: options, name: "quick", count: 2000, end: "exit" });
    await stopProcess(first.pid!);
    worker.send({ type: "go" });
    // 2,000 small records fit in the socket's buffer: every byte is written, none is read.
    assert.deepEqual(await exited(worker), { code: 0, signal: null });
    first.kill("SIGKILL");
    await exited(first);
    await startMasterProcess(t, options, file);
    await waitFor(() => lineCount(file, "quick") >= 2001, 10_000, "2,001 records in the file");
    assertExactlyOnceInOrder(fileIndexes(file, "quick"), 2001, "quick");
  });

  it("worker exits and its master is SIGKILLed at once, 6 times over: nothing lost, nothing twice but the journal window", async (t) => {
    const count = 20_000;
    const repeated: number[] = [];
    t.after(() => console.log(`# exit then master SIGKILL: records repeated per run ${repeated.join(", ")}`));
    for (let run = 0; run < 6; run++) {
      await t.test(`run ${run + 1}`, async (t) => {
        const { dir, options } = rig(t, { maxBatchBytes: 16 * 1024 });
        const file = join(dir, "out.log");
        const first = await startMasterProcess(t, options, file);
        const worker = await startExitWorker(t, {
          config: options,
          name: "w",
          count,
          end: "exit",
          chunk: 2000,
        });
        const workerExit = exited(worker);
        worker.send({ type: "go" });
        await workerExit;
        // No waiting: the master dies while it is still reading and committing.
        first.kill("SIGKILL");
        await exited(first);
        await startMasterProcess(t, options, file);
        const distinct = () => new Set(fileIndexes(file, "w")).size;
        await waitFor(() => distinct() >= count + 1, 15_000, `${count + 1} distinct records in the file`);
        // The spool and the journal repeat nothing; a kill between a slice reaching the file and
        // its journal entry (docs/reliability.md, the remaining duplicate window) repeats that slice.
        const { duplicated } = assertDeliveredAcrossCrashes(
          fileIndexes(file, "w"),
          count + 1,
          `run ${run + 1}`,
          {
            crashes: 1,
            maxBatchBytes: 16 * 1024,
            messageBytes: (i) => Buffer.byteLength(`w record ${i}`),
          },
        );
        repeated.push(duplicated);
      });
    }
  });

  it("a master that stops reading: the worker's exit gives up within its 2 s deadline and the spool keeps everything", async (t) => {
    const { dir, options } = rig(t);
    const file = join(dir, "out.log");
    const master = await startMasterProcess(t, options, file);
    // 20,000 records of 100 bytes, about 2.3 MB on the wire: far more than the socket buffers.
    const worker = await startExitWorker(t, {
      config: options,
      name: "stuck",
      count: 20_000,
      end: "exit",
      messageBytes: 100,
    });
    await stopProcess(master.pid!);
    const started = Date.now();
    worker.send({ type: "go" });
    assert.deepEqual(await exited(worker), { code: 0, signal: null });
    const exitMs = Date.now() - started;
    // A bound on the deadline's purpose (the exit must not hang on a stopped master), not a timing.
    assert.ok(exitMs < 10_000, `the worker took ${exitMs} ms to exit`);
    master.kill("SIGCONT");
    await waitFor(() => lineCount(file, "stuck") >= 20_001, 15_000, "20,001 records in the file");
    assertExactlyOnceInOrder(fileIndexes(file, "stuck"), 20_001, "stuck");
  });
});

describe("process.exit(0) in the same turn as the last log call, under CPU load", () => {
  it("every record arrives, in every one of 12 runs (16 KiB batches streaming, 20,000 records)", async (t) => {
    // Two busy processes compete with the master and the worker for the machine's cores.
    const hogs = [0, 1].map(() => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
    t.after(() => {
      for (const hog of hogs) hog.kill("SIGKILL");
    });
    const count = 20_000;
    for (let run = 0; run < 12; run++) {
      await t.test(`run ${run + 1}`, async (t) => {
        const { options } = rig(t, { maxBatchBytes: 16 * 1024, flushIntervalMs: 50 });
        const collect = new CollectHandler();
        const master = new MasterLogger(new LoggerConfig(options), [collect]);
        t.after(() => master.shutdown());
        await master.ready();
        const worker = await startExitWorker(t, {
          config: options,
          name: "load",
          count,
          end: "exit",
          chunk: 500,
        });
        worker.send({ type: "go" });
        assert.deepEqual(await exited(worker), { code: 0, signal: null });
        const mine = (records: LogRecord[]) => records.filter((r) => r.name === "load");
        await collect.until((r) => mine(r).length >= count + 1, 12_000, `${count + 1} records`);
        assertExactlyOnceInOrder(
          mine(collect.records).map((r) => Number(/record (\d+)$/.exec(r.message)![1])),
          count + 1,
          `run ${run + 1}`,
        );
      });
    }
  });
});

describe("flush() in a process with nothing else to keep it alive", () => {
  /** Runs the Quick Start fixture without an IPC channel, as a plain script would run. */
  function quickStart(options: LoggerConfigOptions, mode?: string) {
    const args = [join(fixturesDir, "flush-exit.js"), JSON.stringify(options)];
    if (mode !== undefined) args.push(mode);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once("close", (code) => resolve({ code, stdout, stderr })),
    );
    return { child, done };
  }

  it("log.info(); await log.flush(); await log.shutdown(): the code after flush runs, exit 0, no false alarm", async (t) => {
    const { options } = rig(t);
    const collect = new CollectHandler();
    const master = new MasterLogger(new LoggerConfig(options), [collect]);
    t.after(() => master.shutdown());
    await master.ready();
    const { child, done } = quickStart(options);
    t.after(() => child.kill("SIGKILL"));
    const result = await done;
    assert.equal(result.code, 0, `exit code ${result.code}; stderr: ${result.stderr}`);
    assert.equal(result.stdout, "after flush\nafter shutdown\n");
    await collect.until((r) => r.some((x) => x.message === "Processing batch 123"), 5000, "the record");
    await waitFor(
      () => master.workers().some((w) => w.name === "quick-start" && w.state === "shutdown" && !w.connected),
      5000,
      "the worker's orderly shutdown",
    );
    assert.deepEqual(
      collect.masterMessages().filter((m) => m.includes("appears dead")),
      [],
    );
  });

  it("after flush() settles the logger holds nothing open: the script ends by itself", async (t) => {
    const { options } = rig(t);
    const collect = new CollectHandler();
    const master = new MasterLogger(new LoggerConfig(options), [collect]);
    t.after(() => master.shutdown());
    await master.ready();
    const { child, done } = quickStart(options, "no-shutdown");
    t.after(() => child.kill("SIGKILL"));
    const result = await done;
    assert.equal(result.code, 0, `exit code ${result.code}; stderr: ${result.stderr}`);
    assert.equal(result.stdout, "after flush\n");
    await collect.until(
      () => collect.masterMessages().some((m) => /quick-start .* exited \(code 0\)$/.test(m)),
      5000,
      "the orderly exit report",
    );
  });

  it("with no master, flush() waits shutdownTimeoutMs, then the script goes on and spools", async (t) => {
    const { options } = rig(t, { shutdownTimeoutMs: 300 });
    const { child, done } = quickStart(options);
    t.after(() => child.kill("SIGKILL"));
    const result = await done;
    assert.equal(result.code, 0, `exit code ${result.code}; stderr: ${result.stderr}`);
    assert.equal(result.stdout, "after flush\nafter shutdown\n");
    assert.match(result.stderr, /spooled to .*\.closed\.spool for the next master/);
  });
});

describe("the master says how each worker ended", () => {
  const cases = [
    { end: "exit", code: 0, level: LogLevel.INFO, report: /^Worker e-exit0 \(pid \d+\) exited \(code 0\)$/ },
    {
      end: "exit",
      code: 3,
      level: LogLevel.WARNING,
      report: /^Worker e-exit3 \(pid \d+\) exited with code 3$/,
    },
    {
      end: "SIGTERM",
      level: LogLevel.INFO,
      report: /^Worker e-SIGTERM \(pid \d+\) was stopped by SIGTERM$/,
    },
    {
      end: "throw",
      level: LogLevel.ERROR,
      report:
        /^Worker e-throw \(pid \d+\) crashed \(exit code 1\): uncaught TypeError: fixture crashed on purpose$/,
    },
  ] as const;
  for (const { end, level, report, ...rest } of cases) {
    const code = "code" in rest ? rest.code : undefined;
    const name = `e-${end}${code ?? ""}`;
    it(`${name}: reported at ${LEVEL_NAMES[level]}, never as "appears dead", and every record delivered`, async (t) => {
      const { options } = rig(t);
      const collect = new CollectHandler();
      const master = new MasterLogger(new LoggerConfig(options), [collect]);
      t.after(() => master.shutdown());
      await master.ready();
      const worker = await startExitWorker(t, { config: options, name, count: 3000, end, code });
      worker.send({ type: "go" });
      await exited(worker);
      await collect
        .until(
          (r) => r.some((x) => x.name === "MASTER" && report.test(x.message)),
          5000,
          `the report for ${name}`,
        )
        .catch((error: Error) => {
          throw new Error(
            `${error.message}; master said ${JSON.stringify(collect.masterMessages())}; worker stderr: ${stderrOf(worker)}`,
          );
        });
      const reports = collect.records.filter((x) => x.name === "MASTER" && report.test(x.message));
      assert.equal(reports.length, 1);
      assert.equal(reports[0]!.level, level);
      assert.deepEqual(
        collect.masterMessages().filter((m) => m.includes("appears dead")),
        [],
      );
      await collect.until((r) => r.filter((x) => x.name === name).length >= 3001, 5000, "every record");
    });
  }

  it('a worker SIGKILLed is still reported "appears dead" at WARNING', async (t) => {
    const { options } = rig(t);
    const collect = new CollectHandler();
    const master = new MasterLogger(new LoggerConfig(options), [collect]);
    t.after(() => master.shutdown());
    await master.ready();
    const worker = await startExitWorker(t, { config: options, name: "killed", count: 1, end: "exit" });
    worker.kill("SIGKILL");
    await exited(worker);
    const dead = /^Worker killed \(pid \d+\) appears dead: connection closed without shutdown$/;
    await collect.until(
      (r) => r.some((x) => x.name === "MASTER" && dead.test(x.message)),
      5000,
      "the report",
    );
    assert.equal(
      collect.records.find((x) => x.name === "MASTER" && dead.test(x.message))!.level,
      LogLevel.WARNING,
    );
  });
});
