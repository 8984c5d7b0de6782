import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidConfigError } from "../../../src/errors.js";
import {
  boolOption,
  durationMs,
  httpUrlOption,
  intOption,
  oneOfOption,
  stringOption,
} from "../../../src/handlers/kit/validate.js";

function rejects(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(
    fn,
    (error: unknown) =>
      error instanceof InvalidConfigError && error.field === field && message.test(error.message),
  );
}

test("each validator names the field and what it accepts", () => {
  assert.equal(intOption("port", undefined, 514, 1, 65_535), 514);
  assert.equal(intOption("port", 80, 514, 1, 65_535), 80);
  rejects(
    () => intOption("port", 70_000, 514, 1, 65_535),
    "port",
    /^Invalid port: expected an integer from 1 to 65535, got 70000$/,
  );
  rejects(() => intOption("maxQueue", 1.5, 1, 1), "maxQueue", /integer/);
  rejects(() => intOption("maxQueue", "5", 1, 1), "maxQueue", /got 5/);
  assert.equal(boolOption("gzip", undefined, false), false);
  rejects(() => boolOption("gzip", "yes", false), "gzip", /expected true or false, got yes/);
  assert.equal(stringOption("appName", "", "x", true), "");
  rejects(() => stringOption("serviceName", "", undefined), "serviceName", /non-empty string, got ""/);
  assert.equal(httpUrlOption("url", "https://h/v1", "http://e").host, "h");
  rejects(() => httpUrlOption("url", "ftp://h", "http://e"), "url", /protocol ftp:/);
  rejects(() => httpUrlOption("url", "http://user:s3cret@", "http://e"), "url", /such as http:\/\/e/);
  assert.equal(oneOfOption("transport", undefined, "tcp", ["tcp", "udp"]), "tcp");
  rejects(
    () => oneOfOption("transport", "sctp", "tcp", ["tcp", "tls", "udp"]),
    "transport",
    /"tcp", "tls" or "udp", got sctp/,
  );
});

test("a URL that does not parse is not echoed (it may carry credentials)", () => {
  assert.throws(
    () => httpUrlOption("url", "not a url s3cret", "http://e"),
    (error: unknown) => error instanceof InvalidConfigError && !error.message.includes("s3cret"),
  );
});

test("durationMs reads a number and a unit (ms, s, m, h, d), and nothing else", () => {
  assert.equal(durationMs("500ms"), 500);
  assert.equal(durationMs("1.5s"), 1500);
  assert.equal(durationMs(" 10 m "), 600_000);
  assert.equal(durationMs("6h"), 21_600_000);
  assert.equal(durationMs("1d"), 86_400_000);
  for (const bad of ["", "10", "10x", "1D", "-1s", "1e3s", "s", "1.s", "10 m s"]) {
    assert.ok(Number.isNaN(durationMs(bad)), JSON.stringify(bad));
  }
});
