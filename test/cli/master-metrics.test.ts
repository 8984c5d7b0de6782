// `logmux master --metrics`: the flag and the config key, as a user runs the built command.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exited, forkFixture, nextMessage, tempDir } from "../helpers/processes.js";
import { assertPromtoolAccepts, havePrometheusTool, scrape } from "../helpers/prometheus.js";
import { runCli, spawnCli } from "./cli-helpers.js";

describe("logmux master --metrics", () => {
  it("serves metrics at the address it prints, counting what workers logged", async (t) => {
    const dir = tempDir(t);
    const path = `ipc://${join(dir, "log.sock")}`;
    const master = spawnCli(t, [
      "master",
      "--path",
      path,
      "--file",
      join(dir, "app.log"),
      "--metrics",
      "127.0.0.1:0",
    ]);
    const [, url] = await master.waitFor("stderr", /; metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/);
    const worker = forkFixture(t, "worker.js", {
      config: { path, flushIntervalMs: 20 },
      name: "cli-w",
      count: 12,
    });
    await nextMessage(worker, "done");
    await exited(worker);
    const { status, body } = await scrape(url!);
    assert.equal(status, 200);
    assert.match(body, /^logmux_records_received_total\{worker="cli-w"\} 12$/m);
    assert.match(
      body,
      /^logmux_handler_records_written_total\{handler="FileLogHandler\(.+app\.log\)"\} \d+$/m,
    );
    if (havePrometheusTool(t, "promtool")) assertPromtoolAccepts(body);
    master.child.kill("SIGTERM");
    assert.equal((await master.exited()).code, 0);
  });

  it('takes "metrics" from --config, and a port alone listens on 127.0.0.1', async (t) => {
    const dir = tempDir(t);
    const config = join(dir, "master.json");
    writeFileSync(
      config,
      JSON.stringify({ path: `ipc://${join(dir, "log.sock")}`, console: true, metrics: "0" }),
    );
    const master = spawnCli(t, ["master", "--config", config]);
    const [, url] = await master.waitFor("stderr", /; metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/);
    assert.equal((await scrape(url!)).status, 200);
    master.child.kill("SIGTERM");
    assert.equal((await master.exited()).code, 0);
  });

  const refused: [string[], RegExp][] = [
    [["--metrics", "nope"], /--metrics: expected HOST:PORT such as 127\.0\.0\.1:9464.*got "nope"/],
    [["--metrics", ":9464"], /--metrics: expected HOST:PORT/],
    [["--metrics", "127.0.0.1:70000"], /--metrics: expected a whole number from 0 to 65535, got 70000/],
  ];
  for (const [flags, message] of refused) {
    it(`refuses ${flags.join(" ")} with exit 2, naming the flag`, async (t) => {
      const dir = tempDir(t);
      const result = await runCli(t, [
        "master",
        "--path",
        `ipc://${join(dir, "log.sock")}`,
        "--console",
        ...flags,
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    });
  }

  it('refuses a "metrics" key that is not a string, naming the key', async (t) => {
    const dir = tempDir(t);
    const config = join(dir, "master.json");
    writeFileSync(config, JSON.stringify({ console: true, metrics: 9464 }));
    const result = await runCli(t, ["master", "--config", config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /"metrics" in .*master\.json must be a string, got 9464/);
  });

  it("exits 1 with the address when the metrics port is taken", async (t) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as { port: number }).port;
    const dir = tempDir(t);
    const result = await runCli(t, [
      "master",
      "--path",
      `ipc://${join(dir, "log.sock")}`,
      "--console",
      "--metrics",
      `127.0.0.1:${port}`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`^logmux master: cannot serve metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`, "m"),
    );
  });
});
