// Reading back a rotated log: the active file and every rotated one, in the order their names sort,
// gzipped ones through node:zlib (the real peer of gzip) and checked by the real gzip binary.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { LogLevel, type LogRecord } from "../../src/index.js";

export interface LogPart {
  name: string;
  text: string;
}

/** `app.2026-12-02.001.log[.gz]`: the pattern logmux gives the rotated files of `app.log`. */
export const ROTATED = /^app\.(\d{4}-\d\d-\d\d)\.(\d{3}|[1-9]\d{3,})\.log(\.gz)?$/;

/** Whether the real gzip binary is there; the tests use it when it is. */
export const HAVE_GZIP = spawnSync("gzip", ["--version"]).status === 0;

/** `gzip -t`: the real gzip says the file is a complete, valid gzip stream. */
export function assertGzipAccepts(path: string): void {
  if (!HAVE_GZIP) return;
  const result = spawnSync("gzip", ["-t", path], { encoding: "utf8" });
  assert.equal(result.status, 0, `gzip -t ${path}: ${result.stderr}`);
}

/** Rotated names of `app.log` in `dir`, oldest first: by date, then sequence number. */
export function rotatedNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => ROTATED.test(name))
    .sort((a, b) => {
      const [, da, sa] = ROTATED.exec(a)!;
      const [, db, sb] = ROTATED.exec(b)!;
      return da === db ? Number(sa) - Number(sb) : da! < db! ? -1 : 1;
    });
}

/** Every rotated file then `app.log`, each decompressed (and gzip -t checked) when gzipped. */
export function readRotatedLog(dir: string): LogPart[] {
  const parts = rotatedNames(dir).map((name) => {
    const path = join(dir, name);
    const bytes = readFileSync(path);
    if (!name.endsWith(".gz")) return { name, text: bytes.toString("utf8") };
    assertGzipAccepts(path);
    return { name, text: gunzipSync(bytes).toString("utf8") };
  });
  let active = "";
  try {
    active = readFileSync(join(dir, "app.log"), "utf8");
  } catch {}
  parts.push({ name: "app.log", text: active });
  return parts;
}

/**
 * Slice `s` of a rotation test: `lines` records "s<slice> l<line> xxx…", each `lineBytes` long
 * with its newline in the `%(message)s` format, so a test knows every file's size and content.
 */
export function rotationSlice(s: number, lineBytes: number, lines: number): LogRecord[] {
  return Array.from({ length: lines }, (_, l) => {
    const head = `s${String(s).padStart(4, "0")} l${l} `;
    return {
      timestampNs: 0n,
      level: LogLevel.INFO,
      name: "t",
      pid: 1,
      message: head + "x".repeat(lineBytes - 1 - head.length),
    };
  });
}

export function linesOf(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}
