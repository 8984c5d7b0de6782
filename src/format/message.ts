import { format, inspect } from "node:util";
import { FormattedArg } from "../protocol/value-reader.js";

const PERCENT = 37;

/**
 * The message of a record logged with %-arguments: `util.format(template, ...args)`, computed in
 * the master from the values the worker encoded. The placeholder walk is Node's own
 * (lib/internal/util/inspect.js, formatWithOptionsInternal) so that which placeholder takes which
 * argument, `%%`, placeholders left without an argument, and the arguments appended after the
 * last placeholder all come out as util.format has them; each conversion itself is left to
 * util.format, one argument at a time. An argument the worker already formatted (a class
 * instance, a Map, an Error...) is inserted as the text it sent.
 */
export function renderMessage(template: string, args: readonly unknown[]): string {
  if (args.length === 0) return template;
  let str = "";
  let a = 0;
  let lastPos = 0;
  let join = "";
  for (let i = 0; i < template.length - 1; i++) {
    if (template.charCodeAt(i) !== PERCENT) continue;
    const next = template.charCodeAt(++i);
    if (a < args.length) {
      let text: string;
      switch (next) {
        case 115: // s
        case 106: // j
        case 100: // d
        case 79: // O
        case 111: // o
        case 105: // i
        case 102: // f
          text = convert(next, args[a++]);
          break;
        case 99: // c: takes an argument, prints nothing (CSS in browsers)
          a++;
          text = "";
          break;
        case PERCENT:
          str += template.slice(lastPos, i);
          lastPos = i + 1;
          continue;
        default:
          continue;
      }
      if (lastPos !== i - 1) str += template.slice(lastPos, i - 1);
      str += text;
      lastPos = i + 1;
    } else if (next === PERCENT) {
      str += template.slice(lastPos, i);
      lastPos = i + 1;
    }
  }
  if (lastPos !== 0) {
    join = " ";
    if (lastPos < template.length) str += template.slice(lastPos);
  } else {
    str = template;
    join = " ";
  }
  for (; a < args.length; a++) {
    const value = args[a];
    str += join;
    str +=
      typeof value === "string" ? value : value instanceof FormattedArg ? value.text : safeInspect(value);
  }
  return str;
}

function convert(conversion: number, value: unknown): string {
  if (value instanceof FormattedArg) return value.text;
  if (conversion === 115 && typeof value === "string") return value;
  try {
    return format(`%${String.fromCharCode(conversion)}`, value);
  } catch (error) {
    // %j of a bigint: JSON.stringify throws, and so would util.format. A log line must not.
    return `[${(error as Error).name}: ${(error as Error).message}]`;
  }
}

function safeInspect(value: unknown): string {
  try {
    return inspect(value);
  } catch {
    return "[uninspectable]";
  }
}
