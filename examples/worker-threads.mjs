// worker_threads: the main thread runs the MasterLogger, each thread a WorkerLogger. Signal hooks
// (flush on SIGTERM/SIGINT) exist only in the main thread; a thread's logger flushes when its
// shutdown() is awaited, or at the latest when the thread exits.
// Run: node examples/worker-threads.mjs [directory]   (default: a new temp directory)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread, threadId, Worker, workerData } from "node:worker_threads";
import { FileLogHandler, LoggerConfig, MasterLogger, WorkerLogger } from "logmux";

const THREADS = 3;
const RECORDS = 100;

if (isMainThread) {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "logmux-"));
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}` });
  const file = join(dir, "worker-threads.log");
  const master = new MasterLogger(config, [new FileLogHandler(file)]);
  await master.ready();

  const threads = Array.from(
    { length: THREADS },
    () => new Worker(new URL(import.meta.url), { workerData: config.path }),
  );
  await Promise.all(threads.map((thread) => new Promise((resolve) => thread.once("exit", resolve))));
  await master.shutdown();
  console.log(`worker-threads: ${THREADS} threads x ${RECORDS} records written to ${file}`);
} else {
  const log = new WorkerLogger(new LoggerConfig({ path: workerData }), `thread-${threadId}`);
  for (let i = 0; i < RECORDS; i++) log.info(`computed chunk ${i}`);
  await log.shutdown();
}
