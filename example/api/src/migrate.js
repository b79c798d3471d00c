'use strict'
// One-shot schema migration job: `node src/migrate.js`.
//
// - applies migrations/NNN_name.sql in numeric order, each in its own
//   transaction together with its ledger row in schema_migrations;
// - holds a Postgres advisory lock for the whole run, so two concurrent runs
//   (two deploys, a scaled job) cannot race: the second waits, then finds
//   nothing to do;
// - refuses to run (exit 1) when an applied migration's file was edited
//   (checksum mismatch): applied migrations are immutable, add a new one;
// - is idempotent: a second run applies nothing and exits 0;
// - waits for Postgres to accept connections (MIGRATE_WAIT_SECONDS, 30).
//
// A file must not contain its own BEGIN/COMMIT, nor statements that cannot
// run inside a transaction (e.g. CREATE INDEX CONCURRENTLY).
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { Client } = require('pg')
const { loadConfig } = require('./config')
const { createLogger } = require('./log')

// Arbitrary constant shared by every run of this app's migrations.
const LOCK_ID = 72173 // pg_advisory_lock(bigint)
const FILE_RE = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/
// Errors that waiting cannot fix: wrong password / role / database.
const PERMANENT = new Set(['28P01', '28000', '3D000'])

class MigrationError extends Error {}

function checksum(sql) {
  // Normalise line endings so a checkout with CRLF does not look "edited".
  return crypto.createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex')
}

function loadMigrations(dir) {
  const seen = new Map()
  for (const file of fs.readdirSync(dir)) {
    if (!file.endsWith('.sql')) continue
    const m = FILE_RE.exec(file)
    if (!m) throw new MigrationError(`bad migration file name "${file}" (expected NNN_name.sql)`)
    const version = Number(m[1])
    if (seen.has(version)) {
      throw new MigrationError(
        `duplicate migration version ${version}: ${seen.get(version).file} and ${file}`
      )
    }
    const sql = fs.readFileSync(path.join(dir, file), 'utf8')
    seen.set(version, { version, name: m[2], file, sql, checksum: checksum(sql) })
  }
  return [...seen.values()].sort((a, b) => a.version - b.version)
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function connectWithRetry(options, waitSeconds, log) {
  const deadline = Date.now() + waitSeconds * 1000
  for (let attempt = 1; ; attempt++) {
    const client = new Client({
      ...options,
      connectionTimeoutMillis: 3000,
      application_name: 'stack-deploy-example-migrate'
    })
    try {
      await client.connect()
      return client
    } catch (err) {
      // Not awaited: a half-open attempt (e.g. a DNS lookup still running)
      // must not delay the retry or the exit.
      client.end().catch(() => {})
      if (PERMANENT.has(err.code) || Date.now() >= deadline) {
        throw new MigrationError(
          `cannot connect to Postgres at ${options.host}:${options.port}: ${err.message}`
        )
      }
      log.info('waiting for Postgres', { attempt, reason: err.message })
      await sleep(1000)
    }
  }
}

async function acquireLock(client, timeoutSeconds, log) {
  const deadline = Date.now() + timeoutSeconds * 1000
  let announced = false
  for (;;) {
    const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS locked', [LOCK_ID])
    if (rows[0].locked) return
    if (Date.now() >= deadline) {
      throw new MigrationError(
        `another migration run still holds the lock after ${timeoutSeconds}s`
      )
    }
    if (!announced) log.info('another migration run is in progress, waiting for its lock')
    announced = true
    await sleep(500)
  }
}

async function migrate(client, migrations, log) {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`)
  const { rows } = await client.query(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version'
  )
  const applied = new Map(rows.map(r => [r.version, r]))
  const byVersion = new Map(migrations.map(m => [m.version, m]))

  // Verify history first: never apply anything on top of a drifted schema.
  for (const row of applied.values()) {
    const m = byVersion.get(row.version)
    if (!m) {
      // e.g. a rollback to an older image: harmless, but worth saying.
      log.warn('applied migration has no file in this image', {
        version: row.version,
        name: row.name
      })
    } else if (m.checksum !== row.checksum || m.name !== row.name) {
      throw new MigrationError(
        `migration ${m.file} was changed after it was applied (recorded ${row.name} sha256 ${row.checksum.slice(0, 12)}, ` +
          `file sha256 ${m.checksum.slice(0, 12)}). Applied migrations must not be edited: add a new migration instead.`
      )
    }
  }

  const pending = migrations.filter(m => !applied.has(m.version))
  for (const m of pending) {
    const started = Date.now()
    try {
      await client.query('BEGIN')
      await client.query(m.sql)
      await client.query(
        'INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
        [m.version, m.name, m.checksum]
      )
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw new MigrationError(`migration ${m.file} failed and was rolled back: ${err.message}`)
    }
    log.info('applied migration', { version: m.version, name: m.name, ms: Date.now() - started })
  }
  return pending.map(m => m.file)
}

async function main(env = process.env) {
  const log = createLogger(env.LOG_LEVEL || 'info', { service: 'migrate' })
  let client
  try {
    const config = loadConfig(env)
    const dir = env.MIGRATIONS_DIR || path.join(__dirname, '..', 'migrations')
    const migrations = loadMigrations(dir)
    client = await connectWithRetry(config.database, Number(env.MIGRATE_WAIT_SECONDS) || 30, log)
    await acquireLock(client, Number(env.MIGRATE_LOCK_TIMEOUT_SECONDS) || 120, log)
    const done = await migrate(client, migrations, log)
    log.info(done.length ? `applied ${done.length} migration(s)` : 'database is up to date', {
      applied: done,
      known: migrations.length
    })
    return 0
  } catch (err) {
    log.error(`migration failed: ${err.message}`)
    return 1
  } finally {
    // Ending the session also releases the advisory lock.
    if (client) await client.end().catch(() => {})
  }
}

if (require.main === module) {
  main().then(code => process.exit(code))
}

module.exports = { main, migrate, loadMigrations, checksum, MigrationError, LOCK_ID }
