import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import type { CommandResult, Executor, RunOptions } from '../src/exec/executor.js'
import {
  checkExecResult,
  checkHttpResponse,
  describeFetchError,
  jsonEqual,
  lookupJsonPath,
  resolvePublishedPorts,
  runProbes,
  type ProbeContext
} from '../src/smoke/probe-runner.js'
import { parseProbes, type ExecProbe, type HttpProbe } from '../src/smoke/probes.js'

const base = ['docker', 'compose', '-p', 'shop-smoke-abc123']
const context: ProbeContext = { base, cwd: '/w' }

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, count: number) => void

/**
 * A real HTTP server on 127.0.0.1 with an ephemeral port; routes by path. WebSocket upgrades
 * to it go to a WebSocket server on the same port, which answers "pong: <message>".
 */
let server: http.Server
let wss: WebSocketServer
let serverPort: number
const wsPaths: string[] = []
const routes = new Map<string, Handler>()
const hits = new Map<string, number>()
const requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] =
  []

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string
    const count = (hits.get(path) ?? 0) + 1
    hits.set(path, count)
    let body = ''
    req.on('data', chunk => (body += chunk))
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const handler = routes.get(path)
      if (handler) handler(req, res, count)
      else res.writeHead(404).end('no route')
    })
  })
  wss = new WebSocketServer({ server })
  wss.on('connection', (socket, req) => {
    wsPaths.push(req.url ?? '')
    socket.on('message', data => socket.send(`pong: ${data.toString()}`))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  serverPort = (server.address() as AddressInfo).port
})

afterAll(async () => {
  for (const client of wss.clients) client.terminate()
  await new Promise(resolve => wss.close(resolve))
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

beforeEach(() => {
  routes.clear()
  hits.clear()
  requests.length = 0
  wsPaths.length = 0
})

const result = (argv: string[], over: Partial<CommandResult> = {}): CommandResult => ({
  argv,
  exitCode: 0,
  stdout: '',
  stderr: '',
  durationMs: 1,
  ...over
})

/** Records every argv; `compose port` points at the test server unless told otherwise. */
class FakeExecutor implements Executor {
  readonly calls: { argv: string[]; options: RunOptions | undefined }[] = []
  constructor(
    private readonly answer: (argv: string[]) => Partial<CommandResult> | Promise<never> = () => ({
      stdout: `0.0.0.0:${serverPort}\n[::]:${serverPort}\n`
    })
  ) {}
  async run(argv: string[], options?: RunOptions): Promise<CommandResult> {
    this.calls.push({ argv, options })
    return result(argv, await this.answer(argv))
  }
}

function fakeSleep() {
  const waits: number[] = []
  return { waits, sleep: async (ms: number) => void waits.push(ms) }
}

async function runOne(text: string, executor: Executor = new FakeExecutor()) {
  const { waits, sleep } = fakeSleep()
  const [probe] = await runProbes(parseProbes(text), context, { executor, sleep })
  return { result: probe!, waits }
}

describe('HTTP probes against a real server', () => {
  it('passes on the expected status, asking compose for the host port once', async () => {
    routes.set('/health', (_req, res) => res.writeHead(200).end('ok'))
    const executor = new FakeExecutor()
    const { sleep } = fakeSleep()
    const results = await runProbes(
      parseProbes('- http: web:8080/health\n- http: web:8080/health?again=1\n  name: again'),
      context,
      { executor, sleep }
    )
    expect(results).toEqual([
      {
        name: 'GET web:8080/health',
        kind: 'http',
        target: 'web:8080/health',
        ok: true,
        attempts: 1,
        seconds: expect.any(Number),
        detail: 'status 200',
        url: `http://127.0.0.1:${serverPort}/health`
      },
      expect.objectContaining({ name: 'again', ok: true, target: 'web:8080/health?again=1' })
    ])
    expect(executor.calls).toEqual([
      { argv: [...base, 'port', 'web', '8080'], options: { cwd: '/w' } }
    ])
  })

  it('sends the method, headers and body', async () => {
    routes.set('/items', (req, res) => res.writeHead(201).end(`{"id":1}`))
    const { result: probe } = await runOne(`
- http: api:3000/items
  method: POST
  headers: { content-type: application/json, x-smoke: "1" }
  body: '{"text":"smoke"}'
  status: [200, 201]
  json: { path: id, equals: 1 }
`)
    expect(probe).toMatchObject({ ok: true, detail: 'status 201' })
    expect(requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/items',
        body: '{"text":"smoke"}',
        headers: expect.objectContaining({ 'content-type': 'application/json', 'x-smoke': '1' })
      })
    ])
  })

  it('reports a status mismatch with the start of the body, after every retry', async () => {
    routes.set('/health', (_req, res) => res.writeHead(500).end('database is down'))
    const { result: probe, waits } = await runOne(
      '- http: web:8080/health\n  retries: 2\n  interval: 250ms'
    )
    expect(probe).toMatchObject({
      ok: false,
      attempts: 3,
      detail: 'status 500 expected 200 (body: "database is down")'
    })
    expect(waits).toEqual([250, 250])
    expect(hits.get('/health')).toBe(3)
  })

  it('does not follow redirects: the status is the one the service sent', async () => {
    routes.set('/', (_req, res) => res.writeHead(302, { location: '/login' }).end())
    routes.set('/login', (_req, res) => res.writeHead(200).end('login'))
    const { result: probe } = await runOne('- http: web:80\n  status: 302\n  retries: 0')
    expect(probe).toMatchObject({ ok: true, detail: 'status 302' })
    expect(hits.get('/login')).toBeUndefined()
  })

  it('checks a body substring', async () => {
    routes.set('/', (_req, res) => res.writeHead(200).end(`<html>${'x'.repeat(300)}</html>`))
    const { result: probe } = await runOne('- http: web:80/\n  contains: Welcome\n  retries: 0')
    expect(probe.ok).toBe(false)
    expect(probe.detail).toBe(`body did not contain "Welcome" (body: "<html>${'x'.repeat(194)}…")`)
  })

  it.each([
    ['{ path: status, equals: ok }', '{"status":"ok"}', true, 'status 200'],
    [
      '{ path: status, equals: ok }',
      '{"status":"starting"}',
      false,
      'JSON field status was "starting" expected "ok"'
    ],
    [
      '{ path: checks.1.healthy, equals: true }',
      '{"checks":[{"healthy":true},{"healthy":false}]}',
      false,
      'JSON field checks.1.healthy was false expected true'
    ],
    [
      '{ path: checks.1.healthy, equals: false }',
      '{"checks":[{},{"healthy":false}]}',
      true,
      'status 200'
    ],
    ['{ path: count, equals: 2 }', '{"count":"2"}', false, 'JSON field count was "2" expected 2'],
    ['{ path: items, exists: true }', '{"items":[]}', true, 'status 200'],
    ['{ path: items, exists: true }', '{"item":[]}', false, 'JSON field items is missing'],
    [
      '{ path: debug, exists: false }',
      '{"debug":{"on":true}}',
      false,
      'JSON field debug is {"on":true}, expected it to be absent'
    ],
    [
      '{ path: db.status, equals: up }',
      '{"db":null}',
      false,
      'JSON field db.status is missing, expected "up"'
    ],
    ['{ path: status, equals: ok }', 'OK', false, 'body is not JSON (body: "OK")']
  ])('JSON %s on %s', async (json, body, ok, detail) => {
    routes.set('/health', (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    )
    const { result: probe } = await runOne(`- http: web:8080/health\n  retries: 0\n  json: ${json}`)
    expect(probe).toMatchObject({ ok, detail, attempts: 1 })
  })

  it('retries until the service is ready, counting attempts', async () => {
    routes.set('/health', (_req, res, count) =>
      count < 3 ? res.writeHead(503).end('starting') : res.writeHead(200).end('{"status":"ok"}')
    )
    const log: string[] = []
    const { waits, sleep } = fakeSleep()
    const [probe] = await runProbes(
      parseProbes('- http: web:8080/health\n  json: { path: status, equals: ok }\n  interval: 2s'),
      context,
      { executor: new FakeExecutor(), sleep, log: line => log.push(line) }
    )
    expect(probe).toMatchObject({ ok: true, attempts: 3, detail: 'status 200' })
    expect(waits).toEqual([2000, 2000])
    expect(log).toEqual([
      'GET web:8080/health: attempt 1 of 6 failed: status 503 expected 200 (body: "starting"); retrying in 2s',
      'GET web:8080/health: attempt 2 of 6 failed: status 503 expected 200 (body: "starting"); retrying in 2s'
    ])
  })

  it('gives up on a server that never answers after the timeout', async () => {
    routes.set('/slow', () => undefined)
    const started = Date.now()
    const { result: probe } = await runOne('- http: web:8080/slow\n  timeout: 200ms\n  retries: 1')
    const elapsed = Date.now() - started
    expect(probe).toMatchObject({ ok: false, attempts: 2, detail: 'timeout after 200ms' })
    expect(elapsed).toBeGreaterThanOrEqual(350)
    expect(elapsed).toBeLessThan(3000)
  })

  it('times out a body that never ends', async () => {
    routes.set('/stream', (_req, res) => {
      res.writeHead(200)
      res.write('partial')
    })
    const { result: probe } = await runOne(
      '- http: web:8080/stream\n  timeout: 200ms\n  retries: 0'
    )
    expect(probe).toMatchObject({ ok: false, detail: 'timeout after 200ms' })
  })

  it('reports a refused connection', async () => {
    const closed = http.createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    const executor = new FakeExecutor(() => ({ stdout: `127.0.0.1:${port}\n` }))
    const { result: probe } = await runOne('- http: web:8080/\n  retries: 1', executor)
    expect(probe).toMatchObject({
      ok: false,
      attempts: 2,
      detail: 'connection refused',
      url: `http://127.0.0.1:${port}/`
    })
  })

  it('reports a port that compose cannot resolve, and asks again on the next attempt', async () => {
    const executor = new FakeExecutor(() => ({
      exitCode: 1,
      stderr: 'no port 8080/tcp for container shop-web-1\n'
    }))
    const { result: probe } = await runOne('- http: web:8080/\n  retries: 1', executor)
    expect(probe).toMatchObject({
      ok: false,
      attempts: 2,
      detail: 'no published port for web:8080: no port 8080/tcp for container shop-web-1'
    })
    expect(probe.url).toBeUndefined()
    expect(executor.calls).toHaveLength(2)
  })

  it('uses host ports resolved beforehand without asking compose', async () => {
    routes.set('/', (_req, res) => res.writeHead(200).end())
    const executor = new FakeExecutor(() => Promise.reject(new Error('not expected')))
    const results = await runProbes(
      parseProbes('- http: web:8080'),
      { ...context, ports: [{ service: 'web', port: 8080, hostPort: serverPort }] },
      { executor }
    )
    expect(results[0]).toMatchObject({ ok: true })
    expect(executor.calls).toEqual([])
  })
})

describe('WebSocket probes against a real server', () => {
  it('resolve the host port like HTTP probes, sharing the answer of compose port', async () => {
    routes.set('/health', (_req, res) => res.writeHead(200).end('ok'))
    const executor = new FakeExecutor()
    const { sleep } = fakeSleep()
    const results = await runProbes(
      parseProbes(`
- http: web:8080/health
- ws: web:8080/socket?room=1
  send: ping
  expect: pong
- ws: api:3000/live
`),
      context,
      { executor, sleep }
    )
    expect(results).toEqual([
      expect.objectContaining({ kind: 'http', ok: true }),
      {
        name: 'ws web:8080/socket?room=1',
        kind: 'ws',
        target: 'web:8080/socket?room=1',
        ok: true,
        attempts: 1,
        seconds: expect.any(Number),
        detail: 'status 101, reply contained "pong"',
        url: `ws://127.0.0.1:${serverPort}/socket?room=1`
      },
      expect.objectContaining({
        kind: 'ws',
        ok: true,
        detail: 'status 101',
        url: `ws://127.0.0.1:${serverPort}/live`
      })
    ])
    expect(executor.calls.map(c => c.argv.slice(base.length))).toEqual([
      ['port', 'web', '8080'],
      ['port', 'api', '3000']
    ])
    expect(wsPaths).toEqual(['/socket?room=1', '/live'])
  })

  it('use host ports resolved beforehand without asking compose', async () => {
    const executor = new FakeExecutor(() => Promise.reject(new Error('not expected')))
    const results = await runProbes(
      parseProbes('- ws: web:8080/socket'),
      { ...context, ports: [{ service: 'web', port: 8080, hostPort: serverPort }] },
      { executor }
    )
    expect(results[0]).toMatchObject({ ok: true, detail: 'status 101' })
    expect(executor.calls).toEqual([])
  })

  it('retry and report what the reply was', async () => {
    const { result: probe, waits } = await runOne(
      '- ws: web:8080/socket\n  send: ping\n  expect: ready\n  retries: 1\n  interval: 100ms'
    )
    expect(probe).toMatchObject({
      ok: false,
      attempts: 2,
      detail: 'reply did not contain "ready": got "pong: ping"'
    })
    expect(waits).toEqual([100])
  })

  it('report a port that compose cannot resolve', async () => {
    const executor = new FakeExecutor(() => ({
      exitCode: 1,
      stderr: 'no port 8080/tcp for container shop-web-1\n'
    }))
    const { result: probe } = await runOne('- ws: web:8080/socket\n  retries: 0', executor)
    expect(probe).toMatchObject({
      ok: false,
      detail: 'no published port for web:8080: no port 8080/tcp for container shop-web-1'
    })
    expect(probe.url).toBeUndefined()
  })

  it('report a port that serves HTTP but does not upgrade', async () => {
    const plain = http.createServer((_req, res) => res.writeHead(200).end('<html>'))
    await new Promise<void>(resolve => plain.listen(0, '127.0.0.1', resolve))
    const port = (plain.address() as AddressInfo).port
    try {
      const executor = new FakeExecutor(() => ({ stdout: `127.0.0.1:${port}\n` }))
      const { result: probe } = await runOne('- ws: web:8080/socket\n  retries: 0', executor)
      expect(probe).toMatchObject({
        ok: false,
        detail: 'no 101 upgrade: got status 200',
        url: `ws://127.0.0.1:${port}/socket`
      })
    } finally {
      plain.closeAllConnections()
      await new Promise(resolve => plain.close(resolve))
    }
  })
})

describe('exec probes with a fake executor', () => {
  it('runs the argv in the service with compose exec -T and passes on exit code and stdout', async () => {
    const executor = new FakeExecutor(() => ({
      stdout: '/var/run/postgresql:5432 - accepting connections\n'
    }))
    const { result: probe } = await runOne(
      '- exec: postgres\n  command: [pg_isready, -U, app]\n  contains: accepting',
      executor
    )
    expect(probe).toEqual({
      name: 'exec postgres: pg_isready -U app',
      kind: 'exec',
      target: 'postgres',
      ok: true,
      attempts: 1,
      seconds: expect.any(Number),
      detail: 'exit code 0'
    })
    expect(executor.calls).toEqual([
      {
        argv: [...base, 'exec', '-T', 'postgres', 'pg_isready', '-U', 'app'],
        options: { cwd: '/w' }
      }
    ])
  })

  it('reports the exit code and the last stderr line, after every retry', async () => {
    const executor = new FakeExecutor(() => ({
      exitCode: 1,
      stdout: 'checking\n',
      stderr: 'warming up\npg_isready: no response\n\n'
    }))
    const { result: probe, waits } = await runOne(
      '- exec: postgres\n  command: [pg_isready]\n  retries: 3',
      executor
    )
    expect(probe).toMatchObject({
      ok: false,
      attempts: 4,
      detail: 'exit code 1 expected 0: pg_isready: no response'
    })
    expect(waits).toEqual([1000, 1000, 1000])
    expect(executor.calls).toHaveLength(4)
  })

  it('expects another exit code when told', async () => {
    const executor = new FakeExecutor(() => ({ exitCode: 3 }))
    const { result: probe } = await runOne(
      '- exec: worker\n  command: [check]\n  exit-code: 3',
      executor
    )
    expect(probe).toMatchObject({ ok: true, detail: 'exit code 3' })
  })

  it('succeeds once the command starts to pass', async () => {
    let count = 0
    const executor = new FakeExecutor(() =>
      ++count < 2 ? { exitCode: 0, stdout: 'LOADING' } : { exitCode: 0, stdout: 'PONG\n' }
    )
    const { result: probe } = await runOne(
      '- exec: redis\n  command: [redis-cli, ping]\n  contains: PONG',
      executor
    )
    expect(probe).toMatchObject({ ok: true, attempts: 2 })
  })

  it('reports stdout that lacks the expected text', async () => {
    const executor = new FakeExecutor(() => ({ stdout: 'LOADING Redis is loading\n' }))
    const { result: probe } = await runOne(
      '- exec: redis\n  command: [redis-cli, ping]\n  contains: PONG\n  retries: 0',
      executor
    )
    expect(probe.detail).toBe('stdout did not contain "PONG" (stdout: "LOADING Redis is loading")')
  })

  it('bounds each exec by the timeout', async () => {
    const executor: Executor = { run: () => new Promise(() => undefined) }
    const started = Date.now()
    const { result: probe } = await runOne(
      '- exec: db\n  command: [sleep, "60"]\n  timeout: 100ms\n  retries: 1',
      executor
    )
    expect(probe).toMatchObject({ ok: false, attempts: 2, detail: 'timeout after 100ms' })
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('reports an executor that cannot start the command', async () => {
    const executor = new FakeExecutor(() =>
      Promise.reject(new Error('Unable to locate executable file: docker'))
    )
    const { result: probe } = await runOne('- exec: db\n  command: [true]\n  retries: 0', executor)
    expect(probe).toMatchObject({
      ok: false,
      detail: 'could not run docker compose exec: Unable to locate executable file: docker'
    })
  })
})

describe('runProbes', () => {
  it('runs every probe in order and never throws for failures', async () => {
    routes.set('/ok', (_req, res) => res.writeHead(200).end('ok'))
    const executor = new FakeExecutor(argv =>
      argv.includes('exec') ? { exitCode: 2, stderr: 'nope' } : { stdout: `0.0.0.0:${serverPort}` }
    )
    const { sleep } = fakeSleep()
    const results = await runProbes(
      parseProbes(`
- http: web:8080/missing
  retries: 0
- exec: db
  command: [check]
  retries: 0
- http: web:8080/ok
`),
      context,
      { executor, sleep }
    )
    expect(results.map(r => [r.target, r.ok, r.detail])).toEqual([
      ['web:8080/missing', false, 'status 404 expected 200 (body: "no route")'],
      ['db', false, 'exit code 2 expected 0: nope'],
      ['web:8080/ok', true, 'status 200']
    ])
  })

  it('measures time with the injected clock', async () => {
    let now = 1000
    const executor = new FakeExecutor(() => ({ exitCode: 1 }))
    const results = await runProbes(
      parseProbes('- exec: db\n  command: [check]\n  retries: 2\n  interval: 2s'),
      context,
      {
        executor,
        now: () => now,
        sleep: async ms => {
          now += ms
        }
      }
    )
    expect(results[0]).toMatchObject({ seconds: 4, attempts: 3, detail: 'exit code 1 expected 0' })
  })

  it('returns nothing for no probes', async () => {
    expect(await runProbes([], context, { executor: new FakeExecutor() })).toEqual([])
  })
})

describe('resolvePublishedPorts', () => {
  it('asks compose for every published TCP port and leaves out those it cannot resolve', async () => {
    const executor = new FakeExecutor(argv => {
      const [service, port] = argv.slice(-2)
      if (service === 'web' && port === '8080') return { stdout: '127.0.0.1:49153\n' }
      if (service === 'api') return { stdout: '[::]:49160\n0.0.0.0:49155\n' }
      return { exitCode: 1, stderr: `no port ${port}/tcp for container ${service}-1` }
    })
    const log: string[] = []
    const ports = await resolvePublishedPorts(
      [
        { name: 'web', ports: [{ target: 8080 }, { target: 8443 }] },
        { name: 'api', ports: [{ target: 3000, protocol: 'tcp' }] },
        { name: 'dns', ports: [{ target: 53, protocol: 'udp' }] },
        { name: 'db', ports: [] }
      ],
      context,
      { executor, log: line => log.push(line) }
    )
    expect(ports).toEqual([
      { service: 'web', port: 8080, hostPort: 49153 },
      { service: 'api', port: 3000, hostPort: 49155 }
    ])
    expect(executor.calls.map(c => c.argv.slice(base.length))).toEqual([
      ['port', 'web', '8080'],
      ['port', 'web', '8443'],
      ['port', 'api', '3000']
    ])
    expect(log).toEqual(['no published port for web:8443: no port 8443/tcp for container web-1'])
  })
})

describe('pure checks', () => {
  const http200 = parseProbes('- http: web:80')[0] as HttpProbe

  it.each([
    [[200, 204], 500, 'status 500 expected one of 200, 204 (empty body)'],
    [[200], 404, 'status 404 expected 200 (empty body)']
  ])('status %j vs %j', (status, got, detail) => {
    expect(checkHttpResponse({ ...http200, status }, got, '')).toEqual({ ok: false, detail })
  })

  it('exec with no output on failure', () => {
    const probe = parseProbes('- exec: db\n  command: [x]')[0] as ExecProbe
    expect(checkExecResult(probe, { exitCode: 137, stdout: '', stderr: '' })).toEqual({
      ok: false,
      detail: 'exit code 137 expected 0'
    })
  })

  it.each<[unknown, string, ReturnType<typeof lookupJsonPath>]>([
    [{ a: { b: [1, { c: 'x' }] } }, 'a.b.1.c', { found: true, value: 'x' }],
    [{ a: [1] }, 'a.1', { found: false }],
    [{ a: [1] }, 'a.x', { found: false }],
    [{ a: 'text' }, 'a.length', { found: false }],
    [{ a: null }, 'a', { found: true, value: null }],
    [[{ id: 7 }], '0.id', { found: true, value: 7 }],
    [{ toString: 1 }, 'constructor', { found: false }]
  ])('lookupJsonPath(%j, %j)', (value, path, expected) => {
    expect(lookupJsonPath(value, path)).toEqual(expected)
  })

  it.each<[unknown, unknown, boolean]>([
    [{ a: [1, { b: true }] }, { a: [1, { b: true }] }, true],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [[1, 2], [2, 1], false],
    ['1', 1, false],
    [null, null, true],
    [null, {}, false],
    [[], {}, false]
  ])('jsonEqual(%j, %j) = %j', (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal)
  })

  it.each([
    [Object.assign(new Error('x'), { name: 'TimeoutError' }), 'timeout after 5s'],
    [
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('x'), { code: 'ECONNRESET' })
      }),
      'connection reset by the server'
    ],
    [
      new TypeError('fetch failed', { cause: new Error('other side closed') }),
      'request failed: other side closed'
    ],
    [new Error('boom'), 'request failed: boom']
  ])('describeFetchError %#', (error, text) => {
    expect(describeFetchError(error, 5000)).toBe(text)
  })
})
