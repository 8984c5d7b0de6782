// A CommonJS consumer of the installed tarball: require("logmux") first, then import("logmux").
// Prints what it found as JSON on stdout for test/package/package.test.ts to check.
const cjs = require("logmux");

async function main() {
  const esm = await import("logmux");
  const report = {
    requireNames: Object.keys(cjs).sort(),
    importNames: Object.keys(esm).sort(),
    differing: Object.keys(cjs).filter((name) => cjs[name] !== esm[name]),
    resolved: require.resolve("logmux"),
    node: process.version,
    worker: {
      required: Object.keys(require("logmux/worker")).sort(),
      sameClassesRequired: ["WorkerLogger", "LoggerConfig", "LogLevel", "InvalidConfigError"].every(
        (name) => require("logmux/worker")[name] === cjs[name],
      ),
      sameClassesImported: await (async () => {
        const w = await import("logmux/worker");
        return ["WorkerLogger", "LoggerConfig", "LogLevel", "InvalidConfigError"].every(
          (name) => w[name] === esm[name],
        );
      })(),
      resolved: require.resolve("logmux/worker"),
    },
    http: {
      required: typeof require("logmux/http").httpLogger,
      imported: typeof (await import("logmux/http")).httpLogger,
      resolved: require.resolve("logmux/http"),
    },
  };
  try {
    new cjs.LoggerConfig({ path: "/not/an/ipc/url" });
  } catch (error) {
    report.thrownByRequiredClass = {
      name: error.name,
      field: error.field,
      instanceofImported: error instanceof esm.InvalidConfigError,
      instanceofImportedBase: error instanceof esm.LogmuxError,
      instanceofRequired: error instanceof cjs.InvalidConfigError,
    };
  }
  try {
    const handler = new cjs.SyslogLogHandler({ transport: "unix", path: process.argv[2] });
    report.unix = { constructed: true, label: handler.label };
    await handler.close();
  } catch (error) {
    report.unix = {
      constructed: false,
      instanceofImported: error instanceof esm.InvalidConfigError,
      message: error.message,
    };
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
