/**
 * The ssh layer against the lab's real sshd (deploy@198.18.47.2, its own dockerd): pinning,
 * one multiplexed connection, exit statuses, timeouts, stdin, secrets off the process list.
 * The deploy host shares this machine's filesystem and /proc (only its network is separate),
 * so the tests look at remote files and processes directly.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { labEnv } from './lab.js'
import { RemoteExecutor, RemoteTimeoutError, type SshOptions } from '../src/exec/remote.js'
import { SshConnectionError, type SshEndpoint } from '../src/exec/ssh.js'
import type { SshLog } from '../src/exec/known-hosts.js'

const lab = labEnv()
const target: SshEndpoint = {
  user: lab.LAB_SSH_USER as string,
  host: lab.LAB_HOST as string,
  port: Number(lab.LAB_SSH_PORT)
}
const privateKey = fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8')
const knownHosts = fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
const SSHD_LOG = path.join(lab.LAB_STATE_DIR as string, 'logs', 'sshd.log')
/** The lab host's key fingerprint, from the pinned known_hosts. */
const fingerprint = (
  /SHA256:\S+/.exec(
    spawnSync('ssh-keygen', ['-lf', lab.LAB_KNOWN_HOSTS as string], { encoding: 'utf8' }).stdout
  ) as RegExpExecArray
)[0]
/** A well-formed ed25519 key that is not the host's. */
const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq7R4nW0b7Pn6cQ2m9Qy9X0x1v0M8yZtq8Xy2vJ5Y6Q'

class Log implements SshLog {
  readonly infos: string[] = []
  readonly warnings: string[] = []
  info(message: string): void {
    this.infos.push(message)
  }
  warning(message: string): void {
    this.warnings.push(message)
  }
}

let tempBase: string
const open: RemoteExecutor[] = []

async function connect(options: Partial<SshOptions> = {}): Promise<RemoteExecutor> {
  const remote = await RemoteExecutor.open({
    target,
    privateKey,
    knownHosts,
    tempDir: tempBase,
    tuning: { connectTimeoutSeconds: 10 },
    ...options
  })
  open.push(remote)
  return remote
}

/** sshd's "Accepted publickey" lines for a client port, written since `offset` (ports get reused). */
function acceptedFromPort(port: string, offset: number): number {
  const log = fs.readFileSync(SSHD_LOG).subarray(offset).toString('utf8')
  return log
    .split('\n')
    .filter(line => line.includes('Accepted publickey') && line.includes(` port ${port} `)).length
}

beforeAll(() => {
  tempBase = fs.mkdtempSync('/tmp/sde2e-')
})

afterAll(async () => {
  for (const remote of open) await remote.dispose()
  fs.rmSync(tempBase, { recursive: true, force: true })
})

describe('a connection pinned by known_hosts', () => {
  let remote: RemoteExecutor
  let sshdLogOffset: number

  beforeAll(async () => {
    sshdLogOffset = fs.statSync(SSHD_LOG).size
    remote = await connect()
  })

  it('reaches the deploy host and its own docker engine', async () => {
    const info = await remote.runChecked(
      ['docker', 'info', '--format', '{{.DockerRootDir}}'],
      'docker info'
    )
    expect(info.stdout.trim()).not.toBe(
      spawnSync('docker', ['info', '--format', '{{.DockerRootDir}}'], {
        encoding: 'utf8'
      }).stdout.trim()
    )
    const compose = await remote.runChecked(['docker', 'compose', 'version', '--short'], 'compose')
    expect(compose.stdout.trim()).toMatch(/^v?2\./)
    expect((await remote.runChecked(['id', '-un'], 'id')).stdout.trim()).toBe(target.user)
  })

  it('passes every argument through unchanged', async () => {
    const nasty = [
      '',
      ' ',
      "it's",
      '"dq"',
      '$(id)',
      '`id`',
      '\\',
      'a\nb',
      '*',
      '$HOME',
      '!x',
      '-e',
      '; rm -rf /'
    ]
    const result = await remote.runChecked(['printf', '%s\\0', ...nasty], 'printf')
    expect(result.stdout.split('\0').slice(0, -1)).toEqual(nasty)
  })

  it('propagates a failing command exit status', async () => {
    const result = await remote.run(['sh', '-c', 'echo oops >&2; exit 7'])
    expect(result.exitCode).toBe(7)
    expect(result.stderr).toContain('oops')
    await expect(
      remote.runChecked(['sh', '-c', 'echo oops >&2; exit 7'], 'failing on purpose')
    ).rejects.toThrow(/failing on purpose failed on deploy@198\.18\.47\.2 \(exit 7\):\noops/)
  })

  it('runs with set -euo pipefail', async () => {
    await expect(
      remote.runScript('false | true; echo not reached', [], 'a pipeline')
    ).rejects.toThrow(/a pipeline failed on .* \(exit 1\)/)
    const unset = await remote.run(['bash', '-c', 'set -euo pipefail; echo "$NOPE"'])
    expect(unset.exitCode).not.toBe(0)
    // The wrapper itself: a cwd that does not exist stops before the command.
    const cwd = await remote.run(['touch', 'should-not-exist'], { cwd: '/nonexistent-dir' })
    expect(cwd.exitCode).toBe(1)
    expect(cwd.stderr).toMatch(/nonexistent-dir/)
  })

  it('closes stdin unless data is sent, and then sends EOF after it', async () => {
    const started = Date.now()
    const cat = await remote.run(['cat'], { timeoutSeconds: 20 })
    expect(cat.exitCode).toBe(0)
    expect(cat.stdout).toBe('')
    expect(Date.now() - started).toBeLessThan(5000)
    const echo = await remote.run(['cat'], { input: 'line 1\nline 2', timeoutSeconds: 20 })
    expect(echo.stdout).toBe('line 1\nline 2')
  })

  it('runs cwd and env on the host', async () => {
    const result = await remote.runChecked(['sh', '-c', 'pwd; echo "$GREETING"'], 'env', {
      cwd: lab.LAB_DEPLOY_PATH,
      env: { GREETING: "it's $(not) expanded" }
    })
    expect(result.stdout).toBe(`${lab.LAB_DEPLOY_PATH}\nit's $(not) expanded\n`)
  })

  it('reuses one connection for every command, a few sessions at a time', async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, () =>
        remote.runChecked(
          ['sh', '-c', 'echo "$SSH_CONNECTION"; date +%s.%N; sleep 0.4; date +%s.%N'],
          'ssh connection'
        )
      )
    )
    const lines = runs.map(run => run.stdout.trim().split('\n'))
    const connections = new Set(lines.map(([connection]) => connection))
    expect(connections.size).toBe(1)
    const clientPort = ([...connections][0] as string).split(' ')[1] as string
    expect(await remote.isConnected()).toBe(true)
    // sshd authenticated that connection exactly once.
    expect(acceptedFromPort(clientPort, sshdLogOffset)).toBe(1)
    // At most 4 commands ran on the host at any moment.
    const spans = lines.map(([, start, end]) => [Number(start), Number(end)] as const)
    const peak = Math.max(
      ...spans.map(([start]) => spans.filter(([s, e]) => s <= start && start < e).length)
    )
    expect(peak).toBeLessThanOrEqual(4)
    expect(peak).toBeGreaterThan(1)
  })

  it('stops a command that outlives its timeout, on the host too', async () => {
    const marker = `sd-e2e-sleep-${crypto.randomBytes(4).toString('hex')}`
    const started = Date.now()
    const error = await remote
      .run(['bash', '-c', `exec -a ${marker} sleep 30`], { timeoutSeconds: 2, step: 'sleeping' })
      .catch((e: unknown) => e)
    const seconds = (Date.now() - started) / 1000
    expect(error).toBeInstanceOf(RemoteTimeoutError)
    expect((error as RemoteTimeoutError).side).toBe('remote')
    expect((error as Error).message).toBe(
      'sleeping timed out on deploy@198.18.47.2 after 2s and was stopped'
    )
    expect(seconds).toBeLessThan(6)
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout
    expect(ps).not.toContain(marker)
  })

  it('writes a file atomically with its mode, the content never in a process list', async () => {
    const file = path.join(
      lab.LAB_DEPLOY_PATH as string,
      `secret-${crypto.randomBytes(4).toString('hex')}.env`
    )
    const secret = `SECRET_${crypto.randomBytes(12).toString('hex')}`
    // Large enough that the write takes a while, with the secret all through it.
    const content = `${secret}\n`.repeat(600_000)
    const samples = path.join(tempBase, 'ps-samples')
    // A sampler outside this process: ps in a tight loop, for as long as the write lasts.
    const sampler = spawn('bash', ['-c', `while :; do ps -eo args; done > ${samples}`], {
      stdio: 'ignore'
    })
    try {
      await remote.writeFile(file, content, 0o600, { timeoutSeconds: 120 })
    } finally {
      sampler.kill('SIGKILL')
    }
    const seen = fs.readFileSync(samples, 'utf8')
    // The sampler did see the write in progress on the host: the script's bash, whose
    // arguments are the script, the path and the mode, never the content...
    expect(
      seen
        .split('\n')
        .some(line => line.startsWith('bash -c set -euo pipefail') && line.endsWith(`${file} 0600`))
    ).toBe(true)
    // ...and never the secret.
    expect(seen).not.toContain(secret)
    const stat = fs.statSync(file)
    expect(stat.mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(file, 'utf8')).toBe(content)
    expect(
      fs.readdirSync(path.dirname(file)).filter(name => name.startsWith('.stack-deploy-write'))
    ).toEqual([])
    await remote.writeFile(file, 'second\n', '0640')
    expect(fs.readFileSync(file, 'utf8')).toBe('second\n')
    expect(fs.statSync(file).mode & 0o777).toBe(0o640)
    fs.rmSync(file)
  })
})

describe('host key pinning', () => {
  function marker(): string {
    return path.join('/tmp', `sd-e2e-marker-${crypto.randomBytes(6).toString('hex')}`)
  }

  it('refuses a host whose key is not the pinned one, before running anything', async () => {
    const file = marker()
    const dirsBefore = fs.readdirSync(tempBase).filter(name => name.startsWith('sdssh-'))
    const error = await connect({ knownHosts: `${target.host} ${OTHER_KEY}\n` })
      .then(remote => remote.run(['touch', file]))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SshConnectionError)
    expect((error as SshConnectionError).kind).toBe('host-key-mismatch')
    expect((error as Error).message).toMatch(
      /^host key for 198\.18\.47\.2 does not match the pinned known-hosts: refusing to connect \(possible man-in-the-middle, or the host was rebuilt: update known-hosts\)/
    )
    expect(fs.existsSync(file)).toBe(false)
    // Nothing left behind: no key, no socket.
    expect(fs.readdirSync(tempBase).filter(name => name.startsWith('sdssh-'))).toEqual(dirsBefore)
  })

  it('refuses to connect with nothing pinned, and says how to pin', async () => {
    await expect(connect({ knownHosts: '' })).rejects.toThrow(
      /^Input 'known-hosts': no host key is pinned for deploy@198\.18\.47\.2.*ssh-keyscan -p 22 198\.18\.47\.2 \| ssh-keygen -lf -/s
    )
  })

  it('pins by fingerprint, and refuses a wrong one listing what the host offered', async () => {
    const log = new Log()
    const remote = await connect({ knownHosts: fingerprint, log })
    expect(remote.pinnedBy).toEqual({ 'deploy@198.18.47.2': 'fingerprint' })
    expect((await remote.runChecked(['true'], 'true')).exitCode).toBe(0)
    expect(log.infos.join('\n')).toContain(fingerprint)
    await remote.dispose()

    const scoped = await connect({ knownHosts: `${target.host} ${fingerprint}` })
    await scoped.dispose()

    const wrong =
      'SHA256:' +
      crypto.createHash('sha256').update('not the key').digest('base64').replace(/=+$/, '')
    await expect(connect({ knownHosts: wrong })).rejects.toThrow(
      new RegExp(
        `no host key of 198\\.18\\.47\\.2 matches the pinned fingerprint ${wrong.replace(/[+/]/g, '\\$&')}: refusing to connect.*The host offered: ED25519 ${fingerprint.replace(/[+/]/g, '\\$&')}`
      )
    )
  })

  it('trusts on first use only when asked, and logs the fingerprint it accepted', async () => {
    const log = new Log()
    const remote = await connect({ knownHosts: '', trustOnFirstUse: true, log })
    expect(remote.pinnedBy).toEqual({ 'deploy@198.18.47.2': 'trust-on-first-use' })
    expect(log.warnings.join('\n')).toContain(`ED25519 ${fingerprint}`)
    expect((await remote.runChecked(['true'], 'true')).exitCode).toBe(0)
    await remote.dispose()
  })

  it('reports a refused key and an unreachable port as such', async () => {
    const otherKey = path.join(tempBase, 'other-key')
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey])
    const auth = await connect({ privateKey: fs.readFileSync(otherKey, 'utf8') }).catch(
      (e: unknown) => e
    )
    expect(auth).toBeInstanceOf(SshConnectionError)
    expect((auth as SshConnectionError).kind).toBe('auth')
    expect((auth as Error).message).toMatch(/deploy@198\.18\.47\.2 did not accept the ssh key/)

    const closed = await connect({
      target: { user: 'deploy', host: '127.0.0.1', port: 1 },
      knownHosts: `[127.0.0.1]:1 ${OTHER_KEY}`
    }).catch((e: unknown) => e)
    expect(closed).toBeInstanceOf(SshConnectionError)
    expect((closed as SshConnectionError).kind).toBe('unreachable')
    expect((closed as Error).message).toMatch(
      /cannot reach deploy@127\.0\.0\.1:1 while connecting: .*Connection refused/
    )
  })
})

describe('a jump host', () => {
  // The lab has one host: reach it through itself. The jump is named by its address as a
  // plain 32-bit number (ssh refuses a jump host named exactly like the target: "loop").
  const jump: SshEndpoint = { user: 'deploy', host: String(ipv4ToNumber(target.host)), port: 22 }

  function ipv4ToNumber(ip: string): number {
    return ip.split('.').reduce((value, part) => value * 256 + Number(part), 0)
  }

  it('goes through the jump host, whose key is pinned too', async () => {
    const jumpLine = knownHosts.trim().replace(/^\S+/, jump.host)
    const remote = await connect({ jump, knownHosts: `${knownHosts}${jumpLine}\n` })
    const result = await remote.runChecked(['sh', '-c', 'echo "$SSH_CONNECTION"'], 'where from')
    // The target saw the connection come from the jump host (inside the namespace).
    expect(result.stdout.split(' ')[0]).toBe(target.host)
    await remote.dispose()

    await expect(connect({ jump, knownHosts })).rejects.toThrow(
      /no host key is pinned for deploy@3323080450/
    )
  })

  it('fetches the target keys through the jump host for fingerprint pinning', async () => {
    // ssh checks a host given as a number under its dotted form (the LAB_KNOWN_HOSTS line),
    // so that line pins the jump connection; the fingerprints scoped to each name make both
    // go through ssh-keyscan: the jump's from here, the target's on the jump host.
    const remote = await connect({
      jump,
      knownHosts: `${knownHosts}${jump.host} ${fingerprint}\n${target.host} ${fingerprint}\n`
    })
    expect(remote.pinnedBy).toEqual({
      'deploy@3323080450': 'fingerprint',
      'deploy@198.18.47.2': 'fingerprint'
    })
    await remote.dispose()
  })
})

describe('dispose', () => {
  it('closes the master connection and removes the key', async () => {
    const remote = await connect()
    const dir = remote.paths.dir
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(remote.paths.key).mode & 0o777).toBe(0o600)
    expect(await remote.isConnected()).toBe(true)
    const checkArgv = [
      '-F',
      '/dev/null',
      '-o',
      `ControlPath=${remote.paths.controlPath}`,
      '-l',
      target.user,
      '-O',
      'check',
      target.host
    ]
    expect(spawnSync('ssh', checkArgv).status).toBe(0)
    await remote.dispose()
    expect(spawnSync('ssh', checkArgv).status).toBe(255)
    expect(fs.existsSync(dir)).toBe(false)
    expect(os.tmpdir()).toBeTruthy()
    await remote.dispose() // twice is fine
  })
})
