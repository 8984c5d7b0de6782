// Bundled with esbuild by test/package/package.test.ts, the way an application bundles its
// dependencies: the import and the require must end up as one copy of the library.
import { WorkerLogger } from "logmux";

async function main() {
  const esm = await import("logmux");
  const cjs = require("logmux");
  process.stdout.write(
    JSON.stringify({
      names: Object.keys(esm).filter((name) => name !== "default").length,
      differing: Object.keys(cjs).filter((name) => esm[name] !== cjs[name]),
      staticImportIsRequired: WorkerLogger === cjs.WorkerLogger,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
