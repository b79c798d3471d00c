/**
 * Trivy command lines, as data. Flag names checked against Trivy v0.74.0 (pkg/flag/*.go and
 * docs/guide/references/configuration/cli/trivy_image.md, trivy_convert.md).
 */
import { SEVERITIES } from './report.js'

/** The oldest Trivy these argv work with: `--cache-backend memory` arrived in 0.53.0. */
export const MIN_TRIVY_VERSION = '0.53.0'
/** `--skip-version-check` and `--disable-telemetry` arrived in 0.63.0. */
export const QUIET_NETWORK_FLAGS_SINCE = '0.63.0'

/** Trivy's own default is 5 minutes; the first scan of a large image can take longer. */
export const SCAN_TIMEOUT = '15m'
export const DB_DOWNLOAD_TIMEOUT = '10m'

const ALL_SEVERITIES = [...SEVERITIES].reverse().join(',') // UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL

/** Compares dotted numeric versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map(part => Number.parseInt(part, 10) || 0)
  const pb = b.split(/[.-]/).map(part => Number.parseInt(part, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (diff !== 0) return diff
  }
  return 0
}

/** Flags that stop Trivy calling home (version notices, telemetry), where it knows them. */
export function quietNetworkFlags(version: string): string[] {
  return compareVersions(version, QUIET_NETWORK_FLAGS_SINCE) >= 0
    ? ['--skip-version-check', '--disable-telemetry']
    : []
}

export function trivyVersionArgs(trivy: string): string[] {
  return [trivy, '--version']
}

/**
 * Downloads (or refreshes) the vulnerability DB into `<cacheDir>/db` from one repository.
 * `--no-progress`, not `--quiet`: with `--quiet` Trivy discards its ERROR lines, and the
 * `TOOMANYREQUESTS` detail of a rate limit is in one of them.
 */
export function dbDownloadArgs(
  trivy: string,
  options: { cacheDir: string; repository: string; version: string }
): string[] {
  return [
    trivy,
    'image',
    '--download-db-only',
    '--cache-dir',
    options.cacheDir,
    '--db-repository',
    options.repository,
    '--no-progress',
    ...quietNetworkFlags(options.version),
    '--timeout',
    DB_DOWNLOAD_TIMEOUT
  ]
}

/**
 * Scans one image into a full JSON report: every severity, `--exit-code 0` (our code decides
 * the gate), no ignore file (`ignoreFile` points to an empty one, so that a .trivyignore in the
 * current directory cannot hide findings from the report), the DB from `cacheDir` as it is
 * (`--skip-db-update`, `--skip-java-db-update`), and the in-memory scan cache: the file-system
 * one is a BoltDB that one process at a time can open, so parallel scans would block on it.
 */
export function imageScanArgs(
  trivy: string,
  options: {
    ref: string
    cacheDir: string
    output: string
    emptyIgnoreFile: string
    version: string
    timeout?: string
  }
): string[] {
  return [
    trivy,
    'image',
    '--scanners',
    'vuln',
    '--format',
    'json',
    '--output',
    options.output,
    '--severity',
    ALL_SEVERITIES,
    '--exit-code',
    '0',
    '--ignorefile',
    options.emptyIgnoreFile,
    '--cache-dir',
    options.cacheDir,
    '--cache-backend',
    'memory',
    '--skip-db-update',
    '--skip-java-db-update',
    '--no-progress',
    ...quietNetworkFlags(options.version),
    '--timeout',
    options.timeout ?? SCAN_TIMEOUT,
    options.ref
  ]
}

/**
 * Converts a JSON report to SARIF without scanning again (`trivy convert`, Trivy ≥ 0.37). The
 * ignore file applies, so accepted risks do not become code scanning alerts.
 */
export function sarifConvertArgs(
  trivy: string,
  options: { input: string; output: string; ignoreFile: string }
): string[] {
  return [
    trivy,
    'convert',
    '--format',
    'sarif',
    '--output',
    options.output,
    '--severity',
    ALL_SEVERITIES,
    '--ignorefile',
    options.ignoreFile,
    options.input
  ]
}

/** The version in `trivy --version` output (`Version: 0.74.0`), or undefined. */
export function parseTrivyVersion(output: string): string | undefined {
  const match = /^Version:\s*v?(\S+)/m.exec(output)
  return match ? match[1] : undefined
}

/** stderr of a DB download that hit a registry rate limit (HTTP 429 / TOOMANYREQUESTS). */
export function isRateLimited(stderr: string): boolean {
  return /\b429\b|TOOMANYREQUESTS|too many requests/i.test(stderr)
}
