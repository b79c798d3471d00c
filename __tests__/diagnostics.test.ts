/**
 * Failure diagnostics of the smoke stage without Docker: argv, `docker inspect` fixtures captured
 * in the lab (healthy, unhealthy, exited, restarting, never started, OOM-killed), collecting
 * through a scripted executor, the job summary Markdown, annotations, the error line and the
 * log bundle (packed with the real tar).
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Writable } from 'node:stream'
import {
  LocalExecutor,
  type CommandResult,
  type Executor,
  type RunOptions
} from '../src/exec/executor.js'
import { logsArgs } from '../src/smoke/commands.js'
import {
  annotationFor,
  cleanText,
  collectDiagnostics,
  containerIdsArgs,
  fenced,
  groupFailures,
  inspectArgs,
  parseInspect,
  redactInspect,
  renderDiagnosticsMarkdown,
  scrub,
  smokeFailureMessage,
  stateLine,
  tailBytes,
  writeLogBundle,
  type ContainerDiagnostics,
  type ServiceDiagnostics
} from '../src/smoke/diagnostics.js'
import { MemoryReporter } from '../src/report/reporter.js'

const FIXTURES = path.join(
  path.dirname(new URL(import.meta.url).pathname),
  'fixtures',
  'diagnostics'
)
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8')
const inspectFixture = (kind: string): string => fixture(`inspect-${kind}.json`)
const only = (json: string): ContainerDiagnostics => {
  const [container, ...rest] = parseInspect(json)
  expect(rest).toHaveLength(0)
  return container as ContainerDiagnostics
}

const BASE = ['docker', 'compose', '-f', 'compose.yaml', '-p', 'shop-smoke-1a2b3c']

describe('argv', () => {
  it.each([
    [
      'container ids of a service',
      containerIdsArgs(BASE, 'api'),
      [...BASE, 'ps', '--all', '--quiet', 'api']
    ],
    ['inspect one container', inspectArgs(['abc123']), ['docker', 'inspect', 'abc123']],
    ['inspect several', inspectArgs(['a1', 'b2']), ['docker', 'inspect', 'a1', 'b2']],
    [
      'logs (shared with the smoke stage)',
      logsArgs(BASE, 'api', 50),
      [...BASE, 'logs', '--no-color', '--tail', '50', 'api']
    ]
  ])('%s', (_name, argv, expected) => {
    expect(argv).toEqual(expected)
  })
})

describe('parseInspect on docker inspect output from the lab', () => {
  it('a healthy container', () => {
    const c = only(inspectFixture('healthy'))
    expect(c).toMatchObject({
      id: 'ec8e84df89e57f6c88e553680cf1a2e89a3406aba65acba71450e60e2b257d0b',
      name: 'diagcap-web-1',
      service: 'web',
      image: '198.18.47.1:5000/lab/debian:bookworm',
      state: {
        status: 'running',
        exitCode: 0,
        oomKilled: false,
        error: '',
        startedAt: '2026-11-21T21:35:40.222246788Z',
        finishedAt: '0001-01-01T00:00:00Z',
        restartCount: 0
      }
    })
    expect(c.health?.status).toBe('healthy')
    expect(c.health?.failingStreak).toBe(0)
    expect(c.health?.log).toHaveLength(5)
    expect(c.health?.log.every(e => e.exitCode === 0 && e.output === 'ok')).toBe(true)
  })

  it('an unhealthy container: failing streak and the checks’ output', () => {
    const c = only(inspectFixture('unhealthy'))
    expect(c.service).toBe('api')
    expect(c.state.status).toBe('running')
    expect(c.health).toMatchObject({ status: 'unhealthy', failingStreak: 10 })
    expect(c.health?.log).toHaveLength(5)
    expect(c.health?.log[4]).toEqual({
      start: '2026-11-21T21:35:51.092886806Z',
      end: '2026-11-21T21:35:51.234820553Z',
      exitCode: 7,
      output: 'curl: (7) Failed to connect to localhost port 8080: Connection refused'
    })
  })

  it('an exited one-shot job has no health', () => {
    const c = only(inspectFixture('exited'))
    expect(c.service).toBe('migrate')
    expect(c.state).toMatchObject({ status: 'exited', exitCode: 1, oomKilled: false })
    expect(c.health).toBeUndefined()
  })

  it('a restarting container counts its restarts', () => {
    const c = only(inspectFixture('restarting'))
    expect(c.state).toMatchObject({ status: 'restarting', exitCode: 2, restartCount: 7 })
  })

  it('a container that never started keeps docker’s error', () => {
    const c = only(inspectFixture('created'))
    expect(c.state.status).toBe('created')
    expect(c.state.exitCode).toBe(127)
    expect(c.state.error).toContain('exec: "/no/such/binary": stat /no/such/binary')
  })

  it('an OOM-killed container', () => {
    const c = only(inspectFixture('oom-killed'))
    expect(c.state).toMatchObject({ status: 'exited', exitCode: 137, oomKilled: true })
    expect(c.service).toBe('cache')
  })

  it('keeps the last 5 checks and about 500 characters of each output', () => {
    const log = Array.from({ length: 8 }, (_, i) => ({
      Start: `2026-01-01T00:00:0${i}Z`,
      End: `2026-01-01T00:00:0${i}Z`,
      ExitCode: 1,
      Output: `check ${i} ${i === 7 ? 'x'.repeat(5000) + ' the end' : '\u001b[31mred\u001b[0m'}\r\n`
    }))
    const [c] = parseInspect(
      JSON.stringify([{ Id: 'x', State: { Health: { Status: 'unhealthy', Log: log } } }])
    )
    const entries = c?.health?.log ?? []
    expect(entries.map(e => e.start.slice(-3))).toEqual(['03Z', '04Z', '05Z', '06Z', '07Z'])
    expect(entries[0]?.output).toBe('check 3 red')
    const long = entries[4]?.output ?? ''
    expect(long.length).toBeLessThanOrEqual(500)
    expect(long.startsWith('check 7 xxx')).toBe(true)
    expect(long.endsWith('xx the end')).toBe(true)
  })

  it('fills in what is missing and refuses what is not an array', () => {
    expect(parseInspect('[{}]')).toEqual([
      {
        id: '',
        name: '',
        service: '',
        image: '',
        state: {
          status: '',
          exitCode: 0,
          oomKilled: false,
          error: '',
          startedAt: '',
          finishedAt: '',
          restartCount: 0
        }
      }
    ])
    expect(parseInspect('[]')).toEqual([])
    expect(() => parseInspect('{}')).toThrow(/JSON array/)
    expect(() => parseInspect('Error: No such object: abc')).toThrow()
  })
})

describe('text hygiene', () => {
  it('drops the ESC[2K compose writes before every log line, and other controls', () => {
    const raw = fixture('logs-migrate.txt')
    expect(raw).toContain('\u001b[2K')
    expect(cleanText(raw)).toBe(
      'migrate-1  | migrating\nmigrate-1  | ERROR: relation "users" does not exist\n'
    )
    expect(cleanText('a\r\nb\rc\u0007\td\u001b]0;title\u0007e')).toBe('a\nb\nc\tde')
  })

  it('blanks secret values and URL passwords', () => {
    expect(scrub('token=hunter2-very-secret ok', ['hunter2-very-secret'])).toBe('token=*** ok')
    expect(scrub('postgres://app:s3cr3t-pw@db/app and https://x.org/a:b@c', [])).toBe(
      'postgres://app:***@db/app and https://x.org/a:b@c'
    )
  })

  it('inspect output for the bundle keeps variable names, never values', () => {
    const raw = JSON.parse(inspectFixture('healthy')) as unknown[]
    const [redacted] = redactInspect(raw) as { Config: { Env: string[] } }[]
    expect(redacted?.Config.Env).toEqual(['API_TOKEN=***', 'LOG_LEVEL=***', 'PATH=***'])
    expect(JSON.stringify(redacted)).not.toContain('hunter2')
    const api = redactInspect(JSON.parse(inspectFixture('unhealthy')) as unknown[])
    expect(JSON.stringify(api)).not.toContain('s3cr3t-pw')
    // The input is left alone.
    expect(JSON.stringify(raw)).toContain('hunter2-very-secret')
  })
})

interface Script {
  [argvJoined: string]: Partial<CommandResult> | Error
}

/** Answers commands from a script keyed by the joined argv; records every call. */
class ScriptedExecutor implements Executor {
  readonly calls: { argv: string[]; cwd?: string }[] = []
  constructor(private readonly script: Script) {}
  async run(argv: string[], options?: RunOptions): Promise<CommandResult> {
    this.calls.push({ argv, cwd: options?.cwd })
    const answer = this.script[argv.join(' ')]
    if (answer instanceof Error) throw answer
    if (!answer) return { argv, exitCode: 1, stdout: '', stderr: 'unexpected', durationMs: 0 }
    return { argv, exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...answer }
  }
}

const API_ID = '09a9ee5a9ba34c4ca4a37e6a1d4fa1e6b98d1ab0c9bbdc3be6dbd32ebb8e40a9'
const MIGRATE_ID = 'c1f3ee1ad06ff6c8e1a4d6dc20b5d4d2f4b9e0a3a1d4e1c4b4f2d7a0c1b5e6f7'

describe('collectDiagnostics', () => {
  const apiLogs =
    '\u001b[2Kapi-1  | listening on :8081\n\u001b[2Kapi-1  | db: postgres://app:s3cr3t-pw@postgres/app\n'

  function script(over: Script = {}): Script {
    return {
      [containerIdsArgs(BASE, 'api').join(' ')]: { stdout: `${API_ID}\n` },
      [inspectArgs([API_ID]).join(' ')]: { stdout: inspectFixture('unhealthy') },
      [logsArgs(BASE, 'api', 50).join(' ')]: { stdout: apiLogs },
      [containerIdsArgs(BASE, 'migrate').join(' ')]: { stdout: `${MIGRATE_ID}\n` },
      [inspectArgs([MIGRATE_ID]).join(' ')]: { stdout: inspectFixture('exited') },
      [logsArgs(BASE, 'migrate', 50).join(' ')]: { stdout: fixture('logs-migrate.txt') },
      ...over
    }
  }

  it('lists, inspects and reads the logs of each failing service, in the project folder', async () => {
    const executor = new ScriptedExecutor(script())
    const result = await collectDiagnostics(
      [
        { service: 'api', reason: 'healthcheck reports unhealthy' },
        { service: 'migrate', reason: 'one-shot job exited with code 1' }
      ],
      BASE,
      { executor, cwd: '/w' }
    )
    expect(executor.calls.map(c => c.argv)).toEqual([
      containerIdsArgs(BASE, 'api'),
      inspectArgs([API_ID]),
      logsArgs(BASE, 'api', 50),
      containerIdsArgs(BASE, 'migrate'),
      inspectArgs([MIGRATE_ID]),
      logsArgs(BASE, 'migrate', 50)
    ])
    expect(executor.calls.every(c => c.cwd === '/w')).toBe(true)
    const [api, migrate] = result
    expect(api).toMatchObject({
      service: 'api',
      reason: 'healthcheck reports unhealthy',
      logLines: 50,
      notes: []
    })
    expect(api?.containers[0]?.health?.status).toBe('unhealthy')
    // Colour codes gone, the password from the URL blanked.
    expect(api?.logs).toBe(
      'api-1  | listening on :8081\napi-1  | db: postgres://app:***@postgres/app'
    )
    expect(api?.inspect).toHaveLength(1)
    expect(JSON.stringify(api?.inspect)).not.toContain('s3cr3t-pw')
    expect(migrate?.containers[0]?.state.exitCode).toBe(1)
    expect(migrate?.logs).toContain('ERROR: relation "users" does not exist')
  })

  it('asks for as many log lines as told', async () => {
    const executor = new ScriptedExecutor(
      script({ [logsArgs(BASE, 'api', 200).join(' ')]: { stdout: 'api-1  | hi\n' } })
    )
    const [api] = await collectDiagnostics([{ service: 'api', reason: 'r' }], BASE, {
      executor,
      cwd: '/w',
      logLines: 200
    })
    expect(api?.logs).toBe('api-1  | hi')
    expect(api?.logLines).toBe(200)
  })

  it('blanks secrets from the containers’ environment and the ones it is given in the logs', async () => {
    const webId = 'ec8e84df89e57f6c88e553680cf1a2e89a3406aba65acba71450e60e2b257d0b'
    const executor = new ScriptedExecutor({
      [containerIdsArgs(BASE, 'web').join(' ')]: { stdout: `${webId}\n` },
      [inspectArgs([webId]).join(' ')]: { stdout: inspectFixture('healthy') },
      [logsArgs(BASE, 'web', 50).join(' ')]: {
        stdout: 'web-1  | token hunter2-very-secret\nweb-1  | registry pw reg-pass-123\n'
      }
    })
    const [web] = await collectDiagnostics([{ service: 'web', reason: 'r' }], BASE, {
      executor,
      cwd: '/w',
      secrets: ['reg-pass-123']
    })
    expect(web?.logs).toBe('web-1  | token ***\nweb-1  | registry pw ***')
  })

  it('says so when a service has no container, and goes on with the next', async () => {
    const executor = new ScriptedExecutor(
      script({ [containerIdsArgs(BASE, 'api').join(' ')]: { stdout: '' } })
    )
    const [api, migrate] = await collectDiagnostics(
      [
        { service: 'api', reason: 'no container yet' },
        { service: 'migrate', reason: 'one-shot job exited with code 1' }
      ],
      BASE,
      { executor, cwd: '/w' }
    )
    expect(api).toMatchObject({
      containers: [],
      logs: '',
      notes: ['no container was created for this service']
    })
    expect(executor.calls.filter(c => c.argv.includes('api'))).toHaveLength(1)
    expect(migrate?.containers).toHaveLength(1)
  })

  it('never throws: failing commands and a missing docker become notes', async () => {
    const executor = new ScriptedExecutor({
      [containerIdsArgs(BASE, 'ghost').join(' ')]: {
        exitCode: 1,
        stderr: 'no such service: ghost\n'
      },
      [containerIdsArgs(BASE, 'api').join(' ')]: { stdout: `${API_ID}\n` },
      [inspectArgs([API_ID]).join(' ')]: {
        exitCode: 1,
        stdout: '[]\n',
        stderr: `Error: No such object: ${API_ID}\n`
      },
      [logsArgs(BASE, 'api', 50).join(' ')]: new Error('Unable to locate executable file: docker'),
      [containerIdsArgs(BASE, 'web').join(' ')]: { stdout: `${API_ID}\n` },
      [inspectArgs([API_ID]).join(' ')]: {
        exitCode: 1,
        stderr: 'Cannot connect to the Docker daemon'
      }
    })
    const result = await collectDiagnostics(
      [
        { service: 'ghost', reason: 'no container yet' },
        { service: 'api', reason: 'healthcheck reports unhealthy' },
        { service: 'web', reason: 'container exited with code 1' }
      ],
      BASE,
      { executor, cwd: '/w' }
    )
    expect(result.map(d => d.notes)).toEqual([
      ['could not list its containers: no such service: ghost'],
      [
        'could not inspect its containers: Cannot connect to the Docker daemon',
        'could not read its logs: Unable to locate executable file: docker'
      ],
      [
        'could not inspect its containers: Cannot connect to the Docker daemon',
        'could not read its logs: unexpected'
      ]
    ])
  })

  it('a container removed meanwhile: inspect exits 1 but the others are still read', async () => {
    const other = 'f'.repeat(64)
    const executor = new ScriptedExecutor(
      script({
        [containerIdsArgs(BASE, 'api').join(' ')]: { stdout: `${API_ID}\n${other}\n` },
        [inspectArgs([API_ID, other]).join(' ')]: {
          exitCode: 1,
          stdout: inspectFixture('unhealthy'),
          stderr: `Error: No such object: ${other}`
        }
      })
    )
    const [api] = await collectDiagnostics([{ service: 'api', reason: 'r' }], BASE, {
      executor,
      cwd: '/w'
    })
    expect(api?.containers).toHaveLength(1)
    expect(api?.notes).toEqual(['docker inspect found 1 of 2 containers'])
  })

  it('merges the failures of one service’s replicas', async () => {
    expect(
      groupFailures([
        { service: 'api', reason: 'healthcheck reports unhealthy' },
        { service: 'db', reason: 'container exited with code 1' },
        { service: 'api', reason: 'healthcheck reports unhealthy' },
        { service: 'api', reason: 'container is restarting (it keeps crashing)' }
      ])
    ).toEqual([
      {
        service: 'api',
        reason: 'healthcheck reports unhealthy; container is restarting (it keeps crashing)'
      },
      { service: 'db', reason: 'container exited with code 1' }
    ])
  })
})

// --- rendering ------------------------------------------------------------------------------

function diag(over: Partial<ServiceDiagnostics> = {}): ServiceDiagnostics {
  return {
    service: 'api',
    reason: 'healthcheck reports unhealthy',
    containers: parseInspect(inspectFixture('unhealthy')),
    logLines: 50,
    logs: 'api-1  | starting\napi-1  | listening on :8081\napi-1  | GET /health 500',
    notes: [],
    inspect: [],
    ...over
  }
}

/**
 * The contents of the fenced code blocks of a Markdown text, as CommonMark reads them: a fence
 * of N backticks closes only at a line of at least N backticks and nothing else.
 */
function codeBlocks(markdown: string): string[] {
  const blocks: string[] = []
  let open: { fence: number; lines: string[] } | undefined
  for (const line of markdown.split('\n')) {
    if (!open) {
      const start = /^ {0,3}(`{3,})[^`]*$/.exec(line)
      if (start) open = { fence: (start[1] as string).length, lines: [] }
      continue
    }
    const close = /^ {0,3}(`{3,})\s*$/.exec(line)
    if (close && (close[1] as string).length >= open.fence) {
      blocks.push(open.lines.join('\n'))
      open = undefined
    } else open.lines.push(line)
  }
  if (open) blocks.push(open.lines.join('\n'))
  return blocks
}

describe('renderDiagnosticsMarkdown', () => {
  it('one collapsed block per service with state, health log and log tail', () => {
    const md = renderDiagnosticsMarkdown([
      diag(),
      diag({
        service: 'migrate',
        reason: 'one-shot job exited with code 1',
        containers: parseInspect(inspectFixture('exited')),
        logs: 'migrate-1  | migrating\nmigrate-1  | ERROR: relation "users" does not exist'
      })
    ])
    expect(md.startsWith('<details><summary>❌ api')).toBe(true)
    expect(md.match(/<details><summary>/g)).toHaveLength(2)
    expect(md.match(/<\/details>/g)).toHaveLength(2)
    expect(md).toContain('<details><summary>❌ api — healthcheck reports unhealthy</summary>\n\n')
    expect(md).toContain(
      '<details><summary>❌ migrate — one-shot job exited with code 1</summary>\n\n'
    )
    expect(md).toContain(
      '**diagcap-api-1** (198.18.47.1:5000/lab/debian:bookworm): running, health: unhealthy (10 failed checks in a row), OOM killed: no, restarts: 0, started 2026-11-21 21:35:40Z'
    )
    expect(md).toContain(
      '**diagcap-migrate-1** (198.18.47.1:5000/lab/debian:bookworm): exited (exit code 1), OOM killed: no, restarts: 0'
    )
    expect(md).toContain('Health log (last 5 checks, oldest first):')
    const blocks = codeBlocks(md)
    expect(blocks).toHaveLength(3)
    expect(blocks[0]?.split('\n')).toHaveLength(10)
    expect(blocks[0]).toMatch(
      /^2026-11-21 21:35:46Z {2}exit 7 {2}took 0\.1s\ncurl: \(7\) Failed to connect/
    )
    expect(blocks[1]).toBe(diag().logs)
    expect(blocks[2]).toContain('ERROR: relation "users" does not exist')
    expect(md).toContain('Last 3 log lines:')
    expect(md).toContain('Last 2 log lines:')
  })

  it('says when there is no container, and renders nothing for no failures', () => {
    const md = renderDiagnosticsMarkdown([
      diag({ containers: [], logs: '', notes: ['no container was created for this service'] })
    ])
    expect(md).toContain('> no container was created for this service')
    expect(codeBlocks(md)).toEqual([])
    expect(renderDiagnosticsMarkdown([])).toBe('')
  })

  it('shows docker’s error for a container that never started', () => {
    const md = renderDiagnosticsMarkdown([
      diag({ containers: parseInspect(inspectFixture('created')), logs: '' })
    ])
    expect(md).toContain('created (last exit code 127)')
    expect(md).toContain('Docker error: failed to create shim task')
    expect(md).toContain('No log output.')
  })

  it('logs cannot break out of their code block, nor reason text out of the summary', () => {
    const logs = [
      'api-1  | ```',
      'api-1  | </details>',
      '```',
      '````',
      '`````js',
      '<script>alert(1)</script>',
      '~~~'
    ].join('\n')
    const md = renderDiagnosticsMarkdown([
      diag({ reason: 'compose: <b>boom</b> & </summary></details>', logs })
    ])
    expect(md).toContain('❌ api — compose: &lt;b&gt;boom&lt;/b&gt; &amp; &lt;/summary&gt;')
    expect(md).toContain('``````text\n')
    expect(codeBlocks(md)[1]).toBe(logs)
    expect(fenced('plain')).toBe('```text\nplain\n```')
    expect(fenced('a `` b')).toBe('```text\na `` b\n```')
    expect(fenced('a ```` b', '')).toBe('`````\na ```` b\n`````')
  })

  it('keeps each block under the limit by cutting logs from the top, and says so', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `api-1  | line ${i} ${'é'.repeat(40)}`)
    const md = renderDiagnosticsMarkdown([diag({ logs: lines.join('\n'), logLines: 3000 })])
    const size = Buffer.byteLength(md, 'utf8')
    expect(size).toBeLessThanOrEqual(60 * 1024 + 100)
    expect(size).toBeGreaterThan(50 * 1024)
    const tail = codeBlocks(md)[1] ?? ''
    expect(tail.endsWith('line 2999 ' + 'é'.repeat(40))).toBe(true)
    expect(tail.split('\n')[0]).toMatch(/^api-1 {2}\| line \d+ é+$/)
    const kept = tail.split('\n').length
    expect(md).toContain(
      `(${3000 - kept} earlier lines left out to keep the job summary small: all 3000 are in the log bundle)`
    )
    expect(md.trimEnd().endsWith('</details>')).toBe(true)
  })

  it('splits a total budget between services', () => {
    const logs = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n')
    const many = Array.from({ length: 20 }, (_, i) => diag({ service: `s${i}`, logs }))
    const md = renderDiagnosticsMarkdown(many)
    expect(Buffer.byteLength(md, 'utf8')).toBeLessThanOrEqual(512 * 1024 + 1024)
    expect(md.match(/<\/details>/g)).toHaveLength(20)
    const small = renderDiagnosticsMarkdown([diag({ logs })], { maxBlockBytes: 8 * 1024 })
    expect(Buffer.byteLength(small, 'utf8')).toBeLessThanOrEqual(8 * 1024 + 100)
  })

  it('tailBytes: whole lines from the end, or the end of one over-long line', () => {
    expect(tailBytes('a\nb\nc', 100)).toEqual({ text: 'a\nb\nc', dropped: 0 })
    expect(tailBytes('aaaa\nbb\ncc', 5)).toEqual({ text: 'bb\ncc', dropped: 1 })
    const long = tailBytes(`first\n${'x'.repeat(50)}yz`, 10)
    expect(long.dropped).toBe(1)
    expect(long.text).toBe('…xxxxxyz')
    expect(Buffer.byteLength(long.text)).toBeLessThanOrEqual(10)
    const multibyte = tailBytes('ééééé', 5)
    expect(multibyte.text).not.toContain('\uFFFD')
    expect(Buffer.byteLength(multibyte.text)).toBeLessThanOrEqual(5)
  })
})

describe('annotationFor', () => {
  it('reason, state, last health output and last 3 log lines in one paragraph', () => {
    const { title, message } = annotationFor(diag())
    expect(title).toBe('Smoke test: api')
    expect(message).toBe(
      'healthcheck reports unhealthy. diagcap-api-1: running, health: unhealthy (10 failed checks in a row), OOM killed: no, restarts: 0, started 2026-11-21 21:35:40Z. ' +
        'Last health check: exit 7, "curl: (7) Failed to connect to localhost port 8080: Connection refused". ' +
        'Last log lines: starting ⏎ listening on :8081 ⏎ GET /health 500'
    )
    expect(message).not.toContain('\n')
  })

  it('keeps compose’s prefixes when the lines come from several containers', () => {
    const { message } = annotationFor(
      diag({ logs: 'api-1  | a\napi-2  | b\napi-1  | c\napi-2  | d' })
    )
    expect(message).toContain('Last log lines: api-2  | b ⏎ api-1  | c ⏎ api-2  | d')
  })

  it('a job that exited, and a service without a container', () => {
    const job = annotationFor(
      diag({
        service: 'migrate',
        reason: 'one-shot job exited with code 1',
        containers: parseInspect(inspectFixture('exited')),
        logs: 'migrate-1  | ERROR: relation "users" does not exist'
      })
    )
    expect(job.message).toMatch(
      /^one-shot job exited with code 1\. diagcap-migrate-1: exited \(exit code 1\)/
    )
    expect(job.message).not.toContain('health')
    const none = annotationFor(
      diag({ containers: [], logs: '', notes: ['no container was created for this service'] })
    )
    expect(none.message).toBe(
      'healthcheck reports unhealthy. No container was created for this service.'
    )
  })

  it('stays under 1000 characters whatever the logs and reason', () => {
    const { message } = annotationFor(
      diag({
        reason: `compose: ${'r'.repeat(3000)}`,
        logs: Array.from({ length: 10 }, () => 'y'.repeat(5000)).join('\n')
      })
    )
    expect(message.length).toBeLessThanOrEqual(1000)
    const normal = annotationFor(diag({ logs: ['a', 'b', 'z'.repeat(5000)].join('\n') }))
    expect(normal.message.length).toBeLessThanOrEqual(1000)
    expect(normal.message).toContain('Last log lines: a ⏎ b ⏎ zzz')
  })
})

describe('smokeFailureMessage', () => {
  it('names each service and its reason on one line', () => {
    expect(
      smokeFailureMessage([
        { service: 'api', reason: 'healthcheck reports unhealthy' },
        { service: 'migrate', reason: 'one-shot job exited with code 1' }
      ])
    ).toBe(
      'Smoke test failed: service "api": healthcheck reports unhealthy; service "migrate": one-shot job exited with code 1 (details in the job summary and the log bundle)'
    )
  })

  it('one line even for multi-line reasons; replicas merged; another headline', () => {
    expect(
      smokeFailureMessage(
        [
          { service: 'api', reason: 'healthcheck still starting' },
          { service: 'api', reason: 'healthcheck still starting' },
          { service: 'web', reason: 'no container yet; compose: a\nb' }
        ],
        'Smoke test timed out after 180s (wait-timeout)'
      )
    ).toBe(
      'Smoke test timed out after 180s (wait-timeout): service "api": healthcheck still starting; service "web": no container yet; compose: a | b (details in the job summary and the log bundle)'
    )
  })
})

describe('stateLine', () => {
  it.each([
    ['restarting', 'restarting (exit code 2), OOM killed: no, restarts: 7'],
    ['oom-killed', 'exited (exit code 137), OOM killed: yes, restarts: 0'],
    ['healthy', 'running, health: healthy, OOM killed: no, restarts: 0']
  ])('%s', (kind, start) => {
    expect(stateLine(only(inspectFixture(kind))).startsWith(start)).toBe(true)
  })
})

// --- the bundle -----------------------------------------------------------------------------

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() })

class RecordingExecutor implements Executor {
  readonly calls: string[][] = []
  private readonly local = new LocalExecutor(quiet)
  async run(argv: string[], options?: RunOptions): Promise<CommandResult> {
    this.calls.push(argv)
    return this.local.run(argv, options)
  }
}

describe('writeLogBundle', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diagnostics-bundle-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('writes summary.json, a log and an inspect file per service and the extras, packed with tar', async () => {
    const executor = new RecordingExecutor()
    const inspect = redactInspect(JSON.parse(inspectFixture('unhealthy')) as unknown[])
    const diagnostics = [
      diag({ inspect }),
      diag({ service: 'migrate', containers: [], logs: '', notes: ['no container'] })
    ]
    const out = await writeLogBundle(
      diagnostics,
      { dir, project: 'shop-smoke-1a2b3c', extra: { 'compose-ps.json': '[]\n' } },
      executor
    )
    const folder = 'stack-deploy-smoke-shop-smoke-1a2b3c'
    expect(out).toBe(path.join(dir, `${folder}.tar.gz`))
    expect(executor.calls).toEqual([['tar', '-czf', out, '-C', dir, folder]])

    const extracted = fs.mkdtempSync(path.join(dir, 'x-'))
    const tar = spawnSync('tar', ['-xzf', out, '-C', extracted], { encoding: 'utf8' })
    expect(tar.status).toBe(0)
    const root = path.join(extracted, folder)
    expect(fs.readdirSync(root).sort()).toEqual([
      'api.inspect.json',
      'api.log',
      'compose-ps.json',
      'migrate.inspect.json',
      'migrate.log',
      'summary.json'
    ])
    expect(fs.readFileSync(path.join(root, 'api.log'), 'utf8')).toBe(`${diag().logs}\n`)
    expect(fs.readFileSync(path.join(root, 'migrate.log'), 'utf8')).toBe('')
    expect(JSON.parse(fs.readFileSync(path.join(root, 'api.inspect.json'), 'utf8'))).toEqual(
      inspect
    )
    const summary = JSON.parse(fs.readFileSync(path.join(root, 'summary.json'), 'utf8')) as {
      project: string
      services: Record<string, unknown>[]
    }
    expect(summary.project).toBe('shop-smoke-1a2b3c')
    expect(summary.services.map(s => s.service)).toEqual(['api', 'migrate'])
    expect(summary.services[0]).not.toHaveProperty('inspect')
    expect(summary.services[0]).toMatchObject({ reason: 'healthcheck reports unhealthy' })
    expect(fs.readFileSync(path.join(root, 'compose-ps.json'), 'utf8')).toBe('[]\n')
  })

  it('keeps every file inside the bundle folder and refuses to overwrite its own files', async () => {
    const executor = new RecordingExecutor()
    await writeLogBundle(
      [diag({ service: '../evil' })],
      { dir, project: 'p', extra: { '../../etc/x': 'no' } },
      executor
    )
    expect(fs.readdirSync(path.join(dir, 'stack-deploy-smoke-p')).sort()).toEqual([
      '__.._etc_x',
      '__evil.inspect.json',
      '__evil.log',
      'summary.json'
    ])
    await expect(
      writeLogBundle([diag()], { dir, project: 'p', extra: { 'api.log': 'x' } }, executor)
    ).rejects.toThrow(/would replace api.log/)
  })

  it('fails loudly when tar fails', async () => {
    const failing: Executor = {
      run: async argv => ({
        argv,
        exitCode: 2,
        stdout: '',
        stderr: 'tar: disk full',
        durationMs: 0
      })
    }
    await expect(writeLogBundle([diag()], { dir, project: 'p' }, failing)).rejects.toThrow(
      /tar failed \(exit 2\).*\n.*disk full/
    )
  })
})

describe('secrets a job prints never reach the summary, the annotations or the bundle', () => {
  // A secret-files value (a key, several lines) and a secrets-input value. Neither is in an
  // environment variable with a secret-looking name, so only the run's own list can find them.
  const KEY = 'line-one-of-the-key-Zq8\nline-two-of-the-key-Zq8'
  const VALUE = 'conn$tr|ng"7\\Zq8'
  const migrateLogs = [
    'migrate-1  | connecting with ' + VALUE,
    ...KEY.split('\n').map(line => `migrate-1  | ${line}`),
    'migrate-1  | ERROR: cannot connect'
  ].join('\n')
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diagnostics-secrets-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('redacts what it collects and every file of the bundle', async () => {
    const reporter = new MemoryReporter()
    reporter.setSecret(KEY)
    reporter.setSecret(VALUE)
    const redact = (text: string): string => reporter.redact(text)
    const executor = new ScriptedExecutor({
      [containerIdsArgs(BASE, 'migrate').join(' ')]: { stdout: `${MIGRATE_ID}\n` },
      [inspectArgs([MIGRATE_ID]).join(' ')]: {
        stdout: inspectFixture('exited').replace(
          '"Error": ""',
          `"Error": "dial: ${VALUE.replace(/[\\"]/g, m => `\\${m}`)}"`
        )
      },
      [logsArgs(BASE, 'migrate', 50).join(' ')]: { stdout: `${migrateLogs}\n` }
    })
    const diagnostics = await collectDiagnostics(
      [{ service: 'migrate', reason: `one-shot job exited with code 3: connecting with ${VALUE}` }],
      BASE,
      { executor, cwd: '/w', redact }
    )
    const [migrate] = diagnostics
    expect(migrate?.logs).toBe(
      'migrate-1  | connecting with ***\nmigrate-1  | ***\nmigrate-1  | ***\nmigrate-1  | ERROR: cannot connect'
    )
    expect(migrate?.reason).toBe('one-shot job exited with code 3: connecting with ***')

    const shown = [
      renderDiagnosticsMarkdown(diagnostics),
      ...diagnostics.map(d => annotationFor(d).message)
    ]
    const out = await writeLogBundle(
      diagnostics,
      {
        dir,
        project: 'shop-smoke-1a2b3c',
        // What smoke.ts adds: compose ps, probe results; either may quote a secret.
        extra: {
          'compose-ps.json': JSON.stringify([{ Service: 'migrate', Command: `sh -c ${VALUE}` }]),
          'probes.json': JSON.stringify([{ detail: KEY }], null, 2)
        },
        redact
      },
      new RecordingExecutor()
    )
    const extracted = fs.mkdtempSync(path.join(dir, 'x-'))
    expect(spawnSync('tar', ['-xzf', out, '-C', extracted]).status).toBe(0)
    const root = path.join(extracted, 'stack-deploy-smoke-shop-smoke-1a2b3c')
    const files = fs.readdirSync(root).sort()
    expect(files).toEqual([
      'compose-ps.json',
      'migrate.inspect.json',
      'migrate.log',
      'probes.json',
      'summary.json'
    ])
    for (const text of [
      ...shown,
      ...files.map(file => fs.readFileSync(path.join(root, file), 'utf8'))
    ]) {
      expect(text).not.toContain('Zq8')
    }
    expect(fs.readFileSync(path.join(root, 'migrate.log'), 'utf8')).toContain('connecting with ***')
    expect(fs.readFileSync(path.join(root, 'probes.json'), 'utf8')).toContain('"detail": "***"')
    // JSON files stay JSON.
    for (const file of files.filter(f => f.endsWith('.json')))
      expect(() => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'))).not.toThrow()
  })
})
