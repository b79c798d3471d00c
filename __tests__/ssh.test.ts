import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { LocalExecutor } from '../src/exec/executor.js'
import {
  DEFAULT_TUNING,
  MAX_PRIVATE_DIR_LENGTH,
  checkPrivateKey,
  classifySshFailure,
  createPrivateDir,
  describeSshFailure,
  endpointLabel,
  localTimeoutArgv,
  normalizePrivateKey,
  parseSshEndpoint,
  sshBaseArgv,
  sshCommandArgv,
  sshConfigText,
  sshControlArgv,
  sshMasterArgv,
  sshOneShotArgv,
  sshPaths,
  writePrivateFile,
  type SshRoute
} from '../src/exec/ssh.js'

const paths = sshPaths('/tmp/sdssh-AbC123')
const route: SshRoute = { target: { user: 'deploy', host: 'app.example.com', port: 2222 } }
const jumped: SshRoute = { ...route, jump: { user: 'ops', host: 'bastion.example.com', port: 22 } }

/** The value of each `-o Key=value` in an argv. */
function options(argv: string[]): Record<string, string> {
  const found: Record<string, string> = {}
  argv.forEach((arg, i) => {
    if (arg === '-o') {
      const [key, ...value] = (argv[i + 1] as string).split('=')
      // ssh keeps the first value it sees for an option: so do we.
      if (!((key as string) in found)) found[key as string] = value.join('=')
    }
  })
  return found
}

describe('parseSshEndpoint', () => {
  it.each([
    ['deploy@app.example.com', { user: 'deploy', host: 'app.example.com', port: 22 }],
    ['deploy@app.example.com:2222', { user: 'deploy', host: 'app.example.com', port: 2222 }],
    [' deploy@10.0.0.5:22 ', { user: 'deploy', host: '10.0.0.5', port: 22 }],
    ['ops@[2001:db8::1]:2200', { user: 'ops', host: '2001:db8::1', port: 2200 }],
    ['ops@[2001:db8::1]', { user: 'ops', host: '2001:db8::1', port: 22 }],
    ['bastion', { user: 'fallback', host: 'bastion', port: 22 }],
    ['bastion:2022', { user: 'fallback', host: 'bastion', port: 2022 }]
  ])('%s', (spec, endpoint) => {
    expect(parseSshEndpoint(spec, 'jump-host', { user: 'fallback' })).toEqual(endpoint)
  })

  it.each([
    ['deploy@host;reboot', /not a valid host name/],
    ['deploy@-oProxyCommand=x', /not a valid host name/],
    ['$(id)@host', /not a valid ssh user name/],
    ['-l@host', /not a valid ssh user name/],
    ['deploy@host:0', /port 0 is not between 1 and 65535/],
    ['deploy@host:99999', /port 99999/],
    ['deploy@host name', /not a valid host name/],
    ['a@b@c', /not an ssh destination/],
    ['host', /names no user/]
  ])('refuses %j, naming the input', (spec, message) => {
    expect(() => parseSshEndpoint(spec, 'jump-host')).toThrow(/^Input 'jump-host': /)
    expect(() => parseSshEndpoint(spec, 'jump-host')).toThrow(message)
  })

  it('labels endpoints for messages', () => {
    expect(endpointLabel({ user: 'd', host: 'h', port: 22 })).toBe('d@h')
    expect(endpointLabel({ user: 'd', host: 'h', port: 2222 })).toBe('d@h:2222')
    expect(endpointLabel({ user: 'd', host: '::1', port: 2222 })).toBe('d@[::1]:2222')
  })
})

describe('ssh argv', () => {
  it('always pins, never asks, ignores the runner user config, uses only our key', () => {
    const argv = sshBaseArgv(route, paths, DEFAULT_TUNING)
    expect(argv.slice(0, 3)).toEqual(['ssh', '-F', '/tmp/sdssh-AbC123/config'])
    expect(options(argv)).toEqual({
      BatchMode: 'yes',
      StrictHostKeyChecking: 'yes',
      UserKnownHostsFile: '/tmp/sdssh-AbC123/known_hosts',
      GlobalKnownHostsFile: '/dev/null',
      UpdateHostKeys: 'no',
      CheckHostIP: 'no',
      IdentitiesOnly: 'yes',
      IdentityFile: '/tmp/sdssh-AbC123/id',
      IdentityAgent: 'none',
      PasswordAuthentication: 'no',
      KbdInteractiveAuthentication: 'no',
      ForwardAgent: 'no',
      ForwardX11: 'no',
      ClearAllForwardings: 'yes',
      LogLevel: 'ERROR',
      ConnectTimeout: '15',
      ServerAliveInterval: '15',
      ServerAliveCountMax: '4',
      ControlPath: '/tmp/sdssh-AbC123/%C'
    })
    expect(argv.join(' ')).toContain('-i /tmp/sdssh-AbC123/id')
    expect(argv.slice(-5)).toEqual(['-l', 'deploy', '-p', '2222', '-T'])
  })

  it('uses the tuning for timeouts and keepalives', () => {
    const tuning = { ...DEFAULT_TUNING, connectTimeoutSeconds: 7, keepAliveIntervalSeconds: 9 }
    expect(options(sshBaseArgv(route, paths, tuning))).toMatchObject({
      ConnectTimeout: '7',
      ServerAliveInterval: '9',
      ServerAliveCountMax: '4'
    })
  })

  it('puts the same options in the config file the ProxyJump ssh reads', () => {
    const config = sshConfigText(paths, DEFAULT_TUNING)
    expect(config).toMatch(/^# .*\nHost \*\n/)
    for (const [key, value] of Object.entries(options(sshBaseArgv(route, paths, DEFAULT_TUNING)))) {
      if (key === 'ControlPath') expect(config).not.toContain('ControlPath')
      else expect(config).toContain(`\n  ${key} ${value}\n`)
    }
    expect(config).not.toMatch(/ControlMaster|ControlPersist|ProxyJump/)
    // OpenSSH accepts it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sshcfg-'))
    fs.writeFileSync(path.join(dir, 'config'), config)
    const parsed = execFileSync('ssh', ['-G', '-F', path.join(dir, 'config'), 'example.com'], {
      encoding: 'utf8'
    })
    fs.rmSync(dir, { recursive: true })
    expect(parsed).toContain('stricthostkeychecking true')
    expect(parsed).toContain('userknownhostsfile /tmp/sdssh-AbC123/known_hosts')
    expect(parsed).toContain('batchmode yes')
  })

  it('sends the jump host as ProxyJump user@host:port', () => {
    expect(options(sshBaseArgv(jumped, paths, DEFAULT_TUNING)).ProxyJump).toBe(
      'ops@bastion.example.com:22'
    )
    const v6 = { ...route, jump: { user: 'ops', host: '2001:db8::1', port: 2200 } }
    expect(options(sshBaseArgv(v6, paths, DEFAULT_TUNING)).ProxyJump).toBe('ops@[2001:db8::1]:2200')
    expect(options(sshBaseArgv(route, paths, DEFAULT_TUNING)).ProxyJump).toBeUndefined()
  })

  it('opens the master once, in the background, persisting', () => {
    const argv = sshMasterArgv(route, paths, DEFAULT_TUNING)
    expect(options(argv)).toMatchObject({ ControlMaster: 'yes', ControlPersist: '60' })
    expect(argv.slice(-4)).toEqual(['-N', '-f', '--', 'app.example.com'])
  })

  it('runs commands as sessions of the master, stdin closed unless we send data', () => {
    const argv = sshCommandArgv(route, paths, DEFAULT_TUNING, 'bash -c true', { stdin: false })
    expect(options(argv)).toMatchObject({ ControlMaster: 'auto', ControlPersist: '60' })
    expect(argv.slice(-4)).toEqual(['-n', '--', 'app.example.com', 'bash -c true'])
    expect(argv).toContain('-T')
    const withInput = sshCommandArgv(route, paths, DEFAULT_TUNING, 'cat', { stdin: true })
    expect(withInput).not.toContain('-n')
    expect(withInput.slice(-3)).toEqual(['--', 'app.example.com', 'cat'])
  })

  it('asks the master with -O', () => {
    expect(sshControlArgv(route, paths, DEFAULT_TUNING, 'check').slice(-4)).toEqual([
      '-O',
      'check',
      '--',
      'app.example.com'
    ])
    expect(sshControlArgv(route, paths, DEFAULT_TUNING, 'exit').slice(-4, -2)).toEqual([
      '-O',
      'exit'
    ])
  })

  it('leaves one-off connections out of the master', () => {
    const argv = sshOneShotArgv(jumped, paths, DEFAULT_TUNING, 'ssh-keyscan')
    expect(options(argv)).toMatchObject({ ControlMaster: 'no', ControlPath: 'none' })
    expect(argv.slice(-4)).toEqual(['-n', '--', 'app.example.com', 'ssh-keyscan'])
  })

  it('wraps local commands in coreutils timeout', () => {
    expect(localTimeoutArgv(40, ['ssh', 'x'])).toEqual([
      'timeout',
      '--kill-after=5',
      '40',
      'ssh',
      'x'
    ])
  })
})

describe('the private directory and key', () => {
  let base: string
  beforeEach(() => {
    base = fs.mkdtempSync('/tmp/sdunit-')
  })
  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true })
  })

  it('creates a 0700 directory, short enough for the control socket', () => {
    const dir = createPrivateDir(base)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(path.basename(dir)).toMatch(/^sdssh-/)
    // The socket: dir + '/' + %C (40) + ssh's temporary suffix (17) within sun_path.
    expect(dir.length + 1 + 40 + 17).toBeLessThan(104)
  })

  it('refuses a base whose path would make the socket path too long', () => {
    const long = path.join(base, 'x'.repeat(MAX_PRIVATE_DIR_LENGTH))
    fs.mkdirSync(long)
    expect(() => createPrivateDir(long)).toThrow(/short enough for ssh's control socket/)
  })

  it('falls back from a long RUNNER_TEMP to a short temp dir', () => {
    const saved = process.env.RUNNER_TEMP
    process.env.RUNNER_TEMP = `/${'x'.repeat(60)}`
    try {
      const dir = createPrivateDir()
      expect(dir.length).toBeLessThanOrEqual(MAX_PRIVATE_DIR_LENGTH)
      fs.rmSync(dir, { recursive: true })
    } finally {
      if (saved === undefined) delete process.env.RUNNER_TEMP
      else process.env.RUNNER_TEMP = saved
    }
  })

  it('creates the key file 0600, even under umask 000, and never over an existing file', () => {
    const file = path.join(base, 'id')
    const old = process.umask(0)
    try {
      writePrivateFile(file, 'key\n')
    } finally {
      process.umask(old)
    }
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(() => writePrivateFile(file, 'other\n')).toThrow(/EEXIST/)
  })

  it('normalises line ends and the final newline', () => {
    const body = 'b3BlbnNzaC1rZXktdjEAAAAA\nAAAA'
    const key = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----`
    expect(normalizePrivateKey(key.replace(/\n/g, '\r\n'))).toBe(`${key}\n`)
    expect(normalizePrivateKey(`\n\n${key}\n\n`)).toBe(`${key}\n`)
    expect(normalizePrivateKey(key.replace(/\n/g, '\\n'))).toBe(`${key}\n`)
  })

  it.each([
    ['', /is empty/],
    ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL5DeFy3 me@laptop', /is a public key/],
    ['hunter2', /is not a private key/]
  ])('refuses %j as a key, naming the input', (key, message) => {
    expect(() => normalizePrivateKey(key)).toThrow(/^Input 'ssh-key': /)
    expect(() => normalizePrivateKey(key)).toThrow(message)
  })

  it('checks the key with ssh-keygen before connecting', async () => {
    const executor = new LocalExecutor()
    const plain = path.join(base, 'plain')
    const locked = path.join(base, 'locked')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', plain])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', locked])
    await expect(checkPrivateKey(executor, plain)).resolves.toBeUndefined()
    await expect(checkPrivateKey(executor, locked)).rejects.toThrow(
      /^Input 'ssh-key': the private key is protected by a passphrase/
    )
    // A key cut short (a truncated secret).
    const text = fs.readFileSync(plain, 'utf8')
    const cut = path.join(base, 'cut')
    writePrivateFile(cut, `${text.slice(0, 120)}\n${text.split('\n').slice(-2).join('\n')}`)
    await expect(checkPrivateKey(executor, cut)).rejects.toThrow(
      /^Input 'ssh-key': ssh-keygen cannot read the private key \(.+\); paste the whole key file/
    )
  })
})

describe('classifySshFailure', () => {
  const mismatch = [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'The fingerprint for the ED25519 key sent by the remote host is',
    'SHA256:eWZRpmC1eu1HnQ9/k1SIKhFw8PBLbD3mnGiM498mA/4.',
    'Offending ED25519 key in /tmp/sdssh-x/known_hosts:1',
    'Host key for 198.18.47.2 has changed and you have requested strict checking.',
    'Host key verification failed.'
  ].join('\r\n')

  it.each([
    [mismatch, 'host-key-mismatch', '198.18.47.2'],
    [
      'No ED25519 host key is known for [10.0.0.5]:2222 and you have requested strict checking.\r\nHost key verification failed.',
      'host-key-unknown',
      '10.0.0.5'
    ],
    ['Host key verification failed.\r\n', 'host-key-unknown', undefined],
    ['deploy@198.18.47.2: Permission denied (publickey).\r\n', 'auth', '198.18.47.2'],
    [
      'Received disconnect from 10.0.0.5 port 22:2: Too many authentication failures',
      'auth',
      undefined
    ],
    ['ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n', 'unreachable', '127.0.0.1'],
    ['ssh: connect to host 10.1.2.3 port 22: No route to host', 'unreachable', '10.1.2.3'],
    [
      'ssh: Could not resolve hostname nope.invalid: Name or service not known',
      'unreachable',
      'nope.invalid'
    ],
    ['ssh: connect to host 10.1.2.3 port 22: Connection timed out', 'timeout', '10.1.2.3'],
    [
      'Connection timed out during banner exchange\r\nConnection to UNKNOWN port 65535 timed out',
      'timeout',
      undefined
    ],
    ['Timeout, server 10.1.2.3 not responding.', 'timeout', '10.1.2.3'],
    [
      'kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 10.1.2.3 port 22',
      'connection-lost',
      '10.1.2.3'
    ],
    ['Connection reset by 10.1.2.3 port 22', 'connection-lost', '10.1.2.3'],
    [
      'channel 0: open failed: administratively prohibited: open failed\r\nstdio forwarding failed',
      'jump-refused',
      undefined
    ],
    [
      'mux_client_request_session: session request failed: Session open refused by peer',
      'session-refused',
      undefined
    ]
  ])('%j -> %s', (stderr, kind, host) => {
    const failure = classifySshFailure(stderr)
    expect(failure?.kind).toBe(kind)
    expect(failure?.host).toBe(host)
    expect(failure?.detail).not.toMatch(/^@+$/)
  })

  it('does not take a command own output for an ssh failure', () => {
    expect(classifySshFailure('')).toBeUndefined()
    expect(classifySshFailure('Error: something else went wrong\n')).toBeUndefined()
  })

  it('says what a host key mismatch means', () => {
    const failure = classifySshFailure(mismatch)
    expect(failure).toBeDefined()
    const target: SshRoute = { target: { user: 'deploy', host: '198.18.47.2', port: 22 } }
    expect(describeSshFailure(failure!, target, 'connecting')).toMatch(
      /^host key for 198\.18\.47\.2 does not match the pinned known-hosts: refusing to connect \(possible man-in-the-middle, or the host was rebuilt: update known-hosts\)\. ssh said: Host key for 198\.18\.47\.2 has changed/
    )
  })

  it('names the jump host when its key is the one that failed', () => {
    const failure = classifySshFailure(
      'No ED25519 host key is known for bastion.example.com and you have requested strict checking.\nHost key verification failed.\nConnection closed by UNKNOWN port 65535'
    )
    expect(failure?.kind).toBe('host-key-unknown')
    expect(describeSshFailure(failure!, jumped, 'connecting')).toMatch(
      /^no host key for bastion\.example\.com is pinned in known-hosts: refusing to connect.*ssh-keyscan -p 22 bastion\.example\.com \| ssh-keygen -lf -/
    )
  })

  it('says which key an auth failure is about', () => {
    const failure = classifySshFailure('deploy@app.example.com: Permission denied (publickey).')
    expect(describeSshFailure(failure!, route, 'connecting')).toBe(
      'deploy@app.example.com:2222 did not accept the ssh key (deploy@app.example.com: Permission denied (publickey).); add the public key (ssh-keygen -y -f KEY) to ~deploy/.ssh/authorized_keys on app.example.com'
    )
  })
})
