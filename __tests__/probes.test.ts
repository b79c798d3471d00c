import { formatDuration } from '../src/report/duration.js'
import {
  composePortArgs,
  envName,
  execArgs,
  parseDuration,
  parsePortOutput,
  parseProbes,
  ProbeSpecError,
  renderProbeTable,
  stackUrls,
  testCommandArgs,
  validateProbeTargets,
  type ExecProbe,
  type HttpProbe,
  type ProbeResult,
  type ProbeService,
  type WsProbe
} from '../src/smoke/probes.js'

function specError(text: string): string {
  try {
    parseProbes(text)
  } catch (error) {
    expect(error).toBeInstanceOf(ProbeSpecError)
    return (error as Error).message
  }
  throw new Error(`expected parseProbes to reject:\n${text}`)
}

describe('parseProbes: valid forms', () => {
  it.each(['', '   \n', '# only a comment\n', '[]'])('no probes in %j', text => {
    expect(parseProbes(text)).toEqual([])
  })

  it('an HTTP probe with defaults', () => {
    const [probe] = parseProbes('- http: web:8080/health\n')
    expect(probe).toEqual<HttpProbe>({
      kind: 'http',
      index: 0,
      line: 1,
      name: 'GET web:8080/health',
      service: 'web',
      port: 8080,
      path: '/health',
      method: 'GET',
      headers: {},
      body: undefined,
      status: [200],
      contains: undefined,
      json: undefined,
      retries: 5,
      intervalMs: 1000,
      timeoutMs: 5000
    })
  })

  it('an HTTP probe with every key', () => {
    const [probe] = parseProbes(`
- http: api:3000/items?limit=1
  name: create item
  method: post
  headers: { content-type: application/json, x-count: 3 }
  body: '{"text":"smoke"}'
  status: [200, 201]
  contains: smoke
  json: { path: items.0.text, equals: smoke }
  retries: 0
  interval: 500ms
  timeout: 1m30s
`)
    expect(probe).toMatchObject({
      kind: 'http',
      line: 2,
      name: 'create item',
      service: 'api',
      port: 3000,
      path: '/items?limit=1',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-count': '3' },
      body: '{"text":"smoke"}',
      status: [200, 201],
      contains: 'smoke',
      json: { path: 'items.0.text', op: 'equals', value: 'smoke' },
      retries: 0,
      intervalMs: 500,
      timeoutMs: 90_000
    })
  })

  it.each<[string, Partial<HttpProbe>]>([
    ['- http: web:80', { path: '/', name: 'GET web:80/' }],
    ['- http: web:80/\n  status: 204', { path: '/', status: [204] }],
    ['- http: web:80/x\n  method: HEAD', { name: 'HEAD web:80/x', method: 'HEAD' }],
    [
      '- http: web:80\n  json: { path: ready, exists: true }',
      { json: { path: 'ready', op: 'exists', exists: true } }
    ],
    [
      '- http: web:80\n  json: { path: debug, exists: false }',
      { json: { path: 'debug', op: 'exists', exists: false } }
    ],
    [
      '- http: web:80\n  json: { path: a.b, equals: { c: [1, true] } }',
      { json: { path: 'a.b', op: 'equals', value: { c: [1, true] } } }
    ],
    [
      '- http: web:80\n  json: { path: n, equals: null }',
      { json: { path: 'n', op: 'equals', value: null } }
    ],
    ['- http: web:80\n  contains: 42', { contains: '42' }],
    ['- http: web:80\n  timeout: 2', { timeoutMs: 2000 }],
    ['- http: web:80\n  interval: 0s', { intervalMs: 0 }],
    ['- http: my_app.v2:80', { service: 'my_app.v2' }]
  ])('%j', (text, expected) => {
    expect(parseProbes(text)[0]).toMatchObject(expected)
  })

  it('a WebSocket probe with defaults', () => {
    const [probe] = parseProbes('- ws: web:8080/socket\n')
    expect(probe).toEqual<WsProbe>({
      kind: 'ws',
      index: 0,
      line: 1,
      name: 'ws web:8080/socket',
      service: 'web',
      port: 8080,
      path: '/socket',
      headers: {},
      send: undefined,
      expect: undefined,
      retries: 5,
      intervalMs: 1000,
      timeoutMs: 5000
    })
  })

  it('a WebSocket probe with every key', () => {
    const [probe] = parseProbes(`
- ws: chat:3000/live?room=smoke
  name: chat echo
  send: '{"type":"ping"}'
  expect: pong
  headers: { authorization: Bearer smoke, x-count: 3 }
  retries: 2
  interval: 250ms
  timeout: 2s
`)
    expect(probe).toEqual<WsProbe>({
      kind: 'ws',
      index: 0,
      line: 2,
      name: 'chat echo',
      service: 'chat',
      port: 3000,
      path: '/live?room=smoke',
      headers: { authorization: 'Bearer smoke', 'x-count': '3' },
      send: '{"type":"ping"}',
      expect: 'pong',
      retries: 2,
      intervalMs: 250,
      timeoutMs: 2000
    })
  })

  it.each<[string, Partial<WsProbe>]>([
    ['- ws: web:80', { path: '/', name: 'ws web:80/' }],
    ['- ws: web:80/ws\n  expect: hello', { expect: 'hello', send: undefined }],
    ['- ws: web:80/ws\n  send: 42\n  expect: 43', { send: '42', expect: '43' }]
  ])('%j', (text, expected) => {
    expect(parseProbes(text)[0]).toMatchObject(expected)
  })

  it('an exec probe', () => {
    const [probe] = parseProbes(`
- exec: postgres
  command: [pg_isready, -U, app, -p, 5432]
  contains: accepting
  exit-code: 0
  timeout: 3s
`)
    expect(probe).toEqual<ExecProbe>({
      kind: 'exec',
      index: 0,
      line: 2,
      name: 'exec postgres: pg_isready -U app -p 5432',
      service: 'postgres',
      command: ['pg_isready', '-U', 'app', '-p', '5432'],
      exitCode: 0,
      contains: 'accepting',
      retries: 5,
      intervalMs: 1000,
      timeoutMs: 3000
    })
  })

  it('several probes keep their order, index and line; anchors and merge keys work', () => {
    const probes = parseProbes(`
- &slow
  http: web:8080/health
  retries: 20
  interval: 2s
- <<: *slow
  http: api:3000/health
- exec: redis
  command:
    - redis-cli
    - ping
  contains: PONG
  exit-code: 0
`)
    expect(probes.map(p => [p.kind, p.index, p.line, p.service, p.retries, p.intervalMs])).toEqual([
      ['http', 0, 3, 'web', 20, 2000],
      ['http', 1, 6, 'api', 20, 2000],
      ['exec', 2, 8, 'redis', 5, 1000]
    ])
  })
})

describe('parseProbes: errors name the probe and the problem, on one line', () => {
  it.each([
    [
      '- ws: web/socket',
      'probes[0] "ws web/socket" (line 1): ws "web/socket" is not in service:port/path form; use service:port/path, like web:8080/socket'
    ],
    [
      '- ws: web:/socket',
      'probes[0] "ws web:/socket" (line 1): ws "web:/socket": port "" is not a number from 1 to 65535; use service:port/path, like web:8080/socket'
    ],
    [
      '- ws: ws://web:8080/socket',
      'probes[0] "ws ws://web:8080/socket" (line 1): ws "ws://web:8080/socket" is a URL; use service:port/path, like web:8080/socket (the runner finds the published host port)'
    ],
    [
      '- ws: 8080',
      'probes[0] (line 1): ws must be a string; use service:port/path, like web:8080/socket'
    ],
    ['- ws: web:80/ws\n  expect:', 'probes[0] "ws web:80/ws" (line 1): expect has no value'],
    [
      '- ws: web:80/ws\n  expect: ""',
      'probes[0] "ws web:80/ws" (line 1): expect must not be empty'
    ],
    [
      '- ws: web:80/ws\n  send: { type: ping }',
      'probes[0] "ws web:80/ws" (line 1): send must be a string, got a mapping'
    ],
    [
      '- ws: web:80/ws\n  contains: pong',
      'probes[0] "ws web:80/ws" (line 1): unknown key "contains" (ws probes check the first reply with expect); known keys for a ws probe: name, ws, send, expect, headers, retries, interval, timeout'
    ],
    [
      '- ws: web:80/ws\n  status: 101',
      'probes[0] "ws web:80/ws" (line 1): unknown key "status" (it belongs to http probes); known keys for a ws probe: name, ws, send, expect, headers, retries, interval, timeout'
    ],
    [
      '- ws: web:80/ws\n  protocol: chat',
      'probes[0] "ws web:80/ws" (line 1): unknown key "protocol"; known keys for a ws probe: name, ws, send, expect, headers, retries, interval, timeout'
    ],
    [
      '- http: web:80\n  expect: ok',
      'probes[0] "GET web:80/" (line 1): unknown key "expect" (it belongs to ws probes); known keys for an http probe: name, http, method, headers, body, status, contains, json, retries, interval, timeout'
    ],
    [
      '- exec: db\n  command: [true]\n  headers: { a: b }',
      'probes[0] "exec db: true" (line 1): unknown key "headers" (it belongs to http and ws probes); known keys for an exec probe: name, exec, command, exit-code, contains, retries, interval, timeout'
    ],
    [
      '- ws: web:80/ws\n  headers: [a]',
      'probes[0] "ws web:80/ws" (line 1): headers must be a mapping of name: value, got a list'
    ],
    [
      '- ws: web:80/ws\n  timeout: soon',
      'probes[0] "ws web:80/ws" (line 1): timeout "soon" is not a duration; use e.g. 500ms, 2s or 1m'
    ],
    [
      '- ws: web:80/ws\n  exec: web\n  command: [true]',
      'probes[0] "ws web:80/ws" (line 1): has both ws and exec; a probe is one or the other, split it in two'
    ],
    [
      '- http: web:80/\n  ws: web:80/ws\n  exec: web',
      'probes[0] "GET web:80/" (line 1): has http, ws, exec; a probe is one of them, split it up'
    ],
    [
      '- http: web:80\n  statuss: 200',
      'probes[0] "GET web:80/" (line 1): unknown key "statuss"; known keys for an http probe: name, http, method, headers, body, status, contains, json, retries, interval, timeout'
    ],
    [
      '- exec: db\n  command: [true]\n  status: 0',
      'probes[0] "exec db: true" (line 1): unknown key "status" (it belongs to http probes); known keys for an exec probe: name, exec, command, exit-code, contains, retries, interval, timeout'
    ],
    [
      '- http: web:80\n  exit-code: 1',
      'probes[0] "GET web:80/" (line 1): unknown key "exit-code" (it belongs to exec probes); known keys for an http probe: name, http, method, headers, body, status, contains, json, retries, interval, timeout'
    ],
    [
      '- http: web:80\n- name: web health\n  http: web/health',
      'probes[1] "web health" (line 2): http "web/health" is not in service:port/path form; use service:port/path, like web:8080/health'
    ],
    [
      '- http: web:http/health',
      'probes[0] "GET web:http/health" (line 1): http "web:http/health": port "http" is not a number from 1 to 65535; use service:port/path, like web:8080/health'
    ],
    [
      '- http: web:70000/',
      'probes[0] "GET web:70000/" (line 1): http "web:70000/": port "70000" is not a number from 1 to 65535; use service:port/path, like web:8080/health'
    ],
    [
      '- http: http://web:8080/health',
      'probes[0] "GET http://web:8080/health" (line 1): http "http://web:8080/health" is a URL; use service:port/path, like web:8080/health (the runner finds the published host port)'
    ],
    [
      '- http: 8080',
      'probes[0] (line 1): http must be a string; use service:port/path, like web:8080/health'
    ],
    [
      '- http: web:80\n  interval: soon',
      'probes[0] "GET web:80/" (line 1): interval "soon" is not a duration; use e.g. 500ms, 2s or 1m'
    ],
    [
      '- http: web:80\n  timeout: 5x',
      'probes[0] "GET web:80/" (line 1): timeout "5x" is not a duration; use e.g. 500ms, 2s or 1m'
    ],
    [
      '- http: web:80\n  timeout: 0s',
      'probes[0] "GET web:80/" (line 1): timeout must be more than 0'
    ],
    [
      '- http: web:80\n  retries: -1',
      'probes[0] "GET web:80/" (line 1): retries must be a whole number of attempts after the first (0 or more), got -1'
    ],
    [
      '- http: web:80\n  retries: many',
      'probes[0] "GET web:80/" (line 1): retries must be a whole number of attempts after the first (0 or more), got "many"'
    ],
    [
      '- http: web:80\n  status: ok',
      'probes[0] "GET web:80/" (line 1): status must be a status code like 200 or a list like [200, 204], got "ok"'
    ],
    [
      '- http: web:80\n  status: [200, "2xx"]',
      'probes[0] "GET web:80/" (line 1): status must be a status code like 200 or a list like [200, 204], got "2xx"'
    ],
    [
      '- http: web:80\n  status: 42',
      'probes[0] "GET web:80/" (line 1): status must be a status code like 200 or a list like [200, 204], got 42'
    ],
    [
      '- http: web:80\n  exec: web\n  command: [true]',
      'probes[0] "GET web:80/" (line 1): has both http and exec; a probe is one or the other, split it in two'
    ],
    [
      '- name: lonely\n  status: 200',
      'probes[0] "lonely" (line 1): needs one of http: service:port/path, ws: service:port/path or exec: service'
    ],
    [
      '- exec: db\n  command: pg_isready -U app',
      'probes[0] "exec db" (line 1): command must be a list, like command: [pg_isready, -U, app]; a string is not split and no shell runs it (for a shell, write [sh, -c, "..."])'
    ],
    [
      '- exec: db',
      'probes[0] "exec db" (line 1): exec probes need a command; command must be a list, like command: [pg_isready, -U, app]'
    ],
    [
      '- exec: db\n  command: []',
      'probes[0] "exec db" (line 1): command must be a list, like command: [pg_isready, -U, app], got a list'
    ],
    [
      '- exec: db\n  command: [a, {b: c}]',
      'probes[0] "exec db: a [object Object]" (line 1): command arguments must be strings, got a mapping'
    ],
    [
      '- exec: db\n  command: [true]\n  exit-code: 300',
      'probes[0] "exec db: true" (line 1): exit-code must be a number from 0 to 255, got 300'
    ],
    [
      '- exec: [db]\n  command: [true]',
      'probes[0] (line 1): exec must be the name of a service, got a list'
    ],
    [
      '- http: web:80\n  json: { path: status }',
      'probes[0] "GET web:80/" (line 1): json must be { path: a.b.0.c, equals: value } or { path: a.b, exists: true }: give exactly one of equals and exists'
    ],
    [
      '- http: web:80\n  json: { path: a..b, exists: true }',
      'probes[0] "GET web:80/" (line 1): json path "a..b" has an empty segment; write it like a.b.0.c'
    ],
    [
      '- http: web:80\n  json: { path: a, exists: yes please }',
      'probes[0] "GET web:80/" (line 1): json exists must be true or false, got "yes please"'
    ],
    [
      '- http: web:80\n  json: { path: a, equal: 1 }',
      'probes[0] "GET web:80/" (line 1): unknown key "equal" under json; known keys: path, equals, exists'
    ],
    [
      '- http: web:80\n  json: status',
      'probes[0] "GET web:80/" (line 1): json must be { path: a.b.0.c, equals: value } or { path: a.b, exists: true }, got "status"'
    ],
    [
      '- http: web:80\n  body: "{}"',
      'probes[0] "GET web:80/" (line 1): body needs a method that carries one, such as POST; GET requests have none'
    ],
    [
      '- http: web:80\n  method: POST\n  body: { a: 1 }',
      'probes[0] "POST web:80/" (line 1): body must be a string (quote JSON: body: \'{"a": 1}\'), got a mapping'
    ],
    [
      '- http: web:80\n  method: "GET /"',
      'probes[0] "GET / web:80/" (line 1): method must be an HTTP method like GET or POST, got "GET /"'
    ],
    [
      '- http: web:80\n  headers: [a]',
      'probes[0] "GET web:80/" (line 1): headers must be a mapping of name: value, got a list'
    ],
    [
      '- http: web:80\n  contains: ""',
      'probes[0] "GET web:80/" (line 1): contains must not be empty'
    ],
    ['- http: web:80\n  retries:', 'probes[0] "GET web:80/" (line 1): retries has no value'],
    [
      '- http: web:80\n  name: ""',
      'probes[0] "GET web:80/" (line 1): name must be a non-empty string, got ""'
    ],
    [
      '- web:80/health',
      'probes[0] (line 1): each probe is a mapping with http: service:port/path, ws: service:port/path or exec: service, got "web:80/health"'
    ],
    [
      'http: web:80',
      'probes: expected a list of probes (each item starting with "- http:", "- ws:" or "- exec:"), got a mapping'
    ],
    [
      '- http: web:80\n  name: [oops\n',
      'probes: invalid YAML at line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]'
    ],
    [
      '- http: web:80\n  http: web:81',
      'probes: invalid YAML at line 2, column 3: Map keys must be unique'
    ]
  ])('%j', (text, message) => {
    const got = specError(text)
    expect(got).toBe(message)
    expect(got).not.toContain('\n')
  })

  it('carries the index of the failing probe', () => {
    try {
      parseProbes('- http: web:80\n- http: web:80\n- http: web:x')
      throw new Error('expected an error')
    } catch (error) {
      expect((error as ProbeSpecError).index).toBe(2)
    }
  })
})

describe('durations', () => {
  it.each<[unknown, number | undefined]>([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    [3, 3000],
    ['3', 3000],
    [0.25, 250],
    ['soon', undefined],
    ['5 s', undefined],
    ['-1s', undefined],
    [-1, undefined],
    [true, undefined],
    ['', undefined]
  ])('parseDuration(%j) = %j', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each([
    [200, '200ms'],
    [5000, '5s'],
    [1500, '1.5s'],
    [60_000, '1m'],
    [90_000, '90s']
  ])('formatDuration(%j) = %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

describe('validateProbeTargets', () => {
  const services: ProbeService[] = [
    { name: 'web', ports: [{ target: 8080 }, { target: 8443 }] },
    { name: 'postgres', ports: [] },
    { name: 'dns', ports: [{ target: 53, protocol: 'udp' }] },
    { name: 'api', ports: [{ target: 3000, protocol: 'tcp' }] }
  ]

  it('accepts probes on published ports and exec probes anywhere', () => {
    const probes = parseProbes(`
- http: web:8443/
- http: api:3000/health
- ws: web:8080/socket
- exec: postgres
  command: [pg_isready]
`)
    expect(() => validateProbeTargets(probes, services)).not.toThrow()
  })

  it.each([
    [
      '- http: queue:80/',
      'probes[0] "GET queue:80/" (line 1): unknown service "queue"; the stack has: api, dns, postgres, web'
    ],
    [
      '- exec: queue\n  command: [true]\n  name: queue up',
      'probes[0] "queue up" (line 1): unknown service "queue"; the stack has: api, dns, postgres, web'
    ],
    [
      '- http: web:9090/',
      'probes[0] "GET web:9090/" (line 1): service "web" does not publish port 9090 (it publishes 8080, 8443); HTTP probes run from the runner and reach only published ports: add it under ports:, or use an exec probe for an internal port'
    ],
    [
      '- http: postgres:5432/',
      'probes[0] "GET postgres:5432/" (line 1): service "postgres" does not publish port 5432 (it publishes no ports); HTTP probes run from the runner and reach only published ports: add it under ports:, or use an exec probe for an internal port'
    ],
    [
      '- ws: web:9090/socket',
      'probes[0] "ws web:9090/socket" (line 1): service "web" does not publish port 9090 (it publishes 8080, 8443); WebSocket probes run from the runner and reach only published ports: add it under ports:, or use an exec probe for an internal port'
    ],
    [
      '- ws: chat:80/',
      'probes[0] "ws chat:80/" (line 1): unknown service "chat"; the stack has: api, dns, postgres, web'
    ],
    [
      '- http: dns:53/',
      'probes[0] "GET dns:53/" (line 1): service "dns" does not publish port 53 (it publishes no ports); HTTP probes run from the runner and reach only published ports: add it under ports:, or use an exec probe for an internal port'
    ]
  ])('%j', (text, message) => {
    expect(() => validateProbeTargets(parseProbes(text), services)).toThrow(
      new ProbeSpecError(message)
    )
  })

  it('with no services at all', () => {
    expect(() => validateProbeTargets(parseProbes('- http: web:80'), [])).toThrow(
      'probes[0] "GET web:80/" (line 1): unknown service "web"; the stack has no services'
    )
  })
})

describe('compose port output', () => {
  it.each<[string, number | undefined]>([
    ['0.0.0.0:49153\n', 49153],
    ['127.0.0.1:49154\n', 49154],
    ['[::]:49155\n', 49155],
    [':::49156\n', 49156],
    ['[::]:49157\n0.0.0.0:49158\n', 49158],
    ['[::1]:49159\n[::]:49160\n', 49159],
    ['\n  127.0.0.1:5000  \r\n', 5000],
    [':0\n', undefined],
    ['', undefined],
    ['no port 80/tcp for container web-1\n', undefined]
  ])('%j → %j', (stdout, port) => {
    expect(parsePortOutput(stdout)).toBe(port)
  })
})

describe('probe argv', () => {
  const base = ['docker', 'compose', '-f', 'compose.yaml', '-p', 'shop-smoke-abc123']

  it('compose port', () => {
    expect(composePortArgs(base, 'web', 8080)).toEqual([...base, 'port', 'web', '8080'])
  })

  it('compose exec keeps the argv as given, with no TTY and no shell', () => {
    expect(execArgs(base, 'postgres', ['pg_isready', '-U', 'app; rm -rf /'])).toEqual([
      ...base,
      'exec',
      '-T',
      'postgres',
      'pg_isready',
      '-U',
      'app; rm -rf /'
    ])
  })

  it('the test command is the user script, run by bash with -e and pipefail', () => {
    const script = 'curl -fsS "$WEB_URL/health" | grep ok\nnpm run e2e'
    expect(testCommandArgs(script)).toEqual(['bash', '-eo', 'pipefail', '-c', script])
  })
})

describe('stackUrls', () => {
  it.each([
    ['web', 'WEB'],
    ['web-app', 'WEB_APP'],
    ['api.v2', 'API_V2'],
    ['Admin_UI', 'ADMIN_UI']
  ])('envName(%j) = %j', (service, name) => {
    expect(envName(service)).toBe(name)
  })

  it('names every published port and each service first one', () => {
    const services: ProbeService[] = [
      { name: 'web', ports: [{ target: 8080 }, { target: 8443 }, { target: 8080 }] },
      { name: 'api-gw', ports: [{ target: 3000 }] },
      { name: 'postgres', ports: [] },
      { name: 'dns', ports: [{ target: 53, protocol: 'udp' }] }
    ]
    expect(
      stackUrls(services, [
        { service: 'web', port: 8080, hostPort: 49153 },
        { service: 'web', port: 8443, hostPort: 49154 },
        { service: 'api-gw', port: 3000, hostPort: 49155 }
      ])
    ).toEqual({
      WEB_URL: 'http://127.0.0.1:49153',
      WEB_8080_URL: 'http://127.0.0.1:49153',
      WEB_8443_URL: 'http://127.0.0.1:49154',
      API_GW_URL: 'http://127.0.0.1:49155',
      API_GW_3000_URL: 'http://127.0.0.1:49155'
    })
  })

  it('leaves out ports that were not resolved, and the first service keeps a shared name', () => {
    const services: ProbeService[] = [
      { name: 'web', ports: [{ target: 80 }, { target: 81 }] },
      { name: 'web-app', ports: [{ target: 1 }] },
      { name: 'web_app', ports: [{ target: 1 }] }
    ]
    expect(
      stackUrls(services, [
        { service: 'web', port: 81, hostPort: 40001 },
        { service: 'web-app', port: 1, hostPort: 40002 },
        { service: 'web_app', port: 1, hostPort: 40003 }
      ])
    ).toEqual({
      WEB_81_URL: 'http://127.0.0.1:40001',
      WEB_APP_URL: 'http://127.0.0.1:40002',
      WEB_APP_1_URL: 'http://127.0.0.1:40002'
    })
  })
})

describe('renderProbeTable', () => {
  const result = (over: Partial<ProbeResult>): ProbeResult => ({
    name: 'GET web:8080/health',
    kind: 'http',
    target: 'web:8080/health',
    ok: true,
    attempts: 1,
    seconds: 0.04,
    detail: 'status 200',
    ...over
  })

  it('is empty without probes', () => {
    expect(renderProbeTable([])).toBe('')
  })

  it('marks passes and failures, with the detail of failures, escaping pipes', () => {
    expect(
      renderProbeTable([
        result({}),
        result({
          name: 'search | filter',
          target: 'api:3000/search?q=a|b',
          ok: false,
          attempts: 6,
          seconds: 5.27,
          detail: 'body did not contain "ok" (body: "a | b\nc")'
        }),
        result({
          name: 'ws web:8080/socket',
          kind: 'ws',
          target: 'web:8080/socket',
          ok: false,
          attempts: 2,
          seconds: 1.5,
          detail: 'reply did not contain "pong": got "hello"'
        }),
        result({
          name: 'exec postgres: pg_isready',
          kind: 'exec',
          target: 'postgres',
          ok: false,
          attempts: 3,
          seconds: 2,
          detail: 'exit code 2 expected 0: no response'
        })
      ])
    ).toBe(
      [
        '| Probe | Target | Result | Attempts | Time |',
        '|---|---|---|--:|--:|',
        '| GET web:8080/health | `web:8080/health` | ✅ | 1 | 0.0s |',
        '| search \\| filter | `api:3000/search?q=a\\|b` | ❌ body did not contain "ok" (body: "a \\| b c") | 6 | 5.3s |',
        '| ws web:8080/socket | `web:8080/socket` | ❌ reply did not contain "pong": got "hello" | 2 | 1.5s |',
        '| exec postgres: pg_isready | `postgres` | ❌ exit code 2 expected 0: no response | 3 | 2.0s |',
        ''
      ].join('\n')
    )
  })
})
