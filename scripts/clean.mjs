#!/usr/bin/env node
// Removes a build output directory before tsc writes it again: tsc never deletes the output of a
// source file that moved or was removed, and a stale module left in dist/ would ship in the
// package (or a stale test in .build/ would still run).
import { rmSync } from "node:fs";

for (const dir of process.argv.slice(2)) rmSync(dir, { recursive: true, force: true });
