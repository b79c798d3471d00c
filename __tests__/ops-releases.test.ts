/**
 * `command: releases`: what a host's listing, `current`, manifests and backups/ become (newest
 * first, the live one marked, each backup with the release it was taken for), and how it is
 * printed; then the same read over the fake host session, command by command.
 */
import { parseBackupFileName } from '../src/deploy/commands.js'
import { hostContext } from '../src/deploy/host.js'
import { composeRuntime } from '../src/deploy/compose-runtime.js'
import type { Manifest } from '../src/deploy/release.js'
import {
  readHostReleases,
  releaseEntries,
  releasesMarkdown,
  renderReleasesText,
  type HostReleases
} from '../src/ops/releases.js'
import { parseInputs } from '../src/inputs.js'
import { MemoryReporter } from '../src/report/reporter.js'
import { FakeSession } from './support/fake-session.js'
import { settingsWith } from './support/host-settings.js'

const OLD = '20261120T100000.000Z-aaaaaaa'
const MID = '20261121T100000.000Z-bbbbbbb'
const NEW = '20261122T100000.000Z-ccccccc'
const BACKUPS = '/srv/sd/shop/backups'

function manifest(id: string, over: Partial<Manifest> = {}): Partial<Manifest> {
  return {
    release: id,
    sha: `${id.slice(-7)}0123456789abcdef0123456789abcdef0`,
    actor: 'octocat',
    createdAt: '2026-11-22T10:00:00.000Z',
    runUrl: undefined,
    images: { api: `r/api@sha256:${'1'.repeat(64)}` },
    ...over
  }
}

describe('parseBackupFileName', () => {
  it.each([
    [`${NEW}-postgres.sql.gz`, { releaseId: NEW, service: 'postgres' }],
    // A service name with dashes: the release id has none after its commit.
    [`${NEW}-main-db.sql.gz`, { releaseId: NEW, service: 'main-db' }],
    [
      '20261122T100000Z-abc1234-postgres.sql.gz',
      { releaseId: '20261122T100000Z-abc1234', service: 'postgres' }
    ],
    [`${NEW}-postgres.sql.gz.AbC123`, undefined],
    ['notes.txt', undefined],
    [`../${NEW}-postgres.sql.gz`, undefined]
  ])('%s', (name, expected) => {
    expect(parseBackupFileName(name)).toEqual(expected)
  })
})

describe('releaseEntries', () => {
  const manifests = new Map<string, Partial<Manifest> | undefined>([
    [OLD, manifest(OLD)],
    [
      MID,
      manifest(MID, {
        backup: { service: 'postgres', file: `${BACKUPS}/${MID}-postgres.sql.gz`, bytes: 4096 }
      })
    ],
    [NEW, undefined]
  ])

  it('lists newest first, marks the live one, and puts each backup with the release it was taken for', () => {
    const entries = releaseEntries(
      [OLD, NEW, MID],
      MID,
      manifests,
      [`${MID}-postgres.sql.gz`, `${NEW}-postgres.sql.gz`, 'stray.tmp', ''],
      BACKUPS
    )
    expect(entries.map(e => [e.id, e.live, e.complete])).toEqual([
      [NEW, false, false],
      [MID, true, true],
      [OLD, false, true]
    ])
    // The manifest's size when it recorded this very file; none for a release without one.
    expect(entries[1]?.backups).toEqual([
      { service: 'postgres', file: `${BACKUPS}/${MID}-postgres.sql.gz`, bytes: 4096 }
    ])
    expect(entries[0]?.backups).toEqual([
      { service: 'postgres', file: `${BACKUPS}/${NEW}-postgres.sql.gz`, bytes: undefined }
    ])
    expect(entries[2]?.backups).toEqual([])
    expect(entries[1]).toMatchObject({ sha: manifest(MID).sha, actor: 'octocat' })
  })

  it('is empty for a host with nothing deployed', () => {
    expect(releaseEntries([], undefined, new Map(), [], BACKUPS)).toEqual([])
  })
})

describe('rendering', () => {
  const hosts: HostReleases[] = [
    {
      host: 'deploy@h1',
      live: MID,
      releases: releaseEntries(
        [OLD, MID],
        MID,
        new Map([
          [OLD, manifest(OLD, { actor: 'a|b\nc\u001b[31m' })],
          [MID, manifest(MID)]
        ]),
        [`${MID}-postgres.sql.gz`],
        BACKUPS
      )
    },
    { host: 'deploy@h2', live: undefined, releases: [] }
  ]

  it('prints one line per release, each with its host, the live one starred', () => {
    const lines = renderReleasesText(hosts).trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(new RegExp(`^\\[deploy@h1\\] \\* ${MID}  bbbbbbb by octocat at `))
    expect(lines[0]).toContain(`backup postgres: ${BACKUPS}/${MID}-postgres.sql.gz`)
    expect(lines[1]).toMatch(new RegExp(`^\\[deploy@h1\\]   ${OLD}  aaaaaaa by `))
    expect(lines[2]).toBe('[deploy@h2] no releases')
    // The manifest's newline and escape sequence neither split the line nor reach the terminal.
    expect(lines[1]).toContain('by a|b c [31m at')
  })

  it('keeps a table cell a cell, whatever the actor says', () => {
    const markdown = releasesMarkdown(hosts)
    expect(markdown).toContain('| live | `' + MID + '` | `bbbbbbb` | octocat |')
    expect(markdown).toContain('a\\|b c')
    expect(markdown).toContain('### deploy@h2\n\nNo releases.')
  })
})

describe('readHostReleases on a host', () => {
  const settings = settingsWith({ jobs: [], rollingServices: [], sha: '' })

  it('reads the listing, current, every manifest and backups/, and changes nothing', async () => {
    const session = new FakeSession(argv => {
      const text = argv.join(' ')
      if (text === 'ls -1 /srv/sd/shop/releases') return { stdout: `${OLD}\n${MID}\ncurrent.new\n` }
      if (text === 'readlink /srv/sd/shop/current')
        return { stdout: `/srv/sd/shop/releases/${MID}\n` }
      if (text === `ls -1 ${BACKUPS}`) return { stdout: `${MID}-postgres.sql.gz\n` }
      if (argv[0] === 'cat' && text.includes(OLD)) return { stdout: JSON.stringify(manifest(OLD)) }
      if (argv[0] === 'cat' && text.includes(MID)) return { stdout: '{ not json' }
      return { exitCode: 1, stderr: 'unexpected' }
    })
    const ctx = hostContext({
      session,
      settings,
      reporter: new MemoryReporter(),
      runtime: composeRuntime,
      releaseId: undefined
    })
    const found = await readHostReleases(ctx)
    expect(found.host).toBe('deploy@h1')
    expect(found.live).toBe(MID)
    expect(found.releases.map(r => [r.id, r.live, r.complete, r.backups.length])).toEqual([
      [MID, true, false, 1],
      [OLD, false, true, 0]
    ])
    // Only reads: nothing written, no lock taken.
    expect(session.labels().every(label => /^(ls|readlink|cat) /.test(label))).toBe(true)
  })
})

describe('the releases command', () => {
  const base: Record<string, string> = {
    command: 'releases',
    'compose-files': 'compose.yaml',
    'deploy-path': '/srv/stack-deploy',
    'ssh-port': '22',
    'connect-timeout': '15'
  }
  it('needs the hosts, the key and the pinned host keys, as a deploy does', () => {
    expect(() => parseInputs(name => base[name] ?? '')).toThrow(/hosts/)
  })
})
