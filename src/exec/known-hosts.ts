/**
 * Host key pinning. OpenSSH does the checking: we only ever write a known_hosts file of our
 * own and run ssh with StrictHostKeyChecking=yes against it. This module decides what goes in
 * that file, from the `known-hosts` input, which may hold, line by line:
 *
 * - known_hosts lines, passed through untouched (every key type, hashed `|1|` names,
 *   `[host]:port`, patterns, `@cert-authority`, `@revoked`: OpenSSH handles them all);
 * - SHA256 fingerprints, as `ssh-keygen -lf` prints them: `SHA256:...`, `host SHA256:...`,
 *   or a whole `256 SHA256:... comment (ED25519)` line. For those we fetch the host's keys with
 *   ssh-keyscan, keep only the keys whose fingerprint matches, and write those.
 *
 * Without either for a host, we refuse to connect; trust on first use is an explicit opt-in.
 */
import * as fs from 'node:fs'
import { InputError } from '../errors.js'
import type { Executor } from './executor.js'
import { endpointLabel, type SshEndpoint } from './ssh.js'

/** Where messages go (a Reporter fits). */
export interface SshLog {
  info(message: string): void
  warning(message: string): void
}

export interface FingerprintPin {
  /** The host it is for (`host` or `[host]:port`); none: any host of this deploy. */
  host?: string
  /** `SHA256:` and 43 base64 characters, without padding (as ssh-keygen prints it). */
  fingerprint: string
}

export interface KnownHostsInput {
  /** known_hosts lines, exactly as given (line ends normalised). */
  lines: string[]
  fingerprints: FingerprintPin[]
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/
const KEY_TYPE = /^(?:ssh-|ecdsa-|sk-|rsa-|x509v3-)[A-Za-z0-9@.+-]*$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** `SHA256:abc=` -> `SHA256:abc`; undefined when it is not a SHA256 fingerprint. */
export function normalizeFingerprint(text: string): string | undefined {
  const trimmed = text.trim()
  return FINGERPRINT.test(trimmed) ? trimmed.replace(/=+$/, '') : undefined
}

/** The name ssh looks a host up by in known_hosts: `host`, or `[host]:port` off port 22. */
export function knownHostsName(endpoint: Pick<SshEndpoint, 'host' | 'port'>): string {
  return endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`
}

function isKnownHostsLine(fields: string[]): boolean {
  const rest = fields[0]?.startsWith('@') ? fields.slice(1) : fields
  if (fields[0]?.startsWith('@') && !['@cert-authority', '@revoked'].includes(fields[0])) {
    return false
  }
  const [hosts, type, key] = rest
  return (
    hosts !== undefined &&
    type !== undefined &&
    key !== undefined &&
    KEY_TYPE.test(type) &&
    BASE64.test(key)
  )
}

/** Splits the `known-hosts` input into known_hosts lines and fingerprints, refusing anything else. */
export function parseKnownHosts(text: string, input = 'known-hosts'): KnownHostsInput {
  const parsed: KnownHostsInput = { lines: [], fingerprints: [] }
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  lines.forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const fields = line.split(/\s+/)
    const where = `line ${index + 1}`
    // SHA256:...  |  host SHA256:...  |  256 SHA256:... comment (TYPE)
    const fpIndex = fields.findIndex(field => field.startsWith('SHA256:'))
    if (fpIndex >= 0) {
      const fingerprint = normalizeFingerprint(fields[fpIndex] as string)
      if (!fingerprint) {
        throw new InputError(input, `${where}: "${fields[fpIndex]}" is not a SHA256 fingerprint`)
      }
      const keygenLine = fpIndex === 1 && /^\d+$/.test(fields[0] as string)
      if (fields.length === 1 || keygenLine) {
        parsed.fingerprints.push({ fingerprint })
      } else if (fields.length === 2 && fpIndex === 1) {
        parsed.fingerprints.push({ host: fields[0] as string, fingerprint })
      } else {
        throw new InputError(
          input,
          `${where}: expected "SHA256:..." or "host SHA256:..." (as ssh-keygen -lf prints it)`
        )
      }
      return
    }
    if (fields[0]?.startsWith('MD5:') || /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(fields[0] ?? '')) {
      throw new InputError(
        input,
        `${where}: MD5 fingerprints are not accepted; give the SHA256 one (ssh-keygen -lf prints it)`
      )
    }
    if (KEY_TYPE.test(fields[0] ?? '')) {
      throw new InputError(
        input,
        `${where}: a public key without a host name; known_hosts lines start with the host ` +
          `("HOST ${fields[0]} AAAA..."), as ssh-keyscan prints them`
      )
    }
    if (!isKnownHostsLine(fields)) {
      throw new InputError(
        input,
        `${where} is neither a known_hosts entry ("host key-type base64-key", as ssh-keyscan ` +
          `prints them) nor a fingerprint ("SHA256:...", as ssh-keygen -lf prints them)`
      )
    }
    parsed.lines.push(line)
  })
  return parsed
}

/** The names a fingerprint line may give a host by: `host`, `[host]:port`. */
function namesOf(endpoint: SshEndpoint): string[] {
  return [endpoint.host, knownHostsName(endpoint), `[${endpoint.host}]:${endpoint.port}`]
}

/** The pinned fingerprints that apply to an endpoint: its own, and those given without a host. */
export function fingerprintsFor(pins: KnownHostsInput, endpoint: SshEndpoint): string[] {
  const names = namesOf(endpoint)
  return pins.fingerprints
    .filter(pin => pin.host === undefined || names.includes(pin.host))
    .map(pin => pin.fingerprint)
}

/** Fingerprints pinned for a host that is none of this deploy's (probably a typo). */
export function unusedFingerprintHosts(pins: KnownHostsInput, endpoints: SshEndpoint[]): string[] {
  const names = new Set(endpoints.flatMap(namesOf))
  return pins.fingerprints
    .map(pin => pin.host)
    .filter((host): host is string => host !== undefined && !names.has(host))
}

/** `ssh-keyscan -p PORT -T SECONDS -- HOST`: prints the host's keys in known_hosts format. */
export function keyscanArgv(endpoint: SshEndpoint, timeoutSeconds: number): string[] {
  return [
    'ssh-keyscan',
    '-p',
    String(endpoint.port),
    '-T',
    String(timeoutSeconds),
    '--',
    endpoint.host
  ]
}

export interface ScannedKey {
  /** `name type key`, named as ssh looks the host up. */
  line: string
  /** ED25519, RSA, ECDSA... as ssh-keygen prints it. */
  type: string
  fingerprint: string
}

/**
 * The keys of ssh-keyscan's output, renamed to the endpoint's known_hosts name. Only plain
 * `host type key` lines are kept: the output may come through a jump host, so nothing in it
 * (markers, patterns, other names) gets to our known_hosts as is.
 */
export function scannedKeyLines(output: string, endpoint: SshEndpoint): string[] {
  const name = knownHostsName(endpoint)
  const lines: string[] = []
  for (const raw of output.split(/\r?\n/)) {
    const fields = raw.trim().split(/\s+/)
    if (fields.length !== 3 || fields[0]?.startsWith('#')) continue
    const [, type, key] = fields as [string, string, string]
    if (KEY_TYPE.test(type) && BASE64.test(key)) lines.push(`${name} ${type} ${key}`)
  }
  return [...new Set(lines)]
}

/** One key's fingerprint, by `ssh-keygen -lf -` (the key on stdin), exactly as OpenSSH computes it. */
export async function fingerprintKeyLine(executor: Executor, line: string): Promise<ScannedKey> {
  // Only `type key`: the name field of a known_hosts line can confuse ssh-keygen (an
  // all-digit name reads as the bit count of an old RSA1 key).
  const publicKey = line.split(/\s+/).slice(1, 3).join(' ')
  const result = await executor.run(['ssh-keygen', '-l', '-E', 'sha256', '-f', '-'], {
    input: `${publicKey}\n`
  })
  const match = /^\d+ (SHA256:[A-Za-z0-9+/]+) .*\(([^)]+)\)\s*$/m.exec(result.stdout)
  if (result.exitCode !== 0 || !match) {
    throw new Error(
      `ssh-keygen -lf could not read a host key (${result.stderr.trim() || `exit ${result.exitCode}`}): ${line}`
    )
  }
  return { line, fingerprint: match[1] as string, type: match[2] as string }
}

/** Fingerprints of every key in ssh-keyscan's output (one ssh-keygen per key: its output skips lines). */
export async function fingerprintScan(
  executor: Executor,
  output: string,
  endpoint: SshEndpoint
): Promise<ScannedKey[]> {
  const keys: ScannedKey[] = []
  for (const line of scannedKeyLines(output, endpoint))
    keys.push(await fingerprintKeyLine(executor, line))
  return keys
}

/** Whether our known_hosts file has a key (or a CA) for the endpoint: `ssh-keygen -F`, hashed names and patterns included. */
export async function isPinned(
  executor: Executor,
  knownHostsFile: string,
  endpoint: SshEndpoint
): Promise<boolean> {
  const result = await executor.run([
    'ssh-keygen',
    '-F',
    knownHostsName(endpoint),
    '-f',
    knownHostsFile
  ])
  if (result.exitCode !== 0) return false
  // "# Host h found: line 3", "... line 1 CA"; a @revoked line pins nothing.
  return /^# Host .* found: line \d+( CA)?\s*$/m.test(result.stdout)
}

function listKeys(keys: ScannedKey[]): string {
  return keys.map(key => `${key.type} ${key.fingerprint}`).join(', ')
}

export interface PinOptions {
  /** Runs ssh-keygen locally. */
  executor: Executor
  /** Our known_hosts file (already holding the input's known_hosts lines). */
  knownHostsFile: string
  pins: KnownHostsInput
  trustOnFirstUse: boolean
  /** Fetches the host's keys: ssh-keyscan, from here or from the jump host. */
  scan: (endpoint: SshEndpoint) => Promise<{ stdout: string; stderr: string; exitCode: number }>
  log: SshLog
  input?: string
}

export type PinSource = 'known-hosts' | 'fingerprint' | 'trust-on-first-use'

/**
 * Makes sure our known_hosts pins the endpoint's host key, before anything connects to it:
 * host-specific fingerprints first (they are the most precise ask), then the given known_hosts
 * lines, then fingerprints given for any host, then trust on first use if asked for. Otherwise
 * refuses, naming the input and how to get its value.
 */
export async function pinHostKey(endpoint: SshEndpoint, options: PinOptions): Promise<PinSource> {
  const input = options.input ?? 'known-hosts'
  const name = knownHostsName(endpoint)
  const ownPins = options.pins.fingerprints.some(
    pin => pin.host !== undefined && namesOf(endpoint).includes(pin.host)
  )
  const fingerprints = fingerprintsFor(options.pins, endpoint)
  if (!ownPins && (await isPinned(options.executor, options.knownHostsFile, endpoint))) {
    return 'known-hosts'
  }
  const keyscanHelp = `ssh-keyscan -p ${endpoint.port} ${endpoint.host} | ssh-keygen -lf -`
  if (fingerprints.length === 0 && !options.trustOnFirstUse) {
    throw new InputError(
      input,
      `no host key is pinned for ${endpointLabel(endpoint)}, so stack-deploy will not connect to it. ` +
        `Set ${input} to the host's known_hosts line(s) (ssh-keyscan -p ${endpoint.port} ${endpoint.host}), ` +
        `or to its key fingerprint (SHA256:...), after checking the fingerprint against the host ` +
        `itself: compare \`${keyscanHelp}\` with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` ` +
        `run on ${endpoint.host}. (Trusting the key on first use is an explicit opt-in.)`
    )
  }
  const scan = await options.scan(endpoint)
  const offered = await fingerprintScan(options.executor, scan.stdout, endpoint)
  if (offered.length === 0) {
    const why = scan.stderr
      .split(/\r?\n/)
      .filter(line => line.trim() !== '' && !line.startsWith('#'))
      .slice(-3)
      .join('; ')
    throw new Error(
      `ssh-keyscan got no host key from ${endpoint.host} port ${endpoint.port}` +
        `${why ? ` (${why})` : ''}: is the host reachable and running sshd?`
    )
  }
  let accepted: ScannedKey[]
  let source: PinSource
  if (fingerprints.length > 0) {
    accepted = offered.filter(key => fingerprints.includes(key.fingerprint))
    source = 'fingerprint'
    if (accepted.length === 0) {
      throw new InputError(
        input,
        `no host key of ${name} matches the pinned fingerprint${fingerprints.length > 1 ? 's' : ''} ` +
          `${fingerprints.join(', ')}: refusing to connect (possible man-in-the-middle, or the ` +
          `host was rebuilt: update ${input}). The host offered: ${listKeys(offered)}. Check on ` +
          `the host with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`
      )
    }
    options.log.info(`Host key of ${name} matches the pinned fingerprint: ${listKeys(accepted)}`)
  } else {
    accepted = offered
    source = 'trust-on-first-use'
    options.log.warning(
      `Trust on first use: accepted the host key(s) of ${name} without checking them: ` +
        `${listKeys(accepted)}. Pin them by setting ${input} to:\n${accepted.map(k => k.line).join('\n')}`
    )
  }
  fs.appendFileSync(options.knownHostsFile, accepted.map(key => `${key.line}\n`).join(''))
  return source
}
