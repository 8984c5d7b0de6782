import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import type { LoggerConfigOptions } from "../../src/index.js";
import type { FileMasterSample } from "../fixtures/file-master.js";
import { exited, forkFixture, nextMessage, stderrOf, tempDir, waitFor } from "../helpers/processes.js";
import { fillDisk, mountTmpfs } from "../helpers/tmpfs.js";

const MiB = 1024 * 1024;
const WORKERS = 4;
const PER_WORKER = 50_000;
const TOTAL = WORKERS * PER_WORKER;
/** Each message is padded to this, so a torn or merged line cannot pass for a whole one. */
const MESSAGE_BYTES = 300;
/** A line: the message plus "YYYY-MM-DD HH:MM:SS,mmm [INFO] w0 - " and the newline. */
const LINE_BYTES = MESSAGE_BYTES + 37;
/** Small against the ~63 MB of wire bytes the workers send, so the queue fills during the outage. */
const MAX_QUEUE_BYTES = 8 * MiB;
/** Wire bytes of one record: the message and the 13-byte record header. */
const RECORD_WIRE_BYTES = MESSAGE_BYTES + 13;
/** Room for every line (~67 MB) with the filler gone, so only the filler can fill the disk. */
const TMPFS_BYTES = 128 * MiB;
/** The disk fills once the file holds about this share of the stream: mid-stream, well before the end. */
const FILL_AT_FRACTION = 0.2;
/**
 * What the master's RSS may grow by, from its start to its peak: the queue's bound twice over (it
 * counts frames, and a frame that arrived inside one socket read is a view that keeps the whole
 * read alive), 32 MiB of dropped batches not yet collected (V8 collects once external memory has
 * grown about that much; measured: arrayBuffers peaked at 32.4 MiB with 8 MiB queued), and 16 MiB
 * for a working master's own growth (measured 10 MiB with no outage). On the development VM the
 * fixed master peaked at +19-24 MiB (short outage) and +38-40 MiB (stalled); before the fix the
 * stalled case reached +93 MiB, its whole backlog held in one doubling buffer.
 */
const RSS_GROWTH_BOUND = 2 * MAX_QUEUE_BYTES + 48 * MiB;

/** Resolves with the first message of `type` that satisfies `check`; rejects on a timeout or exit. */
function untilMessage<T>(
  child: ChildProcess,
  type: string,
  check: (message: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
    const onMessage = (message: { type?: string }): void => {
      if (message?.type === type && check(message as T)) finish(undefined, message as T);
    };
    const onClose = (): void => finish(new Error(`master ended before ${what}: ${stderrOf(child)}`));
    const finish = (error: Error | undefined, message?: T): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("close", onClose);
      if (error) reject(error);
      else resolve(message!);
    };
    child.on("message", onMessage);
    child.on("close", onClose);
  });
}

/** Resolves once the child's stderr matches `pattern`, an event rather than a poll. */
function untilStderr(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  if (pattern.test(stderrOf(child))) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.stderr?.off("data", onData);
      reject(
        new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} on stderr: ${stderrOf(child)}`),
      );
    }, timeoutMs);
    const onData = (): void => {
      // The fixture helper appends each chunk before this listener runs: it was added first.
      if (!pattern.test(stderrOf(child))) return;
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      resolve();
    };
    child.stderr?.on("data", onData);
  });
}

interface FileCheck {
  workerLines: number;
  masterLines: number;
  duplicated: number;
  missing: number;
  outOfOrder: number;
  torn: string[];
}

/** Reads the log file back: every line must be one whole record, each worker's in order. */
function checkFile(path: string): FileCheck {
  const text = readFileSync(path, "utf8");
  const torn: string[] = [];
  if (text !== "" && !text.endsWith("\n")) torn.push(`(no newline at the end) ${text.slice(-80)}`);
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const seen = Array.from({ length: WORKERS }, () => new Set<number>());
  const last = Array.from({ length: WORKERS }, () => -1);
  const check: FileCheck = { workerLines: 0, masterLines: 0, duplicated: 0, missing: 0, outOfOrder: 0, torn };
  for (const line of lines) {
    const match = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[(\w+)\] (\S+) - (.*)$/.exec(line);
    if (match?.[2] === "MASTER" && match[1] === "WARNING") {
      check.masterLines++;
      continue;
    }
    const worker = /^w(\d)$/.exec(match?.[2] ?? "");
    const index = /^w\d record (\d+) /.exec(match?.[3] ?? "");
    const w = Number(worker?.[1]);
    const i = Number(index?.[1]);
    // The whole message is known from its index: anything else is a torn or merged line.
    const base = `w${w} record ${i}`;
    if (
      !worker ||
      !index ||
      match?.[1] !== "INFO" ||
      match[3] !== `${base} ${"x".repeat(MESSAGE_BYTES - base.length - 1)}`
    ) {
      torn.push(line.length > 160 ? `${line.slice(0, 160)}...` : line);
      continue;
    }
    check.workerLines++;
    if (seen[w]!.has(i)) check.duplicated++;
    else if (i < last[w]!) check.outOfOrder++;
    seen[w]!.add(i);
    last[w] = Math.max(last[w]!, i);
  }
  for (const s of seen) check.missing += PER_WORKER - s.size;
  return check;
}

interface Run {
  file: string;
  check: FileCheck;
  final: FileMasterSample;
  peakGrowth: number;
  stderr: string;
  masterWarnings: string[];
}

/**
 * A master (own process, FileLogHandler on a small tmpfs) and 4 workers logging 50k numbered
 * records each. Once the file holds a fifth of them, a filler takes the rest of the disk;
 * `whileFull` decides how long it stays, then the filler goes and the stream finishes.
 */
async function runWithFullDisk(
  t: TestContext,
  mount: string,
  handlerStallMs: number,
  whileFull: (master: ChildProcess, receivedAtFull: number) => Promise<void>,
): Promise<Run> {
  const socketDir = tempDir(t);
  const file = join(mount, "app.log");
  const config: LoggerConfigOptions = {
    path: `ipc://${join(socketDir, "log.sock")}`,
    flushIntervalMs: 20,
    // The workers wait out the outage for their acknowledgements instead of giving up at 5 s.
    shutdownTimeoutMs: 60_000,
  };
  const master = forkFixture(t, "file-master.js", {
    config,
    file,
    maxQueueBytes: MAX_QUEUE_BYTES,
    handlerStallMs,
  });
  const masterWarnings: string[] = [];
  master.on("message", (m: { type?: string; message?: string }) => {
    if (m?.type === "master-record") masterWarnings.push(m.message!);
  });
  let peakRss = 0;
  let baselineRss = 0;
  let received = 0;
  master.on("message", (m: FileMasterSample) => {
    if (m?.type !== "sample" && m?.type !== "final") return;
    peakRss = Math.max(peakRss, m.peakRss);
    baselineRss = m.baselineRss;
    received = m.recordsReceived;
  });
  await nextMessage(master, "ready");
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    forkFixture(t, "worker.js", {
      config,
      name: `w${i}`,
      count: PER_WORKER,
      messageBytes: MESSAGE_BYTES,
      // Paced (about 5 s per worker) so the stream is still running while the disk is full.
      chunk: 100,
      intervalMs: 10,
    }),
  );
  const done = workers.map((w) => nextMessage<{ dropped: number }>(w, "done"));
  await waitFor(
    () => (statSync(file, { throwIfNoEntry: false })?.size ?? 0) >= TOTAL * LINE_BYTES * FILL_AT_FRACTION,
    60_000,
    "the first fifth of the stream in the file",
  );
  const filler = fillDisk(mount);
  await untilStderr(master, /ENOSPC/, 30_000);
  await whileFull(master, received);
  rmSync(filler);
  for (const result of await Promise.all(done)) assert.equal(result.dropped, 0, "a worker dropped records");
  master.kill("SIGTERM");
  const final = await nextMessage<FileMasterSample>(master, "final");
  await exited(master);
  const run = {
    file,
    check: checkFile(file),
    final,
    peakGrowth: Math.max(peakRss, final.peakRss) - baselineRss,
    stderr: stderrOf(master),
    masterWarnings,
  };
  console.log(
    `# sent ${TOTAL}, worker lines ${run.check.workerLines}, duplicated ${run.check.duplicated}, missing ${run.check.missing}, ` +
      `torn ${run.check.torn.length}, dropped ${final.dropped}; master RSS peak growth ${(run.peakGrowth / MiB).toFixed(1)} MiB ` +
      `(maxQueueBytes ${MAX_QUEUE_BYTES / MiB} MiB, bound ${RSS_GROWTH_BOUND / MiB} MiB)`,
  );
  return run;
}

/**
 * The figures every run must get right, side by side with the case's own (`extra`: name ->
 * [actual, expected]), so a failure shows everything that broke at once.
 */
function assertRun(run: Run, extra: Record<string, [unknown, unknown]>): void {
  const growth = (run.peakGrowth / MiB).toFixed(1);
  const actual: Record<string, unknown> = {
    torn: run.check.torn,
    duplicated: run.check.duplicated,
    outOfOrder: run.check.outOfOrder,
    reportNamesThePath: run.stderr.includes(`handler FileLogHandler(${run.file}) failed`),
    reportSaysENOSPC: /ENOSPC/.test(run.stderr),
    masterRssGrowth: run.peakGrowth < RSS_GROWTH_BOUND ? "within bound" : `${growth} MiB`,
  };
  const expected: Record<string, unknown> = {
    torn: [],
    duplicated: 0,
    outOfOrder: 0,
    reportNamesThePath: true,
    reportSaysENOSPC: true,
    masterRssGrowth: "within bound",
  };
  for (const [name, [is, shouldBe]] of Object.entries(extra)) {
    actual[name] = is;
    expected[name] = shouldBe;
  }
  assert.deepEqual(actual, expected, `master stderr:\n${run.stderr.slice(0, 2000)}`);
}

describe("FileLogHandler on a disk that fills up", () => {
  it("disk full for less than handlerStallMs: every record in the file exactly once, no torn line, memory bounded", async (t) => {
    const mount = mountTmpfs(t, TMPFS_BYTES);
    if (typeof mount !== "string") return t.skip(`needs root to mount a tmpfs: ${mount.skip}`);
    const run = await runWithFullDisk(t, mount, 60_000, async (master, receivedAtFull) => {
      // Full until the master has been offered a queue's worth of records since the disk filled:
      // its queue for the file is at its bound (backpressure then holds the rest in the workers),
      // or, with no backpressure, it has taken that many records in anyway.
      await untilMessage<FileMasterSample>(
        master,
        "sample",
        (s) =>
          s.queuedBytes >= MAX_QUEUE_BYTES ||
          s.recordsReceived >= receivedAtFull + MAX_QUEUE_BYTES / RECORD_WIRE_BYTES,
        60_000,
        "a queue's worth of records while the disk is full",
      );
    });
    assertRun(run, {
      missing: [run.check.missing, 0],
      workerLines: [run.check.workerLines, TOTAL],
      dropped: [run.final.dropped, 0],
    });
  });

  it("disk full for longer than handlerStallMs: drops counted and reported, memory bounded, nothing written twice or torn", async (t) => {
    const mount = mountTmpfs(t, TMPFS_BYTES);
    if (typeof mount !== "string") return t.skip(`needs root to mount a tmpfs: ${mount.skip}`);
    const stallMs = 500;
    const run = await runWithFullDisk(t, mount, stallMs, async (master) => {
      // Full until the master has every record: the outage outlasts the stream.
      await untilMessage<FileMasterSample>(
        master,
        "sample",
        (s) => s.recordsReceived >= TOTAL,
        60_000,
        "every record at the master",
      );
    });
    const reportedDrops = run.masterWarnings
      .filter((m) => m.includes(`Handler FileLogHandler(${run.file}) is stalled`))
      .reduce((sum, m) => sum + Number(/dropped (\d+) records/.exec(m)?.[1] ?? Number.NaN), 0);
    assertRun(run, {
      stallReported: [run.stderr.includes(`has not finished a write for ${stallMs} ms`), true],
      someDropped: [run.final.dropped > 0, true],
      // The master's own warnings go to the file too, so they count among what it took and dropped.
      fileLinesPlusDropped: [
        run.check.workerLines + run.check.masterLines + run.final.dropped,
        TOTAL + run.masterWarnings.length,
      ],
      reportedDrops: [reportedDrops, run.final.dropped],
    });
  });
});
