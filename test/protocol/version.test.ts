import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LoggerConfig, MasterLogger } from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import { helloFrame, rawConnect, T } from "../helpers/frames.js";
import { tempDir } from "../helpers/processes.js";

describe("protocol version", () => {
  for (const version of [2, 4]) {
    it(`a master refuses ${version === 2 ? "an older" : "a newer"} worker (version ${version}) with an error naming both versions`, async (t) => {
      const path = join(tempDir(t), "log.sock");
      const collect = new CollectHandler();
      const master = new MasterLogger(new LoggerConfig({ path: `ipc://${path}` }), [collect]);
      t.after(() => master.shutdown());
      await master.ready();
      const client = await rawConnect(t, path);
      client.socket.write(helloFrame({ version, name: "old-worker" }));
      const error = await client.frame(T.ERROR);
      const reason = `unsupported protocol version ${version} (this master speaks 3)`;
      assert.equal(error.toString("utf8", 5), reason);
      await client.closed;
      assert.ok(!client.frames.some((f) => f[4] === T.WELCOME), "no WELCOME for a worker of another version");
      await collect.until((records) =>
        records.some((r) => r.name === "MASTER" && r.message.includes(`protocol error: ${reason}`)),
      );
    });
  }
});
