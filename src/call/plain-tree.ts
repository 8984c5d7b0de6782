import { types } from "node:util";

/**
 * Whether the master, from the encoded value alone, rebuilds something `util.inspect` and
 * `JSON.stringify` print exactly as they print `value`: primitives other than symbols, and plain
 * objects, arrays and Dates made only of such, with no accessors, hidden or symbol keys, holes,
 * cycles or undefined properties, within `depth` and `entries`. Anything else given as a
 * %-argument is formatted by the worker (see arguments.ts). Reads only own property descriptors,
 * so no getter runs.
 */
export function isPlainTree(value: unknown, depth: number, entries: number): boolean {
  // Most arguments are primitives: answered before anything is allocated for the walk.
  if (typeof value !== "object") return typeof value !== "symbol" && typeof value !== "function";
  if (value === null) return true;
  try {
    return plain(value, depth, entries, []);
  } catch {
    return false;
  }
}

function plain(value: unknown, depth: number, entries: number, ancestors: object[]): boolean {
  if (typeof value !== "object") return typeof value !== "symbol" && typeof value !== "function";
  if (value === null) return true;
  if (depth <= 0 || ancestors.includes(value) || types.isProxy(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (value instanceof Date) return proto === Date.prototype && Reflect.ownKeys(value).length === 0;
  const isArray = Array.isArray(value);
  if (isArray ? proto !== Array.prototype : proto !== Object.prototype) return false;
  const keys = Reflect.ownKeys(value);
  if (keys.length > entries + (isArray ? 1 : 0)) return false;
  if (isArray && keys.length !== (value as unknown[]).length + 1) return false;
  ancestors.push(value);
  for (const key of keys) {
    if (typeof key === "symbol") return false;
    if (isArray && key === "length") continue;
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!descriptor.enumerable || descriptor.get !== undefined || descriptor.set !== undefined) return false;
    if (descriptor.value === undefined && !isArray) return false;
    if (!plain(descriptor.value, depth - 1, entries, ancestors)) return false;
  }
  ancestors.pop();
  return true;
}
