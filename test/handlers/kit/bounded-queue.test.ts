import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedQueue } from "../../../src/handlers/kit/bounded-queue.js";

test("FIFO order, and the oldest are pushed out past maxItems with an exact count", () => {
  const queue = new BoundedQueue<number>({ maxItems: 3 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => queue.push(n)),
    [0, 0, 0, 1, 1],
  );
  assert.equal(queue.evicted, 2);
  assert.deepEqual(queue.clear(), [3, 4, 5]);
});

test("a size bound counts characters; the newest item stays even alone over it", () => {
  const queue = new BoundedQueue<string>({ maxItems: 100, maxSize: 10, sizeOf: (s) => s.length });
  queue.push("aaaa");
  queue.push("bbbb");
  assert.equal(queue.push("cccc"), 1);
  assert.equal(queue.size, 8);
  assert.equal(queue.push("x".repeat(50)), 2);
  assert.equal(queue.length, 1);
  assert.equal(queue.size, 50);
});

test("replaceHead, unshiftAll then trim, take: sizes stay exact", () => {
  const queue = new BoundedQueue<string>({ maxItems: 4, sizeOf: (s) => s.length });
  queue.push("hello");
  queue.replaceHead("lo");
  assert.equal(queue.size, 2);
  queue.push("c");
  queue.unshiftAll(["a", "b", "zz"]);
  assert.equal(queue.length, 5);
  assert.equal(queue.trim(), 1);
  assert.deepEqual(queue.take(2), ["b", "zz"]);
  assert.equal(queue.size, 3);
  assert.deepEqual([queue.shift(), queue.peek()], ["lo", "c"]);
});

test("a million pushes through a small bound: count exact, memory compacted", () => {
  const queue = new BoundedQueue<number>({ maxItems: 1000 });
  let evicted = 0;
  for (let i = 0; i < 1_000_000; i++) evicted += queue.push(i);
  assert.equal(evicted, 999_000);
  assert.equal(queue.evicted, evicted);
  assert.equal(queue.peek(), 999_000);
});
