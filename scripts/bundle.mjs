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
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

/** The library's only use of import.meta is createRequire(import.meta.url) (src/handlers/kit/lazy-require.ts). */
const MODULE_URL = "__logmuxModuleUrl";

/**
 * Two bundles, one copy of each module. dist/worker.cjs holds what a worker process loads (the
 * `logmux/worker` entry, src/worker-index.ts, and everything it imports); dist/logmux.cjs holds
 * the rest and takes each of those modules from dist/worker.cjs, by way of the table of module
 * namespaces (`__modules`) that bundle exports. A worker that imports `logmux/worker` loads 110
 * KB instead of 370 (measured: 8 ms of CPU to require it against 12.5 ms for the whole, on the
 * 2-core VM under load), and a class is the same object whichever entry it came through.
 */
const common = {
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
};

/** Fails the build on any esbuild warning (such as another import.meta): a bundle that misbehaves only when loaded. */
function noWarnings(result, what) {
  if (result.warnings.length === 0) return;
  console.error(
    `bundle.mjs: ${result.warnings.length} esbuild warning(s) in ${what}; fix them rather than ship them`,
  );
  process.exit(1);
}

const WORKER_ENTRY = resolve("dist/worker-index.js");
// Which modules the worker bundle holds: the worker entry's import graph.
const probe = await build({
  ...common,
  entryPoints: [WORKER_ENTRY],
  write: false,
  metafile: true,
  sourcemap: false,
});
const workerModules = Object.keys(probe.metafile.inputs)
  .map((input) => resolve(input))
  .filter((path) => path.startsWith(resolve("dist")))
  .sort();
const keyOf = (path) => relative(resolve("dist"), path).split(sep).join("/");

/**
 * What each held module exports, read by loading it here. The table below lists these names, and
 * the stubs further down bind them as constants. Constants, not the getters esbuild puts on a
 * CommonJS module's exports: the master's decoding and formatting call u32(), readU64() and the
 * like per record, and through getters that doubled the master's CPU per line (386 ns against
 * 198, bench e2e 4 x 250k). A snapshot is exact because no module of the library exports a
 * binding it later reassigns (`export let`).
 */
const exportNames = new Map();
for (const path of workerModules) exportNames.set(path, Object.keys(await import(pathToFileURL(path).href)));

// Kept in dist/ (and shipped): the worker bundle's source map names it. The table holds each
// module's exports as plain values. `import * as` namespaces would make esbuild build an object
// of getter closures per module (~300 in all), which every worker process compiles and runs at
// load: 4.0 ms of CPU to require dist/worker.cjs against 3.6 ms with plain values (median of 15,
// 2-core VM).
const tableEntry = resolve("dist/worker-bundle.js");
const alias = (i, name) => `m${i}_${name}`;
writeFileSync(
  tableEntry,
  `export * from "./worker-index.js";\n${workerModules
    .map((path, i) => {
      const names = exportNames.get(path);
      if (names.length === 0) return "";
      return `import { ${names.map((n) => `${n} as ${alias(i, n)}`).join(", ")} } from "./${keyOf(path)}";\n`;
    })
    .join("")}export const __modules = {\n${workerModules
    .map(
      (path, i) =>
        `  ${JSON.stringify(keyOf(path))}: { ${exportNames
          .get(path)
          .map((n) => `${n}: ${alias(i, n)}`)
          .join(", ")} },\n`,
    )
    .join("")}};\n`,
);
const worker = await build({
  ...common,
  entryPoints: [tableEntry],
  outfile: "dist/worker.cjs",
  // The table is for dist/logmux.cjs, not for users: it stays readable but leaves the entry's
  // names (Object.keys, and so the ESM entry's exports).
  footer: {
    js: `module.exports = ((all) => {
  const entry = Object.defineProperty({}, "__modules", { value: all.__modules });
  for (const name of Object.keys(all))
    if (name !== "__modules") Object.defineProperty(entry, name, { get: () => all[name], enumerable: true });
  return Object.defineProperty(entry, "__esModule", { value: true });
})(module.exports);`,
  },
});
noWarnings(worker, "dist/worker.cjs");

const STUB_NAMESPACE = "worker-bundle";

/** Resolves every module the worker bundle holds to its entry in that bundle's table. */
const fromWorkerBundle = {
  name: "from-worker-bundle",
  setup(b) {
    const held = new Set(workerModules);
    b.onResolve({ filter: /^\.\/worker\.cjs$/ }, () => ({ path: "./worker.cjs", external: true }));
    // A namespace of their own, so the source map tells them from the modules' own files.
    b.onResolve({ filter: /^\./ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      return held.has(path) ? { path, namespace: STUB_NAMESPACE } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: STUB_NAMESPACE }, (args) => {
      const names = exportNames.get(args.path);
      const key = JSON.stringify(keyOf(args.path));
      return {
        contents:
          names.length === 0
            ? "export {};\n"
            : `import { __modules } from "./worker.cjs";\nconst held = __modules[${key}];\n` +
              `export const { ${names.join(", ")} } = held;\n`,
        resolveDir: resolve("dist"),
        loader: "js",
      };
    });
  },
};
const result = await build({
  ...common,
  entryPoints: ["dist/index.js"],
  outfile: "dist/logmux.cjs",
  plugins: [fromWorkerBundle],
});
noWarnings(result, "dist/logmux.cjs");
// The source map names each stub by its namespace; it stands for the module's own file, which the
// package ships (only the names change, so every mapping keeps its meaning).
const mapFile = "dist/logmux.cjs.map";
const map = JSON.parse(readFileSync(mapFile, "utf8"));
map.sources = map.sources.map((source) =>
  source.startsWith(`${STUB_NAMESPACE}:`)
    ? relative(resolve("dist"), source.slice(STUB_NAMESPACE.length + 1))
    : source,
);
writeFileSync(mapFile, JSON.stringify(map));

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

// The same for `logmux/worker`, without the module table only dist/logmux.cjs reads.
const workerNames = Object.keys(createRequire(import.meta.url)("../dist/worker.cjs")).sort();
writeFileSync(
  "dist/worker.mjs",
  "// The ESM entry of logmux/worker: everything comes from the CommonJS bundle (see logmux.mjs).\n" +
    'import { createRequire } from "node:module";\n\n' +
    `export const {\n${workerNames.map((name) => `  ${name},\n`).join("")}} = createRequire(import.meta.url)("./worker.cjs");\n`,
);
writeFileSync("dist/worker.d.mts", 'export * from "./types/worker-index.js";\n');

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
