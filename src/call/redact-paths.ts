import { InvalidConfigError } from "../errors.js";
import type { RedactNode } from "../protocol/value-writer.js";

/**
 * One path segment: a name, or `*` for any key (and any array index). Accepted syntax, as pino's
 * `redact`: `a.b.c`, `a["b-c"]`, `a['b']`, `a[0]`, `a[*].b`, `*.token`.
 */
const SEGMENT = /^(?:\.?([A-Za-z_$][\w$-]*|\*)|\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\d+)|(\*))\])/;

/** Splits one redact path into its segments; throws InvalidConfigError naming `field`. */
export function parseRedactPath(path: string, field: string): string[] {
  if (typeof path !== "string" || path.length === 0) {
    throw new InvalidConfigError(field, `expected non-empty path strings, got ${JSON.stringify(path)}`);
  }
  const segments: string[] = [];
  let rest = path;
  while (rest.length > 0) {
    const match = SEGMENT.exec(rest);
    if (match === null || (segments.length === 0 && rest.startsWith("."))) {
      throw new InvalidConfigError(
        field,
        `cannot parse redact path ${JSON.stringify(path)} at ${JSON.stringify(rest)}; accepted: ` +
          'dotted names (a.b), brackets (a["b-c"], a[0]) and wildcards (*.token, a[*].b)',
      );
    }
    const segment = match[1] ?? match[2] ?? match[3] ?? match[4] ?? match[5]!;
    segments.push(
      match[2] !== undefined || match[3] !== undefined ? segment.replace(/\\(.)/g, "$1") : segment,
    );
    rest = rest.slice(match[0].length);
  }
  return segments;
}

function newNode(): RedactNode {
  return { terminal: false, children: undefined, wildcard: undefined };
}

function insert(root: RedactNode, segments: readonly string[]): void {
  let node = root;
  for (const segment of segments) {
    if (segment === "*") {
      node.wildcard ??= newNode();
      node = node.wildcard;
    } else {
      node.children ??= new Map();
      let next = node.children.get(segment);
      if (next === undefined) {
        next = newNode();
        node.children.set(segment, next);
      }
      node = next;
    }
  }
  node.terminal = true;
}

/**
 * A name matched explicitly must still see what the wildcard beside it matches: with `a.b` and
 * `*.c`, the key `a` leads to both `b` and `c`. Copies each wildcard subtree into its named
 * siblings, so a lookup follows one node.
 */
function mergeInto(target: RedactNode, source: RedactNode): void {
  if (source.terminal) target.terminal = true;
  if (source.wildcard !== undefined) {
    target.wildcard ??= newNode();
    mergeInto(target.wildcard, source.wildcard);
  }
  if (source.children !== undefined) {
    target.children ??= new Map();
    for (const [key, child] of source.children) {
      let into = target.children.get(key);
      if (into === undefined) {
        into = newNode();
        target.children.set(key, into);
      }
      mergeInto(into, child);
    }
  }
}

function spreadWildcards(node: RedactNode): void {
  if (node.children !== undefined) {
    for (const child of node.children.values()) {
      if (node.wildcard !== undefined) mergeInto(child, node.wildcard);
      spreadWildcards(child);
    }
  }
  if (node.wildcard !== undefined) spreadWildcards(node.wildcard);
}

/** Compiles redact paths into the tree the encoder follows; undefined when there are none. */
export function compileRedact(paths: readonly string[], field: string): RedactNode | undefined {
  if (paths.length === 0) return undefined;
  const root = newNode();
  for (const path of paths) insert(root, parseRedactPath(path, field));
  spreadWildcards(root);
  return root;
}
