// Rotation under full load: a real master process with a small rotate.size, four real workers
// logging 50k numbered records each over the real socket, dozens of rotations and gzips while they
// do. Every file is read back (gzipped ones through node:zlib, checked by the real gzip -t): each
// record exactly once, in order per worker, no torn line, no file cut inside a line.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type FileLogHandlerOptions, LoggerConfig, type LoggerConfigOptions } from "../../src/index.js";
import type { FileMasterSample } from "../fixtures/file-master.js";
import { assertDeliveredAcrossCrashes } from "../helpers/delivery.js";
import { exited, forkFixture, nextMessage, stderrOf, tempDir, waitFor } from "../helpers/processes.js";
import { HAVE_GZIP, linesOf, readRotatedLog, rotatedNames } from "../helpers/rotated.js";

const WORKERS = 4;
const PER_WORKER = 50_000;
const TOTAL = WORKERS * PER_WORKER;
/** Each message is padded to this, so a torn or merged line cannot pass for a whole one. */
const MESSAGE_BYTES = 200;
/** ~47 MB of lines in files of at most 1 MiB: some 80 rotations, gzips running behind the writes. */
const ROTATE_BYTES = 1024 * 1024;

interface Check {
  files: number;
  gzipped: number;
  workerLines: number;
  duplicated: number;
  missing: number;
  outOfOrder: number;
  torn: string[];
  oversized: string[];
}

/** Each worker's record numbers in the order the files (oldest first) hold them. */
function indexesByWorker(dir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const part of readRotatedLog(dir)) {
    for (const line of linesOf(part.text)) {
      const match = / \[INFO\] (w\d) - w\d record (\d+) x+$/.exec(line);
      if (match === null) {
        assert.match(line, / MASTER - /, `${part.name}: a line that is neither a record nor the master's`);
        continue;
      }
      const list = out.get(match[1]!) ?? [];
      list.push(Number(match[2]));
      out.set(match[1]!, list);
    }
  }
  return out;
}

function checkParts(dir: string): Check {
  const parts = readRotatedLog(dir);
  const seen = Array.from({ length: WORKERS }, () => new Set<number>());
  const last = Array.from({ length: WORKERS }, () => -1);
  const check: Check = {
    files: parts.length,
    gzipped: parts.filter((p) => p.name.endsWith(".gz")).length,
    workerLines: 0,
    duplicated: 0,
    missing: 0,
    outOfOrder: 0,
    torn: [],
    oversized: [],
  };
  for (const part of parts) {
    if (part.text !== "" && !part.text.endsWith("\n")) check.torn.push(`${part.name} ends inside a line`);
    if (Buffer.byteLength(part.text) > ROTATE_BYTES) check.oversized.push(part.name);
    for (const line of linesOf(part.text)) {
      const match = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[(\w+)\] (\S+) - (.*)$/.exec(line);
      if (match?.[2] === "MASTER") continue;
      const w = Number(/^w(\d)$/.exec(match?.[2] ?? "")?.[1]);
      const i = Number(/^w\d record (\d+) /.exec(match?.[3] ?? "")?.[1]);
      const base = `w${w} record ${i}`;
      if (match?.[3] !== `${base} ${"x".repeat(MESSAGE_BYTES - base.length - 1)}` || !(w < WORKERS)) {
        check.torn.push(`${part.name}: ${line.slice(0, 120)}`);
        continue;
      }
      check.workerLines++;
      if (seen[w]!.has(i)) check.duplicated++;
      else if (i < last[w]!) check.outOfOrder++;
      seen[w]!.add(i);
      last[w] = Math.max(last[w]!, i);
    }
  }
  for (const s of seen) check.missing += PER_WORKER - s.size;
  return check;
}

describe("FileLogHandler rotation under full load, real master and workers", () => {
  for (const sync of [true, false]) {
    it(`sync ${sync}: 4 x 50k records over ~80 rotations with gzip: every record exactly once, in order, no torn line`, async (t) => {
      const dir = tempDir(t);
      const config: LoggerConfigOptions = {
        path: `ipc://${join(dir, "log.sock")}`,
        flushIntervalMs: 20,
        shutdownTimeoutMs: 60_000,
      };
      const logs = join(dir, "logs");
      const fileOptions: FileLogHandlerOptions = {
        sync,
        // Large enough that retention deletes nothing (Infinity does not survive the JSON to the fixture).
        rotate: { size: ROTATE_BYTES, compress: true, keep: 10_000 },
      };
      const master = forkFixture(t, "file-master.js", {
        config,
        file: join(logs, "app.log"),
        maxQueueBytes: 64 * 1024 * 1024,
        handlerStallMs: 60_000,
        fileOptions,
      });
      await nextMessage(master, "ready");
      const workers = Array.from({ length: WORKERS }, (_, i) =>
        forkFixture(t, "worker.js", {
          config,
          name: `w${i}`,
          count: PER_WORKER,
          messageBytes: MESSAGE_BYTES,
        }),
      );
      const done = await Promise.all(workers.map((w) => nextMessage<{ dropped: number }>(w, "done")));
      for (const result of done) assert.equal(result.dropped, 0, "a worker dropped records");
      master.kill("SIGTERM");
      // Shutdown closes the handler, which finishes the gzips queued behind the last rotations.
      const final = await nextMessage<FileMasterSample>(master, "final");
      await exited(master);
      const check = checkParts(logs);
      console.log(
        `# sync ${sync}: ${check.files} files (${check.gzipped} gzipped${HAVE_GZIP ? ", gzip -t ok" : ", no gzip binary"}), ` +
          `${check.workerLines} worker lines for ${TOTAL} sent, duplicated ${check.duplicated}, missing ${check.missing}, torn ${check.torn.length}`,
      );
      assert.deepEqual(
        {
          workerLines: check.workerLines,
          duplicated: check.duplicated,
          missing: check.missing,
          outOfOrder: check.outOfOrder,
          torn: check.torn.slice(0, 5),
          oversized: check.oversized,
          allRotatedGzipped: check.gzipped === check.files - 1,
          manyRotations: check.files >= 30,
          dropped: final.dropped,
        },
        {
          workerLines: TOTAL,
          duplicated: 0,
          missing: 0,
          outOfOrder: 0,
          torn: [],
          oversized: [],
          allRotatedGzipped: true,
          manyRotations: true,
          dropped: 0,
        },
        `master stderr:\n${stderrOf(master).slice(0, 2000)}`,
      );
    });
  }
});

describe("FileLogHandler rotation across master crashes", () => {
  it("master SIGKILLed twice while rotating and gzipping, restarted: no record lost, order kept, no rotated file lost", async (t) => {
    const dir = tempDir(t);
    const logs = join(dir, "logs");
    const config: LoggerConfigOptions = {
      path: `ipc://${join(dir, "log.sock")}`,
      flushIntervalMs: 20,
      shutdownTimeoutMs: 60_000,
    };
    const startMaster = async () => {
      const child = forkFixture(t, "file-master.js", {
        config,
        file: join(logs, "app.log"),
        maxQueueBytes: 64 * 1024 * 1024,
        handlerStallMs: 60_000,
        fileOptions: { rotate: { size: ROTATE_BYTES, compress: true, keep: 10_000 } },
      });
      await nextMessage(child, "ready");
      return child;
    };
    let master = await startMaster();
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      forkFixture(t, "worker.js", {
        config,
        name: `w${i}`,
        count: PER_WORKER,
        messageBytes: MESSAGE_BYTES,
        // Paced (a few seconds per worker), so the crashes fall mid-stream.
        chunk: 250,
        intervalMs: 5,
      }),
    );
    const done = workers.map((w) => nextMessage(w, "done"));
    for (const rotations of [10, 30]) {
      // No event says a file was rotated: the directory does.
      await waitFor(() => rotatedNames(logs).length >= rotations, 60_000, `${rotations} rotations`);
      // At a moment unrelated to the writes (see test/reliability.test.ts): gzips run all the time.
      await new Promise((resolve) => setTimeout(resolve, randomInt(5, 40)));
      master.kill("SIGKILL");
      await exited(master);
      master = await startMaster();
    }
    await Promise.all(done);
    master.kill("SIGTERM");
    await nextMessage(master, "final");
    await exited(master);
    const names = readdirSync(logs);
    assert.deepEqual(
      names.filter((name) => name.endsWith(".tmp") || (name !== "app.log" && !name.endsWith(".gz"))),
      [],
      "the restarted master finished or redid every interrupted gzip",
    );
    const byWorker = indexesByWorker(logs);
    let duplicated = 0;
    for (let i = 0; i < WORKERS; i++) {
      duplicated += assertDeliveredAcrossCrashes(byWorker.get(`w${i}`) ?? [], PER_WORKER, `w${i}`, {
        crashes: 2,
        maxBatchBytes: new LoggerConfig(config).maxBatchBytes,
        messageBytes: () => MESSAGE_BYTES,
      }).duplicated;
    }
    console.log(
      `# crashes while rotating: ${names.length} files, ${TOTAL} records, 0 missing, ${duplicated} repeated (journal window)`,
    );
  });
});
