import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  FileLogHandler,
  LEVEL_NAMES,
  LoggerConfig,
  type LoggerConfigOptions,
  LogLevel,
  MasterLogger,
  WorkerLogger,
} from "../src/index.js";
import { CollectHandler } from "./helpers/collect.js";
import { exited, forkFixture, nextMessage, readLines, tempDir, waitFor } from "./helpers/processes.js";

interface Rig {
  dir: string;
  options: LoggerConfigOptions;
  config: LoggerConfig;
  master: MasterLogger;
  collect: CollectHandler;
  file: string;
}

async function startMaster(
  t: TestContext,
  extra: LoggerConfigOptions = {},
  fileFormat?: string,
): Promise<Rig> {
  const dir = tempDir(t);
  const options: LoggerConfigOptions = {
    path: `ipc://${join(dir, "log.sock")}`,
    flushIntervalMs: 50,
    ...extra,
  };
  const config = new LoggerConfig(options);
  const collect = new CollectHandler();
  const file = join(dir, "out", "app.log");
  const master = new MasterLogger(config, [
    new FileLogHandler(file, fileFormat === undefined ? {} : { format: fileFormat }),
    collect,
  ]);
  t.after(() => master.shutdown());
  await master.ready();
  return { dir, options, config, master, collect, file };
}

function countsByName(records: readonly { name: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  return counts;
}

async function runWorkers(
  t: TestContext,
  rig: Rig,
  workers: number,
  count: number,
  extra: object = {},
): Promise<void> {
  const children = Array.from({ length: workers }, (_, i) =>
    forkFixture(t, "worker.js", { config: rig.options, name: `w${i}`, count, ...extra }),
  );
  await Promise.all(children.map((child) => nextMessage(child, "done")));
  await Promise.all(children.map((child) => exited(child)));
}

describe("core pipeline across real processes", () => {
  for (const workers of [1, 5, 25]) {
    it(`${workers} forked workers x 10 records arrive with exact per-worker counts`, async (t) => {
      const rig = await startMaster(t);
      await runWorkers(t, rig, workers, 10);
      // shutdown() waited for acknowledgements, so the handlers already have every record.
      const counts = countsByName(rig.collect.fromWorkers());
      assert.equal(counts.size, workers);
      for (let i = 0; i < workers; i++) assert.equal(counts.get(`w${i}`), 10, `worker w${i}`);
      await rig.master.shutdown();
      const lines = readLines(rig.file).filter((line) => !line.includes(" MASTER - "));
      assert.equal(lines.length, workers * 10);
    });
  }

  it("10 workers x 1000 records at a 100 ms flush keep per-worker order", async (t) => {
    const rig = await startMaster(t, { flushIntervalMs: 100 });
    await runWorkers(t, rig, 10, 1000, { chunk: 50 });
    const byWorker = new Map<string, number[]>();
    for (const record of rig.collect.fromWorkers()) {
      const index = Number(/record (\d+)/.exec(record.message)![1]);
      const list = byWorker.get(record.name) ?? [];
      list.push(index);
      byWorker.set(record.name, list);
    }
    assert.equal(byWorker.size, 10);
    for (const [name, indexes] of byWorker) {
      assert.equal(indexes.length, 1000, name);
      assert.deepEqual(
        indexes,
        indexes.map((_, i) => i),
        `${name} out of order`,
      );
    }
  });

  it("delivers every level and filters below baseLevel", async (t) => {
    const rig = await startMaster(t, { baseLevel: LogLevel.WARNING });
    await runWorkers(t, rig, 1, 60, { levels: [0, 1, 2, 3, 4, 5] });
    const levels = rig.collect.fromWorkers().map((r) => r.level);
    assert.equal(levels.length, 30);
    assert.deepEqual([...new Set(levels)].sort(), [3, 4, 5]);
    const all = await startMaster(t, { baseLevel: LogLevel.TRACE });
    await runWorkers(t, all, 1, 60, { levels: [0, 1, 2, 3, 4, 5] });
    const seen = all.collect.fromWorkers();
    assert.equal(seen.length, 60);
    for (let level = 0; level <= 5; level++) assert.equal(seen.filter((r) => r.level === level).length, 10);
  });

  it("carries a 1 MiB message intact", async (t) => {
    const rig = await startMaster(t);
    const size = 1024 * 1024;
    await runWorkers(t, rig, 1, 1, { messageBytes: size });
    const [record] = rig.collect.fromWorkers();
    assert.ok(record);
    assert.equal(Buffer.byteLength(record.message), size);
    assert.match(record.message, /^w0 record 0 x+$/);
  });

  it('writes exact lines with "%(levelname)s: %(message)s"', async (t) => {
    const rig = await startMaster(t, { strFormat: "%(levelname)s: %(message)s", baseLevel: LogLevel.TRACE });
    await runWorkers(t, rig, 1, 6, { levels: [0, 1, 2, 3, 4, 5] });
    await rig.master.shutdown();
    assert.deepEqual(
      readLines(rig.file),
      [0, 1, 2, 3, 4, 5].map((i) => `${LEVEL_NAMES[i]}: w0 record ${i}`),
    );
  });

  it("delivers 1000 records at a 10 ms flush interval", async (t) => {
    const rig = await startMaster(t, { flushIntervalMs: 10 });
    await runWorkers(t, rig, 1, 1000, { chunk: 10 });
    assert.equal(rig.collect.fromWorkers().length, 1000);
  });

  it("sends an ERROR at once, with what was logged before it, not at the flush interval", async (t) => {
    const rig = await startMaster(t, { flushIntervalMs: 60_000 });
    const worker = new WorkerLogger(rig.config, "urgent");
    t.after(() => worker.shutdown());
    await worker.flush();
    worker.info("context before the failure");
    worker.error("the failure");
    // A minute-long interval: only the error's own send can deliver these within the wait.
    await rig.collect.until((records) => records.some((r) => r.message === "the failure"), 10_000);
    assert.deepEqual(
      rig.collect.fromWorkers().map((r) => r.message),
      ["context before the failure", "the failure"],
    );
  });

  it("a full batch goes out alone: the next batch stays open until it fills or is flushed", async (t) => {
    // ~1 KiB records fill a 4 KiB batch every 4 records, and the 17th seals the 4th batch.
    const rig = await startMaster(t, { flushIntervalMs: 60_000, maxBatchBytes: 4096 });
    const worker = new WorkerLogger(rig.config, "fill");
    t.after(() => worker.shutdown());
    await worker.flush();
    const message = (i: number): string => `${i} ${"x".repeat(1000)}`;
    for (let i = 0; i < 17; i++) worker.info(message(i));
    // Let the send that the full batch scheduled run, then log once more into the open batch.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    worker.info(message(17));
    await worker.flush();
    await rig.collect.until((records) => records.length >= 18, 10_000);
    assert.deepEqual(
      rig.collect.batches.filter((b) => b.name === "fill").map((b) => b.count),
      [4, 4, 4, 4, 2],
      "the 17th and 18th records share a batch",
    );
    assert.deepEqual(
      rig.collect.fromWorkers().map((r) => r.message),
      Array.from({ length: 18 }, (_, i) => message(i)),
    );
  });

  it("keeps records logged before the master exists and delivers them once it listens", async (t) => {
    const dir = tempDir(t);
    const options: LoggerConfigOptions = { path: `ipc://${join(dir, "late.sock")}`, flushIntervalMs: 50 };
    const child = forkFixture(t, "worker.js", { config: options, name: "early", count: 200 });
    await nextMessage(child, "logged");
    const collect = new CollectHandler();
    const master = new MasterLogger(new LoggerConfig(options), [collect]);
    t.after(() => master.shutdown());
    await master.ready();
    await nextMessage(child, "done");
    assert.equal(collect.fromWorkers().length, 200);
    assert.deepEqual(
      collect.fromWorkers().map((r) => r.message),
      Array.from({ length: 200 }, (_, i) => `early record ${i}`),
    );
  });

  it("reports a SIGKILLed worker at once while the others keep logging", async (t) => {
    const rig = await startMaster(t);
    const victim = forkFixture(t, "worker.js", {
      config: rig.options,
      name: "victim",
      count: 5,
      end: "stay",
    });
    const survivor = forkFixture(t, "worker.js", {
      config: rig.options,
      name: "survivor",
      count: 5,
      end: "stay",
    });
    await Promise.all([nextMessage(victim, "ready"), nextMessage(survivor, "ready")]);
    await rig.collect.until(
      (r) => r.filter((x) => x.name === "victim").length === 5,
      10_000,
      "victim records",
    );
    victim.kill("SIGKILL");
    await rig.collect.until(
      () => rig.collect.masterMessages().some((m) => m.includes("victim") && m.includes("appears dead")),
      10_000,
      "dead-worker warning",
    );
    const warning = rig.collect.records.find((r) => r.name === "MASTER" && r.message.includes("victim"));
    assert.equal(warning?.level, LogLevel.WARNING);
    assert.match(warning!.message, /Worker victim \(pid \d+\) appears dead/);
    survivor.send({ type: "log", count: 20 });
    await nextMessage(survivor, "flushed");
    await rig.collect.until((r) => r.filter((x) => x.name === "survivor").length === 25, 10_000, "survivor");
    const health = rig.master.workers();
    assert.equal(health.find((w) => w.name === "victim")?.connected, false);
    assert.equal(health.find((w) => w.name === "survivor")?.connected, true);
    assert.equal(health.find((w) => w.name === "survivor")?.recordsReceived, 25);
    survivor.send({ type: "shutdown" });
    await nextMessage(survivor, "done");
  });

  it("reports a worker that misses its heartbeat check-in", async (t) => {
    const rig = await startMaster(t, { heartbeatIntervalMs: 200, deadWorkerGraceMs: 100 });
    const child = forkFixture(t, "worker.js", { config: rig.options, name: "sleepy", count: 1, end: "stay" });
    await nextMessage(child, "ready");
    await rig.collect.until((r) => r.some((x) => x.name === "sleepy"), 10_000, "first record");
    // SIGSTOP freezes the worker without closing its socket: only the missed check-in can tell.
    child.kill("SIGSTOP");
    t.after(() => child.kill("SIGCONT"));
    await rig.collect.until(
      () =>
        rig.collect.masterMessages().some((m) => m.includes("sleepy") && m.includes("missed its check-in")),
      10_000,
      "missed check-in warning",
    );
    assert.equal(rig.master.workers().find((w) => w.name === "sleepy")?.state, "unresponsive");
    child.kill("SIGCONT");
  });

  it("ignores log calls after shutdown and tolerates double shutdown", async (t) => {
    const rig = await startMaster(t);
    const worker = new WorkerLogger(rig.config, "inproc");
    worker.info("before");
    assert.equal(worker.isRunning(), true);
    await Promise.all([worker.shutdown(), worker.shutdown()]);
    await worker.shutdown();
    assert.equal(worker.isRunning(), false);
    worker.info("after");
    worker.error("after");
    await worker.flush();
    assert.deepEqual(
      rig.collect.fromWorkers().map((r) => r.message),
      ["before"],
    );
    await Promise.all([rig.master.shutdown(), rig.master.shutdown()]);
    assert.equal(rig.master.isRunning(), false);
    assert.equal(rig.collect.state, "closed");
    rig.master.info("after master shutdown");
    assert.equal(
      rig.collect.records.some((r) => r.message === "after master shutdown"),
      false,
    );
  });

  it("carries binary attachments and pre-encoded byte messages", async (t) => {
    const rig = await startMaster(t);
    const worker = new WorkerLogger(rig.config, "bytes");
    worker.error("with data", new Uint8Array([0, 1, 2, 255]));
    worker.info(Buffer.from("pre-encoded ✓", "utf8"));
    await worker.shutdown();
    const [first, second] = rig.collect.fromWorkers();
    assert.deepEqual([...first!.data!], [0, 1, 2, 255]);
    assert.equal(second!.message, "pre-encoded ✓");
    assert.equal(second!.data, undefined);
    assert.equal(typeof first!.timestampNs, "bigint");
    const skewMs = Math.abs(Number(first!.timestampNs / 1_000_000n) - Date.now());
    assert.ok(skewMs < 60_000, `timestamp ${first!.timestampNs} is not now`);
    assert.equal(first!.pid, process.pid);
    await rig.master.shutdown();
    const line = readLines(rig.file).find((l) => l.includes("with data"));
    assert.match(line!, /\[ERROR\] bytes - with data \[data 4B base64: AAEC\/w==\]$/);
  });

  it("the master logs as MASTER straight to its handlers", async (t) => {
    const rig = await startMaster(t);
    rig.master.warn("disk almost full");
    await rig.collect.until((r) => r.some((x) => x.message === "disk almost full"), 5000);
    const record = rig.collect.records.find((x) => x.message === "disk almost full")!;
    assert.equal(record.name, "MASTER");
    assert.equal(record.level, LogLevel.WARNING);
    assert.equal(record.pid, process.pid);
  });

  it("refuses a path held by a live master and replaces a stale socket file", async (t) => {
    const rig = await startMaster(t);
    const second = new MasterLogger(rig.config, []);
    await assert.rejects(second.ready(), (error: Error & { code?: string }) => {
      assert.equal(error.code, "LOGMUX_ADDRESS_IN_USE");
      assert.match(error.message, /in use/);
      return true;
    });
    await second.shutdown();
    // A master that dies without cleaning up leaves a socket file nobody answers on.
    const dir = tempDir(t);
    const path = `ipc://${join(dir, "stale.sock")}`;
    const child = forkFixture(t, "master.js", { config: { path } });
    await nextMessage(child, "ready");
    child.kill("SIGKILL");
    await exited(child);
    const fresh = new MasterLogger(new LoggerConfig({ path }), []);
    t.after(() => fresh.shutdown());
    await fresh.ready();
    assert.equal(fresh.isRunning(), true);
  });
});

describe("file lines", () => {
  it("formats the default line shape", async (t) => {
    const rig = await startMaster(t);
    const worker = new WorkerLogger(rig.config, "DataProcessor");
    worker.info("Processing batch 123");
    await worker.shutdown();
    await rig.master.shutdown();
    const line = readLines(rig.file).find((l) => l.includes("Processing"));
    assert.match(
      line!,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[INFO\] DataProcessor - Processing batch 123$/,
    );
  });

  it("waits for the file to hold every line before acknowledging", async (t) => {
    const rig = await startMaster(t);
    const worker = new WorkerLogger(rig.config, "ack");
    for (let i = 0; i < 5000; i++) worker.info(`line ${i}`);
    await worker.shutdown();
    // The acknowledgement waited for every handler, the file included.
    await waitFor(
      () => readLines(rig.file).filter((l) => l.includes(" ack - ")).length === 5000,
      1000,
      "file lines",
    );
  });
});
