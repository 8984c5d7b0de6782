// "How to read the tables": the part of docs/benchmarks.md that says what every scenario, row and
// figure means. writeDocs emits it above the numbers, so definitions and numbers never drift apart;
// every table's own notes (from its scenario) add the details of the run.

export const GUIDE = `## How to read the tables

Run everything with \`npm run bench\` (6.5 minutes on this 2-core machine with other work at a load average of 5-9, 10 minutes at 12-24; less on a quiet one), one or more
scenarios with \`npm run bench -- --scenario e2e,worker\`, a smoke run with \`--quick\`; \`--help\`
lists the size flags (\`--procs 1,2,4,8,16\`, \`--records\`, \`--rounds\`, \`--calls\`, \`--seconds\`,
\`--paced-seconds\`; \`--loggers logmux,pino\` to measure a few). Every ratio and every target below is measured within one run: rounds
alternate the loggers in round-robin order, so a noisy machine's drift hits them alike. Targets
are informational; benchmarks never gate \`npm test\`.

Peers, each set up the way its documentation recommends, with its default line format:
pino \`destination({ sync: false })\` (the hot path also has \`transport({ target: 'pino/file' })\`),
winston's File transport, log4js (file appender in one process; its multiprocess appender with a
TCP master end to end), LogTape (\`@logtape/logtape\` with \`@logtape/file\`'s \`getStreamFileSink()\`,
its sink for high-volume logging). LogTape is in every scenario that has peers; the master,
master-ceiling and sustained scenarios measure logmux's master, which no peer has (log4js'
multiprocess master is the reference in the master scenario).

| table (scenario) | what it measures | targets (issue 15 and earlier) |
| :--- | :--- | :--- |
| 1. Hot path (\`hotpath\`) | One log call in one process, each logger in a fresh process: calls timed in blocks of 100 with \`process.hrtime.bigint()\`; median and p99 of the block means; p99/median; the same for the message built with + (\`"request handled: GET /api/items/" + n + " status=200 in 3.1ms"\`, as end to end); the buffer-copy floor timed beside every block | logmux >= 10x cheaper than pino; within 2x of the floor; p99 per 100-call block <= 2x the median (constant message); median <= winston's, constant and built with + (and every peer's) |
| 2. End to end (\`e2e\`) | P processes x M lines into one file (P = 1, 2, 4, 8, 16; P x M = 1M from P = 4 on: 4 x 250k, 16 x 62.5k), each loop building its message with \`+\`, logmux in its default text format; lines/s from forking the first worker until the last line is on disk; every line counted in the file | >= 5x pino's lines/s at P=4, >= 4x at P=16, every line present; the log call while 4 workers and the master share the cores >= 10x cheaper than pino's ("call in worker" at P=4 minus the no-logging loop's) |
| 2b. Scaling | logmux's lines/s by P, the master's and all processes' CPU share | where scaling stops |
| 2c. Added cost per line | Per P and logger: (CPU of all processes of the logging run - CPU of the no-logging run of the same P processes, same loop, same message building, no log call) / lines. CPU = user + system time (every thread) of every worker from start to exit plus the master's from the workers' fork to its file closed. Wall time of both runs and (Δwall x cores used) / lines are shown beside it | logmux at P=4 <= 0.36 µs (half of 0.72 µs when issue 15 was filed); P=16 <= 1.2x P=4 |
| 3. Master under load (\`master\`) | The logmux master during the 4-worker burst: event-loop delay, RSS, CPU; again with the workers at nice 19 | event-loop delay p99 < 20 ms |
| 3b. Master ceiling (\`ceiling\`) | 4 workers at nice 19 log 250k lines each before the master starts, so it always has more than it can take; its lines/s from the first record in to the last settled (the ceiling), its CPU share there (near 100%: saturated), and lines per master CPU-second, with 1 handler (file), 2 (+ JSON-lines file), 3 (+ console to /dev/null), each with the ratio to 1 handler | reported |
| 4. Sustained (\`sustained\`) | 4 workers at a fixed 0.8 x the measured capacity for 60 s: master RSS, heap and event loop over time | no master RSS growth (< 1 MB/min) |
| 5. / 5b. Structured records (\`structured\`) | Calls with fields, %-arguments, a child's bindings, a mixin, trace context, against the plain call and the peers; the master rendering such records on one core | see the structured-records targets |
| 6. Worker fixed costs (\`worker\`) | CPU (\`process.cpuUsage()\`, every thread) from before the import until the first record is handed over: logmux to \`flush()\` resolved against a running master (connected, record on its socket), peers to \`close()\` resolved; peak RSS of a worker at full speed (the P=1 end-to-end run) minus the same worker without logging | import + first connection <= 10 ms CPU; RSS <= 16 MB above no logging |
| 6b. Worker event loop | One worker logging 100k records/s on a 1 ms timer, \`monitorEventLoopDelay({ resolution: 1 })\`: p50, p99, max, and the longest block (max - the 1 ms interval every sample includes); the no-logging worker shows the scheduler's share | never blocked > 1 ms (longest block) |

Times are medians over rounds unless a note says otherwise. On a machine with fewer cores than
busy processes (P >= 2 here), wall-clock figures include waiting for a core; CPU figures do not,
which is why the added cost is defined on CPU time.
`;
