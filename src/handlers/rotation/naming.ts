import { readdirSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";

/**
 * The sequence is zero-padded to this many digits so that `ls` lists a day's files in order up to
 * 999 rotations a day (100 GB a day at 100 MB). Beyond that names stay unique and correct, and
 * retention still sorts them by number; only a plain lexical sort would misplace them.
 */
const SEQ_DIGITS = 3;

/** One rotated file, whatever form it is in now. */
export interface RotatedFile {
  /** Local date (YYYY-MM-DD) of the file's first line. */
  date: string;
  seq: number;
  /** The uncompressed name's full path; `.gz` and the gzip temp files are it plus a suffix. */
  plain: string;
  hasPlain: boolean;
  hasGz: boolean;
  /** Pids of the processes whose gzip temp files (`<plain>.gz.<pid>.tmp`) are there. */
  tmpPids: number[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Local calendar date of `ms` as YYYY-MM-DD. */
export function localDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * Names of the rotated files of one log file: `app.log` rotates to `app.2026-12-02.001.log`, then
 * `app.2026-12-02.001.log.gz` once compressed (by way of `app.2026-12-02.001.log.gz.<pid>.tmp`). The date (the local date the file began) comes
 * before the sequence, so names sort by when their lines were written; the extension stays last,
 * so editors and `zless` still know the file for what it is. Only names matching this pattern
 * exactly are ever listed, compressed or deleted.
 */
export class RotatedNames {
  readonly dir: string;
  readonly #stem: string;
  readonly #ext: string;
  readonly #pattern: RegExp;

  constructor(path: string) {
    this.dir = dirname(path);
    const name = basename(path);
    this.#ext = extname(name);
    this.#stem = name.slice(0, name.length - this.#ext.length);
    this.#pattern = new RegExp(
      `^${escapeRegExp(this.#stem)}\\.(\\d{4}-\\d{2}-\\d{2})\\.(\\d{${SEQ_DIGITS},})${escapeRegExp(this.#ext)}(\\.gz|\\.gz\\.(\\d+)\\.tmp)?$`,
    );
  }

  name(date: string, seq: number): string {
    return join(this.dir, `${this.#stem}.${date}.${String(seq).padStart(SEQ_DIGITS, "0")}${this.#ext}`);
  }

  /** Every rotated file in the directory, oldest first (by date, then sequence number). */
  list(): RotatedFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const files = new Map<string, RotatedFile>();
    for (const name of names) {
      const match = this.#pattern.exec(name);
      if (match === null) continue;
      const date = match[1]!;
      const seq = Number(match[2]);
      const plain = this.name(date, seq);
      // "001" and "0001" would be two files with one number: only the canonical spelling is ours.
      if (basename(plain) !== name.slice(0, name.length - (match[3]?.length ?? 0))) continue;
      let file = files.get(plain);
      if (file === undefined) {
        file = { date, seq, plain, hasPlain: false, hasGz: false, tmpPids: [] };
        files.set(plain, file);
      }
      if (match[3] === undefined) file.hasPlain = true;
      else if (match[3] === ".gz") file.hasGz = true;
      else file.tmpPids.push(Number(match[4]));
    }
    return [...files.values()].sort((a, b) => (a.date === b.date ? a.seq - b.seq : a.date < b.date ? -1 : 1));
  }

  /** The next sequence number for `date`: one past the highest there is in any form. */
  nextSeq(date: string, files: readonly RotatedFile[] = this.list()): number {
    let seq = 0;
    for (const file of files) if (file.date === date && file.seq > seq) seq = file.seq;
    return seq + 1;
  }
}
