function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

/**
 * `YYYY-MM-DD HH:MM:SS,mmm` in local time, as Python's logging prints `%(asctime)s`.
 * The part up to the second is cached: a burst of records shares it, so only the milliseconds are
 * formatted per record.
 */
export class AsctimeCache {
  #second = Number.NaN;
  #prefix = "";
  readonly #prefixBytes = Buffer.alloc(19);
  readonly #prefixView = new Uint8Array(this.#prefixBytes.buffer, this.#prefixBytes.byteOffset, 19);

  #refresh(second: number): void {
    const d = new Date(second * 1000);
    this.#prefix = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(
      d.getMinutes(),
    )}:${pad2(d.getSeconds())}`;
    this.#prefixBytes.write(this.#prefix, 0, "latin1");
    this.#second = second;
  }

  format(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) this.#refresh(second);
    return `${this.#prefix},${pad3(Math.floor(ms - second * 1000))}`;
  }

  /** Writes the 23 ASCII bytes of `format(ms)` at `offset`; the caller guarantees the room. */
  write(ms: number, buf: Uint8Array, offset: number): number {
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) this.#refresh(second);
    const prefix = this.#prefixView;
    // 19 bytes: a JS loop is cheaper than the native copy call.
    for (let k = 0; k < 19; k++) buf[offset + k] = prefix[k]!;
    const millis = Math.floor(ms - second * 1000);
    buf[offset + 19] = 0x2c; // ','
    buf[offset + 20] = 0x30 + Math.floor(millis / 100);
    buf[offset + 21] = 0x30 + (Math.floor(millis / 10) % 10);
    buf[offset + 22] = 0x30 + (millis % 10);
    return 23;
  }
}

export const ASCTIME_BYTES = 23;

/** RFC 3339 / ISO 8601 UTC time with milliseconds, as the JSON lines format prints it. */
export function isoTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}
