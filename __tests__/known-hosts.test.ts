import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { LocalExecutor } from '../src/exec/executor.js'
import {
  fingerprintKeyLine,
  fingerprintsFor,
  isPinned,
  keyscanArgv,
  knownHostsName,
  normalizeFingerprint,
  parseKnownHosts,
  pinHostKey,
  scannedKeyLines,
  type PinOptions,
  type SshLog
} from '../src/exec/known-hosts.js'
import type { SshEndpoint } from '../src/exec/ssh.js'

const executor = new LocalExecutor()
let dir: string
/** Public keys (`type base64`) and fingerprints of key pairs generated for these tests. */
const keys: Record<string, { pub: string; fingerprint: string }> = {}

beforeAll(() => {
  dir = fs.mkdtempSync('/tmp/sdkh-')
  for (const [name, type] of [
    ['ed25519', 'ed25519'],
    ['rsa', 'rsa'],
    ['ecdsa', 'ecdsa'],
    ['other', 'ed25519']
  ] as const) {
    const file = path.join(dir, name)
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `test-${name}`, '-f', file])
    const pub = fs.readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')
    const fingerprint = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], {
      encoding: 'utf8'
    }).split(' ')[1] as string
    keys[name] = { pub, fingerprint }
  }
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const app: SshEndpoint = { user: 'deploy', host: 'app.example.com', port: 22 }
const app2222: SshEndpoint = { user: 'deploy', host: 'app.example.com', port: 2222 }

describe('parseKnownHosts', () => {
  it('passes known_hosts lines through untouched, hashed ones and markers included', () => {
    const lines = [
      `app.example.com,10.0.0.5 ${keys.ed25519!.pub}`,
      `|1|Dd87AIi3ULu7RMOtzlURN3q40ew=|oq+vlpXzJbMtr3jZ2mtRjRWxbYs= ${keys.rsa!.pub}`,
      `[app.example.com]:2222 ${keys.ecdsa!.pub} a comment`,
      `@cert-authority *.example.com ${keys.ed25519!.pub}`,
      `@revoked old.example.com ${keys.other!.pub}`,
      `*.internal,!db.internal ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t`
    ]
    const parsed = parseKnownHosts(
      `# from ssh-keyscan\r\n${lines.join('\r\n')}\r\n\r\n  # app.example.com:22 SSH-2.0-OpenSSH_9.2\n`
    )
    expect(parsed).toEqual({ lines, fingerprints: [] })
  })

  it('reads fingerprints, alone, for a host, or as ssh-keygen -lf prints them', () => {
    const fp = keys.ed25519!.fingerprint
    const parsed = parseKnownHosts(
      [
        fp,
        `app.example.com ${fp}=`,
        `[app.example.com]:2222 ${fp}`,
        `256 ${fp} app.example.com (ED25519)`,
        `256 ${fp} root@app (ED25519)`
      ].join('\n')
    )
    expect(parsed.lines).toEqual([])
    expect(parsed.fingerprints).toEqual([
      { fingerprint: fp },
      { host: 'app.example.com', fingerprint: fp },
      { host: '[app.example.com]:2222', fingerprint: fp },
      { fingerprint: fp },
      { fingerprint: fp }
    ])
  })

  it.each([
    [
      `${'ssh-ed25519'} AAAAC3NzaC1lZDI1NTE5AAAAIL5DeFy3 me@laptop`,
      /line 1: a public key without a host name/
    ],
    ['SHA256:tooShort', /line 1: "SHA256:tooShort" is not a SHA256 fingerprint/],
    ['MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48', /MD5 fingerprints are not accepted/],
    ['16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48', /MD5 fingerprints are not accepted/],
    ['# ok\nhello world', /line 2 is neither a known_hosts entry/],
    ['host ssh-ed25519 not*base64', /line 1 is neither/],
    ['@bogus host ssh-ed25519 AAAA', /line 1 is neither/]
  ])('refuses %j, naming the input', (text, message) => {
    expect(() => parseKnownHosts(text)).toThrow(/^Input 'known-hosts': /)
    expect(() => parseKnownHosts(text)).toThrow(message)
  })

  it('normalises fingerprints', () => {
    const fp = keys.rsa!.fingerprint
    expect(normalizeFingerprint(`${fp}=`)).toBe(fp)
    expect(normalizeFingerprint(` ${fp} `)).toBe(fp)
    expect(normalizeFingerprint('SHA256:x')).toBeUndefined()
  })

  it('picks the fingerprints that apply to a host', () => {
    const pins = parseKnownHosts(
      [
        'SHA256:' + 'a'.repeat(43),
        'app.example.com SHA256:' + 'b'.repeat(43),
        '[app.example.com]:2222 SHA256:' + 'c'.repeat(43),
        'other SHA256:' + 'd'.repeat(43)
      ].join('\n')
    )
    expect(fingerprintsFor(pins, app)).toEqual([
      'SHA256:' + 'a'.repeat(43),
      'SHA256:' + 'b'.repeat(43)
    ])
    expect(fingerprintsFor(pins, app2222)).toEqual([
      'SHA256:' + 'a'.repeat(43),
      'SHA256:' + 'b'.repeat(43),
      'SHA256:' + 'c'.repeat(43)
    ])
  })
})

describe('host key lookups', () => {
  it('names hosts as ssh looks them up', () => {
    expect(knownHostsName(app)).toBe('app.example.com')
    expect(knownHostsName(app2222)).toBe('[app.example.com]:2222')
  })

  it('scans with a port and a timeout', () => {
    expect(keyscanArgv(app2222, 10)).toEqual([
      'ssh-keyscan',
      '-p',
      '2222',
      '-T',
      '10',
      '--',
      'app.example.com'
    ])
  })

  it('keeps only plain key lines of a scan, renamed to the host', () => {
    const output = [
      '# app.example.com:2222 SSH-2.0-OpenSSH_9.2p1',
      `[app.example.com]:2222 ${keys.ed25519!.pub}`,
      `@cert-authority * ${keys.other!.pub}`,
      `* ${keys.rsa!.pub}`,
      'garbage',
      `[app.example.com]:2222 ${keys.ed25519!.pub}`
    ].join('\n')
    expect(scannedKeyLines(output, app2222)).toEqual([
      `[app.example.com]:2222 ${keys.ed25519!.pub}`,
      `[app.example.com]:2222 ${keys.rsa!.pub}`
    ])
  })

  it('computes fingerprints exactly as ssh-keygen -lf does', async () => {
    for (const name of ['ed25519', 'rsa', 'ecdsa']) {
      const key = await fingerprintKeyLine(executor, `12345 ${keys[name]!.pub}`)
      expect(key.fingerprint).toBe(keys[name]!.fingerprint)
    }
    expect((await fingerprintKeyLine(executor, `h ${keys.rsa!.pub}`)).type).toBe('RSA')
  })

  it('finds pins in hashed, ported, wildcard and CA lines, not in revoked ones', async () => {
    const file = path.join(dir, 'lookup')
    fs.writeFileSync(
      file,
      [
        `app.example.com ${keys.ed25519!.pub}`,
        `[app.example.com]:2222 ${keys.rsa!.pub}`,
        `@cert-authority *.ca.example.com ${keys.ecdsa!.pub}`,
        `@revoked revoked.example.com ${keys.other!.pub}`,
        ''
      ].join('\n')
    )
    const hashed = path.join(dir, 'lookup-hashed')
    fs.copyFileSync(file, hashed)
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'ignore' })
    expect(fs.readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/)
    const lookup = (f: string, host: string, port = 22): Promise<boolean> =>
      isPinned(executor, f, { user: 'u', host, port })
    for (const f of [file, hashed]) {
      expect(await lookup(f, 'app.example.com')).toBe(true)
      expect(await lookup(f, 'app.example.com', 2222)).toBe(true)
      expect(await lookup(f, 'app.example.com', 2200)).toBe(false)
    }
    expect(await lookup(file, 'web.ca.example.com')).toBe(true)
    expect(await lookup(file, 'revoked.example.com')).toBe(false)
    expect(await lookup(file, 'nope.example.com')).toBe(false)
  })
})

describe('pinHostKey', () => {
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

  let file: string
  let scans: SshEndpoint[]
  let log: Log
  /** The host offers these keys (by test key name). */
  function setup(
    knownHosts: string,
    offered: string[],
    extra: Partial<PinOptions> = {}
  ): PinOptions {
    file = path.join(dir, `known_hosts-${Math.random().toString(36).slice(2)}`)
    const pins = parseKnownHosts(knownHosts)
    fs.writeFileSync(file, pins.lines.map(line => `${line}\n`).join(''))
    scans = []
    log = new Log()
    return {
      executor,
      knownHostsFile: file,
      pins,
      trustOnFirstUse: false,
      log,
      scan: async endpoint => {
        scans.push(endpoint)
        const name = knownHostsName(endpoint)
        return {
          exitCode: 0,
          stderr: `# ${endpoint.host}:${endpoint.port} SSH-2.0-OpenSSH_9.2\n`,
          stdout: offered.map(key => `${name} ${keys[key]!.pub}\n`).join('')
        }
      },
      ...extra
    }
  }

  it('uses known_hosts lines as given, without scanning', async () => {
    const hashedFile = path.join(dir, 'h')
    fs.writeFileSync(hashedFile, `app.example.com ${keys.ed25519!.pub}\n`)
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashedFile], { stdio: 'ignore' })
    const hashed = fs.readFileSync(hashedFile, 'utf8')
    const options = setup(hashed, ['ed25519'])
    await expect(pinHostKey(app, options)).resolves.toBe('known-hosts')
    expect(scans).toEqual([])
    expect(fs.readFileSync(file, 'utf8')).toBe(hashed)
  })

  it('keeps only the offered keys whose fingerprint is pinned', async () => {
    const options = setup(keys.rsa!.fingerprint, ['ed25519', 'rsa', 'ecdsa'])
    await expect(pinHostKey(app2222, options)).resolves.toBe('fingerprint')
    expect(scans).toEqual([app2222])
    expect(fs.readFileSync(file, 'utf8')).toBe(`[app.example.com]:2222 ${keys.rsa!.pub}\n`)
    expect(log.infos.join('\n')).toContain(`RSA ${keys.rsa!.fingerprint}`)
  })

  it('prefers a fingerprint pinned for this very host over known_hosts lines', async () => {
    const options = setup(
      `app.example.com ${keys.other!.pub}\napp.example.com ${keys.ed25519!.fingerprint}`,
      ['ed25519']
    )
    await expect(pinHostKey(app, options)).resolves.toBe('fingerprint')
    expect(fs.readFileSync(file, 'utf8')).toBe(
      `app.example.com ${keys.other!.pub}\napp.example.com ${keys.ed25519!.pub}\n`
    )
  })

  it('refuses when no offered key matches, listing what the host offered', async () => {
    const options = setup(`app.example.com ${keys.other!.fingerprint}`, ['ed25519', 'rsa'])
    const error = await pinHostKey(app, options).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(
      /^Input 'known-hosts': no host key of app\.example\.com matches the pinned fingerprint SHA256:\S+: refusing to connect/
    )
    expect((error as Error).message).toContain(
      `The host offered: ED25519 ${keys.ed25519!.fingerprint}, RSA ${keys.rsa!.fingerprint}.`
    )
    expect(fs.readFileSync(file, 'utf8')).toBe('')
  })

  it('refuses with nothing pinned, saying how to get the value', async () => {
    const options = setup('', ['ed25519'])
    await expect(pinHostKey(app2222, options)).rejects.toThrow(
      /^Input 'known-hosts': no host key is pinned for deploy@app\.example\.com:2222, so stack-deploy will not connect to it\. .*ssh-keyscan -p 2222 app\.example\.com \| ssh-keygen -lf -/
    )
    expect(scans).toEqual([])
  })

  it('trusts on first use only when asked, and logs what it accepted', async () => {
    const options = setup('', ['ed25519', 'ecdsa'], { trustOnFirstUse: true })
    await expect(pinHostKey(app, options)).resolves.toBe('trust-on-first-use')
    expect(fs.readFileSync(file, 'utf8')).toBe(
      `app.example.com ${keys.ed25519!.pub}\napp.example.com ${keys.ecdsa!.pub}\n`
    )
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toContain(
      `ED25519 ${keys.ed25519!.fingerprint}, ECDSA ${keys.ecdsa!.fingerprint}`
    )
    expect(log.warnings[0]).toContain(`app.example.com ${keys.ed25519!.pub}`)
  })

  it('says so when the scan gets nothing', async () => {
    const options = setup(keys.rsa!.fingerprint, [])
    options.scan = async () => ({
      exitCode: 1,
      stdout: '',
      stderr: 'connect (`10.0.0.5`): Connection refused\n'
    })
    await expect(pinHostKey(app, options)).rejects.toThrow(
      'ssh-keyscan got no host key from app.example.com port 22 (connect (`10.0.0.5`): Connection refused): is the host reachable and running sshd?'
    )
  })
})
