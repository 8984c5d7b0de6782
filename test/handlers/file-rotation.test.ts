// FileLogHandler's own rotation, the handler alone on real files: options, where a rotation falls,
// names, retention, gzip (read back with node:zlib and checked by the real gzip), and the timers.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { localDate } from "../../src/handlers/rotation/naming.js";
import { parseInterval, parseSize } from "../../src/handlers/rotation/options.js";
import { kRotationClock, nextLocalMidnight } from "../../src/handlers/rotation/rotator.js";
import { FileLogHandler, InvalidConfigError, type LogRecord } from "../../src/index.js";
import { exited, forkFixture, nextMessage, stderrOf, tempDir, waitFor } from "../helpers/processes.js";
import {
  assertGzipAccepts,
  linesOf,
  readRotatedLog,
  rotatedNames,
  rotationSlice,
} from "../helpers/rotated.js";

/** With its newline. */
const LINE_BYTES = 40;
const SLICE = 10;
/** Above the largest pid_max Linux allows (2^22): no process has it. */
const DEAD_PID = 2 ** 22 + 1;

/** Slice `s`: SLICE lines "s<slice> l<line> xxx…", each LINE_BYTES long with its newline. */
const slice = (s: number): LogRecord[] => rotationSlice(s, LINE_BYTES, SLICE);

function open(t: TestContext, dir: string, options: ConstructorParameters<typeof FileLogHandler>[1]) {
  const handler = new FileLogHandler(join(dir, "app.log"), { format: "%(message)s", ...options });
  t.after(() => handler.close());
  return handler;
}

async function pushSlices(handler: FileLogHandler, from: number, count: number): Promise<void> {
  for (let s = from; s < from + count; s++) await handler.push(slice(s));
}

/** Every line of every part, oldest file first, must be exactly slices 0..count-1 in order. */
function assertAllInOrder(dir: string, count: number): void {
  const all = readRotatedLog(dir).flatMap((part) => linesOf(part.text));
  const expected = Array.from({ length: count }, (_, s) => slice(s).map((r) => r.message)).flat();
  assert.deepEqual(all, expected);
}

describe("FileLogHandler rotate options", () => {
  it("rejects a bad rotate at construction, naming the field and what it accepts, before creating anything", (t) => {
    const dir = tempDir(t);
    const cases: [unknown, string, RegExp][] = [
      ["100MB", "rotate", /expected an object such as \{ size: "100MB", keep: 14 \}, got "100MB"/],
      [{}, "rotate", /at least one of size, interval, atMidnight: true/],
      [{ keep: 3 }, "rotate", /at least one of size, interval, atMidnight/],
      [{ size: "1MB", maxFiles: 3 }, "rotate", /unknown key "maxFiles"; accepted keys: size, interval/],
      [{ size: "100XB" }, "rotate.size", /units B, KB, MB, GB; 1 KB = 1024 B.*got "100XB"/],
      [{ size: 0 }, "rotate.size", /at least 1 byte; got 0/],
      [{ size: -5 }, "rotate.size", /got -5/],
      [{ size: "MB" }, "rotate.size", /got "MB"/],
      [{ interval: "1x" }, "rotate.interval", /"1d", "6h", "30m", "90s"; got "1x"/],
      [{ interval: 500 }, "rotate.interval", /at least 1000/],
      [{ interval: "1D" }, "rotate.interval", /got "1D"/],
      [{ size: 10, keep: 0 }, "rotate.keep", /at least 1, or Infinity to keep them all; got 0/],
      [{ size: 10, keep: 2.5 }, "rotate.keep", /got 2.5/],
      [{ size: 10, compress: "yes" }, "rotate.compress", /expected true or false, got "yes"/],
      [{ atMidnight: 1 }, "rotate.atMidnight", /expected true or false, got 1/],
    ];
    for (const [rotate, field, message] of cases) {
      const path = join(dir, "sub", "app.log");
      assert.throws(
        () => new FileLogHandler(path, { rotate: rotate as never }),
        (error: unknown) =>
          error instanceof InvalidConfigError && error.field === field && message.test(error.message),
        `rotate ${JSON.stringify(rotate)}`,
      );
      assert.equal(existsSync(join(dir, "sub")), false, "nothing is created for a refused config");
    }
  });

  it("reads sizes in binary units and intervals in s, m, h, d", () => {
    assert.equal(parseSize("f", "100MB"), 100 * 1024 * 1024);
    assert.equal(parseSize("f", "100 mib"), 100 * 1024 * 1024);
    assert.equal(parseSize("f", "1.5KB"), 1536);
    assert.equal(parseSize("f", "512k"), 512 * 1024);
    assert.equal(parseSize("f", "2G"), 2 * 1024 ** 3);
    assert.equal(parseSize("f", "300"), 300);
    assert.equal(parseSize("f", "300B"), 300);
    assert.equal(parseSize("f", 4096), 4096);
    assert.equal(parseInterval("f", "1d"), 86_400_000);
    assert.equal(parseInterval("f", "6h"), 21_600_000);
    assert.equal(parseInterval("f", "30m"), 1_800_000);
    assert.equal(parseInterval("f", "1.5s"), 1500);
    assert.equal(parseInterval("f", "1500ms"), 1500);
    assert.equal(parseInterval("f", 60_000), 60_000);
  });
});

describe("FileLogHandler rotation by size", () => {
  for (const sync of [true, false]) {
    it(`sync ${sync}: rotates between slices, never inside one; files stay within size; names sort in write order`, async (t) => {
      const dir = tempDir(t);
      const size = 5 * SLICE * LINE_BYTES + 100; // room for 5 slices, not 6
      const handler = open(t, dir, { sync, rotate: { size, keep: Number.POSITIVE_INFINITY } });
      await pushSlices(handler, 0, 33);
      await handler.close();
      const parts = readRotatedLog(dir);
      assert.equal(parts.length, 7, parts.map((p) => p.name).join(", "));
      const today = localDate(Date.now());
      assert.deepEqual(
        parts.slice(0, 6).map((p) => p.name),
        [1, 2, 3, 4, 5, 6].map((n) => `app.${today}.00${n}.log`),
      );
      for (const part of parts) {
        const lines = linesOf(part.text);
        assert.ok(part.text.length <= size, `${part.name}: ${part.text.length} bytes`);
        assert.ok(part.text.endsWith("\n"), `${part.name} ends with a whole line`);
        // Whole slices only: the first line of each is line 0 of its slice, the last line 9.
        assert.equal(lines.length % SLICE, 0, part.name);
        assert.match(lines[0]!, / l0 /);
        assert.match(lines.at(-1)!, / l9 /);
      }
      assert.deepEqual(
        parts.map((p) => linesOf(p.text).length / SLICE),
        [5, 5, 5, 5, 5, 5, 3],
      );
      assertAllInOrder(dir, 33);
    });
  }

  it("a slice larger than size goes whole into a file of its own", async (t) => {
    const dir = tempDir(t);
    const handler = open(t, dir, { rotate: { size: 100 } });
    await pushSlices(handler, 0, 3);
    await handler.close();
    const parts = readRotatedLog(dir);
    assert.deepEqual(
      parts.map((p) => linesOf(p.text).length),
      [SLICE, SLICE, SLICE],
    );
    assertAllInOrder(dir, 3);
  });

  it("a restarted handler counts the bytes already in the file and numbers on after the rotated files there", async (t) => {
    const dir = tempDir(t);
    const size = 3 * SLICE * LINE_BYTES;
    const first = open(t, dir, { rotate: { size } });
    await pushSlices(first, 0, 8);
    await first.close();
    const second = open(t, dir, { rotate: { size } });
    await pushSlices(second, 8, 4);
    await second.close();
    assert.equal(rotatedNames(dir).length, 3);
    assertAllInOrder(dir, 12);
  });
});

describe("FileLogHandler rotate with reopen()", () => {
  it("after an external rename and reopen(), the size counts the new file only", async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const handler = open(t, dir, { rotate: { size: 3 * SLICE * LINE_BYTES } });
    await pushSlices(handler, 0, 2);
    renameSync(file, `${file}.1`);
    await handler.reopen();
    // 2 + 2 slices would pass the size had the old file's bytes still counted.
    await pushSlices(handler, 2, 2);
    assert.deepEqual(rotatedNames(dir), []);
    await pushSlices(handler, 4, 2);
    await handler.close();
    assert.equal(rotatedNames(dir).length, 1);
    assert.deepEqual(
      [`${file}.1`, join(dir, rotatedNames(dir)[0]!), file].map(
        (path) => linesOf(readFileSync(path, "utf8")).length,
      ),
      [2 * SLICE, 3 * SLICE, SLICE],
    );
  });
});

describe("FileLogHandler retention", () => {
  it("keeps the newest `keep` rotated files and deletes only files named like its own", async (t) => {
    const dir = tempDir(t);
    const decoys = [
      "app.log.1",
      "app.2000-01-01.1.log",
      "app.2000-01-01.0001.log",
      "app.2000-01-01.001.log.bak",
      "app.2000-01-01.001.txt",
      "other.2000-01-01.001.log",
      "app.2000-01-01.001.log.gz.old",
      "xapp.2000-01-01.001.log",
    ];
    for (const name of decoys) writeFileSync(join(dir, name), "not ours\n");
    // Ours, from an earlier run: the oldest, so the first to go.
    writeFileSync(join(dir, "app.2000-01-01.001.log"), "old\n");
    writeFileSync(join(dir, "app.2000-01-02.001.log.gz"), gzipSync("old too\n"));
    const handler = open(t, dir, { rotate: { size: SLICE * LINE_BYTES, keep: 3 } });
    assert.deepEqual(rotatedNames(dir), ["app.2000-01-01.001.log", "app.2000-01-02.001.log.gz"]);
    await pushSlices(handler, 0, 6);
    await handler.close();
    const today = localDate(Date.now());
    assert.deepEqual(
      rotatedNames(dir),
      [3, 4, 5].map((n) => `app.${today}.00${n}.log`),
    );
    for (const name of decoys) assert.equal(readFileSync(join(dir, name), "utf8"), "not ours\n", name);
    assert.deepEqual(readdirSync(dir).sort(), [...decoys, "app.log", ...rotatedNames(dir)].sort());
  });
});

describe("FileLogHandler gzip of rotated files", () => {
  it("each rotated file becomes a complete .gz with the same permissions, its plain file removed", async (t) => {
    const dir = tempDir(t);
    const handler = open(t, dir, {
      mode: 0o600,
      rotate: { size: 2 * SLICE * LINE_BYTES, compress: true, keep: 100 },
    });
    await pushSlices(handler, 0, 9);
    await handler.compressed();
    const names = rotatedNames(dir);
    assert.equal(names.length, 4);
    for (const name of names) {
      assert.match(name, /\.log\.gz$/);
      assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
      assertGzipAccepts(join(dir, name));
    }
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith(".tmp")),
      [],
    );
    await handler.close();
    assertAllInOrder(dir, 9);
  });

  it("a start after a crash mid-gzip: a dead process's temp file is deleted and its file gzipped again; a .gz next to its file wins", async (t) => {
    const dir = tempDir(t);
    const a = join(dir, "app.2001-01-01.001.log");
    const b = join(dir, "app.2001-01-01.002.log");
    writeFileSync(a, "a1\na2\n");
    writeFileSync(`${a}.gz.${DEAD_PID}.tmp`, gzipSync("a1\n").subarray(0, 8)); // cut short
    writeFileSync(b, "b1\n");
    writeFileSync(`${b}.gz`, gzipSync("b1\n"));
    // A live process's (another master's, started by mistake on the same file) is left alone.
    const live = `${b}.gz.${process.ppid}.tmp`;
    writeFileSync(live, "someone else's");
    const handler = open(t, dir, { rotate: { size: "1MB", compress: true } });
    await handler.compressed();
    assert.deepEqual(readdirSync(dir).sort(), [
      "app.2001-01-01.001.log.gz",
      "app.2001-01-01.002.log.gz",
      `app.2001-01-01.002.log.gz.${process.ppid}.tmp`,
      "app.log",
    ]);
    rmSync(live);
    const parts = readRotatedLog(dir);
    assert.deepEqual(
      parts.map((p) => p.text),
      ["a1\na2\n", "b1\n", ""],
    );
  });
});

describe("FileLogHandler gzip killed midway", () => {
  it("SIGKILL while gzipping leaves the rotated file whole; the next start gzips it completely", async (t) => {
    const dir = tempDir(t);
    const plain = join(dir, "app.2001-01-01.001.log");
    // Incompressible, so deflating it takes long enough (hundreds of ms) to be caught midway.
    const content = randomBytes(48 * 1024 * 1024);
    const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");
    writeFileSync(plain, content);
    const child = forkFixture(t, "gzip-child.js", { file: join(dir, "app.log") });
    const compressed = nextMessage(child, "compressed").then(
      () => true,
      () => false,
    );
    await nextMessage(child, "ready");
    // No event says how far a gzip in another process has got: its temp file's size does.
    await waitFor(
      () => (statSync(`${plain}.gz.${child.pid}.tmp`, { throwIfNoEntry: false })?.size ?? 0) > 0,
      10_000,
      "the gzip under way",
    );
    child.kill("SIGKILL");
    await exited(child);
    assert.equal(await compressed, false, "killed before the gzip finished");
    assert.equal(existsSync(`${plain}.gz`), false);
    assert.equal(sha(readFileSync(plain)), sha(content), "the rotated file is whole");

    const handler = open(t, dir, { rotate: { size: "1GB", compress: true } });
    await handler.compressed();
    assert.deepEqual(readdirSync(dir).sort(), ["app.2001-01-01.001.log.gz", "app.log"]);
    assertGzipAccepts(`${plain}.gz`);
    assert.equal(sha(gunzipSync(readFileSync(`${plain}.gz`))), sha(content));
  });
});

/**
 * A FileLogHandler (1 KiB rotations, slices of 400 bytes) in a process under a low descriptor
 * limit, so it can use up what is left (the real EMFILE) without opening a million files where
 * the limit is high. Slices 0 and 1 are written; then every descriptor is taken and slices 2 and 3
 * pushed: the rotation before slice 2 renames the file and cannot create the next one. Returns
 * `step` (send a message, await its reply) once the descriptors are free again.
 */
async function failedRotation(t: TestContext, dir: string, compress: boolean) {
  const child = forkFixture(
    t,
    "file-rotate-emfile.js",
    { file: join(dir, "app.log"), lineBytes: LINE_BYTES, sliceLines: SLICE, compress },
    {},
    { execPath: "/bin/sh", execArgv: ["-c", 'ulimit -n 256 && exec "$0" "$@"', process.execPath] },
  );
  const step = async (message: object, reply: string) => {
    const answer = nextMessage(child, reply);
    child.send(message);
    return answer;
  };
  // stderr and the IPC channel are separate pipes: a report may arrive after the reply.
  const reported = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!pattern.test(stderrOf(child))) return;
        child.stderr?.off("data", check);
        resolve();
      };
      child.stderr?.on("data", check);
      check();
    });
  await nextMessage(child, "ready");
  await step({ type: "push", from: 0, count: 2 }, "pushed");
  const exhausted = await step({ type: "exhaust" }, "exhausted");
  assert.equal(exhausted.code, "EMFILE");
  await step({ type: "push", from: 2, count: 2 }, "pushed");
  await reported(/rotated to \S*app\.\d{4}-\d\d-\d\d\.001\.log but cannot create/);
  assert.equal(existsSync(join(dir, "app.log")), false);
  await step({ type: "release" }, "released");
  return { child, step };
}

describe("FileLogHandler rotation when the next file cannot be created", () => {
  it("a rotation whose open failed after the rename finishes at the next attempt: the path is created again and nothing is lost", async (t) => {
    const dir = tempDir(t);
    const { child, step } = await failedRotation(t, dir, false);
    // Slice 4 is the next attempt: the path is created; slice 6 then rotates as usual.
    await step({ type: "push", from: 4, count: 3 }, "pushed");
    await step({ type: "close" }, "closed");
    await exited(child);
    assert.doesNotMatch(stderrOf(child), /cannot rotate/);
    assert.deepEqual(
      readRotatedLog(dir).map((part) => [
        part.name.replace(/\d{4}-\d\d-\d\d/, "DAY"),
        linesOf(part.text).length,
      ]),
      [
        ["app.DAY.001.log", 4 * SLICE],
        ["app.DAY.002.log", 2 * SLICE],
        ["app.log", SLICE],
      ],
    );
    assertAllInOrder(dir, 7);
  });

  it("reopen() also finishes it: the renamed file counts as rotated (gzipped) and the next lines go to the path", async (t) => {
    const dir = tempDir(t);
    const { child, step } = await failedRotation(t, dir, true);
    await step({ type: "reopen" }, "reopened");
    await step({ type: "push", from: 4, count: 1 }, "pushed");
    await step({ type: "close" }, "closed");
    await exited(child);
    assert.deepEqual(
      readRotatedLog(dir).map((part) => [
        part.name.replace(/\d{4}-\d\d-\d\d/, "DAY"),
        linesOf(part.text).length,
      ]),
      [
        ["app.DAY.001.log.gz", 4 * SLICE],
        ["app.log", SLICE],
      ],
    );
    assertAllInOrder(dir, 5);
  });
});

describe("FileLogHandler rotation by time", () => {
  it("interval: a file with lines is rotated once it is that old, and the next lines go to the new file", async (t) => {
    const dir = tempDir(t);
    const handler = open(t, dir, { rotate: { interval: 1000 } });
    await pushSlices(handler, 0, 2);
    // No event says a timer rotated the file: the directory does.
    await waitFor(() => rotatedNames(dir).length === 1, 10_000, "the rotation after 1 s");
    await pushSlices(handler, 2, 1);
    await handler.close();
    const parts = readRotatedLog(dir);
    assert.deepEqual(
      parts.map((p) => linesOf(p.text).length),
      [2 * SLICE, SLICE],
    );
    assertAllInOrder(dir, 3);
  });

  it("atMidnight: rotates at local midnight, the rotated file named for the day that ended", async (t) => {
    const dir = tempDir(t);
    // A clock 400 ms before the next local midnight: the real timer then fires at that midnight.
    const offset = nextLocalMidnight(Date.now()) - 400 - Date.now();
    const clock = (): number => Date.now() + offset;
    const before = localDate(clock());
    const handler = open(t, dir, { rotate: { atMidnight: true, [kRotationClock]: clock } as never });
    await pushSlices(handler, 0, 1);
    await waitFor(() => rotatedNames(dir).length === 1, 10_000, "the rotation at midnight");
    assert.notEqual(localDate(clock()), before, "the rotation came after the clock's midnight");
    assert.deepEqual(rotatedNames(dir), [`app.${before}.001.log`]);
    await pushSlices(handler, 1, 1);
    await handler.close();
    assertAllInOrder(dir, 2);
    assert.deepEqual(
      readRotatedLog(dir).map((p) => linesOf(p.text).length),
      [SLICE, SLICE],
    );
  });

  it("next local midnight is the start of the next calendar day", () => {
    const at = new Date(2026, 11, 2, 23, 59, 59, 500).getTime();
    assert.equal(nextLocalMidnight(at), new Date(2026, 11, 3).getTime());
    assert.equal(nextLocalMidnight(new Date(2026, 11, 3).getTime()), new Date(2026, 11, 4).getTime());
    assert.equal(nextLocalMidnight(new Date(2026, 11, 31, 12).getTime()), new Date(2027, 0, 1).getTime());
  });
});
