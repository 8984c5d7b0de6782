// Acknowledgement and de-duplication across reconnects, spoken to the master with raw frames so
// the test controls exactly when a connection drops.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BaseLogHandler, LoggerConfig, type LogRecord, MasterLogger } from "../../src/index.js";
import { batchFrame, helloFrame, rawConnect, T } from "../helpers/frames.js";
import { tempDir } from "../helpers/processes.js";

/** Holds every push until the test opens the gate, like a slow disk. */
class GatedHandler extends BaseLogHandler {
  readonly messages: string[] = [];
  #open!: () => void;
  readonly gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  open(): void {
    this.#open();
  }
  async push(records: readonly LogRecord[]): Promise<void> {
    await this.gate;
    for (const record of records) if (record.name !== "MASTER") this.messages.push(record.message);
  }
}

const record = (message: string) => ({ level: 2, message });

describe("acknowledgements across reconnects", () => {
  it("a batch whose connection dropped before its handlers finished is acknowledged on the new connection, once", async (t) => {
    const dir = tempDir(t);
    const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}` });
    const gated = new GatedHandler();
    const master = new MasterLogger(config, [gated]);
    t.after(() => master.shutdown());
    await master.ready();
    const instanceId = randomBytes(8);

    const first = await rawConnect(t, config.socketPath);
    first.socket.write(helloFrame({ instanceId, name: "flaky" }));
    await first.frame(T.WELCOME);
    first.socket.write(batchFrame(1, [record("one"), record("two")]));
    // Wait until the master has the batch (it counts it) before dropping the connection.
    const deadline = Date.now() + 5000;
    while (master.workers()[0]?.recordsReceived !== 2) {
      assert.ok(Date.now() < deadline, "master never received the batch");
      await new Promise((resolve) => setImmediate(resolve));
    }
    first.socket.destroy();
    await first.closed;

    const second = await rawConnect(t, config.socketPath);
    second.socket.write(helloFrame({ instanceId, name: "flaky" }));
    const welcome = await second.frame(T.WELCOME);
    assert.equal(welcome.readBigUInt64LE(11), 0n, "nothing was committed yet");
    second.socket.write(batchFrame(1, [record("one"), record("two")]));
    gated.open();
    // Only the resent batch is outstanding: its ACK has to come from the first connection's dispatch.
    await second.ackAtLeast(1);
    second.socket.write(batchFrame(2, [record("three")]));
    await second.ackAtLeast(2);
    assert.deepEqual(gated.messages, ["one", "two", "three"]);
    assert.equal(master.workers()[0]?.recordsReceived, 3);
  });

  it("a reconnecting worker is told what is committed and its resent batches are not delivered twice", async (t) => {
    const dir = tempDir(t);
    const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}` });
    const gated = new GatedHandler();
    gated.open();
    const master = new MasterLogger(config, [gated]);
    t.after(() => master.shutdown());
    await master.ready();
    const instanceId = randomBytes(8);
    const first = await rawConnect(t, config.socketPath);
    first.socket.write(helloFrame({ instanceId }));
    await first.frame(T.WELCOME);
    first.socket.write(batchFrame(1, [record("a")]));
    first.socket.write(batchFrame(2, [record("b")]));
    await first.ackAtLeast(2);
    first.socket.destroy();
    await first.closed;
    const second = await rawConnect(t, config.socketPath);
    second.socket.write(helloFrame({ instanceId }));
    const welcome = await second.frame(T.WELCOME);
    assert.equal(welcome.readBigUInt64LE(11), 2n);
    // A worker that missed the ACK resends; the master acknowledges without delivering again.
    second.socket.write(batchFrame(2, [record("b")]));
    second.socket.write(batchFrame(3, [record("c")]));
    await second.ackAtLeast(3);
    assert.deepEqual(gated.messages, ["a", "b", "c"]);
  });
});
