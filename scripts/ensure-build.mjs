#!/usr/bin/env node
// Builds dist/ only when it is out of date with what it is built from, so `npm start` shows the
// demo at once after a build (a full build is ~8 s of tsc and esbuild on the 2-core VM) and still
// builds on a fresh clone, where `npm install` builds nothing (there is no prepare script).
//
//   node scripts/ensure-build.mjs            build (npm run build) unless dist/ is fresh
//   node scripts/ensure-build.mjs --pending  first step of the build: note the inputs' fingerprint
//   node scripts/ensure-build.mjs --commit   last step of the build: the noted fingerprint is now dist's
//
// Fresh means: dist/.build-stamp holds the fingerprint of the inputs as they are now. The
// fingerprint hashes the contents (not mtimes: a git checkout or an extracted tarball changes
// mtimes without changing anything). It is taken when the build starts and only committed when the
// build succeeded, so a failed build, or a file edited while tsc was running, builds again next time.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const STAMP = join(ROOT, "dist", ".build-stamp");
const PENDING = join(ROOT, "dist", ".build-pending");
/** What `npm run build` reads: the sources, the compiler settings, the build scripts, the toolchain. */
const INPUTS = [
  "src",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  "scripts/bundle.mjs",
  "scripts/clean.mjs",
];
/** A module the demo loads: its absence means dist/ was removed or only partly written. */
const OUTPUT = join(ROOT, "dist", "cli", "main.js");

function files(path) {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  try {
    return readdirSync(full, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(ROOT, join(entry.parentPath ?? entry.path, entry.name)));
  } catch (error) {
    if (error.code === "ENOTDIR") return [path];
    throw error;
  }
}

function fingerprint() {
  const hash = createHash("sha256");
  for (const file of INPUTS.flatMap(files).sort()) {
    const content = readFileSync(join(ROOT, file));
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex");
}

function read(file) {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

const mode = process.argv[2];
if (mode === "--pending") {
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  // dist/ is being rewritten: until the build succeeds, it is not fresh for any fingerprint.
  rmSync(STAMP, { force: true });
  writeFileSync(PENDING, `${fingerprint()}\n`);
} else if (mode === "--commit") {
  renameSync(PENDING, STAMP);
} else if (mode !== undefined) {
  process.stderr.write(`ensure-build: unknown argument ${mode}; expected --pending, --commit or nothing\n`);
  process.exit(2);
} else if (!existsSync(OUTPUT) || read(STAMP) !== fingerprint()) {
  process.stderr.write("logmux: building dist/ first (it is missing or older than src/)…\n");
  // Under `npm start`, npm_execpath is the npm that runs us; elsewhere, the npm on the PATH.
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, "run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" })
    : spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
