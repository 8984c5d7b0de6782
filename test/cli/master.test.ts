import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { type MasterStatus, queryStatus } from "../../src/index.js";
import { exited, forkFixture, nextMessage, readLines, tempDir, waitFor } from "../helpers/processes.js";
import { type Cli, runCli, spawnCli, until } from "./cli-helpers.js";

interface Rig {
  dir: string;
  path: string;
  file: string;
  master: Cli;
}

async function startMaster(t: TestContext, extra: string[] = []): Promise<Rig> {
  const dir = tempDir(t);
  const path = `ipc://${join(dir, "log.sock")}`;
  const file = join(dir, "app.log");
  const master = spawnCli(t, ["master", "--path", path, "--file", file, ...extra]);
  await master.waitFor("stderr", /listening on/);
  return { dir, path, file, master };
}

/** A worker fixture that logs `count` records and then waits for commands. */
async function stayingWorker(
  t: TestContext,
  path: string,
  name: string,
  count: number,
  config: object = {},
): Promise<ChildProcess> {
  const child = forkFixture(t, "worker.js", {
    config: { path, flushIntervalMs: 50, ...config },
    name,
    count,
    end: "stay",
  });
  await nextMessage(child, "ready");
  return child;
}

async function statusWhen(
  path: string,
  ok: (s: MasterStatus) => boolean,
  what: string,
): Promise<MasterStatus> {
  let last: MasterStatus | undefined;
  await until(
    async () => {
      last = await queryStatus(path, 1000);
      return ok(last);
    },
    10_000,
    what,
  );
  return last!;
}

const workerLines = (file: string, name: string): string[] =>
  readLines(file).filter((line) => line.includes(` ${name} - `));

describe("logmux master and logmux status, as a user runs them", () => {
  it("status prints workers and handlers as a table, and the raw status with --json", async (t) => {
    const rig = await startMaster(t);
    const alpha = await stayingWorker(t, rig.path, "alpha", 10);
    const beta = await stayingWorker(t, rig.path, "beta", 7);
    await statusWhen(
      rig.path,
      (s) => s.recordsReceived === 17 && s.workers.every((w) => w.lastHeartbeat !== null),
      "both workers' records",
    );

    const table = await runCli(t, ["status", "--path", rig.path]);
    assert.equal(table.code, 0, table.stderr);
    const out = table.stdout;
    assert.match(out, /uptime \S+, records received 17, protocol errors 0/);
    assert.match(out, /workers: 2 connected, 2 known/);
    assert.match(out, /^\s+NAME\s+PID\s+STATE\s+LAST HEARTBEAT\s+RECORDS\s+DROPS$/m);
    assert.match(
      out,
      new RegExp(`^\\s+alpha\\s+${alpha.pid}\\s+connected\\s+\\d+(\\.\\d)?s ago\\s+10\\s+0$`, "m"),
    );
    assert.match(
      out,
      new RegExp(`^\\s+beta\\s+${beta.pid}\\s+connected\\s+\\d+(\\.\\d)?s ago\\s+7\\s+0$`, "m"),
    );
    assert.match(out, /^\s+NAME\s+QUEUED\s+DELIVERED\s+DROPPED\s+FAILURES\s+STALLED$/m);
    assert.match(out, /^\s+FileLogHandler\s+0 \(0 B\)\s+\d+\s+0\s+0\s+no$/m);

    const json = await runCli(t, ["status", "--path", rig.path, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout) as MasterStatus;
    assert.equal(status.path, rig.path);
    assert.equal(status.pid, rig.master.child.pid);
    assert.equal(status.recordsReceived, 17);
    const byName = new Map(status.workers.map((w) => [w.name, w]));
    assert.deepEqual([...byName.keys()].sort(), ["alpha", "beta"]);
    assert.equal(byName.get("alpha")!.pid, alpha.pid);
    assert.equal(byName.get("alpha")!.recordsReceived, 10);
    assert.equal(byName.get("beta")!.state, "connected");
    assert.equal(status.handlers.length, 1);
    assert.equal(status.handlers[0]!.name, "FileLogHandler");
    // 17 worker records plus the master's own "started" line.
    assert.ok(status.handlers[0]!.delivered >= 18, `delivered ${status.handlers[0]!.delivered}`);
  });

  it("SIGHUP after a rename: earlier records stay in the old file, later ones go to the new file", async (t) => {
    const rig = await startMaster(t);
    const worker = await stayingWorker(t, rig.path, "rot", 100);
    await waitFor(() => workerLines(rig.file, "rot").length === 100, 10_000, "100 records in app.log");

    const rotated = `${rig.file}.1`;
    renameSync(rig.file, rotated); // what logrotate does before postrotate
    rig.master.child.kill("SIGHUP");
    await rig.master.waitFor("stderr", /reopened .*app\.log \(SIGHUP\)/);

    worker.send({ type: "log", count: 50 });
    await nextMessage(worker, "flushed");
    await waitFor(() => workerLines(rig.file, "rot").length === 50, 10_000, "50 records in the new app.log");

    const numbers = (lines: string[]): number[] =>
      lines.map((line) => Number(/rot record (\d+)$/.exec(line)![1]));
    const old = numbers(workerLines(rotated, "rot"));
    const fresh = numbers(workerLines(rig.file, "rot"));
    assert.deepEqual(
      old,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(
      fresh,
      Array.from({ length: 50 }, (_, i) => 100 + i),
    );
    assert.match(readLines(rig.file)[0]!, /MASTER - Reopened .*app\.log on SIGHUP$/);

    worker.send({ type: "shutdown" });
    await nextMessage(worker, "done");
    rig.master.child.kill("SIGTERM");
    assert.deepEqual(await rig.master.exited(), { code: 0, signal: null });
  });

  it("SIGTERM drains: records still held by the workers are written, then exit 0", async (t) => {
    const rig = await startMaster(t);
    // A long flush interval keeps records in the workers until the master's GOODBYE (all but
    // each worker's first batch, which is small and goes out as soon as it fills).
    const names = ["d1", "d2", "d3"];
    const workers = await Promise.all(
      names.map((name) => stayingWorker(t, rig.path, name, 500, { flushIntervalMs: 600_000 })),
    );
    const before = await statusWhen(
      rig.path,
      (s) => s.workers.filter((w) => w.connected).length === 3,
      "three connected workers",
    );
    assert.ok(
      before.recordsReceived < 1500 / 2,
      `the workers still hold most records: ${before.recordsReceived} received`,
    );

    rig.master.child.kill("SIGTERM");
    assert.deepEqual(await rig.master.exited(), { code: 0, signal: null });
    assert.match(rig.master.stderr(), /SIGTERM: draining/);
    assert.match(rig.master.stderr(), /stopped/);
    for (const name of names) assert.equal(workerLines(rig.file, name).length, 500, name);
    assert.ok(readLines(rig.file).some((line) => / MASTER - logmux master stopping on SIGTERM$/.test(line)));
    for (const worker of workers) worker.kill("SIGKILL");
    await Promise.all(workers.map((worker) => exited(worker)));
  });

  it("reads settings from --config, and flags override the file", async (t) => {
    const dir = tempDir(t);
    const path = `ipc://${join(dir, "log.sock")}`;
    const file = join(dir, "cfg.log");
    const config = join(dir, "master.json");
    writeFileSync(
      config,
      JSON.stringify({ path, file, level: "ERROR", format: "%(levelname)s|%(name)s|%(message)s" }),
    );
    const master = spawnCli(t, ["master", "--config", config, "--level", "WARNING"]);
    await master.waitFor("stderr", /listening on .*log\.sock.*level WARNING/);
    const worker = forkFixture(t, "worker.js", {
      config: { path, baseLevel: "INFO" },
      name: "cfg",
      count: 9,
      levels: [2, 3, 4],
    });
    await nextMessage(worker, "done");
    master.child.kill("SIGTERM");
    assert.deepEqual(await master.exited(), { code: 0, signal: null });
    // INFO is below the --level WARNING that overrode the file's ERROR; the file's format applies.
    assert.deepEqual(readLines(file), [
      "WARNING|cfg|cfg record 1",
      "ERROR|cfg|cfg record 2",
      "WARNING|cfg|cfg record 4",
      "ERROR|cfg|cfg record 5",
      "WARNING|cfg|cfg record 7",
      "ERROR|cfg|cfg record 8",
    ]);
  });

  it("says which outputs are on without ever printing a webhook URL or token", async (t) => {
    const secrets = ["DISCORDSECRET", "SLACKSECRET", "TGSECRET"];
    const rig = await startMaster(t, [
      "--discord",
      "https://discord.com/api/webhooks/1234/DISCORDSECRET",
      "--slack",
      "https://hooks.slack.com/services/T000/B000/SLACKSECRET",
      "--telegram",
      "123456:TGSECRET:-100200300",
    ]);
    const banner = rig.master.stderr();
    assert.match(banner, /discord: enabled; telegram: enabled; slack: enabled; alerts from WARNING/);
    // No record at WARNING or above is logged here, so nothing is sent anywhere.
    rig.master.child.kill("SIGTERM");
    assert.deepEqual(await rig.master.exited(), { code: 0, signal: null });
    const status = rig.master.stdout() + rig.master.stderr() + readLines(rig.file).join("\n");
    for (const secret of secrets) assert.ok(!status.includes(secret), `${secret} was printed`);
  });

  it("a second master on a path in use exits 1 and says so", async (t) => {
    const rig = await startMaster(t);
    const second = await runCli(t, ["master", "--path", rig.path, "--file", join(rig.dir, "other.log")]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /cannot listen on .*log\.sock: .*in use/);
    rig.master.child.kill("SIGTERM");
    assert.equal((await rig.master.exited()).code, 0);
  });
});
