'use strict'
// Configuration from the environment. Secrets may be given directly
// (DATABASE_PASSWORD) or as a path to a file (DATABASE_PASSWORD_FILE, e.g. a
// Docker/Compose secret mounted under /run/secrets); the file wins when both
// are set. Nothing here logs secret values.
const fs = require('node:fs')

function readSecret(env, name) {
  const file = env[`${name}_FILE`]
  if (file) {
    try {
      // Drop the trailing newline editors and `echo` add; keep everything else.
      return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new Error(`cannot read ${name}_FILE (${file}): ${err.code || err.message}`)
    }
  }
  return env[name]
}

function int(env, name, fallback) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`)
  return n
}

function loadConfig(env = process.env) {
  return {
    port: int(env, 'PORT', 3000),
    version: env.APP_VERSION || 'dev',
    logLevel: env.LOG_LEVEL || 'info',
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 8000),
    database: {
      host: env.DATABASE_HOST || 'localhost',
      port: int(env, 'DATABASE_PORT', 5432),
      user: env.DATABASE_USER || 'app',
      database: env.DATABASE_NAME || 'app',
      password: readSecret(env, 'DATABASE_PASSWORD')
    },
    redis: {
      host: env.REDIS_HOST || 'localhost',
      port: int(env, 'REDIS_PORT', 6379),
      password: readSecret(env, 'REDIS_PASSWORD')
    }
  }
}

module.exports = { loadConfig, readSecret }
