// log4js' multiprocess appender, master side: a TCP server that hands events to a file appender.
// A thin counting wrapper tells when every expected event has arrived, so "shutdown" can wait for
// them before closing the file (log4js' own shutdown does not wait for in-flight socket data).
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { MasterProbe, nextMessage, params, runChild, send } from "../lib/child.mjs";

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`log4js master did not listen on port ${port}`);
    await sleep(20);
  }
}

runChild(async () => {
  const { port, file, rssIntervalMs = 100 } = params;
  const { default: log4js } = await import("log4js");
  let received = 0;
  const counting = {
    configure: (_config, _layouts, findAppender) => {
      const target = findAppender("file");
      return (event) => {
        received++;
        target(event);
      };
    },
  };
  log4js.configure({
    appenders: {
      file: { type: "file", filename: file },
      counted: { type: counting },
      server: {
        type: "multiprocess",
        mode: "master",
        appender: "counted",
        loggerHost: "127.0.0.1",
        loggerPort: port,
      },
    },
    categories: { default: { appenders: ["server"], level: "info" } },
  });
  await waitForPort(port, 5000);

  const probe = new MasterProbe(rssIntervalMs);

  await send({ type: "ready" });
  await nextMessage("reset");
  probe.reset();
  await send({ type: "reset" });

  const { expected } = await nextMessage("shutdown");
  // Wait for every expected event, or until none has arrived for 2 s (then lines were lost).
  let last = -1;
  let idleSince = performance.now();
  while (received < expected) {
    if (received !== last) {
      last = received;
      idleSince = performance.now();
    } else if (performance.now() - idleSince > 2000) {
      break;
    }
    await sleep(5);
  }
  await new Promise((resolve, reject) => log4js.shutdown((e) => (e ? reject(e) : resolve())));
  await send({ type: "closed", ...probe.stop(), received });
});
