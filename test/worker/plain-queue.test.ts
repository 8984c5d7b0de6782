// A plain record is held between the call and the batch (src/worker/plain-queue.ts): what that
// must not change is the order of records, their timestamps (the call's, not the copy's), and that
// nothing is lost when the process ends in the same turn or logs without ever yielding.
import assert from "node:assert/strict";
import { once } from "node:events";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { LoggerConfig, LogLevel, type LogRecord, MasterLogger, WorkerLogger } from "../../src/index.js";
import { PlainQueue } from "../../src/worker/plain-queue.js";
import { CollectHandler } from "../helpers/collect.js";
import { forkFixture, tempDir } from "../helpers/processes.js";

async function rig(t: TestContext) {
  const socket = join(tempDir(t), "log.sock");
  const config = new LoggerConfig({
    path: `ipc://${socket}`,
    flushIntervalMs: 20,
    baseLevel: LogLevel.TRACE,
  });
  const collect = new CollectHandler();
  const master = new MasterLogger(config, [collect]);
  t.after(() => master.shutdown());
  await master.ready();
  const log = new WorkerLogger(config, "held");
  t.after(() => log.shutdown());
  const records = async (): Promise<LogRecord[]> => {
    await log.shutdown();
    return collect.fromWorkers();
  };
  return { socket, log, records };
}

/** Spins for `ms` without yielding: the held records cannot be copied meanwhile. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

describe("plain records held between the call and the batch", () => {
  it("keep the calls' order among records with fields, children's and errors, in a loop that never yields", async (t) => {
    const { log, records } = await rig(t);
    const child = log.child({ reqId: "r-1" });
    const expected: string[] = [];
    // 20,000 calls in one turn: far past the queue's soft limit, so the calls catch up themselves.
    for (let i = 0; i < 20_000; i++) {
      const kind = i % 7;
      const text = `m${i}`;
      if (kind === 0) log.info({ i }, text);
      else if (kind === 1) child.info(text);
      else if (kind === 2) log.error(text);
      else if (kind === 3) log.warn("%s", text);
      else log.info(text);
      expected.push(text);
    }
    const got = await records();
    assert.deepEqual(
      got.map((r) => r.message),
      expected,
    );
    const child1 = got[1]!;
    assert.deepEqual(child1.fields, { reqId: "r-1" }, "a child's plain record keeps its bindings");
    assert.equal(got[2]!.level, LogLevel.ERROR);
    for (let i = 1; i < got.length; i++) {
      assert.ok(got[i]!.timestampNs >= got[i - 1]!.timestampNs, `timestamps never go back (record ${i})`);
    }
  });

  it("all arrive, in order, from 30,000 plain calls in one turn (the calls catch up themselves)", async (t) => {
    const { log, records } = await rig(t);
    const start = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1e6));
    for (let i = 0; i < 30_000; i++) log.info(`p${i}`);
    const end = BigInt(Math.ceil((performance.timeOrigin + performance.now()) * 1e6));
    const got = await records();
    assert.equal(got.length, 30_000);
    got.forEach((record, i) => {
      // Level and time too: a record past the queue's end once kept its text but lost both.
      if (record.message !== `p${i}` || record.level !== LogLevel.INFO)
        assert.fail(`record ${i} is ${JSON.stringify(record.message)} at level ${record.level}`);
      if (!(record.timestampNs >= start && record.timestampNs <= end))
        assert.fail(`record ${i} is stamped ${record.timestampNs}, outside the loop's ${start}..${end}`);
    });
  });

  it("are stamped when the call was made, not when they were copied", async (t) => {
    const { log, records } = await rig(t);
    const before = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1e6));
    log.info("held while the thread spins");
    const after = BigInt(Math.ceil((performance.timeOrigin + performance.now()) * 1e6));
    spin(50);
    const [record] = await records();
    assert.ok(record !== undefined);
    assert.ok(
      record.timestampNs >= before && record.timestampNs <= after,
      `stamped at ${record.timestampNs}, the call ran from ${before} to ${after}; the copy came 50 ms later`,
    );
  });

  it("reach the master when the process exits in the same turn as the calls", async (t) => {
    const socket = join(tempDir(t), "log.sock");
    const config = new LoggerConfig({ path: `ipc://${socket}`, flushIntervalMs: 1000 });
    const collect = new CollectHandler();
    const master = new MasterLogger(config, [collect]);
    t.after(() => master.shutdown());
    await master.ready();
    const child = forkFixture(t, "exit-same-turn.js", { socket, count: 3000 });
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    await collect.until((r) => r.filter((x) => x.name !== "MASTER").length >= 3000, 15_000, "3000 records");
    const got = collect.fromWorkers().map((r) => r.message);
    assert.deepEqual(
      got,
      Array.from({ length: 3000 }, (_, i) => `exit ${i}`),
    );
  });
});

describe("PlainQueue", () => {
  it("starts each cycle with a new array sized to the last, and counts what it holds", () => {
    const queue = new PlainQueue(64);
    for (let i = 0; i < 40; i++) assert.equal(queue.push(i, 2, `m${i}`, undefined), i + 1);
    const first = queue.messages;
    queue.advance(10);
    assert.equal(queue.count, 30);
    assert.equal(queue.messages, first, "the array stays while records are held");
    queue.advance(40);
    assert.equal(queue.count, 0);
    assert.notEqual(queue.messages, first);
    assert.equal(queue.messages.length, 40, "room for as many records as the last cycle held");
    queue.push(1, 3, "next", undefined);
    assert.equal(queue.messages[0], "next");
    assert.equal(queue.levels[0], 3);
  });
});
