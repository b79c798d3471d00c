import { execFileSync, spawnSync } from 'node:child_process'
import { commandResult } from './support/fake-session.js'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  LocalExecutor,
  type CommandResult,
  type Executor,
  type RunOptions
} from '../src/exec/executor.js'
import type { SshLog } from '../src/exec/known-hosts.js'
import {
  MAX_REMOTE_COMMAND_LENGTH,
  RemoteCommandError,
  RemoteExecutor,
  RemoteTimeoutError,
  Semaphore,
  WRITE_FILE_SCRIPT,
  buildRemoteCommand,
  disposeSsh,
  remoteScriptArgv,
  writeFileArgv,
  writeRemoteFile,
  type SshOptions
} from '../src/exec/remote.js'
import { SshConnectionError } from '../src/exec/ssh.js'

const NASTY = [
  '',
  ' ',
  "it's",
  "''",
  '"dq"',
  '$(id)',
  '`id`',
  '\\',
  "\\\\'",
  'a\nb',
  '*',
  '$HOME',
  '${HOME}',
  '!x',
  '%s',
  '-e',
  '--',
  '; rm -rf /',
  '&& echo pwned',
  '| cat',
  '> /tmp/x',
  '\t',
  'ünïcödé ✓',
  'a\'b"c`d$e\\f'
]

/**
 * What the host does with the string ssh sends: its login shell runs `$SHELL -c STRING`.
 * Here the local sh (dash on Debian) and bash stand in for it.
 */
function runAsRemote(
  shell: string,
  command: string,
  input?: string
): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(shell, ['-c', command], { input: input ?? '', encoding: 'utf8' })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('buildRemoteCommand', () => {
  it('wraps the argv in bash with set -euo pipefail, a timeout and stdin closed', () => {
    expect(buildRemoteCommand(['docker', 'info'], { timeoutSeconds: 30 })).toBe(
      "bash -c 'set -euo pipefail; exec timeout --kill-after=5 30 docker info </dev/null'"
    )
    expect(
      buildRemoteCommand(['cat'], {
        timeoutSeconds: 5,
        stdin: true,
        cwd: '/srv/my app',
        env: { A: "it's" }
      })
    ).toBe(
      `bash -c 'set -euo pipefail; cd -- '\\''/srv/my app'\\''; export A='\\''it'\\''\\'\\'''\\''s'\\''; exec timeout --kill-after=5 5 cat'`
    )
  })

  it.each(['sh', 'bash'])('delivers every argument intact through a real %s -c', shell => {
    const command = buildRemoteCommand(['printf', '%s\\0', ...NASTY], { timeoutSeconds: 10 })
    const run = runAsRemote(shell, command)
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout.split('\0').slice(0, -1)).toEqual(NASTY)
  })

  it('survives ssh joining its arguments with spaces (it is a single argument)', () => {
    // ssh sends `args.join(' ')`; with one argument that is the argument itself.
    const command = buildRemoteCommand(['printf', '%s\\0', ...NASTY], { timeoutSeconds: 10 })
    expect([command].join(' ')).toBe(command)
  })

  it.each(['sh', 'bash'])('passes cwd and env values intact through %s', shell => {
    const dir = fs.mkdtempSync("/tmp/sd remote 'quote' $(x)-")
    try {
      const env = Object.fromEntries(NASTY.map((value, i) => [`V${i}`, value]))
      const script = NASTY.map((_, i) => `printf '%s\\0' "$V${i}"`).join('; ')
      const command = buildRemoteCommand(['bash', '-c', `pwd; ${script}`], {
        timeoutSeconds: 10,
        cwd: dir,
        env
      })
      const run = runAsRemote(shell, command)
      expect(run.status).toBe(0)
      const [pwd, ...rest] = run.stdout.split('\n')
      expect(pwd).toBe(dir)
      expect(rest.join('\n').split('\0').slice(0, -1)).toEqual(NASTY)
    } finally {
      fs.rmSync(dir, { recursive: true })
    }
  })

  it('propagates the exit status, and stops at a failing cd', () => {
    expect(
      runAsRemote('sh', buildRemoteCommand(['sh', '-c', 'exit 7'], { timeoutSeconds: 5 })).status
    ).toBe(7)
    const marker = `/tmp/sd-unit-marker-${process.pid}`
    const run = runAsRemote(
      'sh',
      buildRemoteCommand(['touch', marker], { timeoutSeconds: 5, cwd: '/nonexistent' })
    )
    expect(run.status).toBe(1)
    expect(fs.existsSync(marker)).toBe(false)
  })

  it('closes stdin unless asked to pass it on', () => {
    const closed = runAsRemote('sh', buildRemoteCommand(['cat'], { timeoutSeconds: 5 }), 'data')
    expect(closed.stdout).toBe('')
    const open = runAsRemote(
      'sh',
      buildRemoteCommand(['cat'], { timeoutSeconds: 5, stdin: true }),
      'data'
    )
    expect(open.stdout).toBe('data')
  })

  it('stops the command on the remote side when it runs out of time', () => {
    const started = Date.now()
    const run = runAsRemote('sh', buildRemoteCommand(['sleep', '20'], { timeoutSeconds: 1 }))
    expect(run.status).toBe(124)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('refuses what cannot be sent', () => {
    expect(() => buildRemoteCommand([], { timeoutSeconds: 5 })).toThrow(/empty/)
    expect(() => buildRemoteCommand(['a\0b'], { timeoutSeconds: 5 })).toThrow(/NUL/)
    expect(() => buildRemoteCommand(['true'], { timeoutSeconds: 0 })).toThrow(/timeout/)
    expect(() => buildRemoteCommand(['true'], { timeoutSeconds: 1.5 })).toThrow(/timeout/)
    expect(() => buildRemoteCommand(['true'], { timeoutSeconds: 5, env: { 'A;B': 'x' } })).toThrow(
      /not an environment variable name/
    )
    expect(() =>
      buildRemoteCommand(['echo', 'x'.repeat(MAX_REMOTE_COMMAND_LENGTH)], { timeoutSeconds: 5 })
    ).toThrow(/send large data on stdin/)
  })
})

describe('remote scripts', () => {
  function script(body: string, args: string[] = []): { status: number | null; stderr: string } {
    return runAsRemote(
      'sh',
      buildRemoteCommand(remoteScriptArgv(body, args), { timeoutSeconds: 5 })
    )
  }

  it('run with set -euo pipefail', () => {
    expect(script('false | true; echo reached').status).toBe(1)
    expect(script('echo "$UNSET_VARIABLE_X"').status).not.toBe(0)
    expect(script('false; echo reached').status).toBe(1)
    expect(script('true | true').status).toBe(0)
  })

  it('take values as positional parameters', () => {
    const run = runAsRemote(
      'sh',
      buildRemoteCommand(remoteScriptArgv('printf "%s\\0" "$@"', NASTY), { timeoutSeconds: 5 })
    )
    expect(run.stdout.split('\0').slice(0, -1)).toEqual(NASTY)
  })

  describe('writing a file', () => {
    let dir: string
    beforeEach(() => {
      dir = fs.mkdtempSync('/tmp/sdwrite-')
    })
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true })
    })
    function write(file: string, content: string, mode: number | string): number | null {
      const command = buildRemoteCommand(writeFileArgv(file, mode), {
        timeoutSeconds: 5,
        stdin: true
      })
      return runAsRemote('sh', command, content).status
    }

    it('writes stdin to the file with its mode, leaving no temp file', () => {
      const file = path.join(dir, "my 'env' file")
      expect(write(file, 'SECRET=1\n', 0o600)).toBe(0)
      expect(fs.readFileSync(file, 'utf8')).toBe('SECRET=1\n')
      expect(fs.statSync(file).mode & 0o7777).toBe(0o600)
      expect(write(file, 'SECRET=2\n', '0640')).toBe(0)
      expect(fs.readFileSync(file, 'utf8')).toBe('SECRET=2\n')
      expect(fs.statSync(file).mode & 0o7777).toBe(0o640)
      expect(fs.readdirSync(dir)).toEqual(["my 'env' file"])
    })

    it('replaces the file by rename, so readers see the old or the new file, never half', () => {
      const file = path.join(dir, 'f')
      fs.writeFileSync(file, 'old')
      const inode = fs.statSync(file).ino
      expect(write(file, 'new', 0o644)).toBe(0)
      expect(fs.statSync(file).ino).not.toBe(inode)
      expect(WRITE_FILE_SCRIPT).toMatch(/mktemp "\$\(dirname -- "\$target"\)\//)
    })

    it('fails cleanly, removing its temp file', () => {
      fs.mkdirSync(path.join(dir, 'adir'))
      expect(write(path.join(dir, 'adir'), 'x', 0o600)).toBe(1)
      expect(write(path.join(dir, 'missing', 'f'), 'x', 0o600)).not.toBe(0)
      expect(fs.readdirSync(dir).filter(name => name.startsWith('.stack-deploy-write'))).toEqual([])
    })

    it('refuses bad modes and paths', () => {
      expect(() => writeFileArgv('/srv/x', 0o10000)).toThrow(/octal mode/)
      expect(() => writeFileArgv('/srv/x', '600; rm')).toThrow(/octal mode/)
      expect(() => writeFileArgv('-rf', 0o600)).toThrow(/not a file path/)
      expect(() => writeFileArgv('/srv/', 0o600)).toThrow(/not a file path/)
      expect(writeFileArgv('/srv/x', 0o600).slice(-2)).toEqual(['/srv/x', '0600'])
    })
  })
})

describe('Semaphore', () => {
  it('lets at most max bodies run at once, the rest in order', async () => {
    const semaphore = new Semaphore(3)
    let active = 0
    let peak = 0
    const order: number[] = []
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        semaphore.use(async () => {
          active++
          peak = Math.max(peak, active)
          await new Promise(resolve => setTimeout(resolve, 5))
          order.push(i)
          active--
        })
      )
    )
    expect(peak).toBe(3)
    expect(order).toHaveLength(10)
  })

  it('releases on failure', async () => {
    const semaphore = new Semaphore(1)
    await expect(semaphore.use(() => Promise.reject(new Error('x')))).rejects.toThrow('x')
    await expect(semaphore.use(async () => 'ok')).resolves.toBe('ok')
  })
})

/**
 * Stands in for the runner's OpenSSH: ssh-keygen runs for real, ssh-keyscan offers a key
 * generated here, and a command's ssh runs its remote command string with a local `sh -c`
 * (as the host's login shell would), so the whole RemoteExecutor path is exercised.
 */
class FakeSsh implements Executor {
  readonly calls: string[][] = []
  private readonly real = new LocalExecutor()
  active = 0
  peak = 0
  /** Overrides for ssh invocations: return a result to short-circuit. */
  hook: ((ssh: string[]) => Partial<CommandResult> | undefined) | undefined
  masterRunning = false

  constructor(private readonly hostKey: () => string) {}

  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push(argv)
    const inner = argv[0] === 'timeout' ? argv.slice(3) : argv
    const result = (fields: Partial<CommandResult>): CommandResult => commandResult(argv, fields)
    if (inner[0] === 'ssh-keygen') return this.real.run(argv, options)
    if (inner[0] === 'ssh-keyscan') {
      return result({ stdout: `${inner[inner.length - 1]} ${this.hostKey()}\n` })
    }
    if (inner[0] !== 'ssh') throw new Error(`unexpected ${argv.join(' ')}`)
    const hooked = this.hook?.(inner)
    if (hooked) return result(hooked)
    const op = inner[inner.indexOf('-O') + 1]
    if (inner.includes('-O')) {
      if (op === 'exit') this.masterRunning = false
      return result({ exitCode: this.masterRunning ? 0 : 255 })
    }
    if (inner.includes('ControlMaster=yes')) {
      this.masterRunning = true
      return result({})
    }
    const command = inner[inner.length - 1] as string
    // ssh-keyscan run on the jump host: offer the key, as ssh-keyscan would (no real scan).
    const scan = /ssh-keyscan -p (\d+) -T \d+ -- (\S+?)'? /.exec(command)
    if (inner.includes('ControlPath=none') && scan) {
      return result({ stdout: `${scan[2]} ${this.hostKey()}\n` })
    }
    // A command: what the host's login shell would do with the string.
    this.active++
    this.peak = Math.max(this.peak, this.active)
    try {
      const run = await this.real.run(['sh', '-c', command], { input: options.input })
      return { ...run, argv }
    } finally {
      this.active--
    }
  }

  sshCalls(): string[][] {
    return this.calls.filter(argv => argv.includes('ssh'))
  }
}

describe('RemoteExecutor', () => {
  let base: string
  let keyDir: string
  let privateKey: string
  let hostPub: string
  let hostFingerprint: string
  const logged: SshLog & { warnings: string[]; infos: string[] } = {
    warnings: [],
    infos: [],
    info(message) {
      this.infos.push(message)
    },
    warning(message) {
      this.warnings.push(message)
    }
  }

  beforeAll(() => {
    keyDir = fs.mkdtempSync('/tmp/sdrkeys-')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'id')])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'host')])
    // As a CI secret often arrives: CRLF, no final newline.
    privateKey = fs.readFileSync(path.join(keyDir, 'id'), 'utf8').trim().replace(/\n/g, '\r\n')
    hostPub = fs
      .readFileSync(path.join(keyDir, 'host.pub'), 'utf8')
      .split(' ')
      .slice(0, 2)
      .join(' ')
    hostFingerprint = execFileSync('ssh-keygen', ['-lf', path.join(keyDir, 'host.pub')], {
      encoding: 'utf8'
    }).split(' ')[1] as string
  })
  afterAll(() => {
    fs.rmSync(keyDir, { recursive: true, force: true })
  })
  beforeEach(() => {
    base = fs.mkdtempSync('/tmp/sdr-')
  })
  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true })
  })

  function options(fake: FakeSsh, extra: Partial<SshOptions> = {}): SshOptions {
    return {
      target: { user: 'deploy', host: 'app.example.com', port: 22 },
      privateKey,
      knownHosts: `app.example.com ${hostPub}\n`,
      tempDir: base,
      local: fake,
      log: logged,
      ...extra
    }
  }

  it('writes a private key, opens one master, checks the host, and cleans up on dispose', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake))
    const dir = remote.paths.dir
    expect(path.dirname(dir)).toBe(base)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(remote.paths.key).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(remote.paths.key, 'utf8')).toBe(`${privateKey.replace(/\r\n/g, '\n')}\n`)
    expect(fs.readFileSync(remote.paths.knownHosts, 'utf8')).toBe(`app.example.com ${hostPub}\n`)
    // Master once, then -O check, then the preflight `true` through the executor.
    const ssh = fake.sshCalls()
    expect(ssh[0]).toContain('ControlMaster=yes')
    expect(ssh[0]!.slice(0, 3)).toEqual(['timeout', '--kill-after=5', '25'])
    expect(ssh[1]).toContain('check')
    expect(ssh[2]!.at(-1)).toBe(
      "bash -c 'set -euo pipefail; exec timeout --kill-after=5 30 true </dev/null'"
    )
    expect(remote.host).toBe('deploy@app.example.com')
    expect(remote.pinnedBy).toEqual({ 'deploy@app.example.com': 'known-hosts' })

    await remote.dispose()
    expect(fs.existsSync(dir)).toBe(false)
    expect(fake.sshCalls().at(-1)).toContain('exit')
    expect(fake.masterRunning).toBe(false)
    await remote.dispose()
    await expect(remote.run(['true'])).rejects.toThrow(/closed/)
  })

  it('is an Executor: same argv, remote result, exit status propagated', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote: RemoteExecutor = await RemoteExecutor.open(options(fake))
    const executor: Executor = remote
    const result = await executor.run(['sh', '-c', 'echo out; echo err >&2; exit 3'])
    expect(result).toMatchObject({
      argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n'
    })
    // The local argv: timeout N+10 around ssh, -n without input.
    const last = fake.calls.at(-1)!
    expect(last.slice(0, 3)).toEqual(['timeout', '--kill-after=5', '610'])
    expect(last).toContain('-n')
    const input = await remote.run(['cat'], { input: 'secret', timeoutSeconds: 20 })
    expect(input.stdout).toBe('secret')
    expect(fake.calls.at(-1)!.slice(0, 3)).toEqual(['timeout', '--kill-after=5', '30'])
    expect(fake.calls.at(-1)).not.toContain('-n')
    // The secret went on stdin only, never into any argv.
    expect(fake.calls.flat().join(' ')).not.toContain('secret')
    await remote.dispose()
  })

  it('throws errors naming host, step, exit code and the tail of stderr', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake))
    const error = await remote
      .runChecked(['sh', '-c', 'echo one >&2; echo two >&2; exit 4'], 'migrating the database')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RemoteCommandError)
    expect((error as RemoteCommandError).message).toBe(
      'migrating the database failed on deploy@app.example.com (exit 4):\none\ntwo'
    )
    expect((error as RemoteCommandError).result.exitCode).toBe(4)
    await expect(remote.runScript('exit 9', [], 'a script')).rejects.toThrow(
      'a script failed on deploy@app.example.com (exit 9)'
    )
    await remote.dispose()
  })

  it('limits concurrent sessions on the connection', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake, { maxSessions: 4 }))
    await Promise.all(Array.from({ length: 10 }, () => remote.run(['sleep', '0.1'])))
    expect(fake.peak).toBe(4)
    await remote.dispose()
  })

  it('turns timeouts into errors naming host and step, on either side', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake))
    const started = Date.now()
    const remoteSide = await remote
      .run(['sleep', '20'], { timeoutSeconds: 1, step: 'waiting for health' })
      .catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(remoteSide).toBeInstanceOf(RemoteTimeoutError)
    expect((remoteSide as Error).message).toBe(
      'waiting for health timed out on deploy@app.example.com after 1s and was stopped'
    )
    // ssh itself hung: the local timeout (N+10) killed it.
    fake.hook = ssh => (ssh.includes('-n') ? { exitCode: 124, durationMs: 11_000 } : undefined)
    const localSide = await remote
      .run(['true'], { timeoutSeconds: 1, step: 'pulling' })
      .catch((e: unknown) => e)
    expect((localSide as RemoteTimeoutError).side).toBe('local')
    expect((localSide as Error).message).toMatch(
      /^pulling on deploy@app\.example\.com: ssh did not return within 11s/
    )
    // A command that itself exits 124 at once is just a result.
    fake.hook = undefined
    expect((await remote.run(['sh', '-c', 'exit 124'], { timeoutSeconds: 30 })).exitCode).toBe(124)
    await remote.dispose()
  })

  it('tells connection failures from commands that exit 255', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake))
    expect((await remote.run(['sh', '-c', 'echo custom >&2; exit 255'])).exitCode).toBe(255)
    fake.hook = ssh =>
      ssh.includes('-n')
        ? { exitCode: 255, stderr: 'Connection closed by 10.0.0.5 port 22\r\n' }
        : undefined
    const error = await remote
      .run(['docker', 'ps'], { step: 'listing containers' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SshConnectionError)
    expect((error as SshConnectionError).kind).toBe('connection-lost')
    expect((error as Error).message).toBe(
      'the connection to deploy@app.example.com was closed while listing containers: Connection closed by 10.0.0.5 port 22'
    )
    fake.hook = undefined
    await remote.dispose()
  })

  it('refuses a changed host key at connect time and leaves nothing behind', async () => {
    const fake = new FakeSsh(() => hostPub)
    fake.hook = ssh =>
      ssh.includes('ControlMaster=yes')
        ? {
            exitCode: 255,
            stderr:
              '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nHost key for app.example.com has changed and you have requested strict checking.\r\nHost key verification failed.\r\n'
          }
        : undefined
    const error = await RemoteExecutor.open(options(fake)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SshConnectionError)
    expect((error as Error).message).toMatch(
      /^host key for app\.example\.com does not match the pinned known-hosts: refusing to connect \(possible man-in-the-middle, or the host was rebuilt: update known-hosts\)/
    )
    // No command ever ran, and the key is gone.
    expect(fake.sshCalls().filter(argv => argv.includes('-n'))).toEqual([])
    expect(fs.readdirSync(base)).toEqual([])
  })

  it('refuses to start without a pinned host key, before writing anything', async () => {
    const fake = new FakeSsh(() => hostPub)
    await expect(RemoteExecutor.open(options(fake, { knownHosts: '' }))).rejects.toThrow(
      /^Input 'known-hosts': no host key is pinned for deploy@app\.example\.com/
    )
    expect(fake.sshCalls()).toEqual([])
    expect(fs.readdirSync(base)).toEqual([])
  })

  it('pins by fingerprint through ssh-keyscan, or on first use when asked', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake, { knownHosts: hostFingerprint }))
    expect(fs.readFileSync(remote.paths.knownHosts, 'utf8')).toBe(`app.example.com ${hostPub}\n`)
    const scan = fake.calls.find(argv => argv.includes('ssh-keyscan'))
    expect(scan).toEqual([
      'timeout',
      '--kill-after=5',
      '25',
      'ssh-keyscan',
      '-p',
      '22',
      '-T',
      '15',
      '--',
      'app.example.com'
    ])
    await remote.dispose()

    logged.warnings.length = 0
    const tofu = await RemoteExecutor.open(options(fake, { knownHosts: '', trustOnFirstUse: true }))
    expect(logged.warnings.join('\n')).toContain(`ED25519 ${hostFingerprint}`)
    await tofu.dispose()
  })

  it('fetches the target keys on the jump host when there is one', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(
      options(fake, {
        jump: { user: 'ops', host: 'bastion.example.com', port: 2200 },
        knownHosts: `[bastion.example.com]:2200 ${hostPub}\napp.example.com ${hostFingerprint}`
      })
    )
    // Run through a one-off ssh to the jump host: the fake ran its command string locally.
    const viaJump = fake.calls.find(
      argv => argv.includes('ControlPath=none') && argv.includes('bastion.example.com')
    )
    expect(viaJump?.at(-1)).toMatch(/ssh-keyscan -p 22 -T 15 -- app\.example\.com/)
    expect(remote.pinnedBy).toEqual({
      'ops@bastion.example.com:2200': 'known-hosts',
      'deploy@app.example.com': 'fingerprint'
    })
    expect(fake.sshCalls()[1]).toContain('ProxyJump=ops@bastion.example.com:2200')
    await remote.dispose()
  })

  it('says clearly when the key needs a passphrase', async () => {
    const locked = path.join(keyDir, 'locked')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pw', '-f', locked])
    const fake = new FakeSsh(() => hostPub)
    await expect(
      RemoteExecutor.open(options(fake, { privateKey: fs.readFileSync(locked, 'utf8') }))
    ).rejects.toThrow(/^Input 'ssh-key': the private key is protected by a passphrase/)
    expect(fake.sshCalls()).toEqual([])
    expect(fs.readdirSync(base)).toEqual([])
  })

  it('checks the key and looks the host key up at once', async () => {
    const fake = new FakeSsh(() => hostPub)
    const events: string[] = []
    const local: Executor = {
      async run(argv, runOptions) {
        const what = argv[0] === 'ssh-keygen' ? `ssh-keygen ${argv[1]}` : undefined
        if (what) events.push(`start ${what}`)
        const result = await fake.run(argv, runOptions)
        if (what) events.push(`end ${what}`)
        return result
      }
    }
    const remote = await RemoteExecutor.open(options(fake, { local }))
    expect(events.slice(0, 2)).toEqual(['start ssh-keygen -y', 'start ssh-keygen -F'])
    await remote.dispose()
  })

  it('reports an unusable key first, and fetches no host key with it', async () => {
    const locked = path.join(keyDir, 'locked-first')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pw', '-f', locked])
    const privateKey = fs.readFileSync(locked, 'utf8')
    const fake = new FakeSsh(() => hostPub)
    // Nothing pinned either: the key is still the error reported, as when it was checked first.
    await expect(
      RemoteExecutor.open(options(fake, { privateKey, knownHosts: '' }))
    ).rejects.toThrow(/^Input 'ssh-key': the private key is protected by a passphrase/)
    logged.warnings.length = 0
    await expect(
      RemoteExecutor.open(options(fake, { privateKey, knownHosts: '', trustOnFirstUse: true }))
    ).rejects.toThrow(/^Input 'ssh-key': the private key is protected by a passphrase/)
    expect(fake.calls.filter(argv => argv.includes('ssh-keyscan'))).toEqual([])
    expect(logged.warnings).toEqual([])
    expect(fs.readdirSync(base)).toEqual([])
  })

  it('writes remote files through stdin', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake))
    const file = path.join(base, 'app.env')
    await writeRemoteFile(remote, file, 'TOKEN=hunter2\n', 0o600)
    expect(fs.readFileSync(file, 'utf8')).toBe('TOKEN=hunter2\n')
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fake.calls.flat().join(' ')).not.toContain('hunter2')
    await remote.dispose()
  })

  it('can be disposed from its state, in another process', async () => {
    const fake = new FakeSsh(() => hostPub)
    const remote = await RemoteExecutor.open(options(fake))
    const state = JSON.stringify(remote.state())
    await disposeSsh(state, fake)
    expect(fs.existsSync(remote.paths.dir)).toBe(false)
    expect(fake.sshCalls().at(-1)).toEqual(
      expect.arrayContaining(['-O', 'exit', 'app.example.com'])
    )
    await expect(
      disposeSsh({ dir: '/home', target: { user: 'u', host: 'h', port: 22 } }, fake)
    ).rejects.toThrow(/not an ssh directory of ours/)
    await expect(
      disposeSsh(
        { dir: '/tmp/sdssh-x/../../etc', target: { user: 'u', host: 'h', port: 22 } },
        fake
      )
    ).rejects.toThrow(/not an ssh directory of ours/)
  })
})
