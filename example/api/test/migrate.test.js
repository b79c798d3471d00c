'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const test = require('node:test')
const { loadMigrations, checksum, migrate } = require('../src/migrate')

const silent = { debug() {}, info() {}, warn() {}, error() {} }

test('the shipped migrations load in numeric order', () => {
  const list = loadMigrations(path.join(__dirname, '..', 'migrations'))
  assert.ok(list.length >= 1)
  assert.deepEqual(
    list.map(m => m.version),
    [...list.map(m => m.version)].sort((a, b) => a - b)
  )
  assert.equal(list[0].file, '001_create_notes.sql')
})

test('bad names and duplicate versions are rejected', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mig-'))
  fs.writeFileSync(path.join(dir, '1_a.sql'), 'SELECT 1;')
  fs.writeFileSync(path.join(dir, '001_b.sql'), 'SELECT 1;')
  assert.throws(() => loadMigrations(dir), /duplicate migration version 1/)
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'mig-'))
  fs.writeFileSync(path.join(other, 'oops.sql'), '')
  assert.throws(() => loadMigrations(other), /bad migration file name "oops.sql"/)
})

test('checksums ignore CRLF vs LF', () => {
  assert.equal(checksum('a;\r\nb;\r\n'), checksum('a;\nb;\n'))
  assert.notEqual(checksum('a;'), checksum('b;'))
})

// A fake client that records statements and serves the ledger.
function fakeClient(ledger = []) {
  const statements = []
  return {
    statements,
    async query(sql, params) {
      statements.push(sql)
      if (sql.startsWith('SELECT version')) return { rows: ledger }
      if (sql.startsWith('INSERT INTO schema_migrations')) {
        ledger.push({ version: params[0], name: params[1], checksum: params[2] })
      }
      if (sql.includes('boom')) throw new Error('syntax error at "boom"')
      return { rows: [] }
    }
  }
}

const m = (version, name, sql) => ({
  version,
  name,
  file: `${version}_${name}.sql`,
  sql,
  checksum: checksum(sql)
})

test('applies pending migrations in transactions, then nothing on a second run', async () => {
  const ledger = []
  const list = [m(1, 'a', 'CREATE TABLE a();'), m(2, 'b', 'CREATE TABLE b();')]
  const client = fakeClient(ledger)
  assert.deepEqual(await migrate(client, list, silent), ['1_a.sql', '2_b.sql'])
  const i = client.statements.indexOf('CREATE TABLE a();')
  assert.equal(client.statements[i - 1], 'BEGIN')
  assert.equal(client.statements[i + 2], 'COMMIT')
  assert.deepEqual(await migrate(fakeClient(ledger), list, silent), [])
})

test('refuses when an applied migration was edited', async () => {
  const ledger = [{ version: 1, name: 'a', checksum: checksum('CREATE TABLE a();') }]
  await assert.rejects(
    migrate(fakeClient(ledger), [m(1, 'a', 'CREATE TABLE a(x int);')], silent),
    /1_a\.sql was changed after it was applied/
  )
})

test('a failing migration is rolled back and reported', async () => {
  const client = fakeClient([])
  await assert.rejects(
    migrate(client, [m(1, 'bad', 'boom')], silent),
    /1_bad\.sql failed and was rolled back/
  )
  assert.equal(client.statements.at(-1), 'ROLLBACK')
})
