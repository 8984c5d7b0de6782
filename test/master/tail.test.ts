import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { InvalidConfigError, LoggerConfig, MasterLogger, type MasterLoggerOptions } from "../../src/index.js";
import { globMatch, valueEquals } from "../../src/master/tail-filter.js";
import { owned } from "../../src/master/tail-subscriber.js";
import { MessageType } from "../../src/protocol/constants.js";
import { decodeBatch, FrameReader, frameText, frameType } from "../../src/protocol/decoder.js";
import { decodeTailRecords, encodeTailQuery, type TailQuery } from "../../src/protocol/tail.js";
import { openTail } from "../../src/transport/tail-client.js";
import { batchFrame, helloFrame, rawConnect, recordBytes, T } from "../helpers/frames.js";
import {
  exited,
  forkFixture,
  forkFixtureAs,
  NOBODY,
  nextMessage,
  readLines,
  tempDir,
} from "../helpers/processes.js";
import { QUERY, stalledTail } from "../helpers/raw-tail.js";

async function startMaster(
  t: TestContext,
  options: MasterLoggerOptions = {},
): Promise<{ master: MasterLogger; socket: string; dir: string }> {
  const dir = tempDir(t);
  const socket = join(dir, "log.sock");
  const master = new MasterLogger(new LoggerConfig({ path: `ipc://${socket}` }), [], options);
  t.after(() => master.shutdown());
  await master.ready();
  return { master, socket, dir };
}

/**
 * Sends `frame` (and `then` once the first answer arrives) and collects what the master answers
 * until it ends the connection.
 */
function exchange(socket: string, frame: Buffer, then?: Buffer): Promise<{ type: number; frame: Buffer }[]> {
  return new Promise((resolve, reject) => {
    const frames: { type: number; frame: Buffer }[] = [];
    const reader = new FrameReader(1 << 30, (f) => {
      if (frames.push({ type: frameType(f), frame: Buffer.from(f) }) === 1 && then) connection.write(then);
    });
    const connection = createConnection(socket);
    connection.on("data", (chunk: Buffer) => reader.push(chunk));
    connection.on("error", reject);
    connection.on("close", () => resolve(frames));
    connection.write(frame);
  });
}

function kept(socket: string, query: Partial<TailQuery>): Promise<string[]> {
  return exchange(socket, encodeTailQuery({ ...QUERY, follow: false, last: 1000, ...query })).then(
    (frames) => {
      assert.equal(frames.at(-1)?.type, MessageType.TAIL_LIVE, "TAIL_LIVE ends a --no-follow answer");
      const messages: string[] = [];
      for (const { type, frame } of frames) {
        if (type !== MessageType.TAIL_RECORDS) continue;
        const batch = decodeTailRecords(frame);
        for (let i = 0; i < batch.count; i++) messages.push(batch.message(i));
      }
      return messages;
    },
  );
}

describe("tail in the master", () => {
  it("keeps exactly the last `ring` records, and nothing with ring 0", async (t) => {
    const { master, socket } = await startMaster(t, { tail: { ring: 5 } });
    for (let i = 0; i < 20; i++) master.info(`own record ${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      await kept(socket, {}),
      [15, 16, 17, 18, 19].map((i) => `own record ${i}`),
    );
    assert.deepEqual(await kept(socket, { last: 2 }), ["own record 18", "own record 19"]);
    const none = await startMaster(t, { tail: { ring: 0 } });
    none.master.info("not kept");
    assert.deepEqual(await kept(none.socket, {}), []);
  });

  it("bounds the ring by bytes too: a few huge records do not pin a thousand frames", async (t) => {
    const { master, socket } = await startMaster(t, { tail: { ring: 1000, ringBytes: 256 * 1024 } });
    for (let i = 0; i < 10; i++) master.info(`${i} ${"x".repeat(80_000)}`);
    const messages = await kept(socket, {});
    assert.deepEqual(
      messages.map((m) => Number(m.split(" ")[0])),
      [7, 8, 9],
    );
  });

  it("matches fields by their last value, dotted paths, numbers and booleans as written", async (t) => {
    const { master, socket } = await startMaster(t);
    const child = master.child({ reqId: "r-1", user: { id: 7, tags: ["a"] } });
    child.info("bound");
    child.info("overridden", { reqId: "r-2" });
    master.info("typed", { ok: true, n: 200, big: 10n, none: null, when: new Date(0), "a.b": "dotted key" });
    const where = (...pairs: [string, string][]) => kept(socket, { where: pairs });
    assert.deepEqual(await where(["reqId", "r-1"]), ["bound"]);
    assert.deepEqual(await where(["reqId", "r-2"]), ["overridden"]);
    assert.deepEqual(await where(["user.id", "7"]), ["bound", "overridden"]);
    assert.deepEqual(await where(["user.tags.0", "a"]), ["bound", "overridden"]);
    assert.deepEqual(await where(["user", "[object Object]"]), [], "objects never equal a text");
    assert.deepEqual(await where(["ok", "true"], ["n", "200"], ["big", "10"], ["none", "null"]), ["typed"]);
    assert.deepEqual(await where(["when", "1970-01-01T00:00:00.000Z"]), ["typed"]);
    assert.deepEqual(await where(["a.b", "dotted key"]), ["typed"]);
    assert.deepEqual(await where(["n", "200.0"]), []);
  });

  it("sends a worker's records byte for byte as its BATCH carried them (section 3.13), and --since by their time", async (t) => {
    const { master, socket } = await startMaster(t);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const hourNs = 3_600_000_000_000n;
    const records = [
      { ns: nowNs - 2n * hourNs, level: 2, message: "two hours old" },
      { ns: nowNs, level: 3, message: "fresh", data: Buffer.from([1, 2]) },
      { ns: nowNs - hourNs, level: 4, message: "an hour old, after a fresh one" },
    ];
    const worker = await rawConnect(t, socket);
    worker.socket.write(helloFrame({ name: "raw-1", pid: 4321 }));
    await worker.frame(T.WELCOME);
    worker.socket.write(batchFrame(1, records));
    await worker.ackAtLeast(1);
    const frames = await exchange(
      socket,
      encodeTailQuery({ ...QUERY, follow: false, last: 10, workers: ["raw-*"] }),
    );
    const name = Buffer.from("raw-1");
    const head = Buffer.alloc(6);
    head.writeUInt32LE(4321, 0);
    head.writeUInt16LE(name.length, 4);
    const count = Buffer.alloc(4);
    count.writeUInt32LE(3, 0);
    const body = Buffer.concat([head, name, count, ...records.map(recordBytes)]);
    assert.deepEqual(
      frames.map((f) => f.type),
      [MessageType.TAIL_RECORDS, MessageType.TAIL_LIVE],
    );
    assert.deepEqual(frames[0]!.frame.subarray(5), body);
    assert.equal(frames[0]!.frame.readUInt32LE(0), 1 + body.length);
    assert.deepEqual(await kept(socket, { sinceMs: 90 * 60_000, workers: ["raw-1"] }), [
      "fresh",
      "an hour old, after a fresh one",
    ]);
    assert.deepEqual(await kept(socket, { sinceMs: 60_000, workers: ["raw-1"] }), ["fresh"]);
    assert.equal(master.status().recordsReceived, 3);
    worker.socket.destroy(); // else shutdown waits for a goodbye this raw worker never sends
  });

  it("refuses a bad TAIL_QUERY, and any frame after it, with ERROR (protocol errors)", async (t) => {
    const { master, socket } = await startMaster(t);
    const body = Buffer.from(JSON.stringify({ ...QUERY, folow: true }));
    const bad = Buffer.concat([Buffer.from([body.length + 1, 0, 0, 0, MessageType.TAIL_QUERY]), body]);
    const refused = await exchange(socket, bad);
    assert.equal(refused.at(-1)?.type, MessageType.ERROR);
    assert.match(frameText(refused.at(-1)!.frame), /TAIL_QUERY has unknown field "folow"/);
    const unknown = Buffer.from([1, 0, 0, 0, 0x7f]);
    const after = await exchange(socket, encodeTailQuery(QUERY), unknown);
    assert.deepEqual(
      after.map((f) => f.type),
      [MessageType.TAIL_LIVE, MessageType.ERROR],
    );
    assert.match(frameText(after[1]!.frame), /tail client sent message type 0x7f/);
    assert.equal(master.status().protocolErrors, 2);
  });

  it("with tail: false, refuses tails with a reason (not a protocol error)", async (t) => {
    const { master, socket } = await startMaster(t, { tail: false });
    const frames = await exchange(socket, encodeTailQuery(QUERY));
    assert.deepEqual(
      frames.map((f) => f.type),
      [MessageType.ERROR],
    );
    assert.match(frameText(frames[0]!.frame), /does not serve tails/);
    assert.equal(master.status().protocolErrors, 0);
    assert.deepEqual(master.status().tails, { connected: [], skipped: 0 });
  });

  it("checks the tail option at construction", () => {
    const config = new LoggerConfig({ path: "ipc:///tmp/lmx-never/log.sock" });
    for (const [tail, says] of [
      [{ ring: -1 }, /Invalid tail\.ring: expected a whole number from 0 to 100000, got -1/],
      [{ ring: 100_001 }, /Invalid tail\.ring: expected a whole number from 0 to 100000, got 100001/],
      [{ maxQueueBytes: 0 }, /Invalid tail\.maxQueueBytes/],
      // Under a default batch, a tail reading at full speed would skip records.
      [{ maxQueueBytes: 1000 }, /Invalid tail\.maxQueueBytes: expected a whole number of at least 262144/],
      [{ ringBytes: 256 * 1024 - 1 }, /Invalid tail\.ringBytes: expected a whole number of at least 262144/],
      [{ ringBytes: 1.5 }, /Invalid tail\.ringBytes/],
      [{ maxTails: 0 }, /Invalid tail\.maxTails: expected a whole number from 1 to 1000, got 0/],
      [{ maxTails: 1001 }, /Invalid tail\.maxTails: expected a whole number from 1 to 1000, got 1001/],
      ["big", /Invalid tail: expected false or an object/],
    ] as const) {
      assert.throws(
        () => new MasterLogger(config, [], { tail: tail as never }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidConfigError);
          assert.match(error.message, says);
          return true;
        },
      );
    }
  });

  it("never drops the batch just queued: one larger than maxQueueBytes reaches the tail", async (t) => {
    const { master, socket } = await startMaster(t, { tail: { maxQueueBytes: 256 * 1024 } });
    const big = `big ${"x".repeat(300_000)}`;
    master.info(big);
    // Kept: the only item of a fresh queue.
    assert.deepEqual(await kept(socket, { last: 1 }), [big]);
    // Live, to a tail that is not reading yet: still the only batch in its queue.
    const stalled = await stalledTail(t, `ipc://${socket}`);
    master.info(big);
    void master.shutdown();
    const seen = await stalled.readToEnd();
    assert.equal(seen.skipped, 0);
    assert.ok(seen.records >= 1, JSON.stringify(seen));
  });

  it("serves at most tail.maxTails tails; one more is refused with a reason (not a protocol error)", async (t) => {
    const { master, socket } = await startMaster(t, { tail: { maxTails: 1 } });
    await stalledTail(t, `ipc://${socket}`);
    const frames = await exchange(socket, encodeTailQuery(QUERY));
    assert.deepEqual(
      frames.map((f) => f.type),
      [MessageType.ERROR],
    );
    assert.equal(
      frameText(frames[0]!.frame),
      "this master serves at most 1 tails at once (tail.maxTails); try again later",
    );
    assert.equal(master.status().protocolErrors, 0);
    assert.equal(master.status().tails.connected.length, 1);
  });

  it("copies a small batch that is a view of a larger read before queueing it, not one that fills its memory", () => {
    const frame = batchFrame(1, [{ ns: 5n, level: 4, message: "small" }]);
    const chunk = Buffer.allocUnsafeSlow(64 * 1024);
    frame.copy(chunk, 1000);
    const source = { name: "w", nameBytes: Buffer.from("w"), pid: 1 };
    const view = decodeBatch(chunk.subarray(1000, 1000 + frame.length), source).batch;
    const copy = owned(view);
    assert.notEqual(copy, view);
    assert.equal(copy.buffer.buffer.byteLength, frame.length, "owns exactly its frame, not a pooled slab");
    assert.deepEqual(copy.buffer, frame);
    assert.equal(copy.message(0), "small");
    assert.equal(copy.level(0), 4);
    assert.equal(copy.byteLength, view.byteLength);
    const whole = decodeBatch(Buffer.from(Uint8Array.from(frame).buffer), source).batch;
    assert.equal(owned(whole), whole);
  });

  it("ends a tail with its output's error when the output rejects", async (t) => {
    const { master, socket } = await startMaster(t);
    master.info("one record");
    const tail = openTail(
      socket,
      { ...QUERY, last: 10, follow: false },
      {
        records: () => Promise.reject(new Error("output failed")),
        skipped: () => {},
        live: () => {},
      },
    );
    await assert.rejects(tail.ended, /output failed/);
  });

  it("matches worker globs with * and ?", () => {
    const cases: [string, string, boolean][] = [
      ["api-*", "api-1", true],
      ["api-*", "api-", true],
      ["api-*", "web-1", false],
      ["*-?", "web-1", true],
      ["*-?", "web-10", false],
      ["a*b*c", "aXbYc", true],
      ["a*b*c", "aXbY", false],
      ["*", "", true],
      ["MASTER", "MASTER", true],
      ["master", "MASTER", false],
    ];
    for (const [pattern, name, expected] of cases)
      assert.equal(globMatch(pattern, name), expected, `${pattern} ~ ${name}`);
    assert.equal(valueEquals(-0, "0"), true);
    assert.equal(valueEquals(undefined, "undefined"), false);
  });

  it("refuses another user: the socket is 0600 (its directory made searchable for the test)", {
    skip: process.getuid?.() !== 0 && "needs root to run a client as another user",
  }, async (t) => {
    const { socket, dir } = await startMaster(t);
    chmodSync(dir, 0o755);
    const other = forkFixtureAs(t, "tail-client.js", { path: socket }, NOBODY);
    if (other === undefined) return;
    const ended = await nextMessage<{ error?: string; message?: string; cause?: string }>(other, "ended");
    assert.equal(ended.error, "NoMasterError");
    assert.equal(ended.cause, "EACCES");
    assert.match(ended.message!, /permission denied: only the master's own user may attach/);
  });

  it("a tail that stopped reading does not hold up shutdown: it is cut, the file gets everything", async (t) => {
    const dir = tempDir(t);
    const path = `ipc://${join(dir, "log.sock")}`;
    const file = join(dir, "app.log");
    // Ten minutes to drain: only the tail's own cut lets this test finish.
    const master = forkFixture(t, "master.js", { config: { path, shutdownTimeoutMs: 600_000 }, file });
    await nextMessage(master, "ready");
    const stalled = await stalledTail(t, path, { workers: ["w-1"] });
    const worker = forkFixture(t, "tail-worker.js", {
      config: { path, baseLevel: "DEBUG" },
      name: "w-1",
      count: 8000,
      messageBytes: 1000,
    });
    await nextMessage(worker, "done");
    master.kill("SIGTERM");
    assert.deepEqual(await exited(master), { code: 0, signal: null });
    // Reading again, the tail finds its connection ended (having got part of its queue at most).
    const seen = await stalled.readToEnd();
    assert.ok(seen.records + seen.skipped < 6000, JSON.stringify(seen));
    // DEBUG records stay below the master's default level (INFO): 3 of every 4 are written.
    assert.equal(readLines(file).filter((line) => line.includes("] w-1 - ")).length, 6000);
  });
});
