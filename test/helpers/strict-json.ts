// A JSON reader stricter than JSON.parse, for checking JSON lines: a key repeated in one object is
// an error (JSON.parse keeps the last silently), an integer literal beyond 2^53 is read as the
// exact bigint its digits say (JSON.parse rounds it), and the top-level object's keys are kept
// in the order the text has them.

export interface StrictJson {
  value: unknown;
  /** The keys of the top-level object, in text order. */
  keys: string[];
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const INTEGER = /^-?\d+$/;

/** The value a number literal stands for here: a bigint when it is an integer past 2^53. */
export function numberOf(literal: string): number | bigint {
  const value = Number(literal);
  return INTEGER.test(literal) && !Number.isSafeInteger(value) ? BigInt(literal) : value;
}

export function parseStrict(text: string): StrictJson {
  let pos = 0;
  let topKeys: string[] | undefined;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${pos} in ${text}`);
  };
  const space = (): void => {
    while (pos < text.length && " \t\n\r".includes(text[pos]!)) pos++;
  };
  const string = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === "\\" ? 2 : 1;
    if (pos >= text.length) fail("unterminated string");
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const value = (depth: number): unknown => {
    space();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const object: Record<string, unknown> = {};
      const keys: string[] = [];
      space();
      if (text[pos] === "}") pos++;
      else {
        for (;;) {
          space();
          if (text[pos] !== '"') fail("expected a key");
          const key = string();
          if (Object.hasOwn(object, key)) fail(`duplicate key ${JSON.stringify(key)}`);
          space();
          if (text[pos++] !== ":") fail("expected ':'");
          Object.defineProperty(object, key, {
            value: value(depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
          keys.push(key);
          space();
          if (text[pos] === ",") pos++;
          else if (text[pos] === "}") {
            pos++;
            break;
          } else fail("expected ',' or '}'");
        }
      }
      if (depth === 0) topKeys = keys;
      return object;
    }
    if (c === "[") {
      pos++;
      const items: unknown[] = [];
      space();
      if (text[pos] === "]") pos++;
      else {
        for (;;) {
          items.push(value(depth + 1));
          space();
          if (text[pos] === ",") pos++;
          else if (text[pos] === "]") {
            pos++;
            break;
          } else fail("expected ',' or ']'");
        }
      }
      return items;
    }
    if (c === '"') return string();
    for (const [word, result] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return result;
      }
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match === null) return fail("unexpected character");
    pos += match[0].length;
    return numberOf(match[0]);
  };
  // JSON.parse first: whatever this reader accepts must be JSON to the real parser too.
  JSON.parse(text);
  const result = value(0);
  space();
  if (pos !== text.length) fail("text after the value");
  return { value: result, keys: topKeys ?? [] };
}
