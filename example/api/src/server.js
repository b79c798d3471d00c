'use strict'
// API entry point: wires Postgres, Redis and the HTTP routes, and shuts down
// gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests,
// close the pools, exit 0). Node is PID 1 in the image unless compose adds
// `init: true`; either way the handlers below receive the signal.
const http = require('node:http')
const { Pool } = require('pg')
const { createClient } = require('redis')
const { loadConfig } = require('./config')
const { createLogger } = require('./log')
const { createApp } = require('./app')

let config
try {
  config = loadConfig()
} catch (err) {
  createLogger().error('invalid configuration', { err })
  process.exit(1)
}
const log = createLogger(config.logLevel, { service: 'api', version: config.version })

const pool = new Pool({
  ...config.database,
  max: 10,
  connectionTimeoutMillis: 3000,
  idleTimeoutMillis: 30000,
  application_name: 'stack-deploy-example-api'
})
pool.on('error', err => log.warn('idle postgres connection failed', { err }))

const redis = createClient({
  password: config.redis.password,
  // Fail fast while disconnected instead of queueing: /health must answer.
  disableOfflineQueue: true,
  socket: {
    host: config.redis.host,
    port: config.redis.port,
    connectTimeout: 3000,
    reconnectStrategy: retries => Math.min(100 * 2 ** retries, 2000)
  }
})
let lastRedisError = ''
redis.on('error', err => {
  // The client retries forever; log each distinct error once, not every retry.
  if (err.message !== lastRedisError) log.warn('redis unavailable, retrying', { err })
  lastRedisError = err.message
})
redis.on('ready', () => {
  lastRedisError = ''
  log.info('redis ready')
})

let shuttingDown = false
const server = http.createServer(
  createApp({
    pool,
    redis,
    version: config.version,
    log,
    isShuttingDown: () => shuttingDown
  })
)
server.keepAliveTimeout = 5000
server.headersTimeout = 10000
server.requestTimeout = 30000

async function shutdown(signal) {
  if (shuttingDown) return
  shuttingDown = true
  log.info('shutting down', { signal })
  setTimeout(() => {
    log.error('graceful shutdown timed out, exiting', { timeoutMs: config.shutdownTimeoutMs })
    process.exit(1)
  }, config.shutdownTimeoutMs).unref()

  // close() stops accepting and resolves once in-flight requests are done;
  // idle keep-alive sockets would otherwise hold it open.
  await new Promise(resolve => {
    server.close(resolve)
    server.closeIdleConnections()
  })
  await Promise.allSettled([pool.end(), redis.isReady ? redis.close() : redis.destroy()])
  log.info('stopped', { signal })
  process.exit(0)
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('unhandledRejection', err => {
  log.error('unhandled rejection', { err })
  process.exit(1)
})

// Listen at once and connect Redis in the background: /health reports the
// truth (503 until both backends answer) instead of the process crash-looping.
redis.connect().catch(err => log.warn('redis connect failed, retrying', { err }))
server.listen(config.port, () => {
  log.info('listening', { port: config.port })
})
