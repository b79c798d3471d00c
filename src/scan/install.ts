/**
 * Installing Trivy: a pinned release from GitHub, verified against the release's checksums
 * file and kept in the runner's tool cache; or the `trivy` on PATH.
 *
 * Release layout (goreleaser.yml and contrib/install.sh of aquasecurity/trivy v0.74.0):
 *   https://github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_Linux-64bit.tar.gz
 *   https://github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt
 * The tarball holds `trivy` (plus README.md, LICENSE, contrib/) at its root; the checksums file
 * has one `<sha256>  <file name>` line per asset.
 */
import * as tc from '@actions/tool-cache'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Executor } from '../exec/executor.js'
import { lastLines } from '../exec/executor.js'
import { inputDefault } from '../input-specs.js'
import {
  compareVersions,
  MIN_TRIVY_VERSION,
  parseTrivyVersion,
  trivyVersionArgs
} from './trivy-args.js'

/**
 * The Trivy release stack-deploy installs by default (released 2026-08-14): the trivy-version
 * input's default.
 */
export const DEFAULT_TRIVY_VERSION = inputDefault('trivy-version')
export const TRIVY_RELEASES_URL = 'https://github.com/aquasecurity/trivy/releases/download'
const TOOL_NAME = 'trivy'

export interface InstalledTrivy {
  path: string
  version: string
  /** tool-cache: found in the tool cache; path: the `trivy` on PATH; download: just installed. */
  source: 'tool-cache' | 'path' | 'download' | 'given'
}

/** Provides a Trivy binary for a requested version ('0.74.0') or 'path'. */
export interface TrivyInstaller {
  install(version: string): Promise<InstalledTrivy>
}

export class TrivyInstallError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TrivyInstallError'
  }
}

/** '0.74.0', 'v0.74.0' → '0.74.0'; 'path' → 'path'; anything else is an error. */
export function normalizeTrivyVersion(value: string): string {
  const trimmed = value.trim()
  if (trimmed === 'path') return 'path'
  const match = /^v?(\d+\.\d+\.\d+)$/.exec(trimmed)
  if (!match) {
    throw new TrivyInstallError(
      `Trivy version "${value}" is not a release like ${DEFAULT_TRIVY_VERSION}; give one, or "path" to use the trivy on PATH`
    )
  }
  const version = match[1] as string
  if (compareVersions(version, MIN_TRIVY_VERSION) < 0) {
    throw new TrivyInstallError(
      `Trivy ${version} is too old for stack-deploy (it needs ${MIN_TRIVY_VERSION} or later); use ${DEFAULT_TRIVY_VERSION}`
    )
  }
  return version
}

/** goreleaser's OS-arch naming for the release archives. */
export function trivyAssetName(
  version: string,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch
): string {
  const osName = { linux: 'Linux', darwin: 'macOS', freebsd: 'FreeBSD' }[platform as string]
  const archName = {
    x64: '64bit',
    arm64: 'ARM64',
    arm: 'ARM',
    ia32: '32bit',
    ppc64: 'PPC64LE',
    s390x: 's390x'
  }[arch]
  if (!osName || !archName) {
    throw new TrivyInstallError(
      `There is no Trivy release archive for ${platform}/${arch}; install Trivy yourself and use trivy version "path"`
    )
  }
  return `trivy_${version}_${osName}-${archName}.tar.gz`
}

export function checksumsFileName(version: string): string {
  return `trivy_${version}_checksums.txt`
}

export function releaseAssetUrl(baseUrl: string, version: string, file: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v${version}/${file}`
}

/** Parses `<sha256>  <name>` lines (sha256sum / goreleaser format; `*name` for binary mode). */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const match = /^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$/.exec(line.trim())
    if (match) sums.set(match[2] as string, (match[1] as string).toLowerCase())
  }
  return sums
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** Throws unless `file` has the checksum the checksums file lists for `assetName`. */
export function verifyChecksum(
  file: string,
  assetName: string,
  checksumsText: string,
  sourceUrl: string
): string {
  const expected = parseChecksums(checksumsText).get(assetName)
  if (!expected) {
    throw new TrivyInstallError(
      `The checksums file of the Trivy release has no entry for ${assetName} (${sourceUrl}); the release may be incomplete: pick another version`
    )
  }
  const actual = sha256File(file)
  if (actual !== expected) {
    throw new TrivyInstallError(
      `Checksum mismatch for ${assetName} downloaded from ${sourceUrl}: expected sha256 ${expected}, got ${actual}. Nothing was installed or cached; re-run the job, and if it persists, check for a proxy rewriting downloads`
    )
  }
  return actual
}

/** Finds an executable `name` on a PATH string, like `which`. */
export function findOnPath(
  name: string,
  pathEnv: string = process.env.PATH ?? ''
): string | undefined {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** @actions/tool-cache needs RUNNER_TOOL_CACHE and RUNNER_TEMP; outside a runner we pick some. */
export function ensureToolCacheEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.RUNNER_TOOL_CACHE) {
    const base = env.XDG_CACHE_HOME || path.join(os.homedir() || os.tmpdir(), '.cache')
    env.RUNNER_TOOL_CACHE = path.join(base, 'stack-deploy', 'tool-cache')
  }
  if (!env.RUNNER_TEMP) env.RUNNER_TEMP = path.join(os.tmpdir(), 'stack-deploy-temp')
  fs.mkdirSync(env.RUNNER_TOOL_CACHE, { recursive: true })
  fs.mkdirSync(env.RUNNER_TEMP, { recursive: true })
}

export interface ReleaseInstallerOptions {
  executor: Executor
  /** Where releases are downloaded from; tests point it at a loopback server. */
  downloadBaseUrl?: string
  platform?: NodeJS.Platform
  arch?: string
  /** PATH to search for an existing trivy (default: this process's PATH). */
  pathEnv?: string
}

/** Installs Trivy releases into the tool cache (or uses the one on PATH). */
export class ReleaseInstaller implements TrivyInstaller {
  private readonly baseUrl: string

  constructor(private readonly options: ReleaseInstallerOptions) {
    this.baseUrl = options.downloadBaseUrl ?? TRIVY_RELEASES_URL
  }

  /** The version a trivy binary reports, or undefined when it does not run. */
  async versionOf(binary: string): Promise<string | undefined> {
    try {
      const result = await this.options.executor.run(trivyVersionArgs(binary))
      return result.exitCode === 0 ? parseTrivyVersion(result.stdout) : undefined
    } catch {
      return undefined
    }
  }

  async install(requested: string): Promise<InstalledTrivy> {
    const version = normalizeTrivyVersion(requested)
    const onPath = findOnPath(TOOL_NAME, this.options.pathEnv)
    if (version === 'path') {
      if (!onPath) {
        throw new TrivyInstallError(
          'Trivy version is "path" but there is no trivy on PATH; install it first, or set a version such as ' +
            DEFAULT_TRIVY_VERSION
        )
      }
      const found = await this.versionOf(onPath)
      if (!found) {
        throw new TrivyInstallError(
          `${onPath} --version did not print "Version: x.y.z"; is it Trivy?`
        )
      }
      return { path: onPath, version: found, source: 'path' }
    }

    ensureToolCacheEnv()
    const cached = tc.find(TOOL_NAME, version)
    if (cached && fs.existsSync(path.join(cached, TOOL_NAME))) {
      return { path: path.join(cached, TOOL_NAME), version, source: 'tool-cache' }
    }
    if (onPath && (await this.versionOf(onPath)) === version) {
      return { path: onPath, version, source: 'path' }
    }
    return this.download(version)
  }

  private async download(version: string): Promise<InstalledTrivy> {
    const asset = trivyAssetName(version, this.options.platform, this.options.arch)
    const assetUrl = releaseAssetUrl(this.baseUrl, version, asset)
    const sumsUrl = releaseAssetUrl(this.baseUrl, version, checksumsFileName(version))
    let archive: string | undefined
    let sums: string | undefined
    let extracted: string | undefined
    try {
      try {
        archive = await tc.downloadTool(assetUrl)
        sums = await tc.downloadTool(sumsUrl)
      } catch (error) {
        throw new TrivyInstallError(
          `Could not download Trivy ${version} (${assetUrl} and its checksums file): ${(error as Error).message}. Check the version exists on the Trivy releases page, or use trivy version "path"`
        )
      }
      verifyChecksum(archive, asset, fs.readFileSync(sums, 'utf8'), assetUrl)
      extracted = await tc.extractTar(archive)
      const binary = path.join(extracted, TOOL_NAME)
      if (!fs.existsSync(binary)) {
        throw new TrivyInstallError(`${asset} from ${assetUrl} has no "${TOOL_NAME}" at its root`)
      }
      fs.chmodSync(binary, 0o755)
      const found = await this.versionOf(binary)
      if (found !== version) {
        throw new TrivyInstallError(
          `${asset} from ${assetUrl} holds a trivy that reports version ${found ?? '(none)'}, not ${version}; nothing was cached`
        )
      }
      const dir = await tc.cacheDir(extracted, TOOL_NAME, version)
      return { path: path.join(dir, TOOL_NAME), version, source: 'download' }
    } finally {
      for (const file of [archive, sums, extracted]) {
        if (file) fs.rmSync(file, { recursive: true, force: true })
      }
    }
  }
}

/** An installer that hands out one given binary (a pre-installed Trivy, or a test stand-in). */
export class GivenTrivy implements TrivyInstaller {
  constructor(
    private readonly binary: string,
    private readonly executor: Executor
  ) {}

  async install(): Promise<InstalledTrivy> {
    const result = await this.executor.run(trivyVersionArgs(this.binary))
    const version = result.exitCode === 0 ? parseTrivyVersion(result.stdout) : undefined
    if (!version) {
      throw new TrivyInstallError(
        `${this.binary} --version failed or printed no "Version: x.y.z": ${lastLines(result.stderr || result.stdout, 3)}`
      )
    }
    return { path: this.binary, version, source: 'given' }
  }
}
