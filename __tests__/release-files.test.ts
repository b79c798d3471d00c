import { projectFilesWith } from './support/project-files.js'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  planProjectFiles,
  type FileEntry,
  type ProjectFiles
} from '../src/compose/project-files.js'
import { filesSummary } from '../src/report/deploy-summary.js'
import { createTarballArgv, projectTreeCommands } from '../src/deploy/commands.js'
import {
  FILES_OVERRIDE,
  IMAGES_OVERRIDE,
  TREE,
  hostLocations,
  linkListText,
  manifestFileMap,
  objectListText,
  objectsToPrune,
  releaseComposeOf,
  splitUnchanged,
  tarMemberList
} from '../src/deploy/release-files.js'
import { releaseLayout } from '../src/deploy/release.js'

const sha = (content: string): string => createHash('sha256').update(content).digest('hex')

function file(p: string, content: string, mode = 0o644): FileEntry {
  return { path: p, type: 'file', mode, size: Buffer.byteLength(content), sha256: sha(content) }
}

function symlink(p: string, target: string): FileEntry {
  return { path: p, type: 'symlink', mode: 0o777, size: 0, sha256: sha(target), linkTarget: target }
}

function dir(p: string, mode = 0o755): FileEntry {
  return { path: p, type: 'dir', mode, size: 0, sha256: '' }
}

function projectFiles(overrides: Partial<ProjectFiles> = {}): ProjectFiles {
  return projectFilesWith({
    shipped: [{ relative: 'compose.yaml', usedBy: ['compose file'] }],
    ...overrides
  })
}

describe('releaseComposeOf', () => {
  it('addresses the project inside the release’s tree, with both overrides and the profiles', () => {
    const profiles = ['tools', 'debug']
    const compose = releaseComposeOf(
      projectFiles({
        composeFiles: ['compose.yaml', 'deploy/compose.prod.yaml'],
        envFiles: ['.env']
      }),
      profiles
    )
    expect(compose).toEqual({
      projectDirectory: 'project',
      composeFiles: ['project/compose.yaml', 'project/deploy/compose.prod.yaml'],
      envFiles: ['project/.env'],
      overrides: ['images.override.yaml', 'files.override.yaml'],
      profiles: ['tools', 'debug']
    })
    expect(compose.profiles).not.toBe(profiles)
    expect([TREE, IMAGES_OVERRIDE, FILES_OVERRIDE]).toEqual([
      'project',
      'images.override.yaml',
      'files.override.yaml'
    ])
  })

  it('keeps a project directory below the root', () => {
    expect(
      releaseComposeOf(
        projectFiles({
          projectDirectory: 'deploy',
          composeFiles: ['deploy/compose.yaml'],
          envFiles: ['deploy/.env']
        }),
        []
      )
    ).toEqual({
      projectDirectory: 'project/deploy',
      composeFiles: ['project/deploy/compose.yaml'],
      envFiles: ['project/deploy/.env'],
      overrides: ['images.override.yaml', 'files.override.yaml'],
      profiles: []
    })
  })
})

describe('manifestFileMap and splitUnchanged', () => {
  const entries = [
    file('compose.yaml', 'services: {}\n'),
    file('nginx/run.sh', '#!/bin/sh\n', 0o755),
    file('secret-ish/readme', 'r', 0o600),
    symlink('nginx/enabled.conf', 'app.conf')
  ]

  it('records each file’s hash and four-digit octal mode, a symlink’s target hash', () => {
    expect(manifestFileMap(entries)).toEqual({
      'compose.yaml': `${sha('services: {}\n')}:0644`,
      'nginx/run.sh': `${sha('#!/bin/sh\n')}:0755`,
      'secret-ish/readme': `${sha('r')}:0600`,
      'nginx/enabled.conf': `link:${sha('app.conf')}`
    })
    expect(manifestFileMap([])).toEqual({})
  })

  it('sends everything when there is no previous release', () => {
    expect(splitUnchanged(entries, undefined)).toEqual({ link: [], send: entries })
  })

  it('links files with the same hash and mode, and sends changed, new and symlinked ones', () => {
    const previous = {
      ...manifestFileMap(entries),
      'nginx/run.sh': `${sha('#!/bin/sh\n')}:0644`, // the mode changed since
      'secret-ish/readme': `${sha('old')}:0600`, // the content changed since
      'gone.txt': `${sha('x')}:0644`
    }
    const current = [...entries, file('new.txt', 'n')]
    const { link, send } = splitUnchanged(current, previous)
    expect(link.map(e => e.path)).toEqual(['compose.yaml'])
    expect(send.map(e => e.path)).toEqual([
      'nginx/run.sh',
      'secret-ish/readme',
      'nginx/enabled.conf',
      'new.txt'
    ])
  })

  it('records a folder as `dir:` and its four-digit octal mode', () => {
    expect(
      manifestFileMap([dir('conf', 0o750), dir('conf/empty', 0o555), dir('x', 0o7), ...entries])
    ).toEqual({
      conf: 'dir:0750',
      'conf/empty': 'dir:0555',
      x: 'dir:0007',
      'compose.yaml': `${sha('services: {}\n')}:0644`,
      'nginx/run.sh': `${sha('#!/bin/sh\n')}:0755`,
      'secret-ish/readme': `${sha('r')}:0600`,
      'nginx/enabled.conf': `link:${sha('app.conf')}`
    })
  })

  it('always sends folders, unchanged or not, and never mistakes a folder for a file', () => {
    const current = [dir('conf', 0o750), dir('conf/empty'), dir('new'), file('conf/a.conf', 'a')]
    const previous = {
      ...manifestFileMap(current),
      'conf/empty': 'dir:0700', // the mode changed since
      new: `${sha('a')}:0755` // was a file
    }
    expect(splitUnchanged(current, previous)).toEqual({
      link: [file('conf/a.conf', 'a')],
      send: [dir('conf', 0o750), dir('conf/empty'), dir('new')]
    })
    expect(splitUnchanged(current, undefined)).toEqual({ link: [], send: current })
    // A file where the previous release had a folder of the same name is sent.
    expect(
      splitUnchanged([file('conf', 'a', 0o755)], { conf: 'dir:0755' }).send.map(e => e.path)
    ).toEqual(['conf'])
  })

  it('never links a symlink, even unchanged, nor a file that was a symlink', () => {
    const previous = {
      'a.conf': `link:${sha('b.conf')}`,
      'b.conf': `link:${sha('x')}`
    }
    const { link, send } = splitUnchanged(
      [symlink('a.conf', 'b.conf'), file('b.conf', 'x')],
      previous
    )
    expect(link).toEqual([])
    expect(send.map(e => e.path)).toEqual(['a.conf', 'b.conf'])
  })
})

describe('script inputs', () => {
  it('lists files to link as `<sha256> <path>` lines', () => {
    expect(linkListText([file('a b/c.txt', 'c'), file('-d', 'd')])).toBe(
      `${sha('c')} a b/c.txt\n${sha('d')} -d\n`
    )
    expect(linkListText([])).toBe('')
  })

  it('lists the tarball’s members: each parent folder once, before the files, NUL-separated', () => {
    const list = tarMemberList([
      file('b/c/d.txt', 'd'),
      file('a.txt', 'a'),
      file('b/e.txt', 'e'),
      symlink('b/c/f', 'd.txt'),
      file('b-side/g', 'g'),
      file('x/y/z/w.txt', 'w')
    ])
    expect(list.endsWith('\0')).toBe(true)
    expect(list.split('\0').slice(0, -1)).toEqual([
      'b',
      'b-side',
      'b/c',
      'x',
      'x/y',
      'x/y/z',
      'b/c/d.txt',
      'a.txt',
      'b/e.txt',
      'b/c/f',
      'b-side/g',
      'x/y/z/w.txt'
    ])
    expect(tarMemberList([])).toBe('')
  })

  it('lists folder entries with the parent folders, each once, before the other members', () => {
    const list = tarMemberList([
      file('compose.yaml', 'c'),
      dir('nginx/conf.d', 0o750),
      file('nginx/conf.d/app.conf', 'a'),
      dir('nginx/conf.d/empty', 0o555),
      symlink('nginx/conf.d/enabled.conf', 'app.conf'),
      dir('certs', 0o500),
      dir('x/y/z')
    ])
    expect(list.split('\0').slice(0, -1)).toEqual([
      'certs',
      'nginx',
      'nginx/conf.d',
      'nginx/conf.d/empty',
      'x',
      'x/y',
      'x/y/z',
      'compose.yaml',
      'nginx/conf.d/app.conf',
      'nginx/conf.d/enabled.conf'
    ])
    expect(tarMemberList([dir('empty')])).toBe('empty\0')
  })

  it('lists objects as `<name> <link|copy> <path>` lines', () => {
    expect(
      objectListText(
        projectFiles({
          objects: [
            { name: '0123456789abcdef-conf.d', relative: 'nginx/conf.d', writable: false },
            { name: 'fedcba9876543210-seed.json', relative: 'data/my seed.json', writable: true }
          ]
        })
      )
    ).toBe(
      '0123456789abcdef-conf.d link nginx/conf.d\nfedcba9876543210-seed.json copy data/my seed.json\n'
    )
    expect(objectListText(projectFiles())).toBe('')
  })

  it('places objects in store/, persistent folders in shared/, secrets in the release', () => {
    const where = hostLocations(releaseLayout('/srv/sd', 'shop', '20261121T220130Z-abcdef0'))
    expect(where.object('0123456789abcdef-conf.d', 'nginx/conf.d')).toBe(
      '/srv/sd/shop/store/0123456789abcdef-conf.d'
    )
    expect(where.shared('logs/api')).toBe('/srv/sd/shop/shared/logs/api')
    expect(where.secret('db_password')).toBe(
      '/srv/sd/shop/releases/20261121T220130Z-abcdef0/secrets/db_password'
    )
  })
})

describe('objectsToPrune', () => {
  it('prunes only object names that no kept release mounts', () => {
    expect(
      objectsToPrune(
        [
          'fedcba9876543210-nginx.conf',
          '0123456789abcdef-conf.d',
          'aaaaaaaaaaaaaaaa-kept',
          '.new-0123456789abcdef-conf.d.4242',
          'README',
          '0123456789ABCDEF-upper',
          '0123456789abcde-short',
          '0123456789abcdef0-long',
          '0123456789abcdef'
        ],
        [['aaaaaaaaaaaaaaaa-kept'], undefined, ['bbbbbbbbbbbbbbbb-gone']]
      )
    ).toEqual(['0123456789abcdef-conf.d', 'fedcba9876543210-nginx.conf'])
  })

  it('prunes nothing when every object is kept or nothing is there', () => {
    expect(objectsToPrune(['0123456789abcdef-a'], [['0123456789abcdef-a']])).toEqual([])
    expect(objectsToPrune([], [undefined])).toEqual([])
  })
})

describe('filesSummary', () => {
  const full = projectFiles({
    composeFiles: ['compose.yaml', 'compose.prod.yaml'],
    shipped: [
      { relative: 'compose.prod.yaml', usedBy: ['compose file'] },
      { relative: 'compose.yaml', usedBy: ['compose file'] },
      { relative: '.env', usedBy: ['the project .env (interpolation)'] },
      { relative: 'nginx/conf.d', usedBy: ['service web (/etc/nginx/conf.d)'] }
    ],
    persistent: [
      { relative: 'logs', services: ['api', 'worker'], filesHere: 0 },
      { relative: 'uploads', services: ['api'], filesHere: 3 }
    ],
    hostPaths: [
      { path: '/etc/letsencrypt', usedBy: 'service web (/etc/letsencrypt)', required: true }
    ],
    secrets: [
      { name: 'db_password', relative: undefined, services: ['api'] },
      { name: 'tls_key', relative: 'secrets/tls.key', services: ['web'] }
    ]
  })

  it('says what was shipped, sent, kept, left on the host and which secret files', () => {
    expect(filesSummary(full, { sent: 3, linked: 12, bytesSent: 2048 }).split('  \n')).toEqual([
      'Shipped with the release: 2 compose file(s), `.env`, `nginx/conf.d` (3 file(s) sent, 2048 bytes; 12 unchanged, hard-linked)',
      'Persistent, in `shared/` (kept across releases): `logs` (api, worker), `uploads` (api)',
      'Host paths, left as they are: `/etc/letsencrypt` (service web (/etc/letsencrypt))',
      'Secret files (0400): `db_password`, `tls_key`'
    ])
  })

  it('leaves out the counts before an upload, and what a project does not have', () => {
    expect(filesSummary(full, undefined).split('  \n')[0]).toBe(
      'Shipped with the release: 2 compose file(s), `.env`, `nginx/conf.d`'
    )
    expect(filesSummary(projectFiles(), undefined)).toBe(
      'Shipped with the release: 1 compose file(s)'
    )
  })

  it('never names a secret’s path or content', () => {
    const text = filesSummary(full, { sent: 1, linked: 0, bytesSent: 1 })
    expect(text).not.toContain('secrets/tls.key')
  })
})

// The bash scripts a deploy runs on the host, run here: `bash -c SCRIPT stack-deploy ARGS`.
describe('project tree scripts (run locally)', () => {
  const made: string[] = []
  afterAll(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
  })
  const tmp = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-release-files-'))
    made.push(dir)
    return dir
  }
  const run = (
    argv: string[],
    input: string | Buffer = '',
    cwd?: string
  ): { status: number | null; stdout: string; stderr: string } => {
    expect(argv.slice(0, 2)).toEqual(['bash', '-c'])
    expect(argv[3]).toBe('stack-deploy')
    const result = spawnSync(argv[0] as string, argv.slice(1), { input, cwd, encoding: 'utf8' })
    return { status: result.status, stdout: result.stdout, stderr: result.stderr }
  }
  const write = (file: string, content: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, content)
    fs.chmodSync(file, mode)
  }
  const ino = (file: string): number => fs.lstatSync(file).ino
  const layouts = () => {
    const base = tmp()
    return {
      base,
      previous: releaseLayout(base, 'shop', '20260101T000000Z-aaaaaaa'),
      layout: releaseLayout(base, 'shop', '20260102T000000Z-bbbbbbb')
    }
  }

  it('makeDirs makes the tree and a 0700 secrets folder, and can run again', () => {
    const { layout } = layouts()
    expect(run(projectTreeCommands.makeDirs(layout)).status).toBe(0)
    expect(fs.statSync(layout.tree).isDirectory()).toBe(true)
    expect(fs.statSync(layout.secrets).mode & 0o777).toBe(0o700)
    expect(run(projectTreeCommands.makeDirs(layout)).status).toBe(0)
  })

  it('linkUnchanged hard-links files whose content matches and prints the others', () => {
    const { base, previous, layout } = layouts()
    const names = {
      same: 'nginx/conf.d/app.conf',
      spaced: 'dir with space/-dash file.txt',
      dashed: '-n.txt',
      subst: '$(touch pwned).txt',
      backtick: '`touch pwned2`.txt',
      backslash: 'back\\slash.txt',
      edited: 'edited.txt',
      link: 'enabled.conf',
      gone: 'gone.txt'
    }
    for (const [key, name] of Object.entries(names))
      if (key !== 'link' && key !== 'gone') write(path.join(previous.tree, name), `${key}\n`)
    write(path.join(previous.tree, names.edited), 'edited on the host\n')
    fs.symlinkSync('nginx/conf.d/app.conf', path.join(previous.tree, names.link))
    fs.mkdirSync(layout.tree, { recursive: true })

    const list = Object.entries(names).map(([key, name]) =>
      // The symlink's entry claims its target's content: it must still not be linked.
      file(name, key === 'link' ? 'same\n' : `${key}\n`)
    )
    const result = run(
      projectTreeCommands.linkUnchanged(previous.tree, layout),
      linkListText(list),
      base
    )
    expect(result.status).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toBe(`${names.edited}\n${names.link}\n${names.gone}\n`)
    for (const key of ['same', 'spaced', 'dashed', 'subst', 'backtick', 'backslash'] as const) {
      const name = names[key]
      expect([name, ino(path.join(layout.tree, name))]).toEqual([
        name,
        ino(path.join(previous.tree, name))
      ])
      expect(fs.readFileSync(path.join(layout.tree, name), 'utf8')).toBe(`${key}\n`)
    }
    for (const name of [names.edited, names.link, names.gone])
      expect(fs.existsSync(path.join(layout.tree, name))).toBe(false)
    // Names stay literal: nothing was run.
    for (const dir of [base, previous.tree, layout.tree])
      expect(fs.readdirSync(dir).filter(n => n.startsWith('pwned'))).toEqual([])
  })

  it('linkUnchanged links nothing from a legacy release without a tree', () => {
    const { previous, layout } = layouts()
    fs.mkdirSync(layout.tree, { recursive: true })
    const result = run(
      projectTreeCommands.linkUnchanged(previous.tree, layout),
      linkListText([file('a', 'a'), file('b/c', 'c')])
    )
    expect(result).toEqual({ status: 0, stdout: 'a\nb/c\n', stderr: '' })
    expect(fs.readdirSync(layout.tree)).toEqual([])
  })

  it('makeObjects links read-only objects, copies writable ones, and keeps existing ones', () => {
    const { layout } = layouts()
    write(path.join(layout.tree, 'nginx/conf.d/app.conf'), 'server {}\n')
    write(path.join(layout.tree, 'nginx/conf.d/sub/b.conf'), 'b\n', 0o600)
    write(path.join(layout.tree, 'data/my seed.json'), '{}\n', 0o664)
    write(path.join(layout.tree, '-odd/x'), 'x\n')
    write(path.join(layout.store, '2222222222222222-exists/marker'), 'kept\n')
    const files = projectFiles({
      objects: [
        { name: '0123456789abcdef-conf.d', relative: 'nginx/conf.d', writable: false },
        { name: '1111111111111111-my_seed.json', relative: 'data/my seed.json', writable: true },
        { name: '2222222222222222-exists', relative: 'nginx/conf.d', writable: false },
        { name: '3333333333333333--odd', relative: '-odd', writable: false }
      ]
    })
    const first = run(projectTreeCommands.makeObjects(layout), objectListText(files))
    expect(first).toEqual({ status: 0, stdout: '', stderr: '' })
    const inStore = (p: string): string => path.join(layout.store, p)
    const inTree = (p: string): string => path.join(layout.tree, p)
    expect(ino(inStore('0123456789abcdef-conf.d/app.conf'))).toBe(
      ino(inTree('nginx/conf.d/app.conf'))
    )
    expect(ino(inStore('0123456789abcdef-conf.d/sub/b.conf'))).toBe(
      ino(inTree('nginx/conf.d/sub/b.conf'))
    )
    expect(ino(inStore('3333333333333333--odd/x'))).toBe(ino(inTree('-odd/x')))
    const copy = inStore('1111111111111111-my_seed.json')
    expect(ino(copy)).not.toBe(ino(inTree('data/my seed.json')))
    expect(fs.readFileSync(copy, 'utf8')).toBe('{}\n')
    expect(fs.statSync(copy).mode & 0o777).toBe(0o664)
    expect(fs.readdirSync(inStore('2222222222222222-exists'))).toEqual(['marker'])
    expect(fs.readdirSync(layout.store).sort()).toEqual([
      '0123456789abcdef-conf.d',
      '1111111111111111-my_seed.json',
      '2222222222222222-exists',
      '3333333333333333--odd'
    ])
    // Again: every object exists, nothing changes.
    fs.writeFileSync(copy, 'written by the container\n')
    expect(run(projectTreeCommands.makeObjects(layout), objectListText(files)).status).toBe(0)
    expect(fs.readFileSync(copy, 'utf8')).toBe('written by the container\n')
    expect(fs.readdirSync(layout.store).filter(n => n.startsWith('.new-'))).toEqual([])
  })

  it('makeObjects fails, leaving no object, when the source is not in the tree', () => {
    const { layout } = layouts()
    fs.mkdirSync(layout.tree, { recursive: true })
    const result = run(projectTreeCommands.makeObjects(layout), '0123456789abcdef-ssl link ssl\n')
    expect(result.status).not.toBe(0)
    expect(result.stderr).toMatch(/ssl/)
    expect(fs.readdirSync(layout.store)).toEqual([])
  })

  it('makeShared makes nested persistent folders, keeps their content, refuses a file', () => {
    const { layout } = layouts()
    const relatives = ['uploads', 'logs/api', 'database/backups', 'dir with space', '-x']
    expect(run(projectTreeCommands.makeShared(layout, relatives))).toEqual({
      status: 0,
      stdout: '',
      stderr: ''
    })
    for (const relative of relatives)
      expect(fs.statSync(path.join(layout.shared, relative)).isDirectory()).toBe(true)
    write(path.join(layout.shared, 'uploads/photo.jpg'), 'jpg')
    expect(run(projectTreeCommands.makeShared(layout, relatives)).status).toBe(0)
    expect(fs.readFileSync(path.join(layout.shared, 'uploads/photo.jpg'), 'utf8')).toBe('jpg')

    write(path.join(layout.shared, 'blocked'), 'a file')
    const refused = run(projectTreeCommands.makeShared(layout, ['later', 'blocked', 'never']))
    expect(refused.status).toBe(1)
    expect(refused.stderr).toBe(`${layout.shared}/blocked exists and is not a folder\n`)
    expect(fs.existsSync(path.join(layout.shared, 'later'))).toBe(true)
    expect(fs.existsSync(path.join(layout.shared, 'never'))).toBe(false)
  })

  it('missingPaths prints only the paths that do not exist', () => {
    const base = tmp()
    write(path.join(base, 'here.txt'), 'x')
    fs.mkdirSync(path.join(base, 'a dir'))
    fs.symlinkSync('nowhere', path.join(base, 'dangling'))
    const paths = ['here.txt', 'missing', 'a dir', 'no such dir', 'dangling', '-e', '$(id)'].map(
      p => path.join(base, p)
    )
    expect(run(projectTreeCommands.missingPaths(paths))).toEqual({
      status: 0,
      stdout: ['missing', 'no such dir', 'dangling', '-e', '$(id)']
        .map(p => `${path.join(base, p)}\n`)
        .join(''),
      stderr: ''
    })
    expect(run(projectTreeCommands.missingPaths([]))).toEqual({ status: 0, stdout: '', stderr: '' })
  })

  it('extract unpacks a tarball of the listed members with their modes and symlinks', () => {
    const root = tmp()
    write(path.join(root, 'compose.yaml'), 'services: {}\n')
    write(path.join(root, 'conf/app.conf'), 'server {}\n', 0o640)
    write(path.join(root, 'conf/bin/run.sh'), '#!/bin/sh\n', 0o755)
    write(path.join(root, 'dir with space/-x.txt'), 'x\n', 0o600)
    write(path.join(root, 'not-listed.txt'), 'left here\n')
    fs.symlinkSync('app.conf', path.join(root, 'conf/link.conf'))
    fs.chmodSync(path.join(root, 'conf'), 0o750)
    fs.chmodSync(path.join(root, 'conf/bin'), 0o700)
    const entries = [
      file('compose.yaml', 'services: {}\n'),
      file('conf/app.conf', 'server {}\n', 0o640),
      file('conf/bin/run.sh', '#!/bin/sh\n', 0o755),
      symlink('conf/link.conf', 'app.conf'),
      file('dir with space/-x.txt', 'x\n', 0o600)
    ]
    const tarball = spawnSync(
      createTarballArgv(root)[0] as string,
      createTarballArgv(root).slice(1),
      {
        input: tarMemberList(entries)
      }
    )
    expect(tarball.stderr.toString()).toBe('')
    expect(tarball.status).toBe(0)

    const { layout } = layouts()
    expect(run(projectTreeCommands.makeDirs(layout)).status).toBe(0)
    const result = run(projectTreeCommands.extract(layout), tarball.stdout)
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' })
    const mode = (p: string): number => fs.lstatSync(path.join(layout.tree, p)).mode & 0o777
    expect(mode('conf')).toBe(0o750)
    expect(mode('conf/bin')).toBe(0o700)
    expect(mode('conf/app.conf')).toBe(0o640)
    expect(mode('conf/bin/run.sh')).toBe(0o755)
    expect(mode('dir with space/-x.txt')).toBe(0o600)
    expect(mode('compose.yaml')).toBe(0o644)
    expect(fs.readlinkSync(path.join(layout.tree, 'conf/link.conf'))).toBe('app.conf')
    expect(fs.readFileSync(path.join(layout.tree, 'conf/link.conf'), 'utf8')).toBe('server {}\n')
    expect(fs.existsSync(path.join(layout.tree, 'not-listed.txt'))).toBe(false)
  })

  it('extract makes the listed folders, empty ones too, with their modes', () => {
    const root = tmp()
    write(path.join(root, 'conf/app.conf'), 'server {}\n', 0o640)
    for (const folder of ['conf/empty', 'certs', 'deep/er/est'])
      fs.mkdirSync(path.join(root, folder), { recursive: true })
    const modes: Record<string, number> = {
      'conf/empty': 0o555,
      conf: 0o750,
      certs: 0o500,
      'deep/er/est': 0o700
    }
    for (const [folder, mode] of Object.entries(modes)) fs.chmodSync(path.join(root, folder), mode)
    const entries = [
      dir('certs', 0o500),
      dir('conf', 0o750),
      file('conf/app.conf', 'server {}\n', 0o640),
      dir('conf/empty', 0o555),
      dir('deep/er/est', 0o700)
    ]
    const argv = createTarballArgv(root)
    const tarball = spawnSync(argv[0] as string, argv.slice(1), { input: tarMemberList(entries) })
    expect(tarball.stderr.toString()).toBe('')
    expect(tarball.status).toBe(0)
    // Each folder is one member: no folder is listed twice, none is recursed into.
    const listed = spawnSync('tar', ['-t', '-f', '-'], { input: tarball.stdout })
    expect(listed.stdout.toString().split('\n').filter(Boolean)).toEqual([
      'certs/',
      'conf/',
      'conf/empty/',
      'deep/',
      'deep/er/',
      'deep/er/est/',
      'conf/app.conf'
    ])

    const { layout } = layouts()
    expect(run(projectTreeCommands.makeDirs(layout)).status).toBe(0)
    expect(run(projectTreeCommands.extract(layout), tarball.stdout)).toEqual({
      status: 0,
      stdout: '',
      stderr: ''
    })
    const inTree = (p: string): string => path.join(layout.tree, p)
    for (const [folder, mode] of Object.entries(modes)) {
      expect([folder, fs.lstatSync(inTree(folder)).isDirectory()]).toEqual([folder, true])
      expect([folder, fs.lstatSync(inTree(folder)).mode & 0o777]).toEqual([folder, mode])
    }
    expect(fs.readdirSync(inTree('conf/empty'))).toEqual([])
    expect(fs.readdirSync(inTree('certs'))).toEqual([])
    expect(fs.readdirSync(inTree('conf')).sort()).toEqual(['app.conf', 'empty'])
    expect(fs.lstatSync(inTree('conf/app.conf')).mode & 0o777).toBe(0o640)
  })

  it('round-trips a planned project through two deploys: link, send, objects', () => {
    const root = tmp()
    write(path.join(root, 'compose.yaml'), 'services: {}\n')
    write(path.join(root, 'nginx/conf.d/app.conf'), 'server {}\n', 0o640)
    write(path.join(root, 'nginx/conf.d/extra.conf'), 'extra\n')
    write(path.join(root, 'data/seed.json'), '{}\n')
    fs.symlinkSync('app.conf', path.join(root, 'nginx/conf.d/enabled.conf'))
    fs.mkdirSync(path.join(root, 'nginx/conf.d/empty.d'))
    fs.chmodSync(path.join(root, 'nginx/conf.d/empty.d'), 0o700)
    fs.chmodSync(path.join(root, 'nginx/conf.d'), 0o750)
    // An empty read-only folder: before folders were listed, it never reached the tree and the
    // objects step failed with `cp: cannot stat`.
    fs.mkdirSync(path.join(root, 'certs'))
    fs.chmodSync(path.join(root, 'certs'), 0o555)
    const planned = (): ProjectFiles =>
      planProjectFiles({
        root,
        composeFiles: ['compose.yaml'],
        closure: { composeFiles: [path.join(root, 'compose.yaml')], includeEnvFiles: [] },
        references: [
          {
            path: path.join(root, 'nginx/conf.d'),
            writtenAbsolute: false,
            use: {
              kind: 'bind',
              service: 'web',
              target: '/etc/nginx/conf.d',
              readOnly: true,
              options: {}
            }
          },
          {
            path: path.join(root, 'certs'),
            writtenAbsolute: false,
            use: { kind: 'bind', service: 'web', target: '/certs', readOnly: true, options: {} }
          },
          {
            path: path.join(root, 'data/seed.json'),
            writtenAbsolute: false,
            use: {
              kind: 'bind',
              service: 'api',
              target: '/seed.json',
              readOnly: false,
              options: {}
            }
          }
        ],
        rules: new Map(),
        uses: {}
      })
    const { previous, layout } = layouts()
    const deploy = (
      files: ProjectFiles,
      into: typeof layout,
      before: Record<string, string> | undefined
    ): { linked: number; sent: string[] } => {
      expect(run(projectTreeCommands.makeDirs(into)).status).toBe(0)
      const { link, send } = splitUnchanged(files.entries, before)
      let notLinked: string[] = []
      if (link.length > 0) {
        const linked = run(
          projectTreeCommands.linkUnchanged(previous.tree, into),
          linkListText(link)
        )
        expect(linked.status).toBe(0)
        notLinked = linked.stdout.split('\n').filter(Boolean)
      }
      const toSend = [...send, ...link.filter(e => notLinked.includes(e.path))]
      const argv = createTarballArgv(files.root)
      const tarball = spawnSync(argv[0] as string, argv.slice(1), { input: tarMemberList(toSend) })
      expect(tarball.status).toBe(0)
      expect(run(projectTreeCommands.extract(into), tarball.stdout).status).toBe(0)
      expect(run(projectTreeCommands.makeObjects(into), objectListText(files)).status).toBe(0)
      return { linked: link.length - notLinked.length, sent: toSend.map(e => e.path) }
    }

    const one = planned()
    expect(one.entries.filter(e => e.type === 'dir')).toEqual([
      { path: 'certs', type: 'dir', mode: 0o555, size: 0, sha256: '' },
      { path: 'nginx/conf.d', type: 'dir', mode: 0o750, size: 0, sha256: '' },
      { path: 'nginx/conf.d/empty.d', type: 'dir', mode: 0o700, size: 0, sha256: '' }
    ])
    expect(deploy(one, previous, undefined)).toEqual({
      linked: 0,
      sent: [
        'certs',
        'compose.yaml',
        'data/seed.json',
        'nginx/conf.d',
        'nginx/conf.d/app.conf',
        'nginx/conf.d/empty.d',
        'nginx/conf.d/enabled.conf',
        'nginx/conf.d/extra.conf'
      ]
    })
    fs.writeFileSync(path.join(root, 'nginx/conf.d/extra.conf'), 'extra, edited\n')
    fs.chmodSync(path.join(root, 'certs'), 0o500)
    const two = planned()
    // Folders are always sent (a tar header each), so their modes follow the project.
    expect(deploy(two, layout, manifestFileMap(one.entries))).toEqual({
      linked: 3,
      sent: [
        'certs',
        'nginx/conf.d',
        'nginx/conf.d/empty.d',
        'nginx/conf.d/enabled.conf',
        'nginx/conf.d/extra.conf'
      ]
    })
    // The new tree is the project; unchanged files share the previous release's inodes.
    for (const entry of two.entries) {
      const here = path.join(layout.tree, entry.path)
      if (entry.type === 'symlink') expect(fs.readlinkSync(here)).toBe(entry.linkTarget)
      else if (entry.type === 'dir') {
        expect([entry.path, fs.lstatSync(here).isDirectory()]).toEqual([entry.path, true])
        expect([entry.path, fs.lstatSync(here).mode & 0o777]).toEqual([entry.path, entry.mode])
      } else {
        expect(fs.readFileSync(here, 'utf8')).toBe(
          fs.readFileSync(path.join(root, entry.path), 'utf8')
        )
        expect(fs.statSync(here).mode & 0o777).toBe(entry.mode)
      }
    }
    expect(ino(path.join(layout.tree, 'nginx/conf.d/app.conf'))).toBe(
      ino(path.join(previous.tree, 'nginx/conf.d/app.conf'))
    )
    expect(ino(path.join(layout.tree, 'nginx/conf.d/extra.conf'))).not.toBe(
      ino(path.join(previous.tree, 'nginx/conf.d/extra.conf'))
    )
    expect(fs.readdirSync(path.join(layout.tree, 'certs'))).toEqual([])
    expect(fs.readdirSync(path.join(layout.tree, 'nginx/conf.d/empty.d'))).toEqual([])
    // The previous release keeps its own folder modes.
    expect(fs.lstatSync(path.join(previous.tree, 'certs')).mode & 0o777).toBe(0o555)
    // Each content has its object; the edited folder and the re-moded empty folder got new
    // ones, the old ones stay.
    const store = fs.readdirSync(layout.store).sort()
    expect(store).toEqual([...new Set([...one.objects, ...two.objects].map(o => o.name))].sort())
    expect(store).toHaveLength(5)
    const objectOf = (files: ProjectFiles, relative: string): string =>
      path.join(layout.store, files.objects.find(o => o.relative === relative)?.name as string)
    const conf = objectOf(two, 'nginx/conf.d')
    expect(fs.readFileSync(path.join(conf, 'extra.conf'), 'utf8')).toBe('extra, edited\n')
    expect(fs.readlinkSync(path.join(conf, 'enabled.conf'))).toBe('app.conf')
    expect(fs.lstatSync(conf).mode & 0o777).toBe(0o750)
    expect(fs.readdirSync(path.join(conf, 'empty.d'))).toEqual([])
    expect(fs.lstatSync(path.join(conf, 'empty.d')).mode & 0o777).toBe(0o700)
    for (const [files, mode] of [
      [one, 0o555],
      [two, 0o500]
    ] as const) {
      const certs = objectOf(files, 'certs')
      expect(fs.lstatSync(certs).isDirectory()).toBe(true)
      expect(fs.readdirSync(certs)).toEqual([])
      expect(fs.lstatSync(certs).mode & 0o777).toBe(mode)
    }
  })
})
