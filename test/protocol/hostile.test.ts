// A real MasterLogger on a Unix socket, good workers logging while hostile raw clients misbehave.
// The master must close and report every bad connection, keep every good record, and stay small.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import {
  BaseLogHandler,
  LoggerConfig,
  type LoggerConfigOptions,
  type LogRecord,
  MasterLogger,
  WorkerLogger,
} from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import {
  batchFrame,
  heartbeatFrame,
  helloFrame,
  type RawClient,
  rawConnect,
  rawFrame,
  shutdownFrame,
  T,
  writeAll,
} from "../helpers/frames.js";
import { forkFixture, nextMessage, tempDir } from "../helpers/processes.js";

const TIMEOUT_MS = 1000;
const MILLION = 1_000_000;
/**
 * Allowed growth of this process's RSS and of its allocated Buffers (master, hostile clients and
 * their 22 MB of flood buffers) over the test. One 4 GiB allocation would break it.
 */
const RSS_BOUND_BYTES = 160 * 1024 * 1024;

function hello(name: string): Buffer {
  return helloFrame({ name, instanceId: randomBytes(8), pid: 4242 });
}

/** Bytes that can never open a valid conversation: the first frame's type is not HELLO/STATUS_QUERY. */
const strangerBytes = fc
  .oneof(
    fc.uint8Array({ minLength: 5, maxLength: 300 }),
    // A plausible length (often within the limit) so some frames complete and some stay partial.
    fc.tuple(fc.nat(600), fc.uint8Array({ minLength: 1, maxLength: 300 })).map(([length, rest]) => {
      const bytes = new Uint8Array(4 + rest.length);
      new DataView(bytes.buffer).setUint32(0, length, true);
      bytes.set(rest, 4);
      return bytes;
    }),
  )
  // 20 bytes is where truncatedStranger cuts its HELLO; its warning must stay the only such one.
  .filter((bytes) => bytes[4] !== T.HELLO && bytes[4] !== T.STATUS_QUERY && bytes.length !== 20);

async function trickle(client: RawClient, bytes: Buffer, everyMs: number): Promise<number> {
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < bytes.length && !client.socket.destroyed) client.socket.write(bytes.subarray(sent, ++sent));
  }, everyMs);
  await client.closed;
  clearInterval(timer);
  return sent;
}

function countBy(records: readonly LogRecord[]): Map<string, LogRecord[]> {
  const out = new Map<string, LogRecord[]>();
  for (const record of records) {
    const list = out.get(record.name) ?? [];
    list.push(record);
    out.set(record.name, list);
  }
  return out;
}

async function startMaster(
  t: TestContext,
  handler: BaseLogHandler,
  extra: { maxQueueBytes?: number; handlerStallMs?: number } = {},
): Promise<{ master: MasterLogger; options: LoggerConfigOptions; path: string }> {
  const dir = tempDir(t);
  const path = join(dir, "h.sock");
  const options: LoggerConfigOptions = { path: `ipc://${path}`, flushIntervalMs: 20 };
  const master = new MasterLogger(new LoggerConfig(options), [handler], {
    handshakeTimeoutMs: TIMEOUT_MS,
    frameTimeoutMs: TIMEOUT_MS,
    ...extra,
  });
  t.after(() => master.shutdown());
  await master.ready();
  return { master, options, path };
}

describe("a live master under hostile clients", () => {
  it("closes and reports every bad connection while good workers lose nothing", async (t) => {
    const collect = new CollectHandler();
    const { master, options, path } = await startMaster(t, collect);
    const rssBefore = process.memoryUsage().rss;
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
    let rssPeak = rssBefore;
    let arrayBuffersPeak = arrayBuffersBefore;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      rssPeak = Math.max(rssPeak, usage.rss);
      arrayBuffersPeak = Math.max(arrayBuffersPeak, usage.arrayBuffers);
    }, 20);
    t.after(() => clearInterval(sampler));

    // ---- good workers: three processes and one in this process, all logging meanwhile ----
    const children = [0, 1, 2].map((i) =>
      forkFixture(t, "worker.js", {
        config: options,
        name: `good${i}`,
        count: 3000,
        chunk: 100,
        withData: true,
      }),
    );
    // Listen now: a message sent while the scenarios run would otherwise be missed.
    const childrenDone = children.map((child) => nextMessage(child, "done"));
    const inproc = new WorkerLogger(new LoggerConfig(options), "good-inproc");
    t.after(() => inproc.shutdown());
    const inprocDone = (async () => {
      for (let i = 0; i < 2000; i++) {
        inproc.info(`good-inproc record ${i}`);
        if (i % 50 === 49) await nextTurn();
      }
      await inproc.shutdown();
    })();

    // ---- hostile clients, all at once ----
    const seed = Date.now();
    const strangers = fc.sample(strangerBytes, { numRuns: 24, seed });
    const expectedProtocolErrors = strangers.length + 7;

    const scenarios: Record<string, () => Promise<void>> = {
      async randomBytes() {
        await Promise.all(
          strangers.map(async (bytes) => {
            const client = await rawConnect(t, path);
            client.socket.end(Buffer.from(bytes));
            await client.closed;
            assert.ok(
              client.frames.some((f) => f[4] === T.ERROR),
              `no ERROR frame for ${Buffer.from(bytes).toString("hex")} (seed ${seed})`,
            );
          }),
        );
      },
      async truncatedStranger() {
        const client = await rawConnect(t, path);
        client.socket.end(hello("cut").subarray(0, 20));
        await client.closed;
      },
      async truncatedWorker() {
        const client = await rawConnect(t, path);
        const batch = batchFrame(1, [{ level: 2, message: "never whole" }]);
        client.socket.end(Buffer.concat([hello("h-trunc"), batch.subarray(0, 20)]));
        await client.frame(T.WELCOME);
        await client.closed;
      },
      async hugeLengthStranger() {
        const client = await rawConnect(t, path);
        client.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, T.BATCH, 0, 0, 0]));
        const error = await client.frame(T.ERROR);
        assert.match(
          error.toString("utf8", 5),
          /frame of 4294967295 bytes exceeds the limit before HELLO \(4096\)/,
        );
        await client.closed;
      },
      async hugeLengthWorker() {
        const client = await rawConnect(t, path);
        client.socket.write(Buffer.concat([hello("h-huge"), Buffer.from([0xff, 0xff, 0xff, 0xff, T.BATCH])]));
        // After HELLO the limit is maxFrameBytes, from the very next frame of the same chunk.
        assert.match(
          (await client.frame(T.ERROR)).toString("utf8", 5),
          /frame of 4294967295 bytes exceeds maxFrameBytes \(16777216\)/,
        );
        await client.closed;
      },
      async millionHeartbeats() {
        // A million valid 17-byte frames, then a batch: the master must parse them all, in order,
        // without buffering them, and still acknowledge the batch that follows.
        const client = await rawConnect(t, path);
        const one = heartbeatFrame(1n, 60_000);
        const flood = Buffer.allocUnsafe(one.length * MILLION);
        for (let at = 0; at < flood.length; at += one.length) one.copy(flood, at);
        client.socket.write(hello("h-million"));
        await writeAll(client.socket, flood);
        client.socket.write(batchFrame(1, [{ level: 2, message: "after a million frames", ns: 5n }]));
        await client.ackAtLeast(1);
        client.socket.end(shutdownFrame(1));
        await client.closed;
      },
      async millionJunkFrames() {
        // A million 5-byte frames of an unknown type: the first one closes the connection, and it
        // is reported once, not a million times.
        const client = await rawConnect(t, path);
        const flood = Buffer.alloc(5 * MILLION);
        for (let at = 0; at < flood.length; at += 5) rawFrame(0x7f).copy(flood, at);
        client.socket.write(hello("h-junk"));
        await Promise.race([writeAll(client.socket, flood), client.closed]);
        await client.closed;
      },
      async silent() {
        const client = await rawConnect(t, path);
        await client.closed;
        assert.match(
          (await client.frame(T.ERROR)).toString("utf8", 5),
          /no HELLO, STATUS_QUERY or TAIL_QUERY within 1000 ms/,
        );
      },
      async slowlorisWorker() {
        // After a valid HELLO, a BATCH claiming 1 MiB arrives one byte every 5 ms: progress, but
        // the frame cannot complete within frameTimeoutMs.
        const client = await rawConnect(t, path);
        client.socket.write(hello("h-slow"));
        await client.frame(T.WELCOME);
        const header = Buffer.alloc(1024 * 1024 + 4);
        header.writeUInt32LE(1024 * 1024, 0);
        header[4] = T.BATCH;
        const sent = await trickle(client, header, 5);
        assert.ok(sent < 1000, `closed only after ${sent} bytes`);
      },
      async slowlorisStranger() {
        const client = await rawConnect(t, path);
        await trickle(client, hello("s".repeat(256)), 5);
      },
    };
    const results = await Promise.allSettled(
      Object.entries(scenarios).map(([name, run]) => {
        const started = Date.now();
        return run().then(
          () => t.diagnostic(`${name}: ${Date.now() - started} ms`),
          (error: unknown) => {
            throw new Error(`scenario ${name}: ${(error as Error).message}`, { cause: error });
          },
        );
      }),
    );
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.deepEqual(
      failures.map((f) => (f.reason as Error).message),
      [],
    );

    await Promise.all([...childrenDone, inprocDone]);

    // ---- the good workers lost nothing, in order ----
    const byName = countBy(collect.fromWorkers());
    for (const name of ["good0", "good1", "good2"]) {
      const records = byName.get(name) ?? [];
      assert.equal(records.length, 3000, name);
      assert.deepEqual(
        records.map((r) => r.message),
        Array.from({ length: 3000 }, (_, i) => `${name} record ${i}`),
      );
      assert.ok(records.every((r, i) => r.data?.[0] === (i & 0xff)));
    }
    assert.equal(byName.get("good-inproc")?.length, 2000);
    assert.deepEqual(
      byName.get("h-million")?.map((r) => r.message),
      ["after a million frames"],
    );
    assert.deepEqual(
      [...byName.keys()].sort(),
      ["good-inproc", "good0", "good1", "good2", "h-million"],
      "nothing from a hostile client but the one valid batch",
    );

    // ---- every bad connection reported, each exactly once ----
    const isProtocolError = (m: string): boolean => m.includes(": protocol error: ");
    await collect.until(
      () => collect.masterMessages().filter(isProtocolError).length >= expectedProtocolErrors,
      5000,
      `${expectedProtocolErrors} protocol-error warnings`,
    );
    await collect.until(
      () => collect.masterMessages().some((m) => m.includes("h-trunc")),
      5000,
      "the truncated worker's warning",
    );
    const warnings = collect.records.filter((r) => r.name === "MASTER");
    assert.ok(
      warnings.every((r) => r.level === 3),
      `all WARNING: ${JSON.stringify(warnings.filter((r) => r.level !== 3).map((r) => r.message))}`,
    );
    const messages = warnings.map((r) => r.message);
    const protocolErrors = messages.filter(isProtocolError);
    assert.equal(protocolErrors.length, expectedProtocolErrors, protocolErrors.join("\n"));
    const count = (pattern: RegExp): number => messages.filter((m) => pattern.test(m)).length;
    assert.equal(
      count(/^Closed connection from an unidentified client: protocol error: /),
      strangers.length + 4,
    );
    assert.equal(count(/unidentified client: protocol error: connection ended 20 bytes into a frame$/), 1);
    assert.equal(count(/unidentified client: protocol error: frame of 4294967295 bytes exceeds/), 1);
    assert.equal(
      count(/^Closed connection from Worker h-huge \(pid 4242\): protocol error: frame of 4294967295/),
      1,
    );
    assert.equal(
      count(/^Closed connection from Worker h-junk \(pid 4242\): protocol error: unknown message type 0x7f$/),
      1,
    );
    assert.equal(count(/h-junk/), 1, "reported once, not per frame");
    assert.equal(
      count(
        /^Closed connection from Worker h-slow \(pid 4242\): protocol error: a frame stayed incomplete for 1000 ms$/,
      ),
      1,
    );
    assert.ok(
      count(/unidentified client: protocol error: no HELLO, STATUS_QUERY or TAIL_QUERY within 1000 ms$/) >= 1,
    );
    assert.equal(count(/^Worker h-trunc \(pid 4242\) appears dead: connection closed without shutdown$/), 1);
    assert.equal(count(/h-million|good/), 0, "no warning about a well-behaved client");

    // ---- still serving: a status query answers with the same counts ----
    const status = await rawConnect(t, path);
    status.socket.write(rawFrame(T.STATUS_QUERY));
    const reply = JSON.parse((await status.frame(T.STATUS)).toString("utf8", 5)) as ReturnType<
      MasterLogger["status"]
    >;
    assert.equal(reply.protocolErrors, expectedProtocolErrors);
    assert.equal(reply.recordsReceived, 3 * 3000 + 2000 + 1);
    assert.equal(master.isRunning(), true);
    status.socket.end();
    await status.closed;

    clearInterval(sampler);
    const rssAfter = process.memoryUsage().rss;
    t.diagnostic(
      `rss before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB, after ${(rssAfter / 2 ** 20).toFixed(0)} MiB; Buffers peak +${((arrayBuffersPeak - arrayBuffersBefore) / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.ok(
      rssPeak - rssBefore < RSS_BOUND_BYTES,
      `rss grew by ${((rssPeak - rssBefore) / 2 ** 20).toFixed(0)} MiB`,
    );
    // allocUnsafe(4 GiB) would not show in RSS until touched; allocated ArrayBuffer bytes do.
    assert.ok(
      arrayBuffersPeak - arrayBuffersBefore < RSS_BOUND_BYTES,
      `Buffers grew by ${((arrayBuffersPeak - arrayBuffersBefore) / 2 ** 20).toFixed(0)} MiB`,
    );
  });

  it("does not time out connections while backpressure stops it reading", async (t) => {
    // A handler held shut keeps the queue full, so the master pauses every socket. Time spent
    // paused must not count against the handshake or frame deadline.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    class GateHandler extends BaseLogHandler {
      readonly records: LogRecord[] = [];
      async push(records: readonly LogRecord[]): Promise<void> {
        await gate;
        this.records.push(...records);
      }
    }
    const handler = new GateHandler();
    t.after(() => open());
    const { master, path } = await startMaster(t, handler, { maxQueueBytes: 1, handlerStallMs: 60_000 });
    master.info("in flight");
    master.info("queued: the queue is now full, the master pauses");
    const silent = await rawConnect(t, path);
    const partial = await rawConnect(t, path);
    partial.socket.write(hello("paused").subarray(0, 10));
    let opened = false;
    let closedEarly = false;
    for (const client of [silent, partial]) {
      client.closed.then(() => {
        if (!opened) closedEarly = true;
      });
    }
    // Waiting out the deadline is the point here: three timeouts pass with nothing closed.
    await sleep(3 * TIMEOUT_MS);
    assert.equal(closedEarly, false, "closed while the master was not reading");
    assert.equal(master.status().protocolErrors, 0);
    opened = true;
    open();
    await Promise.all([silent.closed, partial.closed]);
    assert.equal(master.status().protocolErrors, 2);
  });
});
