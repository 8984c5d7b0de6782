#!/usr/bin/env node
// Runs every compiled test file under .build/test with node's own test runner. Node 20's `--test`
// takes no glob, and npm's sh does not expand `**`, so the files are listed here.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = ".build/test";
const only = process.argv.slice(2);

function collect(dir) {
  const files = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (entry === "fixtures") continue;
    if (statSync(path).isDirectory()) files.push(...collect(path));
    else if (entry.endsWith(".test.js")) files.push(path);
  }
  return files;
}

const files = collect(root).filter((file) => only.length === 0 || only.some((part) => file.includes(part)));
if (files.length === 0) {
  console.error(`no test files found under ${root}${only.length ? ` matching ${only.join(", ")}` : ""}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
