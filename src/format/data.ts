/**
 * How an attachment appears in a text line: ` [data 11B utf8: "hello world"]` when it is printable
 * UTF-8 text, ` [data 4B base64: AAECAw==]` otherwise. JSON string escaping keeps every line a line.
 */
export function renderData(data: Uint8Array): string {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
  const text = buf.toString("utf8");
  if (isPrintableText(text) && Buffer.byteLength(text) === buf.length) {
    return `[data ${buf.length}B utf8: ${JSON.stringify(text)}]`;
  }
  return `[data ${buf.length}B base64: ${buf.toString("base64")}]`;
}

function isPrintableText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Control characters other than tab/newline/CR, and U+FFFD from invalid input, mean binary.
    if (
      (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) ||
      code === 0x7f ||
      code === 0xfffd
    ) {
      return false;
    }
  }
  return true;
}
