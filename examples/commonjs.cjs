// CommonJS: the same as child-process.mjs, with require(). `require("logmux")` and
// `import "logmux"` load one implementation, so classes compare equal across the two.
// Run: node examples/commonjs.cjs [directory]   (default: a new temp directory)
const { fork } = require("node:child_process");
const { once } = require("node:events");
const { mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { FileLogHandler, LoggerConfig, LogLevel, MasterLogger, WorkerLogger } = require("logmux");

const CHILDREN = 3;
const RECORDS = 100;

async function child(path, name) {
  const log = new WorkerLogger(new LoggerConfig({ path }), name);
  for (let i = 0; i < RECORDS; i++) {
    if (i % 10 === 9) log.warning(`queue depth ${i} above threshold`);
    else log.info(`processed item ${i}`);
  }
  await log.shutdown();
}

async function parent(dir) {
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}`, baseLevel: LogLevel.INFO });
  const file = join(dir, "commonjs.log");
  const master = new MasterLogger(config, [new FileLogHandler(file)]);
  await master.ready();

  const children = Array.from({ length: CHILDREN }, (_, i) =>
    fork(__filename, ["--child", config.path, `child-${i + 1}`]),
  );
  await Promise.all(children.map((c) => once(c, "exit")));
  await master.shutdown();
  console.log(`commonjs: ${CHILDREN} children x ${RECORDS} records written to ${file}`);
}

const [, , first, path, name] = process.argv;
const main =
  first === "--child" ? child(path, name) : parent(first ?? mkdtempSync(join(tmpdir(), "logmux-")));
main.catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
