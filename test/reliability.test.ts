import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { Worker } from "node:worker_threads";
import {
  BaseLogHandler,
  FileLogHandler,
  HandlerError,
  LoggerConfig,
  type LoggerConfigOptions,
  type LogRecord,
  MasterLogger,
  type MasterLoggerOptions,
} from "../src/index.js";
import { spoolDir } from "../src/state/dirs.js";
import { CollectHandler } from "./helpers/collect.js";
import { assertDeliveredAcrossCrashes, assertExactlyOnceInOrder } from "./helpers/delivery.js";
import {
  exited,
  fixturesDir,
  forkFixture,
  forkFixtureAs,
  NOBODY,
  nextMessage,
  readLines,
  tempDir,
  waitFor,
} from "./helpers/processes.js";
import { socketModesWhileStarting } from "./helpers/socket-modes.js";
import { captureStderr } from "./helpers/stderr.js";

const octal = (mode: number): string => `0${mode.toString(8)}`;

function rig(t: TestContext, extra: LoggerConfigOptions = {}): { options: LoggerConfigOptions; dir: string } {
  const dir = tempDir(t);
  return { dir, options: { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 50, ...extra } };
}

async function startMaster(
  t: TestContext,
  options: LoggerConfigOptions,
  handlers: BaseLogHandler[],
  masterOptions: MasterLoggerOptions = {},
): Promise<MasterLogger> {
  const master = new MasterLogger(new LoggerConfig(options), handlers, masterOptions);
  t.after(() => master.shutdown());
  await master.ready();
  return master;
}

/** Per-worker indexes in arrival order, from messages "<name> record <i>". */
function indexesByWorker(messages: Iterable<{ name: string; message: string }>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { name, message } of messages) {
    const match = /record (\d+)/.exec(message);
    if (!match || name === "MASTER") continue;
    const list = out.get(name) ?? [];
    list.push(Number(match[1]));
    out.set(name, list);
  }
  return out;
}

const EXIT_PATHS = [
  { end: "exit", expect: { code: 0, signal: null } },
  { end: "natural", expect: { code: 0, signal: null } },
  { end: "throw", expect: { code: 1, signal: null } },
  { end: "SIGTERM", expect: { code: null, signal: "SIGTERM" } },
  { end: "SIGINT", expect: { code: null, signal: "SIGINT" } },
] as const;

describe("a worker that ends without shutdown()", () => {
  for (const { end, expect } of EXIT_PATHS) {
    it(`delivers what it logged when it ends by ${end} (master up)`, async (t) => {
      const { options } = rig(t, { flushIntervalMs: 60_000 });
      const collect = new CollectHandler();
      await startMaster(t, options, [collect]);
      const count = 20_000;
      const child = forkFixture(t, "worker.js", { config: options, name: `by-${end}`, count, end });
      // With a one-minute flush interval nothing is sent before the end but full batches: the
      // rest can only arrive through the exit path.
      const status = await exited(child);
      assert.deepEqual(status, expect);
      await collect.until(
        (r) => r.filter((x) => x.name === `by-${end}`).length >= count,
        10_000,
        `${end} records`,
      );
      assertExactlyOnceInOrder(indexesByWorker(collect.records).get(`by-${end}`), count, end);
    });
  }

  for (const end of ["exit", "SIGTERM", "throw"] as const) {
    it(`spools what it logged when it ends by ${end} with no master, and the next master delivers it`, async (t) => {
      const { options } = rig(t);
      const config = new LoggerConfig(options);
      const count = 3000;
      const child = forkFixture(t, "worker.js", { config: options, name: `orphan-${end}`, count, end });
      await exited(child);
      const spools = readdirSync(spoolDir(config.socketPath));
      assert.equal(spools.length, 1, `expected one spool, found ${spools.join(", ")}`);
      assert.match(spools[0]!, /\.closed\.spool$/);
      assert.equal(statSync(join(spoolDir(config.socketPath), spools[0]!)).mode & 0o777, 0o600);
      const collect = new CollectHandler();
      await startMaster(t, options, [collect]);
      await collect.until(
        (r) => r.filter((x) => x.name === `orphan-${end}`).length >= count,
        10_000,
        "spooled records",
      );
      assertExactlyOnceInOrder(indexesByWorker(collect.records).get(`orphan-${end}`), count, end);
      await collect.until(
        () => collect.masterMessages().some((m) => m.includes(`Delivered ${count} records`)),
        5000,
        "replay report",
      );
      assert.deepEqual(readdirSync(spoolDir(config.socketPath)), []);
    });
  }
});

describe("master crashes and restarts", () => {
  it("4 workers x 50k records, master SIGKILLed twice mid-stream: no loss, order kept, no duplicate outside the journal window", async (t) => {
    const { options, dir } = rig(t, { flushIntervalMs: 20, shutdownTimeoutMs: 20_000 });
    const file = join(dir, "out.log");
    const startMasterProcess = async () => {
      const child = forkFixture(t, "master.js", { config: options, file });
      await nextMessage(child, "ready");
      return child;
    };
    const workers = 4;
    const count = 50_000;
    const workerLines = () => readLines(file).filter((l) => !l.includes(" MASTER - ")).length;
    let master = await startMasterProcess();
    const children = Array.from({ length: workers }, (_, i) =>
      forkFixture(t, "worker.js", { config: options, name: `s${i}`, count, chunk: 250, intervalMs: 5 }),
    );
    const done = children.map((child) => nextMessage(child, "done"));
    for (const threshold of [workers * count * 0.2, workers * count * 0.5]) {
      await waitFor(() => workerLines() >= threshold, 30_000, `${threshold} lines`);
      // Not the instant the file grew: that instant is right after a write and before its journal
      // entry (the documented duplicate window), and a loaded machine can hold the master there
      // for a whole time slice. A crash at a moment unrelated to the master's writes is the test.
      await new Promise((resolve) => setTimeout(resolve, randomInt(5, 40)));
      master.kill("SIGKILL");
      await exited(master);
      // The pause: workers keep logging and hold everything unacknowledged.
      await new Promise((resolve) => setTimeout(resolve, 300));
      master = await startMasterProcess();
    }
    await Promise.all(done);
    master.kill("SIGTERM");
    assert.deepEqual(await exited(master), { code: 0, signal: null });
    const records = readLines(file)
      .filter((l) => !l.includes(" MASTER - "))
      .map((line) => {
        const match = / \[INFO\] (s\d) - (.*)$/.exec(line);
        assert.ok(match, `unexpected line ${line}`);
        return { name: match[1]!, message: match[2]! };
      });
    const byWorker = indexesByWorker(records);
    let duplicated = 0;
    for (let i = 0; i < workers; i++) {
      // Nothing missing, order kept; a kill that fell between a slice's write and its journal entry
      // (the documented duplicate window) may repeat that one slice, and nothing else.
      duplicated += assertDeliveredAcrossCrashes(byWorker.get(`s${i}`) ?? [], count, `s${i}`, {
        crashes: 2,
        maxBatchBytes: new LoggerConfig(options).maxBatchBytes,
        messageBytes: (index) => Buffer.byteLength(`s${i} record ${index}`),
      }).duplicated;
    }
    console.log(
      `# master restarts: ${records.length} lines for ${workers * count} sent, 0 missing, ${duplicated} repeated (journal window)`,
    );
  });
});

/** A handler that takes its time, so the master's queue fills and backpressure engages. */
class SlowHandler extends BaseLogHandler {
  received = 0;
  async push(records: readonly LogRecord[]): Promise<void> {
    this.received += records.filter((r) => r.name !== "MASTER").length;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("overload", () => {
  it('onBackpressure "drop": memory stays bounded and received + reported dropped = sent', async (t) => {
    const { options } = rig(t, {
      onBackpressure: "drop",
      maxBacklogBytes: 512 * 1024,
      maxBatchBytes: 16 * 1024,
    });
    const slow = new SlowHandler();
    const collect = new CollectHandler();
    const master = await startMaster(t, options, [slow, collect], { maxQueueBytes: 256 * 1024 });
    const count = 400_000;
    const child = forkFixture(t, "worker.js", {
      config: options,
      name: "flood",
      count,
      chunk: 20_000,
      messageBytes: 60,
    });
    const done = await nextMessage<{ dropped: number; rss: number }>(child, "done");
    const health = master.workers().find((w) => w.name === "flood")!;
    const received = collect.fromWorkers().length;
    console.log(
      `# drop policy: sent ${count}, received ${received}, dropped ${done.dropped} (reported ${health.recordsDropped}), worker RSS ${(done.rss / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.ok(done.dropped > 0, "the flood should have overflowed a 512 KiB backlog");
    assert.equal(health.recordsDropped, done.dropped);
    assert.equal(received + done.dropped, count);
    assert.equal(slow.received, received);
    assert.ok(done.rss < 200 * 2 ** 20, `worker RSS ${done.rss} over 200 MiB`);
    const warnings = collect.masterMessages().filter((m) => m.includes("dropped") && m.includes("flood"));
    const reported = warnings.reduce((sum, m) => sum + Number(/dropped (\d+) records/.exec(m)?.[1] ?? 0), 0);
    assert.equal(reported, done.dropped);
  });

  it('onBackpressure "block": overflow goes to the spool and nothing is lost', async (t) => {
    const { options } = rig(t, {
      onBackpressure: "block",
      maxBacklogBytes: 256 * 1024,
      maxBatchBytes: 16 * 1024,
    });
    const slow = new SlowHandler();
    const collect = new CollectHandler();
    await startMaster(t, options, [slow, collect], { maxQueueBytes: 256 * 1024 });
    const count = 200_000;
    const child = forkFixture(t, "worker.js", { config: options, name: "spiller", count, chunk: 20_000 });
    const done = await nextMessage<{ dropped: number; rss: number }>(child, "done");
    assert.equal(done.dropped, 0);
    assertExactlyOnceInOrder(indexesByWorker(collect.records).get("spiller"), count, "spiller");
    assert.deepEqual(readdirSync(spoolDir(new LoggerConfig(options).socketPath)), []);
    console.log(
      `# block policy: sent ${count}, received ${count}, worker RSS ${(done.rss / 2 ** 20).toFixed(1)} MiB`,
    );
  });
});

/** A handler whose push never settles: a webhook that hangs forever. */
class HangingHandler extends BaseLogHandler {
  calls = 0;
  push(): Promise<void> {
    this.calls++;
    return new Promise(() => {});
  }
}

class FailingHandler extends BaseLogHandler {
  calls = 0;
  constructor(readonly mode: "throw" | "reject") {
    super();
  }
  push(): Promise<void> | undefined {
    this.calls++;
    if (this.mode === "throw") throw new Error("handler exploded");
    return Promise.reject(new Error("handler rejected"));
  }
}

describe("handler faults", () => {
  it("a hanging handler does not delay the file handler beside it", async (t) => {
    const { options, dir } = rig(t, { shutdownTimeoutMs: 500 });
    const file = join(dir, "app.log");
    const hanging = new HangingHandler();
    const master = await startMaster(t, options, [hanging, new FileLogHandler(file)], {
      handlerStallMs: 300,
    });
    const child = forkFixture(t, "worker.js", {
      config: options,
      name: "steady",
      count: 2000,
      chunk: 100,
      end: "stay",
    });
    await nextMessage(child, "ready");
    const start = Date.now();
    await waitFor(
      () => readLines(file).filter((l) => l.includes(" steady - ")).length === 2000,
      2000,
      "file lines",
    );
    console.log(
      `# hanging handler: file had all 2000 lines ${Date.now() - start} ms after the worker finished`,
    );
    assert.ok(hanging.calls >= 1);
    // Acknowledgements stop waiting for a stalled handler, so the worker can still shut down.
    child.send({ type: "shutdown" });
    await nextMessage(child, "done");
    assert.equal(master.status().handlers[0]!.stalled, true);
  });

  it("handlers that throw or reject are reported and the others still get every record", async (t) => {
    const { options } = rig(t);
    const thrower = new FailingHandler("throw");
    const rejecter = new FailingHandler("reject");
    const collect = new CollectHandler();
    const master = await startMaster(t, options, [thrower, rejecter, collect]);
    const stderr = await captureStderr(async () => {
      const child = forkFixture(t, "worker.js", { config: options, name: "ok", count: 500, chunk: 50 });
      await nextMessage(child, "done");
    });
    assert.equal(collect.fromWorkers().length, 500);
    const stats = master.status().handlers;
    assert.ok(stats[0]!.failures >= 1 && stats[1]!.failures >= 1);
    assert.ok(
      stderr.some((line) => line.includes("FailingHandler failed") && line.includes("handler exploded")),
    );
    assert.ok(stderr.some((line) => line.includes("handler rejected")));
  });

  it("a handler's own HandlerError is reported with its label once, not twice", async (t) => {
    class RefusingHandler extends BaseLogHandler {
      push(): Promise<void> {
        return Promise.reject(
          new HandlerError(this.label, "upstream refused", { cause: new Error("connection reset") }),
        );
      }
    }
    const { options } = rig(t);
    const master = await startMaster(t, options, [new RefusingHandler()]);
    const stderr = await captureStderr(async () => {
      master.info("one record");
      await waitFor(() => master.status().handlers[0]!.failures > 0, 5000, "the failure");
    });
    assert.deepEqual(
      stderr.filter((line) => line.includes("RefusingHandler")),
      ["logmux: handler RefusingHandler failed: upstream refused <- caused by Error: connection reset\n"],
    );
  });

  it("shutdown's report names only the handlers that did not take records, not every handler after a drop summary", async (t) => {
    const { options } = rig(t, { shutdownTimeoutMs: 300 });
    const collect = new CollectHandler();
    const master = await startMaster(t, options, [new HangingHandler(), collect], {
      handlerStallMs: 100,
      maxQueueBytes: 4096,
    });
    master.info("master record 0, the one the hanging push takes");
    await collect.until((r) => r.length === 1, 5000, "the first push");
    for (let i = 1; i <= 200; i++) master.info(`master record ${i} ${"x".repeat(60)}`);
    await waitFor(() => master.status().handlers[0]!.dropped > 0, 5000, "the stalled handler to drop");
    const mine = (r: LogRecord[]) => r.filter((x) => x.message.startsWith("master record")).length;
    await collect.until((r) => mine(r) === 201, 5000, "the healthy handler's records");
    // Shut down before the periodic drop summary: shutdown writes it, a record of its own.
    const stderr = await captureStderr(() => master.shutdown());
    const claims = stderr.filter((line) => line.includes("did not take"));
    assert.ok(
      claims.some((line) => /HangingHandler did not take \d+ records/.test(line)),
      stderr.join(""),
    );
    assert.deepEqual(
      claims.filter((line) => line.includes("CollectHandler")),
      [],
    );
  });

  it("shutdown() gives up on a hanging handler after shutdownTimeoutMs and says what it could not deliver", async (t) => {
    const { options } = rig(t, { shutdownTimeoutMs: 300 });
    const master = await startMaster(t, options, [new HangingHandler()], { handlerStallMs: 60_000 });
    for (let i = 0; i < 10; i++) master.info(`master record ${i}`);
    const start = Date.now();
    const stderr = await captureStderr(() => master.shutdown());
    assert.ok(Date.now() - start < 2000, `shutdown took ${Date.now() - start} ms`);
    assert.ok(
      stderr.some((line) => /HangingHandler did not take \d+ records/.test(line)),
      stderr.join(""),
    );
  });
});

describe("access", () => {
  it("creates the socket owner-only in an owner-only directory", async (t) => {
    const dir = tempDir(t);
    const socketDir = join(dir, "private", "run");
    const options = { path: `ipc://${join(socketDir, "log.sock")}` };
    await startMaster(t, options, []);
    assert.equal(statSync(socketDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(socketDir, "log.sock")).mode & 0o777, 0o600);
  });

  it("binds the socket owner-only under umask 0: never seen at its path with a wider mode", async (t) => {
    const { options, dir } = rig(t);
    const path = join(dir, "log.sock");
    // umask 0: a socket bound under the process's umask and chmod-ed later would appear as 0777.
    const previous = process.umask(0);
    t.after(() => process.umask(previous));
    let master: MasterLogger | undefined;
    t.after(() => master?.shutdown());
    const modes = await socketModesWhileStarting(path, () => {
      master = new MasterLogger(new LoggerConfig(options));
      return master;
    });
    assert.equal(process.umask(previous), 0, "the master put back the umask it found");
    assert.deepEqual(modes.map(octal), [octal(0o600)]);
  });

  it("binds the socket owner-only from a worker thread (no process.umask there) under umask 0", async (t) => {
    const { options, dir } = rig(t);
    const path = join(dir, "log.sock");
    const previous = process.umask(0);
    t.after(() => process.umask(previous));
    const thread = new Worker(join(fixturesDir, "master-thread.js"), {
      workerData: { config: options, socketPath: path },
    });
    t.after(() => thread.terminate());
    const [reply] = (await once(thread, "message")) as [{ type: string; modes?: number[]; message?: string }];
    process.umask(previous);
    assert.equal(reply.type, "modes", reply.message);
    assert.deepEqual(reply.modes!.map(octal), [octal(0o600)]);
    // The private directory it bound in is gone: only the socket's own path is left behind.
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.startsWith(".lmx-")),
      [],
    );
  });

  it("refuses a socket directory that belongs to another user", {
    skip: process.getuid?.() !== 0 && "needs root to run a master as another user",
  }, async (t) => {
    const dir = tempDir(t);
    chmodSync(dir, 0o755);
    const foreign = join(dir, "foreign");
    // World-writable but not sticky and owned by root: a place another user could swap files in.
    mkdirSync(foreign);
    chmodSync(foreign, 0o777);
    const nobody = forkFixtureAs(
      t,
      "master.js",
      { config: { path: `ipc://${join(foreign, "log.sock")}` } },
      NOBODY,
    );
    if (nobody === undefined) return;
    const reply = await nextMessage<{ message: string }>(nobody, "error");
    assert.match(reply.message, /belongs to uid 0, not to this user \(uid 65534\)/);
    assert.equal(existsSync(join(foreign, "log.sock")), false);
  });
});
