// An ES module consumer of the installed tarball: import "logmux" first, then require("logmux").
// Prints what it found as JSON on stdout for test/package/package.test.ts to check.

import { createRequire } from "node:module";
import { LoggerConfig } from "logmux";

const esm = await import("logmux");
const cjs = createRequire(import.meta.url)("logmux");
const report = {
  importNames: Object.keys(esm).sort(),
  requireNames: Object.keys(cjs).sort(),
  differing: Object.keys(esm).filter((name) => esm[name] !== cjs[name]),
  resolved: import.meta.resolve("logmux"),
};
try {
  new LoggerConfig({ flushIntervalMs: -1 });
} catch (error) {
  report.thrownByImportedClass = {
    name: error.name,
    field: error.field,
    instanceofRequired: error instanceof cjs.InvalidConfigError,
    instanceofRequiredBase: error instanceof cjs.LogmuxError,
    instanceofImported: error instanceof esm.InvalidConfigError,
  };
}
process.stdout.write(JSON.stringify(report));
