/**
 * The Trivy installer against a release served on loopback: a tarball laid out like Trivy's
 * (the stand-in trivy at its root) and a goreleaser-style checksums file.
 */
import * as tc from '@actions/tool-cache'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { LocalExecutor } from '../src/exec/executor.js'
import {
  checksumsFileName,
  DEFAULT_TRIVY_VERSION,
  GivenTrivy,
  normalizeTrivyVersion,
  parseChecksums,
  ReleaseInstaller,
  releaseAssetUrl,
  trivyAssetName,
  verifyChecksum
} from '../src/scan/install.js'
import { Writable } from 'node:stream'

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const STAND_IN = path.join(ROOT, 'test', 'stand-ins', 'trivy')
const VERSION = '0.74.0'
const ASSET = `trivy_${VERSION}_Linux-64bit.tar.gz`
const quiet = new LocalExecutor(new Writable({ write: (_c, _e, done) => done() }))

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A release tarball like goreleaser's: trivy, README.md and LICENSE at the root. */
function makeTarball(dir: string, trivyScript: string): Buffer {
  const stage = fs.mkdtempSync(path.join(dir, 'stage-'))
  fs.copyFileSync(trivyScript, path.join(stage, 'trivy'))
  fs.chmodSync(path.join(stage, 'trivy'), 0o755)
  fs.writeFileSync(path.join(stage, 'README.md'), 'stand-in release for tests\n')
  fs.writeFileSync(path.join(stage, 'LICENSE'), 'test\n')
  const out = path.join(dir, ASSET)
  const tar = spawnSync('tar', ['-czf', out, '-C', stage, 'trivy', 'README.md', 'LICENSE'])
  expect(tar.status).toBe(0)
  return fs.readFileSync(out)
}

// @actions/core and @actions/exec print ::debug:: and [command] lines to stdout (a runner
// hides them); keep the test output readable.
const write = process.stdout.write.bind(process.stdout)
beforeAll(() => {
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    /^(::debug::|\[command\])/.test(String(chunk))
      ? true
      : write(chunk, ...rest)) as typeof process.stdout.write
})
afterAll(() => {
  process.stdout.write = write
})

describe('installing Trivy', () => {
  let dir: string
  let server: http.Server
  let baseUrl: string
  let files: Record<string, Buffer>
  let hits: string[]
  const saved = { tool: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP }

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '')
      const body = files[req.url ?? '']
      if (!body) {
        res.writeHead(404).end('Not Found')
        return
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases/download`
  })
  afterAll(async () => {
    await new Promise(resolve => server.close(resolve))
  })

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-install-'))
    process.env.RUNNER_TOOL_CACHE = path.join(dir, 'tool-cache')
    process.env.RUNNER_TEMP = path.join(dir, 'runner-temp')
    fs.mkdirSync(process.env.RUNNER_TOOL_CACHE)
    fs.mkdirSync(process.env.RUNNER_TEMP)
    hits = []
    const tarball = makeTarball(dir, STAND_IN)
    files = {
      [`/releases/download/v${VERSION}/${ASSET}`]: tarball,
      [`/releases/download/v${VERSION}/${checksumsFileName(VERSION)}`]: Buffer.from(
        [
          `${sha256(Buffer.from('other'))}  trivy_${VERSION}_Linux-ARM64.tar.gz`,
          `${sha256(tarball)}  ${ASSET}`,
          `${sha256(Buffer.from('deb'))}  trivy_${VERSION}_Linux-64bit.deb`,
          ''
        ].join('\n')
      )
    }
  })
  afterEach(() => {
    process.env.RUNNER_TOOL_CACHE = saved.tool
    process.env.RUNNER_TEMP = saved.temp
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const installer = (pathEnv = '') =>
    new ReleaseInstaller({
      executor: quiet,
      downloadBaseUrl: baseUrl,
      platform: 'linux',
      arch: 'x64',
      pathEnv
    })

  it('downloads, verifies and caches a release, then finds it in the tool cache', async () => {
    const first = await installer().install(VERSION)
    expect(first).toEqual({
      path: path.join(dir, 'tool-cache', 'trivy', VERSION, 'x64', 'trivy'),
      version: VERSION,
      source: 'download'
    })
    expect(tc.find('trivy', VERSION, 'x64')).toBe(
      path.join(dir, 'tool-cache', 'trivy', VERSION, 'x64')
    )
    expect(hits).toEqual([
      `/releases/download/v${VERSION}/${ASSET}`,
      `/releases/download/v${VERSION}/trivy_${VERSION}_checksums.txt`
    ])
    // the installed binary runs
    const run = await quiet.run([first.path, '--version'])
    expect(run.stdout).toContain(`Version: ${VERSION}`)
    // nothing left behind in RUNNER_TEMP
    expect(fs.readdirSync(path.join(dir, 'runner-temp'))).toEqual([])

    hits = []
    const second = await installer().install(`v${VERSION}`)
    expect(second).toEqual({ ...first, source: 'tool-cache' })
    expect(hits).toEqual([])
  })

  it('refuses a tarball whose checksum does not match, and caches nothing', async () => {
    const key = `/releases/download/v${VERSION}/${ASSET}`
    files[key] = Buffer.concat([files[key] as Buffer, Buffer.from('tampered')])
    const error = await installer()
      .install(VERSION)
      .catch((e: Error) => e)
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Checksum mismatch for ${ASSET.replace(/\./g, '\\.')} downloaded from ${baseUrl.replace(/\./g, '\\.')}/v0\\.74\\.0/${ASSET.replace(/\./g, '\\.')}: expected sha256 [0-9a-f]{64}, got ${sha256(files[key] as Buffer)}\\. Nothing was installed or cached`
      )
    )
    expect(tc.find('trivy', VERSION, 'x64')).toBe('')
    expect(fs.readdirSync(path.join(dir, 'tool-cache'))).toEqual([])
    expect(fs.readdirSync(path.join(dir, 'runner-temp'))).toEqual([])
  })

  it('refuses a release whose checksums file does not list the archive', async () => {
    files[`/releases/download/v${VERSION}/${checksumsFileName(VERSION)}`] = Buffer.from(
      `${sha256(Buffer.from('x'))}  trivy_${VERSION}_macOS-ARM64.tar.gz\n`
    )
    await expect(installer().install(VERSION)).rejects.toThrow(
      `The checksums file of the Trivy release has no entry for ${ASSET}`
    )
    expect(tc.find('trivy', VERSION, 'x64')).toBe('')
  })

  it('refuses an archive whose trivy reports another version', async () => {
    const fake = path.join(dir, 'fake-trivy')
    fs.writeFileSync(fake, '#!/bin/sh\necho "Version: 0.1.0"\n', { mode: 0o755 })
    const tarball = makeTarball(dir, fake)
    files[`/releases/download/v${VERSION}/${ASSET}`] = tarball
    files[`/releases/download/v${VERSION}/${checksumsFileName(VERSION)}`] = Buffer.from(
      `${sha256(tarball)}  ${ASSET}\n`
    )
    await expect(installer().install(VERSION)).rejects.toThrow(
      `holds a trivy that reports version 0.1.0, not ${VERSION}; nothing was cached`
    )
    expect(tc.find('trivy', VERSION, 'x64')).toBe('')
  })

  it('names the URL when a version is not released', async () => {
    await expect(installer().install('0.99.0')).rejects.toThrow(
      `Could not download Trivy 0.99.0 (${baseUrl}/v0.99.0/trivy_0.99.0_Linux-64bit.tar.gz and its checksums file)`
    )
  })

  it('uses a trivy on PATH that has the requested version, without downloading', async () => {
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    fs.symlinkSync(STAND_IN, path.join(bin, 'trivy'))
    const found = await installer(bin).install(VERSION)
    expect(found).toEqual({ path: path.join(bin, 'trivy'), version: VERSION, source: 'path' })
    expect(hits).toEqual([])
  })

  it('uses whatever trivy is on PATH for "path", and explains when there is none', async () => {
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    await expect(installer(bin).install('path')).rejects.toThrow(
      'Trivy version is "path" but there is no trivy on PATH'
    )
    fs.symlinkSync(STAND_IN, path.join(bin, 'trivy'))
    expect(await installer(bin).install('path')).toEqual({
      path: path.join(bin, 'trivy'),
      version: VERSION,
      source: 'path'
    })
  })

  it('hands out a given binary', async () => {
    expect(await new GivenTrivy(STAND_IN, quiet).install()).toEqual({
      path: STAND_IN,
      version: VERSION,
      source: 'given'
    })
  })
})

describe('release names and checksums', () => {
  it.each([
    ['linux', 'x64', 'trivy_0.74.0_Linux-64bit.tar.gz'],
    ['linux', 'arm64', 'trivy_0.74.0_Linux-ARM64.tar.gz'],
    ['darwin', 'arm64', 'trivy_0.74.0_macOS-ARM64.tar.gz'],
    ['darwin', 'x64', 'trivy_0.74.0_macOS-64bit.tar.gz']
  ] as const)('%s/%s → %s', (platform, arch, name) => {
    expect(trivyAssetName('0.74.0', platform, arch)).toBe(name)
  })

  it('has no archive for Windows', () => {
    expect(() => trivyAssetName('0.74.0', 'win32', 'x64')).toThrow(
      'There is no Trivy release archive for win32/x64'
    )
  })

  it('builds GitHub release URLs', () => {
    expect(
      releaseAssetUrl(
        'https://github.com/aquasecurity/trivy/releases/download/',
        '0.74.0',
        checksumsFileName('0.74.0')
      )
    ).toBe(
      'https://github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt'
    )
  })

  it('parses goreleaser and sha256sum checksum lines', () => {
    const a = 'a'.repeat(64)
    const b = 'B'.repeat(64)
    expect(
      parseChecksums(`${a}  trivy_0.74.0_Linux-64bit.tar.gz\n${b} *trivy.deb\r\nnot a line\n\n`)
    ).toEqual(
      new Map([
        ['trivy_0.74.0_Linux-64bit.tar.gz', a],
        ['trivy.deb', 'b'.repeat(64)]
      ])
    )
  })

  it('verifies a file against its line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sum-'))
    const file = path.join(dir, 'x.tar.gz')
    fs.writeFileSync(file, 'content')
    const good = `${sha256(Buffer.from('content'))}  x.tar.gz\n`
    expect(verifyChecksum(file, 'x.tar.gz', good, 'u')).toBe(sha256(Buffer.from('content')))
    expect(() => verifyChecksum(file, 'x.tar.gz', `${'0'.repeat(64)}  x.tar.gz`, 'u')).toThrow(
      'Checksum mismatch for x.tar.gz downloaded from u'
    )
    fs.rmSync(dir, { recursive: true })
  })

  it.each([
    ['0.74.0', '0.74.0'],
    ['v0.74.0', '0.74.0'],
    [' path ', 'path']
  ])('accepts the version %j', (input, version) => {
    expect(normalizeTrivyVersion(input)).toBe(version)
  })

  it.each([
    ['latest', 'is not a release like'],
    ['0.74', 'is not a release like'],
    ['0.50.0', 'Trivy 0.50.0 is too old for stack-deploy (it needs 0.53.0 or later)']
  ])('rejects the version %j', (input, message) => {
    expect(() => normalizeTrivyVersion(input)).toThrow(message)
  })

  it('pins a default', () => {
    expect(DEFAULT_TRIVY_VERSION).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
