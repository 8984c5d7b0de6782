// child_process.fork: the parent runs the MasterLogger, each forked child a WorkerLogger.
// Run: node examples/child-process.mjs [directory]   (default: a new temp directory)
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileLogHandler, LoggerConfig, LogLevel, MasterLogger, WorkerLogger } from "logmux";

const CHILDREN = 3;
const RECORDS = 100;

if (process.argv[2] === "--child") {
  const [, , , path, name] = process.argv;
  const log = new WorkerLogger(new LoggerConfig({ path }), name);
  for (let i = 0; i < RECORDS; i++) {
    if (i % 10 === 9) log.warning(`queue depth ${i} above threshold`);
    else log.info(`processed item ${i}`);
  }
  await log.shutdown();
} else {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "logmux-"));
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}`, baseLevel: LogLevel.INFO });
  const file = join(dir, "child-process.log");
  const master = new MasterLogger(config, [new FileLogHandler(file)]);
  await master.ready();

  const children = Array.from({ length: CHILDREN }, (_, i) =>
    fork(fileURLToPath(import.meta.url), ["--child", config.path, `child-${i + 1}`]),
  );
  await Promise.all(children.map((child) => once(child, "exit")));
  await master.shutdown();
  console.log(`child-process: ${CHILDREN} children x ${RECORDS} records written to ${file}`);
}
