// node:cluster: the primary runs the MasterLogger, every cluster worker a WorkerLogger.
// Run: node examples/cluster.mjs [directory]   (default: a new temp directory)
import cluster from "node:cluster";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileLogHandler, LoggerConfig, MasterLogger, WorkerLogger } from "logmux";

const WORKERS = 3;
const RECORDS = 100;

if (cluster.isPrimary) {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "logmux-"));
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}` });
  const file = join(dir, "cluster.log");
  const master = new MasterLogger(config, [new FileLogHandler(file)]);
  await master.ready();

  // Workers inherit the socket address through their environment.
  const exits = Array.from({ length: WORKERS }, () => {
    const worker = cluster.fork({ LOGMUX_PATH: config.path });
    return new Promise((resolve) => worker.on("exit", resolve));
  });
  await Promise.all(exits);
  await master.shutdown(); // drains, then closes the file
  console.log(`cluster: ${WORKERS} workers x ${RECORDS} records written to ${file}`);
} else {
  const log = new WorkerLogger(
    new LoggerConfig({ path: process.env.LOGMUX_PATH }),
    `worker-${cluster.worker.id}`,
  );
  for (let i = 0; i < RECORDS; i++) log.info(`handled request ${i}`);
  await log.shutdown(); // resolves once the master has every record
  cluster.worker.disconnect();
}
