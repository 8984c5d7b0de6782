// `npm start` builds only when dist/ is stale (scripts/ensure-build.mjs). Run here on a small
// project of its own, whose build script stands in for tsc and esbuild and counts its runs, so each
// case is seconds of npm, not of compiling.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/processes.js";
import { ROOT } from "./cli-helpers.js";

/** A project with the real ensure-build script, and a build that writes dist/ as the real one does. */
function project(dir: string): {
  ensure: () => { status: number | null; stderr: string };
  builds: () => number;
} {
  mkdirSync(join(dir, "scripts"));
  mkdirSync(join(dir, "src"));
  copyFileSync(join(ROOT, "scripts", "ensure-build.mjs"), join(dir, "scripts", "ensure-build.mjs"));
  writeFileSync(join(dir, "src", "a.ts"), "export const a = 1;\n");
  writeFileSync(join(dir, "tsconfig.json"), "{}\n");
  // The build fails when src/broken exists, after its first step, as a tsc error would.
  const build =
    "require('fs').appendFileSync('builds.txt', 'x'); if (require('fs').existsSync('src/broken')) process.exit(1); " +
    "require('fs').mkdirSync('dist/cli', { recursive: true }); require('fs').writeFileSync('dist/cli/main.js', '')";
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "ensure-build-fixture",
      private: true,
      scripts: {
        build: `node scripts/ensure-build.mjs --pending && node -e "${build}" && node scripts/ensure-build.mjs --commit`,
      },
    }),
  );
  return {
    ensure: () => {
      const result = spawnSync(process.execPath, [join(dir, "scripts", "ensure-build.mjs")], {
        cwd: dir,
        encoding: "utf8",
      });
      return { status: result.status, stderr: result.stderr };
    },
    builds: () =>
      existsSync(join(dir, "builds.txt")) ? readFileSync(join(dir, "builds.txt"), "utf8").length : 0,
  };
}

describe("npm start's build check (scripts/ensure-build.mjs)", () => {
  it("builds when dist/ is missing or its sources changed, and only then", (t) => {
    const dir = tempDir(t);
    const { ensure, builds } = project(dir);
    const run = (): void => {
      const result = ensure();
      assert.equal(result.status, 0, result.stderr);
    };

    run();
    assert.equal(builds(), 1, "a fresh clone builds");
    run();
    assert.equal(builds(), 1, "a fresh build is not built again");

    // A new mtime with the same content (a git checkout does this) is not a change.
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(dir, "src", "a.ts"), future, future);
    run();
    assert.equal(builds(), 1, "touched, not changed");

    writeFileSync(join(dir, "src", "a.ts"), "export const a = 2;\n");
    run();
    assert.equal(builds(), 2, "an edited source");
    writeFileSync(join(dir, "src", "b.ts"), "export const b = 1;\n");
    run();
    assert.equal(builds(), 3, "a new source");
    rmSync(join(dir, "src", "b.ts"));
    run();
    assert.equal(builds(), 4, "a removed source");
    writeFileSync(join(dir, "tsconfig.json"), '{ "compilerOptions": {} }\n');
    run();
    assert.equal(builds(), 5, "the compiler settings");
    rmSync(join(dir, "dist", "cli", "main.js"));
    run();
    assert.equal(builds(), 6, "an output removed");
    run();
    assert.equal(builds(), 6);
  });

  it("a failed build is not taken for a fresh one", (t) => {
    const dir = tempDir(t);
    const { ensure, builds } = project(dir);
    writeFileSync(join(dir, "src", "broken"), "");
    const failed = ensure();
    assert.notEqual(failed.status, 0, "the build's failure is the script's");
    assert.equal(builds(), 1);
    rmSync(join(dir, "src", "broken"));
    assert.equal(ensure().status, 0);
    assert.equal(builds(), 2, "built again, now successfully");
    assert.equal(ensure().status, 0);
    assert.equal(builds(), 2);
  });
});
