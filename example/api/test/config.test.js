'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const test = require('node:test')
const { loadConfig } = require('../src/config')

test('defaults and plain variables', () => {
  const c = loadConfig({ DATABASE_PASSWORD: 'pw', REDIS_PORT: '6380', APP_VERSION: 'v9' })
  assert.equal(c.port, 3000)
  assert.equal(c.version, 'v9')
  assert.equal(c.database.password, 'pw')
  assert.equal(c.redis.port, 6380)
})

test('*_FILE wins over the plain variable and drops one trailing newline', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'secret')
  fs.writeFileSync(file, 's3cret\n')
  const c = loadConfig({
    DATABASE_PASSWORD: 'plain',
    DATABASE_PASSWORD_FILE: file,
    REDIS_PASSWORD_FILE: file
  })
  assert.equal(c.database.password, 's3cret')
  assert.equal(c.redis.password, 's3cret')
})

test('clear errors for bad values', () => {
  assert.throws(() => loadConfig({ PORT: 'abc' }), /PORT must be a non-negative integer/)
  assert.throws(
    () => loadConfig({ REDIS_PASSWORD_FILE: '/nonexistent/x' }),
    /REDIS_PASSWORD_FILE.*ENOENT/
  )
})
