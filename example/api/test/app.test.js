'use strict'
// Route tests against in-memory fakes of pg and node-redis (no Docker needed).
// The real stack is exercised by the compose smoke test.
const assert = require('node:assert/strict')
const http = require('node:http')
const test = require('node:test')
const { createApp } = require('../src/app')

function fakePool() {
  const notes = []
  let nextId = 1
  return {
    down: false,
    async query(sql, params = []) {
      if (this.down) throw new Error('connect ECONNREFUSED')
      if (sql === 'SELECT 1') return { rows: [{ '?column?': 1 }] }
      if (sql.startsWith('INSERT')) {
        const row = { id: String(nextId++), text: params[0], created_at: new Date() }
        notes.push(row)
        return { rows: [row] }
      }
      if (sql.startsWith('SELECT count')) return { rows: [{ n: notes.length }] }
      if (sql.startsWith('DELETE')) {
        const i = notes.findIndex(n => n.id === params[0])
        if (i >= 0) notes.splice(i, 1)
        return { rowCount: i >= 0 ? 1 : 0 }
      }
      if (sql.includes('WHERE id')) return { rows: notes.filter(n => n.id === params[0]) }
      return { rows: [...notes].reverse() }
    }
  }
}

function fakeRedis() {
  const kv = new Map()
  return {
    down: false,
    check() {
      if (this.down) throw new Error('The client is closed')
    },
    async ping() {
      this.check()
      return 'PONG'
    },
    async incr(k) {
      this.check()
      kv.set(k, (kv.get(k) || 0) + 1)
      return kv.get(k)
    },
    async get(k) {
      this.check()
      return kv.has(k) ? String(kv.get(k)) : null
    },
    async hIncrBy(k, f, n) {
      this.check()
      const key = `${k}/${f}`
      kv.set(key, (kv.get(key) || 0) + n)
      return kv.get(key)
    },
    async hDel(k, f) {
      this.check()
      kv.delete(`${k}/${f}`)
      return 1
    }
  }
}

const silent = { debug() {}, info() {}, warn() {}, error() {} }

async function withServer(fn) {
  const pool = fakePool()
  const redis = fakeRedis()
  const server = http.createServer(createApp({ pool, redis, version: '1.2.3', log: silent }))
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  const call = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null }
  }
  try {
    await fn({ call, pool, redis })
  } finally {
    server.close()
  }
}

test('notes CRUD with counters and version header', () =>
  withServer(async ({ call }) => {
    const created = await call('POST', '/api/notes', { text: '  hello  ' })
    assert.equal(created.status, 201)
    assert.equal(created.body.text, 'hello')
    assert.equal(created.body.id, 1)
    assert.equal(created.headers.get('location'), '/api/notes/1')
    assert.equal(created.headers.get('x-app-version'), '1.2.3')

    assert.deepEqual(
      (await call('GET', '/api/notes')).body.notes.map(n => n.text),
      ['hello']
    )
    assert.equal((await call('GET', '/api/notes/1')).body.views, 1)
    assert.equal((await call('GET', '/api/notes/1')).body.views, 2)
    assert.deepEqual((await call('GET', '/api/stats')).body, { notesStored: 1, notesCreated: 1 })

    assert.equal((await call('DELETE', '/api/notes/1')).status, 204)
    assert.equal((await call('GET', '/api/notes/1')).status, 404)
    assert.equal((await call('DELETE', '/api/notes/1')).status, 404)
  }))

test('validation and routing errors', () =>
  withServer(async ({ call }) => {
    assert.equal((await call('POST', '/api/notes', {})).status, 400)
    assert.equal((await call('POST', '/api/notes', { text: 'x'.repeat(1001) })).status, 400)
    assert.equal((await call('POST', '/api/notes', '{not json')).status, 400)
    assert.equal((await call('POST', '/api/notes', { text: 'x'.repeat(20000) })).status, 413)
    assert.equal((await call('GET', '/notes')).status, 404)
    const wrong = await call('PUT', '/api/notes')
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.get('allow'), 'GET, POST')
  }))

test('health checks both Postgres and Redis', () =>
  withServer(async ({ call, pool, redis }) => {
    for (const path of ['/health', '/api/health']) {
      const ok = await call('GET', path)
      assert.equal(ok.status, 200)
      assert.equal(ok.body.status, 'ok')
      assert.equal(ok.body.version, '1.2.3')
    }
    redis.down = true
    let res = await call('GET', '/health')
    assert.equal(res.status, 503)
    assert.deepEqual(res.body.failed, ['redis'])
    pool.down = true
    res = await call('GET', '/health')
    assert.deepEqual(res.body.failed.sort(), ['postgres', 'redis'])
  }))

test('a Redis outage does not fail note creation', () =>
  withServer(async ({ call, redis }) => {
    redis.down = true
    const created = await call('POST', '/api/notes', { text: 'still saved' })
    assert.equal(created.status, 201)
    assert.equal((await call('GET', '/api/stats')).body.notesCreated, null)
  }))
