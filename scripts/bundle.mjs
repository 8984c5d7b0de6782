#!/usr/bin/env node
// Bundles tsc's output for the public entry (dist/index.js and the ~45 modules behind it) into one
// file. Why one file: every worker process pays for loading the library, and Node 20's ESM loader
// costs about half a millisecond per module (resolve, read, compile, link). Measured on the 2-core
// VM: 56 ms of CPU to import the module tree against 38 ms for a bundle (median of 12), which is
// ~5% of all CPU in the 4 x 250k end-to-end benchmark. The CLI keeps tsc's separate modules (it
// does not load user code, so the two never meet in one process).
//
// CommonJS and ESM from ONE implementation: dist/logmux.cjs is the real bundle, and
// dist/logmux.mjs only re-exports what it exports. The reverse (an ESM bundle with a CommonJS
// wrapper) cannot work on Node 20, whose require() cannot load ES modules; two bundles would be
// two copies of every class, so an error thrown by a class from `require("logmux")` would fail
// `instanceof` against the class from `import "logmux"`, and a logger from one would be rejected
// by the other's handlers. The types mirror this: tsc's declarations go to dist/types/, which a
// package.json marks as CommonJS (what the `require` condition loads), and the ESM condition's
// dist/logmux.d.mts re-exports them, so TypeScript also sees one declaration of each class.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { build } from "esbuild";

/** The library's only use of import.meta is createRequire(import.meta.url) (src/handlers/kit/lazy-require.ts). */
const MODULE_URL = "__logmuxModuleUrl";

const result = await build({
  entryPoints: ["dist/index.js"],
  outfile: "dist/logmux.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // A CommonJS file has no import.meta: esbuild would make it an empty object, and
  // createRequire(undefined) would throw when the bundle loads.
  define: { "import.meta.url": MODULE_URL },
  // "use strict" first, as a banner before esbuild's own would leave the whole file in sloppy mode.
  banner: { js: `"use strict";\nconst ${MODULE_URL} = require("node:url").pathToFileURL(__filename).href;` },
  // Optional peers (the native syslog transport, the OpenTelemetry API) are loaded at run time
  // with require(), from the application's node_modules.
  external: ["unix-dgram", "@opentelemetry/api"],
  // Chains to tsc's source maps, so stack traces (node --enable-source-maps) point at src/*.ts,
  // which the package ships for that reason.
  sourcemap: true,
  logLevel: "warning",
});
// A warning here (such as another import.meta) means a bundle that misbehaves only when loaded.
if (result.warnings.length > 0) {
  console.error(`bundle.mjs: ${result.warnings.length} esbuild warning(s); fix them rather than ship them`);
  process.exit(1);
}

// The ESM entry loads the bundle with require(), not `import … from "./logmux.cjs"`: Node 20's
// ESM loader runs its JavaScript CommonJS lexer over the whole bundle to guess export names, which
// cost 70 ms of CPU per process (95 ms to import the bundle against 22 ms to require it, median of
// 15 on the 2-core VM), four times the 18 ms that bundling saves. Bundlers never see this file: the
// "module" condition in package.json's exports sends them to the CommonJS bundle itself. The
// names come from the bundle, so this file cannot drift from it.
const names = Object.keys(createRequire(import.meta.url)("../dist/logmux.cjs")).sort();
writeFileSync(
  "dist/logmux.mjs",
  "// The ESM entry: everything comes from the CommonJS bundle, so both entries share one copy of each\n" +
    "// class (scripts/bundle.mjs says why require() rather than import).\n" +
    'import { createRequire } from "node:module";\n\n' +
    `export const {\n${names.map((name) => `  ${name},\n`).join("")}} = createRequire(import.meta.url)("./logmux.cjs");\n`,
);
writeFileSync("dist/logmux.d.mts", 'export * from "./types/index.js";\n');

// logmux/http has no runtime import of the library (it only calls the logger it is given), so
// its CommonJS build can be a bundle of its own without a second copy of any class: tsc's ESM
// module for `import`, this for `require`, one declaration file for both.
const http = await build({
  entryPoints: ["dist/integrations/http.js"],
  outfile: "dist/integrations/http.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
});
if (http.warnings.length > 0) process.exit(1);
writeFileSync("dist/integrations/http.d.mts", 'export * from "../types/integrations/http.js";\n');
writeFileSync("dist/types/package.json", `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);
