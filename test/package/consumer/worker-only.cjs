// A worker process's consumer: require("logmux/worker") alone. Reports which of the package's
// files that loaded, for test/package/package.test.ts: the master's bundle must not be one.
const worker = require("logmux/worker");

const log = new worker.WorkerLogger(new worker.LoggerConfig({ path: `ipc://${process.argv[2]}` }), "only");
log.info("no master listens; this record is spooled at shutdown");
process.stdout.write(
  JSON.stringify({
    loaded: Object.keys(require.cache)
      .filter((path) => path.includes("node_modules"))
      .map((path) => path.slice(path.lastIndexOf("node_modules") + "node_modules/".length)),
    names: Object.keys(worker).length,
  }),
);
process.exit(0);
