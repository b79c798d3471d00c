'use strict'
// HTTP routes. nginx proxies /api/ with the prefix kept, so the API serves
// /api/... itself; /health is also served at the root for the container
// healthcheck (and /api/health so it can be checked through the proxy).
//
//   GET    /health, /api/health   Postgres SELECT 1 + Redis PING -> 200 | 503
//   GET    /api/notes             newest 100 notes
//   POST   /api/notes             {"text": "..."} -> 201 + note
//   GET    /api/notes/:id         note + its view count (Redis)
//   DELETE /api/notes/:id         204 | 404
//   GET    /api/stats             counters (Redis) + stored notes (Postgres)

const MAX_BODY_BYTES = 16 * 1024
const MAX_TEXT = 1000
const CHECK_TIMEOUT_MS = 2000
const KEY_CREATED = 'stats:notes_created'
const KEY_VIEWS = 'stats:note_views'

class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    // Keep draining an oversized body (nginx caps it anyway) so the 413 can
    // still be written on the same connection.
    req.on('data', chunk => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`))
        return
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'))
      } catch {
        reject(new HttpError(400, 'body must be JSON'))
      }
    })
    req.on('error', reject)
  })
}

const toNote = row => ({ id: Number(row.id), text: row.text, createdAt: row.created_at })

function createApp({ pool, redis, version, log, isShuttingDown = () => false }) {
  // Counters are best-effort: a Redis hiccup must not lose a note that is
  // already committed to Postgres. /health still reports Redis as failed.
  async function counter(fn, fallback = null) {
    try {
      return await withTimeout(fn(), CHECK_TIMEOUT_MS, 'redis')
    } catch (err) {
      log.warn('redis counter failed', { err })
      return fallback
    }
  }

  async function health() {
    if (isShuttingDown()) return [503, { status: 'shutting_down', version }]
    const checks = {}
    const failed = []
    const run = async (name, fn) => {
      try {
        await withTimeout(fn(), CHECK_TIMEOUT_MS, name)
        checks[name] = 'ok'
      } catch (err) {
        checks[name] = err.message || String(err)
        failed.push(name)
      }
    }
    await Promise.all([
      run('postgres', () => pool.query('SELECT 1')),
      run('redis', () => redis.ping())
    ])
    if (failed.length) return [503, { status: 'error', version, failed, checks }]
    return [200, { status: 'ok', version, checks }]
  }

  const routes = [
    ['GET', /^\/(?:api\/)?health$/, health],
    [
      'GET',
      /^\/api\/notes$/,
      async () => {
        const { rows } = await pool.query(
          'SELECT id, text, created_at FROM notes ORDER BY created_at DESC, id DESC LIMIT 100'
        )
        return [200, { notes: rows.map(toNote) }]
      }
    ],
    [
      'POST',
      /^\/api\/notes$/,
      async req => {
        const body = await readJson(req)
        const text = typeof body?.text === 'string' ? body.text.trim() : ''
        if (!text) throw new HttpError(400, 'text is required')
        if (text.length > MAX_TEXT)
          throw new HttpError(400, `text is longer than ${MAX_TEXT} characters`)
        const { rows } = await pool.query(
          'INSERT INTO notes (text) VALUES ($1) RETURNING id, text, created_at',
          [text]
        )
        const note = toNote(rows[0])
        await counter(() => redis.incr(KEY_CREATED))
        return [201, note, { Location: `/api/notes/${note.id}` }]
      }
    ],
    [
      'GET',
      /^\/api\/notes\/(\d{1,15})$/,
      async (req, id) => {
        const { rows } = await pool.query('SELECT id, text, created_at FROM notes WHERE id = $1', [
          id
        ])
        if (!rows.length) throw new HttpError(404, 'note not found')
        const views = await counter(() => redis.hIncrBy(KEY_VIEWS, id, 1))
        return [200, { ...toNote(rows[0]), views }]
      }
    ],
    [
      'DELETE',
      /^\/api\/notes\/(\d{1,15})$/,
      async (req, id) => {
        const { rowCount } = await pool.query('DELETE FROM notes WHERE id = $1', [id])
        if (!rowCount) throw new HttpError(404, 'note not found')
        await counter(() => redis.hDel(KEY_VIEWS, id))
        return [204, null]
      }
    ],
    [
      'GET',
      /^\/api\/stats$/,
      async () => {
        const [{ rows }, created] = await Promise.all([
          pool.query('SELECT count(*)::int AS n FROM notes'),
          counter(() => redis.get(KEY_CREATED))
        ])
        return [
          200,
          { notesStored: rows[0].n, notesCreated: created === null ? null : Number(created) }
        ]
      }
    ]
  ]

  function send(res, status, body, headers = {}) {
    const payload = body === null ? '' : JSON.stringify(body)
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-App-Version': version,
      ...(isShuttingDown() ? { Connection: 'close' } : {}),
      ...headers
    })
    res.end(payload)
  }

  return async function handle(req, res) {
    const started = process.hrtime.bigint()
    const path = (req.url || '/').split('?')[0]
    let status = 500
    try {
      const pathMatches = routes.filter(([, re]) => re.test(path))
      const route = pathMatches.find(
        ([method]) => method === req.method || (method === 'GET' && req.method === 'HEAD')
      )
      if (!route) {
        if (pathMatches.length) {
          const allow = [...new Set(pathMatches.map(([m]) => m))].join(', ')
          throw Object.assign(new HttpError(405, 'method not allowed'), { allow })
        }
        throw new HttpError(404, 'not found')
      }
      const [, re, handler] = route
      const [code, body, headers] = await handler(req, ...path.match(re).slice(1))
      status = code
      send(res, code, body, headers)
    } catch (err) {
      status = err.status || 500
      if (status === 500) log.error('request failed', { err, method: req.method, path })
      send(
        res,
        status,
        { error: status === 500 ? 'internal error' : err.message },
        err.allow ? { Allow: err.allow } : {}
      )
    } finally {
      const entry = {
        method: req.method,
        path,
        status,
        ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        requestId: req.headers['x-request-id']
      }
      // Docker polls /health every few seconds: keep those out of info logs.
      if (/health$/.test(path) && status === 200) log.debug('request', entry)
      else log.info('request', entry)
    }
  }
}

module.exports = { createApp, withTimeout, HttpError }
