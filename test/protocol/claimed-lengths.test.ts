// A frame's length field is a claim, not a promise: what the master spends on a frame must follow
// the bytes a peer has sent, and a peer that has not said who it is may claim very little. The
// master runs in its own process so that its memory is measured apart from the clients'.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { LoggerConfig, WorkerLogger } from "../../src/index.js";
import { helloFrame, rawConnect, T } from "../helpers/frames.js";
import { forkFixture, nextMessage, readLines, tempDir, waitFor } from "../helpers/processes.js";

const MiB = 1024 * 1024;
/** The default maxFrameBytes: the most any length field may claim once a peer is identified. */
const MAX_FRAME_BYTES = 16 * MiB;
/**
 * Strangers opened at once. Before the fix each one's 5 bytes reserved 16 MiB: 64 of them 1 GiB,
 * plain to see, and affordable on a test machine.
 */
const STRANGERS = 64;

interface Memory {
  rss: number;
  arrayBuffers: number;
  peakRss: number;
  peakArrayBuffers: number;
  protocolErrors: number;
}

/** Current memory of the forked master, and its peaks since the previous call. */
function memory(child: ChildProcess): Promise<Memory> {
  const reply = nextMessage<Memory>(child, "memory");
  child.send({ type: "memory" });
  return reply;
}

async function startMaster(t: TestContext): Promise<{ child: ChildProcess; path: string; file: string }> {
  const dir = tempDir(t);
  const path = join(dir, "m.sock");
  const file = join(dir, "out.log");
  const child = forkFixture(t, "master.js", {
    config: { path: `ipc://${path}` },
    file,
    // Short enough that a master which does not refuse the strangers closes them itself soon.
    master: { handshakeTimeoutMs: 3000 },
    memory: true,
  });
  await nextMessage(child, "ready");
  return { child, path, file };
}

/** The first 5 bytes of a BATCH whose length field claims the most the master would ever take. */
function hugeClaim(): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(MAX_FRAME_BYTES, 0);
  head[4] = T.BATCH;
  return head;
}

const mib = (bytes: number): string =>
  Math.abs(bytes) < MiB ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / MiB).toFixed(1)} MiB`;

describe("a master's memory follows the bytes peers send, not the lengths they claim", () => {
  it(`closes ${STRANGERS} strangers whose first frame claims 16 MiB, without reserving it`, async (t) => {
    const { child, path, file } = await startMaster(t);
    const before = await memory(child);
    const clients = await Promise.all(Array.from({ length: STRANGERS }, () => rawConnect(t, path)));
    for (const client of clients) client.socket.write(hugeClaim());
    await Promise.all(clients.map((client) => client.closed));
    const after = await memory(child);
    const growth = after.peakArrayBuffers - before.arrayBuffers;
    t.diagnostic(
      `master with ${STRANGERS} strangers: arrayBuffers peak +${mib(growth)}, RSS peak +${mib(after.peakRss - before.rss)}`,
    );
    // 4 MiB is far below one stranger's claim, let alone 64; it leaves room for the master's own
    // buffers (socket reads, its warnings on their way to the file).
    assert.ok(growth < 4 * MiB, `arrayBuffers grew by ${mib(growth)} for ${STRANGERS} 5-byte frames`);

    const errors = await Promise.all(clients.map((client) => client.frame(T.ERROR)));
    for (const error of errors) {
      assert.match(
        error.toString("utf8", 5),
        /frame of 16777216 bytes exceeds the limit before HELLO \(4096\)/,
      );
    }
    assert.equal(after.protocolErrors - before.protocolErrors, STRANGERS);
    await waitFor(
      () =>
        readLines(file).filter((line) =>
          line.includes("Closed connection from an unidentified client: protocol error: frame of 16777216"),
        ).length === STRANGERS,
      10_000,
      `${STRANGERS} warnings in the log`,
    );
  });

  it("holds kilobytes for an identified worker that claims 16 MiB and sends 1 KiB, and still takes a 4 MiB record", async (t) => {
    const { child, path, file } = await startMaster(t);
    const before = await memory(child);
    const client = await rawConnect(t, path);
    // One write, so the master reads HELLO, the claim and its 1 KiB in one chunk: WELCOME then
    // means it has pushed all of it through its reader.
    client.socket.write(
      Buffer.concat([
        helloFrame({ name: "claimer", instanceId: randomBytes(8) }),
        hugeClaim(),
        Buffer.alloc(1024),
      ]),
    );
    await client.frame(T.WELCOME);
    const held = await memory(child);
    const growth = held.peakArrayBuffers - before.arrayBuffers;
    t.diagnostic(`master holding a 16 MiB claim with 1 KiB of it: arrayBuffers peak +${mib(growth)}`);
    assert.ok(growth < 2 * MiB, `arrayBuffers grew by ${mib(growth)} for 1 KiB of a 16 MiB frame`);
    assert.equal(held.protocolErrors, before.protocolErrors, "the claim itself is legal");

    // A real worker's 4 MiB record travels as one frame of over 4 MiB, assembled from many reads.
    const worker = new WorkerLogger(new LoggerConfig({ path: `ipc://${path}` }), "big");
    t.after(() => worker.shutdown());
    const message = `big record ${"x".repeat(4 * MiB)}`;
    worker.info(message);
    await worker.shutdown();
    await waitFor(
      () => readLines(file).some((line) => line.includes(message)),
      10_000,
      "the 4 MiB record in the log",
    );
    assert.equal((await memory(child)).protocolErrors, before.protocolErrors);
  });
});
