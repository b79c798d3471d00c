/**
 * The host side of the deploy lock: the real scripts, run with the local bash, flock and
 * coreutils on a temporary directory (what the host runs, minus ssh).
 */
import { jest } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { CommandResult, Executor } from '../src/exec/executor.js'
import { buildRemoteCommand } from '../src/exec/remote.js'
import { PRIVATE_DIR_PREFIX } from '../src/exec/ssh.js'
import {
  HELD_NOT_STARTED_MARKER,
  HELD_TIMEOUT_EXIT,
  LOCK_NOT_OURS_EXIT,
  acquireLockCommand,
  heldCommand,
  heldCommandNotStarted,
  heldCommandRemoteTimeoutSeconds,
  hostLockPreflightArgv,
  parseAcquireResult,
  parseHeldLockState,
  parseReleaseResult,
  parseRenewResult,
  parseTakeOverResult,
  releaseLockArgv,
  renewIntervalSeconds,
  renewLockArgv,
  takeOverLockCommand,
  type HostLockCommand
} from '../src/deploy/host-lock.js'
import { decideOnHeldLock, type HeldLockState, type LockOwner } from '../src/deploy/lock.js'
import { releaseAfterCancel } from '../src/deploy/post.js'
import { MemoryReporter } from '../src/report/reporter.js'

jest.setTimeout(120_000)

interface Ran {
  exitCode: number
  stdout: string
  stderr: string
}

function run(command: HostLockCommand | string[]): Ran {
  const { argv, input } = Array.isArray(command) ? { argv: command, input: undefined } : command
  const result = spawnSync(argv[0]!, argv.slice(1), { input: input ?? '', encoding: 'utf8' })
  if (result.error) throw result.error
  return { exitCode: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

/** Starts a command without waiting: for races and for killing it halfway. */
function start(command: HostLockCommand | string[]): {
  pid: number
  done: Promise<Ran & { signal: NodeJS.Signals | null }>
} {
  const { argv, input } = Array.isArray(command) ? { argv: command, input: undefined } : command
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdin.end(input ?? '')
  const done = new Promise<Ran & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject)
    let closed = false
    child.on('close', () => (closed = true))
    child.on('exit', (code, signal) => {
      const settle = () => resolve({ exitCode: code ?? -1, signal, stdout, stderr })
      // Its last words (stderr) may still be in the pipe at 'exit': wait for 'close', but not
      // forever: a killed wrapper's children (its sleep) may hold its pipes a little longer.
      if (closed) return settle()
      const timer = setTimeout(settle, 2000)
      child.on('close', () => {
        clearTimeout(timer)
        settle()
      })
    })
  })
  return { pid: child.pid!, done }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/**
 * A command that prints "started", runs until the test opens its gate, then writes "done" to
 * its marker: "still running" is up to the test, not to a timer on a busy machine.
 */
function gatedJob(dir: string, name = 'job') {
  const marker = path.join(dir, `${name}-done`)
  const gate = path.join(dir, `${name}-gate`)
  return {
    argv: [
      'bash',
      '-c',
      'echo started; until [ -e "$2" ]; do sleep 0.05; done; echo done > "$1"',
      'x',
      marker,
      gate
    ],
    marker,
    open: () => fs.writeFileSync(gate, '')
  }
}

async function until(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const hostNow = () => Number(execText(['date', '+%s']))
function execText(argv: string[]): string {
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }).stdout.trim()
}
/** Sets a file's mtime to `epoch` seconds (what an old heartbeat looks like). */
function setMtime(file: string, epoch: number): void {
  expect(spawnSync('touch', ['-d', `@${epoch}`, '--', file]).status).toBe(0)
}

function owner(token: string, extra: Partial<LockOwner> = {}): LockOwner {
  return {
    token,
    owner: `octocat (deploy ${token})`,
    runUrl: `https://github.com/acme/shop/actions/runs/${token}`,
    acquiredAt: '2026-11-21T22:00:00.000Z',
    ttlSeconds: 900,
    ...extra
  }
}

let base: string
let root: string
let lockDir: string
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-host-lock-'))
  root = path.join(base, 'shop')
  fs.mkdirSync(root)
  lockDir = path.join(root, '.lock')
})
afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true })
})

function acquire(token: string, dir = lockDir) {
  return parseAcquireResult(run(acquireLockCommand(dir, owner(token))))
}
function heldState(token: string, dir = lockDir): HeldLockState {
  const outcome = acquire(token, dir)
  if (outcome.kind !== 'held') throw new Error(`expected a held lock, got ${outcome.kind}`)
  return outcome.state
}
const lockToken = (dir = lockDir) => fs.readFileSync(path.join(dir, 'token'), 'utf8')

describe('acquire', () => {
  it('takes a free lock: token, owner record (0644) and heartbeat, all under the flock file', () => {
    const result = run(acquireLockCommand(lockDir, owner('a1')))
    expect(result).toEqual({ exitCode: 0, stdout: 'acquired\n', stderr: '' })
    expect(lockToken()).toBe('a1')
    const record = fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8')
    expect(JSON.parse(record)).toEqual(owner('a1'))
    expect(fs.statSync(path.join(lockDir, 'owner.json')).mode & 0o777).toBe(0o644)
    expect(fs.existsSync(path.join(lockDir, 'heartbeat'))).toBe(true)
    expect(fs.existsSync(`${lockDir}.flock`)).toBe(true)
  })

  it('answers "acquired" again to its own holder (a retry whose first answer was lost)', () => {
    expect(acquire('a1').kind).toBe('acquired')
    expect(acquire('a1').kind).toBe('acquired')
    expect(lockToken()).toBe('a1')
  })

  it('reports a held lock as one JSON line, its age by the host clock from the heartbeat', () => {
    expect(acquire('a1').kind).toBe('acquired')
    const then = hostNow() - 3600
    setMtime(path.join(lockDir, 'heartbeat'), then)
    const before = hostNow()
    const result = run(acquireLockCommand(lockDir, owner('b2')))
    const after = hostNow()
    expect(result.exitCode).toBe(LOCK_NOT_OURS_EXIT)
    expect(result.stdout.split('\n')).toHaveLength(2)
    const state = parseHeldLockState(result.stdout.trim())!
    expect(state.owner).toEqual(owner('a1'))
    expect(state.token).toBe('a1')
    expect(state.mtime).toBe(then)
    expect(state.ageSeconds).toBeGreaterThanOrEqual(before - then)
    expect(state.ageSeconds).toBeLessThanOrEqual(after - then)
    expect(state.busy).toEqual([])
    expect(lockToken()).toBe('a1')
  })

  it('judges a lock without owner record by the directory itself', () => {
    fs.mkdirSync(lockDir)
    const then = hostNow() - 120
    setMtime(lockDir, then)
    const state = heldState('b2')
    expect(state.owner).toBeUndefined()
    expect(state.token).toBe('')
    expect(state.mtime).toBe(then)
    expect(state.ageSeconds).toBeGreaterThanOrEqual(120)
  })

  it('takes a lock its holder released while a command ran, once that command is gone', () => {
    expect(acquire('a1').kind).toBe('acquired')
    // A command registered, then killed without cleaning up (its pid is not running).
    fs.mkdirSync(path.join(lockDir, 'busy', 'migrate'), { recursive: true })
    fs.writeFileSync(path.join(lockDir, 'busy', 'migrate', 'pid'), '999999999 12345\n')
    fs.writeFileSync(path.join(lockDir, 'release-when-idle'), '')
    expect(acquire('b2').kind).toBe('acquired')
    expect(lockToken()).toBe('b2')
    expect(fs.existsSync(path.join(lockDir, 'busy'))).toBe(false)
  })

  it('fails (not "held") when the parent directory does not exist', () => {
    const result = run(acquireLockCommand(path.join(base, 'missing', '.lock'), owner('a1')))
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(
      /cannot open .*\/missing\/\.lock\.flock \(does the deploy directory exist\?\)/
    )
    expect(() => parseAcquireResult(result)).toThrow(/taking the deploy lock: unexpected answer/)
  })

  it('lets exactly one of many concurrent runs take a free lock', async () => {
    for (let round = 0; round < 3; round++) {
      fs.rmSync(lockDir, { recursive: true, force: true })
      const runs = Array.from({ length: 6 }, (_, i) =>
        start(acquireLockCommand(lockDir, owner(`r${round}x${i}`)))
      )
      const results = await Promise.all(runs.map(r => r.done))
      const winners = results.flatMap((r, i) => (r.exitCode === 0 ? [`r${round}x${i}`] : []))
      expect(winners).toHaveLength(1)
      expect(results.filter(r => r.exitCode === LOCK_NOT_OURS_EXIT)).toHaveLength(5)
      expect(lockToken()).toBe(winners[0])
    }
  })
})

describe('take-over', () => {
  function staleLock(token: string): HeldLockState {
    expect(acquire(token).kind).toBe('acquired')
    setMtime(path.join(lockDir, 'heartbeat'), hostNow() - 3600)
    return heldState('someone-else')
  }

  /** The same stale lock, made by hand (faster, for the loop): what acquire leaves, aged. */
  function staleLockByHand(token: string): Pick<HeldLockState, 'token' | 'mtime'> {
    fs.mkdirSync(lockDir)
    fs.writeFileSync(path.join(lockDir, 'token'), token)
    fs.writeFileSync(path.join(lockDir, 'owner.json'), `${JSON.stringify(owner(token))}\n`)
    fs.writeFileSync(path.join(lockDir, 'heartbeat'), '')
    const mtime = Math.floor(Date.now() / 1000) - 3600
    fs.utimesSync(path.join(lockDir, 'heartbeat'), mtime, mtime)
    return { token, mtime }
  }

  it('replaces the stale lock it was shown with ours', () => {
    const stale = staleLock('old')
    expect(decideOnHeldLock(stale, 900).action).toBe('take-over')
    const result = run(takeOverLockCommand(lockDir, owner('new'), stale))
    expect(parseTakeOverResult(result)).toBe('took-over')
    expect(lockToken()).toBe('new')
    expect(JSON.parse(fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8'))).toEqual(
      owner('new')
    )
    const fresh = heldState('other')
    expect(fresh.ageSeconds).toBeLessThan(5)
    expect(decideOnHeldLock(fresh, 900).action).toBe('wait')
  })

  it('lets exactly one of two concurrent take-overs win, every time', async () => {
    for (let round = 0; round < 25; round++) {
      fs.rmSync(lockDir, { recursive: true, force: true })
      // Both read the same stale state, then both try to take it over at the same moment.
      const stale = staleLockByHand(`old${round}`)
      const a = start(takeOverLockCommand(lockDir, owner(`a${round}`), stale))
      const b = start(takeOverLockCommand(lockDir, owner(`b${round}`), stale))
      const [ra, rb] = await Promise.all([a.done, b.done])
      const outcomes = [parseTakeOverResult(ra), parseTakeOverResult(rb)]
      expect([...outcomes].sort()).toEqual(['lost', 'took-over'])
      const winner = outcomes[0] === 'took-over' ? `a${round}` : `b${round}`
      expect(lockToken()).toBe(winner)
      const record = JSON.parse(fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8'))
      expect(record.token).toBe(winner)
    }
  })

  it('loses when the holder renewed after the state was read', () => {
    const stale = staleLock('old')
    expect(parseRenewResult(run(renewLockArgv(lockDir, 'old')))).toBe(true)
    expect(parseTakeOverResult(run(takeOverLockCommand(lockDir, owner('new'), stale)))).toBe('lost')
    expect(lockToken()).toBe('old')
  })

  it('loses when the lock changed hands or went away meanwhile', () => {
    const stale = staleLock('old')
    fs.rmSync(lockDir, { recursive: true })
    expect(parseTakeOverResult(run(takeOverLockCommand(lockDir, owner('new'), stale)))).toBe('lost')
    expect(fs.existsSync(lockDir)).toBe(false)
    expect(acquire('third').kind).toBe('acquired')
    setMtime(path.join(lockDir, 'heartbeat'), stale.mtime)
    expect(parseTakeOverResult(run(takeOverLockCommand(lockDir, owner('new'), stale)))).toBe('lost')
    expect(lockToken()).toBe('third')
  })

  it('takes over a lock without owner record only while it is still without one', () => {
    fs.mkdirSync(lockDir)
    setMtime(lockDir, hostNow() - 7200)
    const stale = heldState('x')
    expect(decideOnHeldLock(stale, 900)).toMatchObject({ action: 'take-over' })
    expect(parseTakeOverResult(run(takeOverLockCommand(lockDir, owner('new'), stale)))).toBe(
      'took-over'
    )
    expect(lockToken()).toBe('new')
  })

  it('never takes over a lock whose command still runs, however old', async () => {
    expect(acquire('old').kind).toBe('acquired')
    const job = gatedJob(base)
    const held = start(heldCommand(lockDir, 'old', 'migrate', 60, job.argv))
    await until('the migration to register', () =>
      fs.existsSync(path.join(lockDir, 'busy', 'migrate', 'pid'))
    )
    setMtime(path.join(lockDir, 'heartbeat'), hostNow() - 86_400)
    const state = heldState('new')
    expect(state.ageSeconds).toBeGreaterThan(86_000)
    expect(state.busy).toEqual([{ id: 'migrate', pid: expect.any(Number) }])
    expect(decideOnHeldLock(state, 900)).toMatchObject({
      action: 'wait',
      reason: expect.stringMatching(/^migrate \(pid \d+\) still running on the host$/)
    })
    // Even a take-over with the state it was shown (a caller that ignored the decision).
    expect(parseTakeOverResult(run(takeOverLockCommand(lockDir, owner('new'), state)))).toBe('lost')
    job.open()
    expect(await held.done).toMatchObject({ exitCode: 0, stdout: 'started\n' })
    expect(fs.existsSync(job.marker)).toBe(true)
    expect(lockToken()).toBe('old')
  })
})

describe('renew', () => {
  it('touches the heartbeat only while the lock is ours', () => {
    expect(acquire('mine').kind).toBe('acquired')
    const heartbeat = path.join(lockDir, 'heartbeat')
    const old = hostNow() - 600
    setMtime(heartbeat, old)
    const theirs = run(renewLockArgv(lockDir, 'theirs'))
    expect(theirs).toMatchObject({ exitCode: LOCK_NOT_OURS_EXIT, stdout: 'lost\n' })
    expect(parseRenewResult(theirs)).toBe(false)
    expect(Math.floor(fs.statSync(heartbeat).mtimeMs / 1000)).toBe(old)
    const before = hostNow()
    expect(parseRenewResult(run(renewLockArgv(lockDir, 'mine')))).toBe(true)
    expect(Math.floor(fs.statSync(heartbeat).mtimeMs / 1000)).toBeGreaterThanOrEqual(before)
  })

  it('says "lost" when the lock is gone', () => {
    expect(parseRenewResult(run(renewLockArgv(lockDir, 'mine')))).toBe(false)
    expect(fs.existsSync(lockDir)).toBe(false)
  })

  it.each([
    [30, 10],
    [900, 60],
    [181, 60],
    [150, 50],
    [2, 1],
    [0, 60]
  ])('renews a lock with a TTL of %ss every %ss', (ttl, interval) => {
    expect(renewIntervalSeconds(ttl)).toBe(interval)
    if (ttl > 0) expect(interval * 3).toBeLessThanOrEqual(Math.max(3, ttl))
  })
})

describe('release', () => {
  it('removes an idle lock of ours', () => {
    expect(acquire('mine').kind).toBe('acquired')
    const result = run(releaseLockArgv(lockDir, 'mine'))
    expect(parseReleaseResult(result)).toEqual({ kind: 'released' })
    expect(fs.existsSync(lockDir)).toBe(false)
  })

  it('leaves a lock that is not ours, and says when there is none', () => {
    expect(acquire('theirs').kind).toBe('acquired')
    const result = run(releaseLockArgv(lockDir, 'mine'))
    expect(result.exitCode).toBe(LOCK_NOT_OURS_EXIT)
    expect(parseReleaseResult(result)).toEqual({ kind: 'not-ours' })
    expect(lockToken()).toBe('theirs')
    fs.rmSync(lockDir, { recursive: true })
    expect(parseReleaseResult(run(releaseLockArgv(lockDir, 'mine')))).toEqual({ kind: 'absent' })
  })

  it('keeps the lock while a command runs, and the lock goes by itself when it ends', async () => {
    expect(acquire('mine').kind).toBe('acquired')
    const job = gatedJob(base)
    const held = start(heldCommand(lockDir, 'mine', 'migrate', 60, job.argv))
    await until('the migration to register', () =>
      fs.existsSync(path.join(lockDir, 'busy', 'migrate', 'pid'))
    )
    // The connection drops: the wrapper on the ssh side dies.
    process.kill(held.pid, 'SIGKILL')
    expect((await held.done).signal).toBe('SIGKILL')
    const outcome = parseReleaseResult(run(releaseLockArgv(lockDir, 'mine')))
    expect(outcome).toEqual({ kind: 'kept', busy: [{ id: 'migrate', pid: expect.any(Number) }] })
    expect(fs.existsSync(path.join(lockDir, 'release-when-idle'))).toBe(true)
    expect(fs.existsSync(job.marker)).toBe(false)
    expect(heldState('next').busy.map(b => b.id)).toEqual(['migrate'])
    expect(parseRenewResult(run(renewLockArgv(lockDir, 'mine')))).toBe(true)
    expect(fs.existsSync(lockDir)).toBe(true)
    job.open()
    await until('the lock to go', () => !fs.existsSync(lockDir))
    expect(fs.existsSync(job.marker)).toBe(true)
    expect(acquire('next').kind).toBe('acquired')
  })
})

describe('heldCommand', () => {
  it('passes the exit status, stdout and stderr back, and cleans up its entry', () => {
    expect(acquire('mine').kind).toBe('acquired')
    const script = 'printf "out %s\\n" "$@"; echo "err line" >&2; exit 7'
    const result = run(
      heldCommand(lockDir, 'mine', 'up', 60, ['bash', '-c', script, 'x', 'a', 'b'])
    )
    expect(result).toEqual({ exitCode: 7, stdout: 'out a\nout b\n', stderr: 'err line\n' })
    expect(fs.existsSync(path.join(lockDir, 'busy', 'up'))).toBe(false)
    expect(lockToken()).toBe('mine')
    expect(parseReleaseResult(run(releaseLockArgv(lockDir, 'mine')))).toEqual({ kind: 'released' })
  })

  it('copies long output whole, written while it is being read', () => {
    expect(acquire('mine').kind).toBe('acquired')
    const script =
      'for i in $(seq 1 20000); do echo "line $i"; [ $((i % 5000)) -ne 0 ] || sleep 0.3; done; seq 1 3000 >&2'
    const result = run(heldCommand(lockDir, 'mine', 'up', 60, ['bash', '-c', script]))
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.split('\n')
    expect(lines).toHaveLength(20001)
    expect(lines[0]).toBe('line 1')
    expect(lines[19999]).toBe('line 20000')
    expect(result.stderr.split('\n').slice(0, -1).map(Number)).toEqual(
      Array.from({ length: 3000 }, (_, i) => i + 1)
    )
  })

  it('does not start the command without our lock', () => {
    const marker = path.join(base, 'ran')
    const absent = run(heldCommand(lockDir, 'mine', 'migrate', 60, ['touch', marker]))
    expect(absent.exitCode).toBe(LOCK_NOT_OURS_EXIT)
    expect(absent.stderr).toContain(HELD_NOT_STARTED_MARKER)
    expect(heldCommandNotStarted(absent)).toBe(true)
    expect(acquire('theirs').kind).toBe('acquired')
    const theirs = run(heldCommand(lockDir, 'mine', 'migrate', 60, ['touch', marker]))
    expect(heldCommandNotStarted(theirs)).toBe(true)
    expect(fs.existsSync(marker)).toBe(false)
    expect(fs.existsSync(path.join(lockDir, 'busy'))).toBe(false)
    // A command's own exit 3 is not mistaken for it.
    expect(acquire('theirs').kind).toBe('acquired')
    const own = run(heldCommand(lockDir, 'theirs', 'migrate', 60, ['bash', '-c', 'exit 3']))
    expect(own.exitCode).toBe(3)
    expect(heldCommandNotStarted(own)).toBe(false)
  })

  it('stops the command after its timeout, inside the detached part', () => {
    expect(acquire('mine').kind).toBe('acquired')
    const started = Date.now()
    const result = run(heldCommand(lockDir, 'mine', 'migrate', 1, ['sleep', '30']))
    expect(result.exitCode).toBe(HELD_TIMEOUT_EXIT)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(heldState('other').busy).toEqual([])
  })

  it('keeps running and cleans up after the wrapper is killed', async () => {
    expect(acquire('mine').kind).toBe('acquired')
    const job = gatedJob(base)
    const held = start(heldCommand(lockDir, 'mine', 'migrate', 60, job.argv))
    await until('the migration to register', () =>
      fs.existsSync(path.join(lockDir, 'busy', 'migrate', 'pid'))
    )
    process.kill(held.pid, 'SIGKILL')
    const killed = await held.done
    expect(killed.signal).toBe('SIGKILL')
    expect(fs.existsSync(job.marker)).toBe(false)
    expect(heldState('other').busy.map(b => b.id)).toEqual(['migrate'])
    job.open()
    await until('the migration to finish', () => fs.existsSync(job.marker))
    expect(fs.readFileSync(job.marker, 'utf8')).toBe('done\n')
    await until(
      'its registration to go',
      () => !fs.existsSync(path.join(lockDir, 'busy', 'migrate', 'pid'))
    )
    const entry = path.join(lockDir, 'busy', 'migrate')
    expect(fs.readFileSync(path.join(entry, 'rc'), 'utf8')).toBe('0\n')
    expect(fs.readFileSync(path.join(entry, 'stdout'), 'utf8')).toBe('started\n')
    // Not released (nobody asked): the lock stays ours, idle, until it is released or stale.
    const state = heldState('other')
    expect(state.busy).toEqual([])
    expect(state.token).toBe('mine')
    expect(parseReleaseResult(run(releaseLockArgv(lockDir, 'mine')))).toEqual({ kind: 'released' })
  })

  it('outlives the remote timeout around the wrapper (it has its own session)', async () => {
    expect(acquire('mine').kind).toBe('acquired')
    const job = gatedJob(base)
    const argv = heldCommand(lockDir, 'mine', 'migrate', 60, job.argv)
    // What the host runs for the lead: the wrapper under `timeout` (here far too short).
    const result = spawnSync('sh', ['-c', buildRemoteCommand(argv, { timeoutSeconds: 1 })], {
      encoding: 'utf8'
    })
    expect(result.status).toBe(124)
    expect(heldState('other').busy.map(b => b.id)).toEqual(['migrate'])
    expect(fs.existsSync(job.marker)).toBe(false)
    job.open()
    await until('the migration to finish', () => fs.existsSync(job.marker))
    await until('its registration to go', () => heldState('other').busy.length === 0)
    expect(heldCommandRemoteTimeoutSeconds(600)).toBeGreaterThan(600 + 5)
  })

  it('refuses a second command with the same id while the first runs', async () => {
    expect(acquire('mine').kind).toBe('acquired')
    const job = gatedJob(base)
    const first = start(heldCommand(lockDir, 'mine', 'up', 60, job.argv))
    await until('the first to register', () =>
      fs.existsSync(path.join(lockDir, 'busy', 'up', 'pid'))
    )
    const second = run(heldCommand(lockDir, 'mine', 'up', 60, ['true']))
    expect(second.exitCode).toBe(1)
    expect(second.stderr).toMatch(/up is already running under the deploy lock/)
    job.open()
    expect((await first.done).exitCode).toBe(0)
  })
})

describe('hostile values', () => {
  const NASTY = [
    '',
    ' ',
    "it's",
    '"dq"',
    '$(touch pwned)',
    '`touch pwned`',
    '\\',
    'a\nb',
    '*',
    '$HOME',
    '${HOME}',
    '-e',
    '--',
    '; touch pwned',
    'ünïcödé ✓'
  ]

  it('keeps paths with spaces, quotes, $(...) and newlines as data', async () => {
    const weird = path.join(base, `sd lock 'q' "dq" $(touch pwned) \`touch pwned\` *\nline`)
    fs.mkdirSync(weird)
    const dir = path.join(weird, '.lock')
    const record = owner('a1', {
      owner: `evil "name" $(touch pwned) \`id\`\nsecond line 'q' \\`,
      runUrl: 'https://x/$(touch pwned)'
    })
    expect(run(acquireLockCommand(dir, record)).stdout).toBe('acquired\n')
    const taken = run(acquireLockCommand(dir, owner('b2')))
    expect(parseAcquireResult(taken)).toMatchObject({
      kind: 'held',
      state: { owner: record, token: 'a1', busy: [] }
    })
    const echo = run(heldCommand(dir, 'a1', 'up', 60, ['printf', '%s\\0', ...NASTY]))
    expect(echo.stderr).toBe('')
    expect(echo.stdout.split('\0').slice(0, -1)).toEqual(NASTY)
    const job = gatedJob(weird)
    const held = start(heldCommand(dir, 'a1', 'migrate', 60, job.argv))
    await until('it to register', () => fs.existsSync(path.join(dir, 'busy', 'migrate', 'pid')))
    expect(heldState('b2', dir).busy.map(b => b.id)).toEqual(['migrate'])
    expect(parseRenewResult(run(renewLockArgv(dir, 'a1')))).toBe(true)
    expect(parseReleaseResult(run(releaseLockArgv(dir, 'a1')))).toMatchObject({ kind: 'kept' })
    job.open()
    const ended = await held.done
    // Released while it ran: the lock went as it ended, with the exit status in it, unless the
    // wrapper read that first.
    expect(
      ended.exitCode === 0 ||
        (ended.exitCode === 1 && /was removed while migrate ran/.test(ended.stderr))
    ).toBe(true)
    expect(fs.existsSync(job.marker)).toBe(true)
    expect(fs.existsSync(dir)).toBe(false)
    expect(fs.readdirSync(weird).sort()).toEqual(['.lock.flock', 'job-done', 'job-gate'])
    expect(fs.existsSync(path.join(process.cwd(), 'pwned'))).toBe(false)
    expect(
      fs.readdirSync(base).filter(name => name.includes('pwned') && !name.startsWith('sd lock'))
    ).toEqual([])
  })

  it('refuses values that are not ours to pass', () => {
    expect(() => acquireLockCommand('relative/.lock', owner('a'))).toThrow(
      /absolute lock directory/
    )
    expect(() => acquireLockCommand('/srv/.lock/', owner('a'))).toThrow(/absolute lock directory/)
    expect(() => acquireLockCommand('/srv/.lock', owner('a b'))).toThrow(/not a lock token/)
    expect(() => renewLockArgv('/srv/.lock', '')).toThrow(/not a lock token/)
    expect(() => heldCommand('/srv/.lock', 't', '../x', 60, ['true'])).toThrow(/held command id/)
    expect(() => heldCommand('/srv/.lock', 't', 'up', 0, ['true'])).toThrow(/timeout/)
    expect(() => heldCommand('/srv/.lock', 't', 'up', 60, [])).toThrow(/empty/)
    expect(() =>
      takeOverLockCommand('/srv/.lock', owner('a'), { token: '', mtime: Number.NaN })
    ).toThrow(/unknown age/)
  })
})

describe('preflight', () => {
  it('checks for flock and the rest, and passes here', () => {
    const result = run(hostLockPreflightArgv())
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/util-linux/)
  })

  it('names what is missing', () => {
    const [, ...args] = hostLockPreflightArgv()
    // A host without util-linux and coreutils on its PATH (bash itself found here by path).
    const result = spawnSync('/bin/bash', args, {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', HOME: base }
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(
      /^the deploy lock needs on the host: flock \(util-linux\) setsid \(util-linux\) timeout \(GNU coreutils\)/
    )
  })
})

describe('releaseAfterCancel (post step)', () => {
  /** Runs what ssh would send to the host with the local sh, as the host's login shell would. */
  class LoopbackSsh implements Executor {
    readonly commands: string[] = []
    async run(argv: string[]): Promise<CommandResult> {
      const command = argv[argv.length - 1]!
      this.commands.push(command)
      const result = spawnSync('sh', ['-c', command], { encoding: 'utf8' })
      return {
        argv,
        exitCode: result.status ?? -1,
        stdout: result.stdout,
        stderr: result.stderr,
        durationMs: 1
      }
    }
  }

  function heldLock(token: string) {
    const sshDir = fs.mkdtempSync(path.join(base, PRIVATE_DIR_PREFIX))
    return {
      ssh: { dir: sshDir, target: { host: 'web1', user: 'deploy', port: 22 } },
      lockDir,
      token
    }
  }

  it('releases our idle lock', async () => {
    expect(acquire('mine').kind).toBe('acquired')
    const reporter = new MemoryReporter()
    const ssh = new LoopbackSsh()
    await releaseAfterCancel([heldLock('mine')], [], reporter, ssh)
    expect(ssh.commands).toHaveLength(1)
    expect(fs.existsSync(lockDir)).toBe(false)
    expect(reporter.warnings).toEqual([])
    expect(reporter.lines.join('\n')).toMatch(/Released the deploy lock .* on web1/)
  })

  it('leaves a lock that is no longer ours', async () => {
    expect(acquire('theirs').kind).toBe('acquired')
    const reporter = new MemoryReporter()
    await releaseAfterCancel([heldLock('mine')], [], reporter, new LoopbackSsh())
    expect(lockToken()).toBe('theirs')
    expect(reporter.warnings).toEqual([])
  })

  it('keeps the lock, with a warning, while our migration still runs on the host', async () => {
    expect(acquire('mine').kind).toBe('acquired')
    const job = gatedJob(base)
    const held = start(heldCommand(lockDir, 'mine', 'migrate', 60, job.argv))
    await until('the migration to register', () =>
      fs.existsSync(path.join(lockDir, 'busy', 'migrate', 'pid'))
    )
    process.kill(held.pid, 'SIGKILL')
    await held.done
    const reporter = new MemoryReporter()
    await releaseAfterCancel([heldLock('mine')], [], reporter, new LoopbackSsh())
    expect(reporter.warnings).toEqual([
      expect.stringMatching(
        /^kept: migrate \(pid \d+\) still running on web1; the deploy lock .* is released when it ends$/
      )
    ])
    expect(fs.existsSync(lockDir)).toBe(true)
    job.open()
    await until('the lock to go', () => !fs.existsSync(lockDir))
    expect(fs.existsSync(job.marker)).toBe(true)
  })
})
