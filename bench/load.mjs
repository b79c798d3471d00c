// Load for the soak test (bench/soak.bench.mjs, e2e/soak.e2e.test.ts): a writer that POSTs
// notes to the reference stack's api at ~10/s and a reader that GETs at ~20/s, in a child
// process of its own (so that it keeps going while the caller is blocked in a synchronous
// deploy), until stop(). Every request opens a fresh connection (no keep-alive agent,
// `Connection: close`): a pooled socket that a recreated nginx closed can never fail a request,
// so every failure counted here is a real one, the same way for every run. Requests are sent
// on a clock (open loop), not one after the other, so a slow deploy cannot lower the rate.
//
// Also: attributing requests to the deploy/rollback windows they fell in, and checking that
// every acknowledged write is in the database.
import { spawn, spawnSync } from 'node:child_process'
import * as http from 'node:http'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)

/**
 * Starts the load against `baseUrl` (e.g. http://198.18.47.2:8093). Resolves once the first
 * second of load is out; stop() ends it, waits for the requests in flight, and gives every
 * request's outcome (see runLoad).
 */
export async function startLoad({
  baseUrl,
  writesPerSecond = 10,
  readsPerSecond = 20,
  timeoutMs = 10_000,
  maxSeconds = 3 * 3600,
  tag = `soak-${process.pid}`
}) {
  const options = { baseUrl, writesPerSecond, readsPerSecond, timeoutMs, maxSeconds, tag }
  const child = spawn(process.execPath, [SELF, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.on('data', chunk => (out += String(chunk)))
  const closed = new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve() : reject(new Error(`load exited ${code}`))))
  })
  await new Promise(resolve => setTimeout(resolve, 1000))
  return {
    stop: async () => {
      // End of stdin is the signal; if this process dies, the child sees it too and stops.
      child.stdin.end()
      await closed
      return JSON.parse(out)
    }
  }
}

/** One request on a fresh connection. Resolves { status, body } or rejects with a reason. */
export function request(method, url, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request(url, {
      method,
      agent: false,
      headers: {
        Connection: 'close',
        ...(payload === undefined
          ? {}
          : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) })
      }
    })
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)),
      timeoutMs
    )
    req.on('response', res => {
      const chunks = []
      res.on('data', chunk => chunks.push(chunk))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', error => {
        clearTimeout(timer)
        reject(error)
      })
    })
    req.on('error', error => {
      clearTimeout(timer)
      reject(error)
    })
    req.end(payload)
  })
}

const reasonOf = error => error.code ?? error.message ?? String(error)

/**
 * The load itself (in the child). Result:
 *   started, stopped: epoch ms
 *   requests: [kind ('w' | 'r'), sent at (epoch ms), ms, ok (1 | 0)] for every request
 *   failures: { kind, at, ms, method, path, reason } for every failed one
 *   acknowledged: [id, text] of every write the api answered 201 with a note
 *   unacknowledged: writes that failed (they may or may not be in the database)
 */
export async function runLoad(options, stopped) {
  const { baseUrl, writesPerSecond, readsPerSecond, timeoutMs, maxSeconds, tag } = options
  const result = { started: Date.now(), stopped: 0, requests: [], failures: [], acknowledged: [] }
  let writes = 0
  let reads = 0
  const inFlight = new Set()

  const track = (kind, method, path, check) => {
    const at = Date.now()
    const done = (async () => {
      let reason
      try {
        reason = await check()
      } catch (error) {
        reason = reasonOf(error)
      }
      const ms = Date.now() - at
      result.requests.push([kind, at, ms, reason ? 0 : 1])
      if (reason) result.failures.push({ kind, at, ms, method, path, reason })
    })()
    inFlight.add(done)
    done.finally(() => inFlight.delete(done))
  }

  const write = () => {
    const text = `${tag} note ${++writes}`
    track('w', 'POST', '/api/notes', async () => {
      const res = await request('POST', `${baseUrl}/api/notes`, { text }, timeoutMs)
      let note
      try {
        note = JSON.parse(res.body)
      } catch {
        note = undefined
      }
      if (res.status !== 201) return `HTTP ${res.status}`
      if (typeof note?.id !== 'number' || note.text !== text)
        return `201 without the note: ${res.body.slice(0, 100)}`
      result.acknowledged.push([note.id, text])
      return undefined
    })
  }

  // The reader cycles through a note by id (one the writer got acknowledged), the list, and health.
  const read = () => {
    const turn = reads++ % 3
    const known = result.acknowledged
    if (turn === 0 && known.length > 0) {
      const [id] = known[Math.floor(Math.random() * known.length)]
      track('r', 'GET', '/api/notes/:id', async () => {
        const res = await request('GET', `${baseUrl}/api/notes/${id}`, undefined, timeoutMs)
        if (res.status !== 200) return `HTTP ${res.status}`
        return JSON.parse(res.body).id === id ? undefined : `wrong note: ${res.body.slice(0, 100)}`
      })
    } else {
      const path = turn === 2 ? '/api/health' : '/api/notes'
      track('r', 'GET', path, async () => {
        const res = await request('GET', `${baseUrl}${path}`, undefined, timeoutMs)
        return res.status === 200 ? undefined : `HTTP ${res.status}`
      })
    }
  }

  // On a clock: the n-th request of a stream goes out at start + n / rate, late or not.
  const streams = [
    { every: 1000 / writesPerSecond, fire: write, next: result.started },
    { every: 1000 / readsPerSecond, fire: read, next: result.started }
  ]
  const deadline = result.started + maxSeconds * 1000
  let stopping = false
  stopped.then(() => (stopping = true))
  while (!stopping && Date.now() < deadline) {
    const stream = streams.reduce((a, b) => (a.next <= b.next ? a : b))
    const wait = stream.next - Date.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, Math.min(wait, 50)))
    if (stopping || Date.now() < stream.next) continue
    stream.fire()
    stream.next += stream.every
  }
  result.stopped = Date.now()
  while (inFlight.size > 0) await Promise.all([...inFlight])
  return { ...result, unacknowledged: result.failures.filter(f => f.kind === 'w').length }
}

/**
 * Requests and failures per window. `ops` are { name, start, end } in time order; an op's
 * window runs from its start to the next op's start (the last one's to the end of the load),
 * so what follows a command's return (an old container still stopping) counts against it.
 * Requests before the first op are the steady-state baseline ("before").
 */
export function attribute(load, ops) {
  const windows = [
    { name: 'before', start: load.started, end: ops[0]?.start ?? load.stopped },
    ...ops.map((op, i) => ({
      name: op.name,
      start: op.start,
      end: ops[i + 1]?.start ?? load.stopped + 1
    }))
  ].map(window => ({
    ...window,
    writes: 0,
    reads: 0,
    failedWrites: 0,
    failedReads: 0,
    maxMs: 0,
    failures: []
  }))
  const windowAt = at => windows.find(w => at >= w.start && at < w.end) ?? windows[0]
  for (const [kind, at, ms, ok] of load.requests) {
    const window = windowAt(at)
    window[kind === 'w' ? 'writes' : 'reads']++
    if (!ok) window[kind === 'w' ? 'failedWrites' : 'failedReads']++
    window.maxMs = Math.max(window.maxMs, ms)
  }
  for (const failure of load.failures) windowAt(failure.at).failures.push(failure)
  return windows
}

/**
 * "3x HTTP 502 (GET /api/notes) at +12.1..+13.0s, 1x ECONNREFUSED (POST /api/notes) at +12.5s",
 * for a report; the times are seconds after `since` (e.g. the start of the window).
 */
export function describeFailures(failures, since) {
  const groups = new Map()
  for (const f of failures) {
    const key = `${f.reason} (${f.method} ${f.path})`
    const group = groups.get(key) ?? { n: 0, first: f.at, last: f.at }
    group.n++
    group.first = Math.min(group.first, f.at)
    group.last = Math.max(group.last, f.at)
    groups.set(key, group)
  }
  const offset = at => `+${((at - since) / 1000).toFixed(1)}`
  return [...groups]
    .map(([key, { n, first, last }]) => {
      if (since === undefined) return `${n}x ${key}`
      return `${n}x ${key} at ${offset(first)}${last > first ? `..${offset(last)}` : ''}s`
    })
    .join(', ')
}

/**
 * The notes in the stack's postgres (`project`'s postgres container on the engine at
 * `dockerHost`), as a Map id -> text, read with psql inside the container.
 */
export function notesInPostgres({ dockerHost, project, user = 'app', database = 'app' }) {
  const env = { ...process.env, DOCKER_HOST: dockerHost }
  const ps = spawnSync(
    'docker',
    [
      ...['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`],
      ...['--filter', 'label=com.docker.compose.service=postgres']
    ],
    { env, encoding: 'utf8' }
  )
  const ids = ps.stdout.trim().split('\n').filter(Boolean)
  if (ps.status !== 0 || ids.length !== 1)
    throw new Error(`no single postgres container for ${project}: ${ps.stderr}${ps.stdout}`)
  const query = spawnSync(
    'docker',
    [
      ...['exec', ids[0], 'psql', '-U', user, '-d', database, '-At', '-F', '\t'],
      ...['-v', 'ON_ERROR_STOP=1', '-c', 'SELECT id, text FROM notes ORDER BY id']
    ],
    { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }
  )
  if (query.status !== 0) throw new Error(`psql failed: ${query.stderr}`)
  const notes = new Map()
  for (const line of query.stdout.split('\n')) {
    if (!line) continue
    const tab = line.indexOf('\t')
    notes.set(Number(line.slice(0, tab)), line.slice(tab + 1))
  }
  return notes
}

/** Acknowledged writes against the database: which are missing or changed. */
export function checkRows(acknowledged, notes) {
  const lost = acknowledged.filter(([id, text]) => notes.get(id) !== text)
  return { acknowledged: acknowledged.length, found: acknowledged.length - lost.length, lost }
}

// The child: runs until stdin ends, then prints the result as one JSON line.
if (process.argv[1] === SELF) {
  const options = JSON.parse(process.argv[2])
  const stopped = new Promise(resolve => {
    process.stdin.on('end', resolve)
    process.stdin.on('error', resolve)
    process.stdin.resume()
  })
  const result = await runLoad(options, stopped)
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0))
}
