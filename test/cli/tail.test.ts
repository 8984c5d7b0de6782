import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { queryStatus } from "../../src/index.js";
import { forkFixture, nextMessage, readLines, tempDir, waitFor } from "../helpers/processes.js";
import { expectedKeys } from "../helpers/tail-rule.js";
import { type Cli, runCli, spawnCli } from "./cli-helpers.js";

const WORKERS = ["api-1", "api-2", "web-1"];
const COUNT = 60;

interface Rig {
  path: string;
  file: string;
  master: Cli;
}

async function startMaster(t: TestContext): Promise<Rig> {
  const dir = tempDir(t);
  const path = `ipc://${join(dir, "log.sock")}`;
  const file = join(dir, "app.log");
  const master = spawnCli(t, ["master", "--path", path, "--file", file, "--level", "DEBUG"]);
  await master.waitFor("stderr", /listening on/);
  return { path, file, master };
}

/** Runs the workers to the end and waits until the file holds all their records. */
async function logAll(
  t: TestContext,
  rig: Rig,
  names = WORKERS,
  count = COUNT,
  messageBytes = 0,
): Promise<void> {
  const children = names.map((name) =>
    forkFixture(t, "tail-worker.js", {
      config: { path: rig.path, baseLevel: "DEBUG", flushIntervalMs: 20 },
      name,
      count,
      messageBytes,
    }),
  );
  await Promise.all(children.map((child) => nextMessage(child, "done")));
  await waitFor(
    () => workerLines(rig.file).length === names.length * count,
    20_000,
    "the file to hold every record",
  );
}

function workerLines(file: string): string[] {
  return readLines(file).filter((line) => !line.includes("] MASTER - "));
}

/** `name:i` of every JSON line, sorted. */
function keysOf(jsonLines: string): string[] {
  return jsonLines
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const record = JSON.parse(line) as { name: string; i: number };
      return `${record.name}:${record.i}`;
    })
    .sort();
}

async function kept(t: TestContext, rig: Rig, filters: string[]): Promise<string[]> {
  const result = await runCli(t, [
    "tail",
    "--path",
    rig.path,
    "--no-follow",
    "--json",
    "-n",
    "1000",
    ...filters,
  ]);
  assert.equal(result.code, 0, result.stderr);
  return keysOf(result.stdout);
}

describe("logmux tail", () => {
  it("prints what workers log to a tail started before them, and the kept records to one started after (-n)", async (t) => {
    const rig = await startMaster(t);
    const early = spawnCli(t, ["tail", "--path", rig.path, "-n", "0", "--worker", "*-?"]);
    await early.waitFor("stderr", /following .* \(Ctrl-C to stop\)/);
    await logAll(t, rig);
    const file = workerLines(rig.file);
    // Same formatter, same records, same routing order: the tail's lines are the file's lines.
    await waitFor(() => early.stdout().split("\n").length > file.length, 10_000, "the early tail's lines");
    assert.deepEqual(early.stdout().trimEnd().split("\n"), file);

    const late = await runCli(t, ["tail", "--path", rig.path, "--no-follow", "-n", "25", "--worker", "*-?"]);
    assert.equal(late.code, 0, late.stderr);
    assert.deepEqual(late.stdout.trimEnd().split("\n"), file.slice(-25));
    early.child.kill("SIGINT");
    assert.deepEqual(await early.exited(), { code: 130, signal: null }, "Ctrl-C exits 130, no crash");
    assert.doesNotMatch(early.stderr(), /Error|at /);
  });

  it("filters exactly: level, worker glob, field (also dotted), regex, and all of them at once", async (t) => {
    const rig = await startMaster(t);
    await logAll(t, rig);
    const expect = (keep: Parameters<typeof expectedKeys>[2]) => expectedKeys(WORKERS, COUNT, keep);
    assert.deepEqual(
      await kept(t, rig, ["--level", "WaRn"]),
      expect((r) => r.level >= 3),
      "--level warn (any case) is WARNING and up",
    );
    assert.deepEqual(
      await kept(t, rig, ["--level", "error", "--level", "warning"]),
      expect((r) => r.level >= 3),
    );
    assert.deepEqual(
      await kept(t, rig, ["--worker", "api-*"]),
      expect((_, name) => name.startsWith("api-")),
    );
    assert.deepEqual(
      await kept(t, rig, ["--worker", "web-1", "--worker", "api-2"]),
      expect((_, name) => name !== "api-1"),
    );
    assert.deepEqual(
      await kept(t, rig, ["--where", "reqId=r-1"]),
      expect((r) => r.fields.reqId === "r-1"),
    );
    assert.deepEqual(
      await kept(t, rig, ["--where", "user.id=3", "--where", "reqId=r-0"]),
      expect((r) => r.fields.user.id === 3 && r.fields.reqId === "r-0"),
    );
    assert.deepEqual(
      await kept(t, rig, ["--where", "i=7"]),
      expect((_, __, i) => i === 7),
      "a number as written",
    );
    assert.deepEqual(await kept(t, rig, ["--where", "nope=1"]), []);
    assert.deepEqual(
      await kept(t, rig, ["--grep", "record 1[0-9]$"]),
      expect((_, __, i) => i >= 10 && i < 20),
    );
    assert.deepEqual(
      await kept(t, rig, ["--level", "warn", "--worker", "api-*", "--where", "reqId=r-2", "--grep", "[05]$"]),
      expect(
        (r, name, i) => r.level >= 3 && name.startsWith("api-") && r.fields.reqId === "r-2" && i % 5 === 0,
      ),
    );
    // -n counts matching records: the newest 4 WARNING+ of web-1, in routing order.
    const four = await runCli(t, [
      "tail",
      "--path",
      rig.path,
      "--no-follow",
      "--json",
      "-n",
      "4",
      "--level",
      "warn",
      "--worker",
      "web-1",
    ]);
    const wanted = expect((r, name) => r.level >= 3 && name === "web-1").map((key) =>
      Number(key.split(":")[1]),
    );
    const newest = wanted.sort((a, b) => a - b).slice(-4);
    assert.deepEqual(
      four.stdout
        .trimEnd()
        .split("\n")
        .map((line) => (JSON.parse(line) as { i: number }).i),
      newest,
    );
    const coloured = await runCli(
      t,
      ["tail", "--path", rig.path, "--no-follow", "-n", "1", "--level", "error"],
      {
        env: { FORCE_COLOR: "1" },
      },
    );
    assert.match(
      coloured.stdout,
      /^\x1b\[31m.* \[ERROR\] (\S+) - \1 record \d+ .*\x1b\[0m\n$/,
      "ERROR in red",
    );
    const young = await kept(t, rig, ["--since", "10m", "--worker", "web-1"]);
    assert.deepEqual(
      young,
      expect((_, name) => name === "web-1"),
      "--since 10m: all of them",
    );
  });

  it("exits 1 with a clear message when the master stops, and when there is none", async (t) => {
    const rig = await startMaster(t);
    const tail = spawnCli(t, ["tail", "--path", rig.path]);
    await tail.waitFor("stderr", /following/);
    rig.master.child.kill("SIGTERM");
    assert.deepEqual(await tail.exited(), { code: 1, signal: null });
    assert.match(
      tail.stderr(),
      /logmux tail: the master at ipc:\/\/\S+ closed the connection \(it stopped or restarted\)\n$/,
    );
    // The master's last record reaches the tail before the connection ends.
    assert.match(tail.stdout(), /\[INFO\] MASTER - logmux master stopping on SIGTERM\n$/);
    const none = await runCli(t, ["tail", "--path", rig.path]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^logmux tail: no master is listening at \S+ \(no socket there\)\n$/);
  });

  it("exits 1 when the master is SIGKILLed, 143 on SIGTERM, and 0 when its output closes (| head)", async (t) => {
    const rig = await startMaster(t);
    const killed = spawnCli(t, ["tail", "--path", rig.path, "-n", "0"]);
    const terminated = spawnCli(t, ["tail", "--path", rig.path, "-n", "0"]);
    const headed = spawnCli(t, ["tail", "--path", rig.path, "-n", "0", "--worker", "w-*"]);
    await Promise.all([killed, terminated, headed].map((tail) => tail.waitFor("stderr", /following/)));

    terminated.child.kill("SIGTERM");
    assert.deepEqual(await terminated.exited(), { code: 143, signal: null });
    assert.doesNotMatch(terminated.stderr(), /Error|at /);

    // The reader goes away, as `head` does: the next line the tail writes meets EPIPE.
    headed.child.stdout!.destroy();
    await logAll(t, rig, ["w-1"], 20);
    assert.deepEqual(await headed.exited(), { code: 0, signal: null });
    assert.doesNotMatch(headed.stderr(), /cannot write|Error|at /);

    rig.master.child.kill("SIGKILL");
    assert.deepEqual(await killed.exited(), { code: 1, signal: null });
    assert.match(
      killed.stderr(),
      /logmux tail: the master at ipc:\/\/\S+ closed the connection \(it stopped or restarted\)\n$/,
    );
  });

  it("refuses bad flags with exit 2 and lists every flag with its default in --help", async (t) => {
    const help = await runCli(t, ["tail", "--help"]);
    assert.equal(help.code, 0);
    for (const flag of [
      "--path",
      "--level",
      "--worker",
      "--where",
      "--grep",
      "--json",
      "--format",
      "--lines",
      "--since",
      "--no-follow",
    ]) {
      const line = help.stdout
        .split("\n")
        .findIndex((l) => l.trimStart().startsWith(flag) || l.includes(`, ${flag}`));
      assert.ok(line >= 0, `${flag} is listed`);
      const block = help.stdout
        .split("\n")
        .slice(line, line + 4)
        .join("\n");
      assert.match(block, /default/, `${flag} says its default`);
    }
    for (const [args, says] of [
      [["--level", "loud"], /--level expects/],
      [["--where", "novalue"], /--where expects key=value/],
      [["--grep", "("], /--grep: /],
      [["--since", "10x"], /--since expects a duration/],
      [["-n", "ten"], /-n expects a whole number/],
    ] as const) {
      const result = await runCli(t, ["tail", ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, says);
    }
    const main = await runCli(t, ["--help"]);
    assert.match(main.stdout, /^ {2}tail {5}print a running master's records live/m);
  });

  it("a stalled tail does not change what the file gets; the master counts what it skipped", async (t) => {
    const rig = await startMaster(t);
    const { stalledTail } = await import("../helpers/raw-tail.js");
    const stalled = await stalledTail(t, rig.path, { workers: ["w-*"] });
    const names = ["w-1", "w-2"];
    const count = 6000;
    // 12,000 records of ~1 KiB: three times the tail's 4 MiB queue, with the socket not read.
    await logAll(t, rig, names, count, 1000);
    const lines = workerLines(rig.file);
    assert.equal(lines.length, names.length * count);
    assert.equal(
      new Set(lines.map((line) => / (w-\d record \d+) /.exec(line)?.[1])).size,
      names.length * count,
    );
    const status = await queryStatus(rig.path);
    assert.equal(status.tails.connected.length, 1);
    const [tail] = status.tails.connected;
    assert.ok(tail!.skipped > 0, `skipped ${tail!.skipped}`);
    assert.equal(status.tails.skipped, tail!.skipped);
    assert.equal(status.handlers[0]!.dropped, 0);
    // Read again, stop the master (it flushes the tail's queue, then ends it): every record is
    // either received or counted as skipped, exactly once.
    rig.master.child.kill("SIGTERM");
    const seen = await stalled.readToEnd();
    assert.equal(seen.records + seen.skipped, names.length * count, JSON.stringify(seen));
    assert.equal(seen.skipped, tail!.skipped, "the tail is told the same count, in TAIL_SKIPPED");
    assert.ok(seen.skipped > 0 && seen.records > 0);
  });

  it("a terminal too slow is told how many records it missed; shown + skipped is every record", async (t) => {
    const rig = await startMaster(t);
    const tail = spawnCli(t, ["tail", "--path", rig.path, "-n", "0", "--worker", "w-*"]);
    await tail.waitFor("stderr", /following/);
    // Nobody reads the tail's stdout: its pipe fills, its writes wait, it stops reading the master.
    tail.child.stdout!.pause();
    const names = ["w-1", "w-2"];
    const count = 6000;
    await logAll(t, rig, names, count, 1000);
    tail.child.stdout!.resume();
    rig.master.child.kill("SIGTERM");
    assert.equal((await tail.exited()).code, 1);
    const skips = [...tail.stderr().matchAll(/^… ([\d,]+) records skipped: terminal too slow$/gm)];
    assert.ok(skips.length > 0, tail.stderr());
    const skipped = skips.reduce((sum, m) => sum + Number(m[1]!.replaceAll(",", "")), 0);
    const shown = tail.stdout().trimEnd().split("\n").length;
    assert.equal(shown + skipped, names.length * count);
    assert.equal(workerLines(rig.file).length, names.length * count, "the file got every record");
  });
});
