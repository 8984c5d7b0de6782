// `logmux master` and log rotation, as an operator runs them: the real logrotate (create,
// delaycompress, a postrotate that sends SIGHUP) while workers log, and the --rotate-* flags.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { accessSync, chmodSync, constants, readFileSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { gunzipSync } from "node:zlib";
import { assertExactlyOnceInOrder } from "../helpers/delivery.js";
import { forkFixture, nextMessage, tempDir, waitFor } from "../helpers/processes.js";
import { assertGzipAccepts, linesOf, readRotatedLog, rotatedNames } from "../helpers/rotated.js";
import { runCli, spawnCli } from "./cli-helpers.js";

const WORKERS = 4;
const PER_WORKER = 20_000;

/** logrotate lives in /usr/sbin, which a non-root PATH often lacks. */
function findLogrotate(t: TestContext): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    const candidate = join(dir, "logrotate");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  const hint = "logrotate not found: install it (apt-get install -y logrotate; .ci/run does)";
  if (process.env.CI) assert.fail(`${hint}; CI must run the logrotate test`);
  t.skip(hint);
  return undefined;
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** Each worker's record numbers in the order the given texts (oldest first) hold them. */
function byWorker(texts: string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of texts.flatMap(linesOf)) {
    const match = / \[INFO\] (w\d) - w\d record (\d+)$/.exec(line);
    if (match === null) {
      assert.match(line, / MASTER - /, `neither a record nor the master's: ${line}`);
      continue;
    }
    const list = out.get(match[1]!) ?? [];
    list.push(Number(match[2]));
    out.set(match[1]!, list);
  }
  return out;
}

const workerLineCount = (text: string): number =>
  linesOf(text).filter((l) => !l.includes(" MASTER - ")).length;

describe("logmux master with the real logrotate", () => {
  it("create + delaycompress + postrotate SIGHUP, twice while 4 workers log: every record exactly once across the three files", async (t) => {
    const logrotate = findLogrotate(t);
    if (logrotate === undefined) return;
    // tempDir is 0700 and ours: logrotate refuses a log directory others can write to.
    const dir = tempDir(t);
    const path = `ipc://${join(dir, "log.sock")}`;
    const file = join(dir, "app.log");
    const master = spawnCli(t, ["master", "--path", path, "--file", file]);
    await master.waitFor("stderr", /listening on/);
    const conf = join(dir, "logrotate.conf");
    writeFileSync(
      conf,
      `${file} {\n  rotate 5\n  create 0600\n  compress\n  delaycompress\n  missingok\n` +
        `  postrotate\n    kill -HUP ${master.child.pid}\n  endscript\n}\n`,
    );
    // logrotate ignores a config that anyone but its owner can write.
    chmodSync(conf, 0o644);
    const state = join(dir, "logrotate.state");

    const workers = Array.from({ length: WORKERS }, (_, i) =>
      // Paced (a few seconds each), so both rotations fall while every worker is logging.
      forkFixture(t, "worker.js", {
        config: { path, flushIntervalMs: 20 },
        name: `w${i}`,
        count: PER_WORKER,
        chunk: 100,
        intervalMs: 10,
      }),
    );
    const done = workers.map((w) => nextMessage<{ dropped: number }>(w, "done"));
    const rotations = [/reopened .*app\.log \(SIGHUP\)/, /reopened [\s\S]*reopened .*app\.log \(SIGHUP\)/];
    for (const reopened of rotations) {
      // No event says the file has grown: its size does. A tenth of the stream per rotation.
      await waitFor(
        () => (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 400_000,
        30_000,
        "app.log to grow",
      );
      const result = await run(logrotate, ["-f", "-s", state, conf]);
      assert.equal(result.code, 0, `logrotate: ${result.output}`);
      await master.waitFor("stderr", reopened);
    }
    for (const result of await Promise.all(done)) assert.equal(result.dropped, 0);
    master.child.kill("SIGTERM");
    assert.deepEqual(await master.exited(), { code: 0, signal: null });

    // logrotate made app.log.1 (first rotation) into app.log.2.gz at the second, with its gzip.
    assertGzipAccepts(`${file}.2.gz`);
    const texts = [
      gunzipSync(readFileSync(`${file}.2.gz`)).toString("utf8"),
      readFileSync(`${file}.1`, "utf8"),
      readFileSync(file, "utf8"),
    ];
    const records = byWorker(texts);
    for (let i = 0; i < WORKERS; i++) assertExactlyOnceInOrder(records.get(`w${i}`), PER_WORKER, `w${i}`);
    const counts = texts.map(workerLineCount);
    console.log(`# logrotate twice mid-stream: ${counts.join(" + ")} = ${WORKERS * PER_WORKER} records`);
    assert.ok(
      counts.every((n) => n > 0),
      `every file holds records: ${counts.join(", ")}`,
    );
    // The new file is the one logrotate created (its mode, not the master's 0640), appended to.
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(texts[2]!, /MASTER - Reopened .*app\.log on SIGHUP/);
  });
});

describe("logmux master --rotate-*", () => {
  it("--rotate-size --rotate-keep --rotate-compress: keeps that many gzipped files, the newest, every line whole", async (t) => {
    const dir = tempDir(t);
    const path = `ipc://${join(dir, "log.sock")}`;
    const file = join(dir, "app.log");
    const master = spawnCli(t, [
      "master",
      "--path",
      path,
      "--file",
      file,
      "--rotate-size",
      "16KB",
      "--rotate-keep",
      "3",
      "--rotate-compress",
    ]);
    await master.waitFor("stderr", /listening on/);
    assert.match(master.stderr(), /file \S+app\.log, rotated at 16KB, keeping 3, gzipped/);
    const count = 5000;
    const worker = forkFixture(t, "worker.js", {
      config: { path, flushIntervalMs: 20 },
      name: "w0",
      count,
      // Paced, so the master gets many small slices: ~250 KB of lines make a dozen rotations.
      chunk: 50,
      intervalMs: 5,
    });
    await nextMessage(worker, "done");
    master.child.kill("SIGTERM");
    assert.deepEqual(await master.exited(), { code: 0, signal: null });

    const names = rotatedNames(dir);
    assert.equal(names.length, 3, names.join(", "));
    for (const name of names) assert.match(name, /^app\.\d{4}-\d\d-\d\d\.\d{3}\.log\.gz$/);
    const indexes = byWorker(readRotatedLog(dir).map((p) => p.text)).get("w0") ?? [];
    // The oldest files were deleted: what is left is the end of the stream, whole and in order.
    const first = indexes[0]!;
    assert.ok(first > 0, "the oldest rotated files are gone");
    assert.deepEqual(
      indexes,
      Array.from({ length: count - first }, (_, k) => first + k),
    );
  });

  it("refuses bad rotation settings, naming the flag or config key and what it accepts (exit 2)", async (t) => {
    const dir = tempDir(t);
    const base = ["master", "--path", `ipc://${join(dir, "log.sock")}`];
    const file = ["--file", join(dir, "app.log")];
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ file: join(dir, "app.log"), rotateSize: "1MB", rotateKeep: 0 }));
    const cases: [string[], RegExp][] = [
      [
        [...file, "--rotate-size", "10XB"],
        /--rotate-size: expected a number of bytes.*units B, KB, MB, GB.*got "10XB"/,
      ],
      [
        [...file, "--rotate-interval", "1w"],
        /--rotate-interval: expected .*"1d", "6h", "30m", "90s"; got "1w"/,
      ],
      [
        [...file, "--rotate-size", "1MB", "--rotate-keep", "ten"],
        /--rotate-keep: expected a whole number.*got "ten"/,
      ],
      [[...file, "--rotate-keep", "3"], /--rotate-keep needs a moment to rotate at: give --rotate-size/],
      [["--console", "--rotate-size", "1MB"], /--rotate-size applies to --file, which is not given/],
      [["--config", config], /"rotateKeep" in \S+config\.json: expected a whole number .*got 0/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(t, [...base, ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(" "));
    }
  });
});
