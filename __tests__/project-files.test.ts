import { projectFilesWith } from './support/project-files.js'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse } from 'yaml'
import {
  FILE_INPUTS_LABEL,
  MAX_SHIPPED_BYTES,
  MAX_SHIPPED_FILES,
  ProjectFilesError,
  filesOverrideYaml,
  insideRoot,
  parsePathRules,
  planProjectFiles,
  secretContents,
  secretHashes,
  type FileLocations,
  type PathMode,
  type ProjectFiles,
  type ProjectFilesInput
} from '../src/compose/project-files.js'
import type { PathUse, ProjectReference } from '../src/compose/references.js'

const sha = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex')

const made: string[] = []
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
})

type Node = string | { content: string; mode: number } | { symlink: string } | { dir: number }

/** A real project folder: files (mode 0644 unless given), folders and symlinks. */
function project(nodes: Record<string, Node>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-project-files-'))
  made.push(root)
  for (const [relative, node] of Object.entries(nodes)) {
    const file = path.join(root, relative)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    if (typeof node === 'string') {
      fs.writeFileSync(file, node)
      fs.chmodSync(file, 0o644)
    } else if ('content' in node) {
      fs.writeFileSync(file, node.content)
      fs.chmodSync(file, node.mode)
    } else if ('symlink' in node) {
      fs.symlinkSync(node.symlink, file)
    } else {
      fs.mkdirSync(file, { recursive: true })
      fs.chmodSync(file, node.dir)
    }
  }
  return root
}

interface BindOptions {
  ro?: boolean
  service?: string
  options?: Record<string, unknown>
  writtenAbsolute?: boolean
}

/** A bind mount as modelReferences gives it; `source` relative to root, or absolute. */
function bind(root: string, source: string, target: string, o: BindOptions = {}): ProjectReference {
  return {
    path: path.resolve(root, source),
    writtenAbsolute: o.writtenAbsolute ?? path.isAbsolute(source),
    use: {
      kind: 'bind',
      service: o.service ?? 'web',
      target,
      readOnly: o.ro ?? false,
      options: o.options ?? { create_host_path: true }
    }
  }
}

function ref(root: string, source: string, use: PathUse): ProjectReference {
  return { path: path.resolve(root, source), writtenAbsolute: path.isAbsolute(source), use }
}

/** The reference as modelReferences gives it when compose cannot say how it was written. */
function unknownWritten(reference: ProjectReference): ProjectReference {
  return { ...reference, writtenAbsolute: undefined }
}

function plan(
  root: string,
  references: ProjectReference[],
  more: Partial<Omit<ProjectFilesInput, 'root' | 'references'>> = {}
): ProjectFiles {
  const composeFiles = more.composeFiles ?? ['compose.yaml']
  return planProjectFiles({
    root,
    composeFiles,
    closure: more.closure ?? {
      composeFiles: composeFiles.map(file => path.resolve(root, file)),
      includeEnvFiles: []
    },
    references,
    rules: more.rules ?? new Map(),
    uses: more.uses ?? {}
  })
}

function refusal(run: () => unknown): ProjectFilesError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ProjectFilesError)
    return error as ProjectFilesError
  }
  throw new Error('expected a ProjectFilesError, nothing was thrown')
}

const rules = (entries: Record<string, PathMode>): Map<string, PathMode> =>
  new Map(Object.entries(entries))

const COMPOSE = 'services: {}\n'

describe('planProjectFiles: read-only material', () => {
  it('ships a read-only folder with the release and addresses it as a store object', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'nginx/conf.d/app.conf': 'server {}\n',
      'nginx/conf.d/upstream.conf': { content: 'upstream api {}\n', mode: 0o600 },
      'nginx/conf.d': { dir: 0o750 }
    })
    const files = plan(root, [
      bind(root, './nginx/conf.d', '/etc/nginx/conf.d', {
        ro: true,
        options: { create_host_path: true, propagation: 'rprivate' }
      })
    ])
    const name = files.objects[0]?.name as string
    expect(name).toMatch(/^[0-9a-f]{16}-conf\.d$/)
    expect(files).toEqual({
      root,
      projectDirectory: '.',
      composeFiles: ['compose.yaml'],
      extraComposeFiles: [],
      envFiles: [],
      entries: [
        { path: 'compose.yaml', type: 'file', mode: 0o644, size: 13, sha256: sha(COMPOSE) },
        // The mounted folder itself, with its mode (the folder above it is not listed).
        { path: 'nginx/conf.d', type: 'dir', mode: 0o750, size: 0, sha256: '' },
        {
          path: 'nginx/conf.d/app.conf',
          type: 'file',
          mode: 0o644,
          size: 10,
          sha256: sha('server {}\n')
        },
        {
          path: 'nginx/conf.d/upstream.conf',
          type: 'file',
          mode: 0o600,
          size: 16,
          sha256: sha('upstream api {}\n')
        }
      ],
      objects: [{ name, relative: 'nginx/conf.d', writable: false }],
      binds: [
        {
          service: 'web',
          target: '/etc/nginx/conf.d',
          readOnly: true,
          relative: 'nginx/conf.d',
          // compose's create_host_path is dropped: the override always sets it false.
          options: { propagation: 'rprivate' },
          placement: { kind: 'object', name }
        }
      ],
      persistent: [],
      hostPaths: [],
      secrets: [],
      configs: [],
      shipped: [
        { relative: 'compose.yaml', usedBy: ['compose file'] },
        { relative: 'nginx/conf.d', usedBy: ['service web (/etc/nginx/conf.d)'] }
      ]
    })
  })

  it('ships a read-only single file as a hard-linked object', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'nginx/nginx.conf': 'events {}\n' })
    const files = plan(root, [
      bind(root, 'nginx/nginx.conf', '/etc/nginx/nginx.conf', { ro: true })
    ])
    expect(files.objects).toEqual([
      {
        name: expect.stringMatching(/^[0-9a-f]{16}-nginx\.conf$/),
        relative: 'nginx/nginx.conf',
        writable: false
      }
    ])
    expect(files.entries.map(e => e.path)).toEqual(['compose.yaml', 'nginx/nginx.conf'])
  })

  it('ships a writable single file as an object that is copied, not linked', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'data/seed.json': '{}\n' })
    const files = plan(root, [bind(root, './data/seed.json', '/app/seed.json', { service: 'api' })])
    expect(files.persistent).toEqual([])
    expect(files.objects).toEqual([
      {
        name: expect.stringMatching(/^[0-9a-f]{16}-seed\.json$/),
        relative: 'data/seed.json',
        writable: true
      }
    ])
    expect(files.binds).toEqual([
      {
        service: 'api',
        target: '/app/seed.json',
        readOnly: false,
        relative: 'data/seed.json',
        options: {},
        placement: { kind: 'object', name: files.objects[0]?.name }
      }
    ])
    expect(files.entries.map(e => e.path)).toContain('data/seed.json')
  })

  it('makes one object of one content, writable when any mount of it is', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'conf/app.ini': 'a=1\n' })
    const files = plan(root, [
      bind(root, 'conf/app.ini', '/etc/app.ini', { ro: true, service: 'web' }),
      bind(root, 'conf/app.ini', '/etc/app.ini', { service: 'api' })
    ])
    expect(files.objects).toHaveLength(1)
    expect(files.objects[0]?.writable).toBe(true)
    expect(files.binds.map(b => b.placement)).toEqual([
      { kind: 'object', name: files.objects[0]?.name },
      { kind: 'object', name: files.objects[0]?.name }
    ])
    expect(files.shipped).toContainEqual({
      relative: 'conf/app.ini',
      usedBy: ['service web (/etc/app.ini)', 'service api (/etc/app.ini)']
    })
  })

  it('refuses a release path that is missing on the runner, naming service and path', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const error = refusal(() =>
      plan(root, [bind(root, './nginx/nginx.conf', '/etc/nginx/nginx.conf', { ro: true })])
    )
    expect(error.input).toBe('compose-files')
    expect(error.message).toBe(
      `service web (/etc/nginx/nginx.conf) mounts nginx/nginx.conf, which does not exist in ${root}; commit it, or mark it persistent in the paths input if it holds data`
    )
  })

  it('does not duplicate the entries of a folder shipped inside another shipped folder', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'nginx/nginx.conf': 'events {}\n',
      'nginx/conf.d/app.conf': 'server {}\n',
      'nginx/conf.d/more/x.conf': 'x\n'
    })
    const files = plan(root, [
      bind(root, './nginx', '/etc/nginx', { ro: true }),
      bind(root, './nginx/conf.d', '/etc/nginx/conf.d', { ro: true }),
      bind(root, './nginx/nginx.conf', '/etc/nginx/nginx.conf', { ro: true, service: 'proxy' })
    ])
    expect(files.entries.map(e => [e.path, e.type])).toEqual([
      ['compose.yaml', 'file'],
      ['nginx', 'dir'],
      ['nginx/conf.d', 'dir'],
      ['nginx/conf.d/app.conf', 'file'],
      ['nginx/conf.d/more', 'dir'],
      ['nginx/conf.d/more/x.conf', 'file'],
      ['nginx/nginx.conf', 'file']
    ])
    // Still one object per mounted source, each named after its own content.
    expect(files.objects.map(o => o.relative).sort()).toEqual([
      'nginx',
      'nginx/conf.d',
      'nginx/nginx.conf'
    ])
    expect(new Set(files.binds.map(b => (b.placement as { name: string }).name)).size).toBe(3)
    expect(files.shipped.map(s => s.relative)).toEqual([
      'compose.yaml',
      'nginx',
      'nginx/conf.d',
      'nginx/nginx.conf'
    ])
  })

  it('ships an empty read-only folder as a folder entry and a store object', () => {
    const root = project({ 'compose.yaml': COMPOSE, certs: { dir: 0o555 } })
    const files = plan(root, [bind(root, './certs', '/certs', { ro: true })])
    const name = files.objects[0]?.name as string
    expect(name).toMatch(/^[0-9a-f]{16}-certs$/)
    expect(files.entries).toEqual([
      { path: 'certs', type: 'dir', mode: 0o555, size: 0, sha256: '' },
      { path: 'compose.yaml', type: 'file', mode: 0o644, size: 13, sha256: sha(COMPOSE) }
    ])
    expect(files.objects).toEqual([{ name, relative: 'certs', writable: false }])
    expect(files.binds).toEqual([
      {
        service: 'web',
        target: '/certs',
        readOnly: true,
        relative: 'certs',
        options: {},
        placement: { kind: 'object', name }
      }
    ])
    expect(files.persistent).toEqual([])
    expect(files.shipped).toEqual([
      { relative: 'certs', usedBy: ['service web (/certs)'] },
      { relative: 'compose.yaml', usedBy: ['compose file'] }
    ])
  })

  it('lists every folder of a shipped folder once, empty ones too, with its mode', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'conf/a.conf': 'a\n',
      'conf/sub/b.conf': 'b\n',
      'conf/sub/empty': { dir: 0o700 },
      'conf/sub': { dir: 0o750 },
      conf: { dir: 0o755 }
    })
    const files = plan(root, [
      bind(root, 'conf', '/conf', { ro: true }),
      bind(root, 'conf/sub', '/sub', { ro: true, service: 'api' })
    ])
    expect(files.entries.filter(e => e.type === 'dir')).toEqual([
      { path: 'conf', type: 'dir', mode: 0o755, size: 0, sha256: '' },
      { path: 'conf/sub', type: 'dir', mode: 0o750, size: 0, sha256: '' },
      { path: 'conf/sub/empty', type: 'dir', mode: 0o700, size: 0, sha256: '' }
    ])
    expect(files.entries.map(e => e.path)).toEqual([
      'compose.yaml',
      'conf',
      'conf/a.conf',
      'conf/sub',
      'conf/sub/b.conf',
      'conf/sub/empty'
    ])
    expect(files.objects.map(o => o.relative).sort()).toEqual(['conf', 'conf/sub'])
  })

  it('accepts folder names that merely start with two dots', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      '..data/app.conf': 'a\n',
      'conf/..2024_01/app.conf': 'b\n',
      'conf/app.conf': { symlink: '..2024_01/app.conf' }
    })
    const files = plan(root, [
      bind(root, './..data', '/data', { ro: true }),
      bind(root, './conf', '/conf', { ro: true })
    ])
    expect(files.entries.map(e => [e.path, e.type])).toEqual([
      ['..data', 'dir'],
      ['..data/app.conf', 'file'],
      ['compose.yaml', 'file'],
      ['conf', 'dir'],
      ['conf/..2024_01', 'dir'],
      ['conf/..2024_01/app.conf', 'file'],
      ['conf/app.conf', 'symlink']
    ])
  })
})

describe('planProjectFiles: symlinks, size and odd files', () => {
  it('keeps a symlink inside the mounted folder as a symlink entry', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'nginx/conf.d/app.conf': 'server {}\n',
      'nginx/conf.d/sub/extra.conf': 'x\n',
      'nginx/conf.d/enabled.conf': { symlink: 'app.conf' },
      'nginx/conf.d/sub/up.conf': { symlink: '../app.conf' },
      'nginx/conf.d/sites': { symlink: 'sub' }
    })
    const files = plan(root, [bind(root, 'nginx/conf.d', '/etc/nginx/conf.d', { ro: true })])
    expect(files.entries.filter(e => e.type === 'symlink')).toEqual([
      {
        path: 'nginx/conf.d/enabled.conf',
        type: 'symlink',
        mode: 0o777,
        size: 0,
        sha256: sha('app.conf'),
        linkTarget: 'app.conf'
      },
      {
        path: 'nginx/conf.d/sites',
        type: 'symlink',
        mode: 0o777,
        size: 0,
        sha256: sha('sub'),
        linkTarget: 'sub'
      },
      {
        path: 'nginx/conf.d/sub/up.conf',
        type: 'symlink',
        mode: 0o777,
        size: 0,
        sha256: sha('../app.conf'),
        linkTarget: '../app.conf'
      }
    ])
    // The symlinked folder is not followed: its files appear once, under their real path, and
    // it is not listed as a folder.
    expect(files.entries.map(e => [e.path, e.type])).toEqual([
      ['compose.yaml', 'file'],
      ['nginx/conf.d', 'dir'],
      ['nginx/conf.d/app.conf', 'file'],
      ['nginx/conf.d/enabled.conf', 'symlink'],
      ['nginx/conf.d/sites', 'symlink'],
      ['nginx/conf.d/sub', 'dir'],
      ['nginx/conf.d/sub/extra.conf', 'file'],
      ['nginx/conf.d/sub/up.conf', 'symlink']
    ])
  })

  it.each([
    ['../../secret.txt', 'leaving the mounted folder'],
    ['../nginx.conf', 'into the project, outside the mounted folder'],
    ['.', 'to the mounted folder itself']
  ])('refuses a symlink to %s (%s)', target => {
    const root = project({
      'compose.yaml': COMPOSE,
      'secret.txt': 's\n',
      'nginx/nginx.conf': 'n\n',
      'nginx/conf.d/app.conf': 'a\n',
      'nginx/conf.d/leak.conf': { symlink: target }
    })
    const error = refusal(() =>
      plan(root, [bind(root, 'nginx/conf.d', '/etc/nginx/conf.d', { ro: true })])
    )
    expect(error.input).toBe('compose-files')
    expect(error.message).toBe(
      `service web (/etc/nginx/conf.d): nginx/conf.d/leak.conf is a symlink to ${target}, outside nginx/conf.d; on the host it would point elsewhere. Replace it with the file, or mount the target itself`
    )
  })

  it('refuses an absolute symlink, even to a file inside the folder', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'conf/a.conf': 'a\n' })
    fs.symlinkSync(path.join(root, 'conf/a.conf'), path.join(root, 'conf/b.conf'))
    expect(refusal(() => plan(root, [bind(root, 'conf', '/conf', { ro: true })])).message).toMatch(
      /^service web \(\/conf\): conf\/b\.conf is a symlink to \/.*, outside conf;/
    )
  })

  it('reads a file of exactly MAX_SHIPPED_BYTES (a sparse file: no disk used)', () => {
    // Reading and hashing 64 MiB takes about half a second.
    const root = project({ 'compose.yaml': COMPOSE, 'big/blob.bin': '' })
    fs.truncateSync(path.join(root, 'big/blob.bin'), MAX_SHIPPED_BYTES)
    const files = plan(root, [bind(root, 'big', '/big', { ro: true })])
    // A folder weighs nothing: its own size (a block, on disk) does not count toward the limit.
    expect(files.entries.find(e => e.path === 'big')).toEqual({
      path: 'big',
      type: 'dir',
      mode: fs.statSync(path.join(root, 'big')).mode & 0o777,
      size: 0,
      sha256: ''
    })
    expect(files.entries.find(e => e.path === 'big/blob.bin')).toEqual({
      path: 'big/blob.bin',
      type: 'file',
      mode: 0o644,
      size: MAX_SHIPPED_BYTES,
      sha256: sha(Buffer.alloc(MAX_SHIPPED_BYTES))
    })
  })

  it('refuses more than MAX_SHIPPED_BYTES under one mount, before reading it', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'big/a.bin': '', 'big/b.bin': '' })
    fs.truncateSync(path.join(root, 'big/a.bin'), MAX_SHIPPED_BYTES / 2)
    fs.truncateSync(path.join(root, 'big/b.bin'), MAX_SHIPPED_BYTES / 2 + 1)
    const started = Date.now()
    const error = refusal(() =>
      plan(root, [bind(root, './big', '/big', { ro: true, service: 'api' })])
    )
    expect(error.input).toBe('paths')
    expect(error.message).toBe(
      `service api (/big) mounts big, which holds more than 64 MiB or ${MAX_SHIPPED_FILES} files; releases carry config, not content: bake it into the image, or use a named volume`
    )
    // a.bin (32 MiB) is read, the 64 MiB + 1 byte total is not.
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('refuses a mount of more than MAX_SHIPPED_FILES files, and accepts exactly that many', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const dir = path.join(root, 'many')
    fs.mkdirSync(dir)
    // Folders are listed but do not count: these two are walked before any file.
    fs.mkdirSync(path.join(dir, 'a-empty'))
    fs.mkdirSync(path.join(dir, 'b-empty'))
    for (let i = 0; i < MAX_SHIPPED_FILES; i++) fs.writeFileSync(path.join(dir, `f${i}`), '')
    const entries = plan(root, [bind(root, 'many', '/many', { ro: true })]).entries.filter(
      e => e.path === 'many' || e.path.startsWith('many/')
    )
    expect(entries.filter(e => e.type === 'file')).toHaveLength(MAX_SHIPPED_FILES)
    expect(entries.filter(e => e.type === 'dir').map(e => e.path)).toEqual([
      'many',
      'many/a-empty',
      'many/b-empty'
    ])
    expect(entries).toHaveLength(MAX_SHIPPED_FILES + 3)
    fs.writeFileSync(path.join(dir, 'one-more'), '')
    expect(refusal(() => plan(root, [bind(root, 'many', '/many', { ro: true })])).message).toMatch(
      /^service web \(\/many\) mounts many, which holds more than 64 MiB or 5000 files;/
    )
  })

  it('refuses a FIFO in a shipped folder', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'conf/a.conf': 'a\n' })
    execFileSync('mkfifo', [path.join(root, 'conf/pipe')])
    expect(refusal(() => plan(root, [bind(root, 'conf', '/conf', { ro: true })])).message).toBe(
      'service web (/conf): conf/pipe is not a regular file or folder (a socket or device cannot be shipped)'
    )
  })

  it('refuses a file name with a line break', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'conf/a\nb.conf': 'a\n' })
    expect(refusal(() => plan(root, [bind(root, 'conf', '/conf', { ro: true })])).message).toBe(
      'service web (/conf): "conf/a\nb.conf" has a line break in its name, which a release cannot carry'
    )
  })
})

describe('planProjectFiles: object names', () => {
  const nameOf = (root: string, source = 'conf'): string =>
    plan(root, [bind(root, source, '/conf', { ro: true })]).objects[0]?.name as string

  it('is stable for the same content, wherever the folder is', () => {
    const nodes = { 'compose.yaml': COMPOSE, 'conf/a.conf': 'a\n', 'conf/sub/b.conf': 'b\n' }
    const one = project(nodes)
    const two = project({ ...nodes, 'compose.yaml': 'services: { other: {} }\n' })
    const nested = project({
      'compose.yaml': COMPOSE,
      'deep/conf/a.conf': 'a\n',
      'deep/conf/sub/b.conf': 'b\n'
    })
    expect(nameOf(one)).toBe(nameOf(one))
    expect(nameOf(two)).toBe(nameOf(one))
    expect(nameOf(nested, 'deep/conf')).toBe(nameOf(one))
  })

  it('changes when a byte, a mode or a name inside changes, and comes back with the content', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'conf/a.conf': 'a\n', 'conf/b.conf': 'b\n' })
    const original = nameOf(root)
    fs.writeFileSync(path.join(root, 'conf/a.conf'), 'A\n')
    const edited = nameOf(root)
    fs.writeFileSync(path.join(root, 'conf/a.conf'), 'a\n')
    expect(nameOf(root)).toBe(original)
    fs.chmodSync(path.join(root, 'conf/a.conf'), 0o640)
    const chmodded = nameOf(root)
    fs.chmodSync(path.join(root, 'conf/a.conf'), 0o644)
    expect(nameOf(root)).toBe(original)
    fs.renameSync(path.join(root, 'conf/b.conf'), path.join(root, 'conf/c.conf'))
    const renamed = nameOf(root)
    expect(new Set([original, edited, chmodded, renamed]).size).toBe(4)
  })

  it('changes with a folder’s mode and with an empty folder inside, and comes back', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'conf/a.conf': 'a\n', conf: { dir: 0o755 } })
    const original = nameOf(root)
    fs.chmodSync(path.join(root, 'conf'), 0o750)
    const topMode = nameOf(root)
    fs.chmodSync(path.join(root, 'conf'), 0o755)
    expect(nameOf(root)).toBe(original)
    fs.mkdirSync(path.join(root, 'conf/empty'))
    fs.chmodSync(path.join(root, 'conf/empty'), 0o755)
    const withEmpty = nameOf(root)
    fs.chmodSync(path.join(root, 'conf/empty'), 0o700)
    const emptyMode = nameOf(root)
    fs.rmdirSync(path.join(root, 'conf/empty'))
    expect(nameOf(root)).toBe(original)
    expect(new Set([original, topMode, withEmpty, emptyMode]).size).toBe(4)
  })

  it('names an empty folder by its mode', () => {
    const one = project({ 'compose.yaml': COMPOSE, conf: { dir: 0o555 } })
    const two = project({ 'compose.yaml': COMPOSE, conf: { dir: 0o555 } })
    const name = nameOf(one)
    expect(name).toMatch(/^[0-9a-f]{16}-conf$/)
    expect(nameOf(two)).toBe(name)
    fs.chmodSync(path.join(two, 'conf'), 0o755)
    expect(nameOf(two)).not.toBe(name)
  })

  it('changes with a single file’s mode, and keeps only safe characters of the base name', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'my conf$(x).ini': 'a\n' })
    const before = nameOf(root, 'my conf$(x).ini')
    expect(before).toMatch(/^[0-9a-f]{16}-my_conf__x_\.ini$/)
    fs.chmodSync(path.join(root, 'my conf$(x).ini'), 0o600)
    expect(nameOf(root, 'my conf$(x).ini')).not.toBe(before)
  })
})

describe('planProjectFiles: persistent folders', () => {
  it('keeps a writable folder that is missing on the runner in shared/', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const files = plan(root, [
      bind(root, './uploads', '/opt/app/public/uploads', {
        service: 'api',
        options: { create_host_path: true, selinux: 'z' }
      })
    ])
    expect(files.persistent).toEqual([{ relative: 'uploads', services: ['api'], filesHere: 0 }])
    expect(files.binds).toEqual([
      {
        service: 'api',
        target: '/opt/app/public/uploads',
        readOnly: false,
        relative: 'uploads',
        options: { selinux: 'z' },
        placement: { kind: 'shared' }
      }
    ])
    expect(files.objects).toEqual([])
    expect(files.entries.map(e => e.path)).toEqual(['compose.yaml'])
  })

  it('counts the files a writable folder has here, ignoring .gitkeep and .gitignore', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'logs/.gitkeep': '',
      'logs/.gitignore': '*\n',
      'logs/api.log': 'x\n',
      'logs/old/api.1.log': 'y\n',
      'logs/old/.gitkeep': ''
    })
    const files = plan(root, [
      bind(root, 'logs', '/app/logs', { service: 'api' }),
      bind(root, 'logs', '/var/log/worker', { service: 'worker' }),
      bind(root, 'logs', '/again', { service: 'api' })
    ])
    expect(files.persistent).toEqual([
      { relative: 'logs', services: ['api', 'worker'], filesHere: 2 }
    ])
    expect(files.binds.map(b => [b.service, b.target, b.placement.kind])).toEqual([
      ['api', '/app/logs', 'shared'],
      ['worker', '/var/log/worker', 'shared'],
      ['api', '/again', 'shared']
    ])
    // Nothing under a persistent folder is shipped.
    expect(files.entries.map(e => e.path)).toEqual(['compose.yaml'])
  })

  it('lists persistent folders sorted by path', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const files = plan(root, [
      bind(root, 'uploads', '/u'),
      bind(root, 'database/backups', '/backups', { service: 'db' }),
      bind(root, 'logs/api', '/l', { service: 'api' })
    ])
    expect(files.persistent.map(p => p.relative)).toEqual([
      'database/backups',
      'logs/api',
      'uploads'
    ])
  })
})

describe('planProjectFiles: the paths rules', () => {
  it('ships a writable folder marked release, as a copied object', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'seed/a.sql': 'select 1;\n' })
    const files = plan(root, [bind(root, 'seed', '/seed', { service: 'db' })], {
      rules: rules({ seed: 'release' })
    })
    expect(files.persistent).toEqual([])
    // Writable: a container's writes must never reach the release's (hard-linked) files.
    expect(files.objects).toEqual([
      { name: expect.stringMatching(/^[0-9a-f]{16}-seed$/), relative: 'seed', writable: true }
    ])
    expect(files.binds[0]?.placement).toEqual({ kind: 'object', name: files.objects[0]?.name })
    expect(files.entries.map(e => [e.path, e.type])).toEqual([
      ['compose.yaml', 'file'],
      ['seed', 'dir'],
      ['seed/a.sql', 'file']
    ])
  })

  it('ships an empty writable folder marked release, as a copied object', () => {
    const root = project({ 'compose.yaml': COMPOSE, seed: { dir: 0o750 } })
    const files = plan(root, [bind(root, 'seed', '/seed', { service: 'db' })], {
      rules: rules({ seed: 'release' })
    })
    expect(files.persistent).toEqual([])
    expect(files.objects).toEqual([
      { name: expect.stringMatching(/^[0-9a-f]{16}-seed$/), relative: 'seed', writable: true }
    ])
    expect(files.entries.find(e => e.path === 'seed')).toEqual({
      path: 'seed',
      type: 'dir',
      mode: 0o750,
      size: 0,
      sha256: ''
    })
  })

  it('refuses a writable folder marked release that is missing', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    expect(
      refusal(() =>
        plan(root, [bind(root, 'seed', '/seed')], { rules: rules({ seed: 'release' }) })
      ).message
    ).toBe(
      `service web (/seed) mounts seed, which does not exist in ${root}; commit it, or mark it persistent in the paths input if it holds data`
    )
  })

  it('keeps a read-only folder marked persistent in shared/, still read-only', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'geoip/db.mmdb': 'x' })
    const files = plan(root, [bind(root, 'geoip', '/geoip', { ro: true })], {
      rules: rules({ geoip: 'persistent' })
    })
    expect(files.persistent).toEqual([{ relative: 'geoip', services: ['web'], filesHere: 1 }])
    expect(files.binds).toEqual([
      {
        service: 'web',
        target: '/geoip',
        readOnly: true,
        relative: 'geoip',
        options: {},
        placement: { kind: 'shared' }
      }
    ])
    expect(files.objects).toEqual([])
  })

  it('refuses a persistent rule on a file', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'nginx/nginx.conf': 'events {}\n' })
    const error = refusal(() =>
      plan(root, [bind(root, 'nginx/nginx.conf', '/etc/nginx/nginx.conf', { ro: true })], {
        rules: rules({ 'nginx/nginx.conf': 'persistent' })
      })
    )
    expect(error.input).toBe('paths')
    expect(error.message).toBe(
      'service web (/etc/nginx/nginx.conf) mounts nginx/nginx.conf, a file, as persistent; persistent paths are folders (mount the folder that holds it)'
    )
  })

  it('refuses a rule that is not the source of a bind mount, naming the bind mounts', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'nginx/a.conf': 'a\n' })
    const references = [
      bind(root, 'nginx', '/etc/nginx', { ro: true }),
      bind(root, 'logs', '/logs'),
      bind(root, '/var/log/host', '/host')
    ]
    const one = refusal(() => plan(root, references, { rules: rules({ upload: 'persistent' }) }))
    expect(one.input).toBe('paths')
    expect(one.message).toBe(
      'upload is not the source of any bind mount of the project; bind mounts: nginx, logs'
    )
    const two = refusal(() =>
      plan(root, references, {
        rules: rules({ logs: 'persistent', 'nginx/a.conf': 'release', x: 'release' })
      })
    )
    expect(two.message).toBe(
      'nginx/a.conf, x are not the source of any bind mount of the project; bind mounts: nginx, logs'
    )
    expect(refusal(() => plan(root, [], { rules: rules({ data: 'persistent' }) })).message).toBe(
      'data is not the source of any bind mount of the project; bind mounts: none'
    )
  })
})

describe('planProjectFiles: paths that cannot work on a host', () => {
  it.each([
    ['.', 'compose.yaml', '.'],
    ['./', 'compose.yaml', '.'],
    ['.', 'deploy/compose.yaml', '.'],
    ['deploy', 'deploy/compose.yaml', 'deploy']
  ])('refuses a mount of %j with %s: the whole project folder', (source, composeFile, shown) => {
    const root = project({ [composeFile]: COMPOSE })
    const error = refusal(() =>
      plan(root, [bind(root, source, '/app', { service: 'api', ro: true })], {
        composeFiles: [composeFile]
      })
    )
    expect(error.input).toBe('paths')
    expect(error.message).toBe(
      `service api (/app) mounts ${shown}, the whole project folder (a development-style mount); deploy the code in the image and mount only config or data folders`
    )
  })

  it('refuses a relative path that leaves the project', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const outside = path.resolve(root, '../shared-config')
    expect(
      refusal(() => plan(root, [bind(root, '../shared-config', '/cfg', { ro: true })])).message
    ).toBe(
      `service web (/cfg): ${outside} is outside the project folder ${root} (working-directory); on the host it would point outside the release. Move it into the project, or write the host's absolute path`
    )
    expect(
      refusal(() => plan(root, [ref(root, '../app.env', { kind: 'env-file', service: 'api' })]))
        .message
    ).toMatch(/^service api \(env_file\): .* is outside the project folder/)
    expect(
      refusal(() => plan(root, [ref(root, '../pw.txt', { kind: 'secret', name: 'db' })])).message
    ).toMatch(/^secret db: .* is outside the project folder/)
  })

  it('refuses a compose file outside the project', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const error = refusal(() =>
      plan(root, [], {
        closure: {
          composeFiles: [path.join(root, 'compose.yaml'), '/opt/common/base.yaml'],
          includeEnvFiles: []
        }
      })
    )
    expect(error.input).toBe('compose-files')
    expect(error.message).toMatch(/^compose file: \/opt\/common\/base\.yaml is outside the project/)
    expect(refusal(() => plan(root, [], { composeFiles: ['../compose.yaml'] })).message).toMatch(
      /^compose-files: .*\/compose\.yaml is outside the project folder/
    )
  })

  it('leaves paths written absolute outside the project to the host, required when read-only', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const files = plan(root, [
      bind(root, '/etc/letsencrypt', '/etc/letsencrypt', { ro: true }),
      bind(root, '/var/log/app', '/app/logs', { service: 'api' }),
      bind(root, '/srv/data', '/data', { service: 'api', writtenAbsolute: true }),
      ref(root, '/etc/shop/host.env', { kind: 'env-file', service: 'api' }),
      ref(root, '/etc/ssl/private/shop.key', { kind: 'secret', name: 'tls_key' }),
      ref(root, '/etc/shop/app.yaml', { kind: 'config', name: 'app' })
    ])
    expect(files.hostPaths).toEqual([
      { path: '/etc/letsencrypt', usedBy: 'service web (/etc/letsencrypt)', required: true },
      { path: '/var/log/app', usedBy: 'service api (/app/logs)', required: false },
      { path: '/srv/data', usedBy: 'service api (/data)', required: false },
      { path: '/etc/shop/host.env', usedBy: 'service api (env_file)', required: true },
      { path: '/etc/ssl/private/shop.key', usedBy: 'secret tls_key', required: true },
      { path: '/etc/shop/app.yaml', usedBy: 'config app', required: true }
    ])
    expect(files.binds).toEqual([])
    expect(files.secrets).toEqual([])
    expect(files.configs).toEqual([])
    expect(files.entries.map(e => e.path)).toEqual(['compose.yaml'])
  })

  it('takes a path outside the project as the host’s when compose cannot say how it was written', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'nginx/a.conf': 'a\n',
      'app.env': 'A=1\n',
      'secrets/db.txt': 'pw\n'
    })
    const outside = path.resolve(root, '../shared-config')
    const references = [
      unknownWritten(bind(root, '../shared-config', '/cfg', { ro: true })),
      unknownWritten(bind(root, '/var/log/app', '/app/logs', { service: 'api' })),
      unknownWritten(ref(root, '/etc/shop/host.env', { kind: 'env-file', service: 'api' })),
      unknownWritten(ref(root, '../pw.txt', { kind: 'secret', name: 'old' })),
      // Inside the project: part of it, as if written relative.
      unknownWritten(bind(root, 'nginx', '/etc/nginx', { ro: true })),
      unknownWritten(bind(root, 'uploads', '/uploads', { service: 'api' })),
      unknownWritten(ref(root, 'app.env', { kind: 'env-file', service: 'api' })),
      unknownWritten(ref(root, 'secrets/db.txt', { kind: 'secret', name: 'db' }))
    ]
    expect(references.every(r => r.writtenAbsolute === undefined)).toBe(true)
    const files = plan(root, references, {
      uses: { api: { secrets: ['db', 'old'], configs: [] } }
    })
    expect(files.hostPaths).toEqual([
      { path: outside, usedBy: 'service web (/cfg)', required: true },
      { path: '/var/log/app', usedBy: 'service api (/app/logs)', required: false },
      { path: '/etc/shop/host.env', usedBy: 'service api (env_file)', required: true },
      { path: path.resolve(root, '../pw.txt'), usedBy: 'secret old', required: true }
    ])
    expect(files.objects).toEqual([
      { name: expect.stringMatching(/^[0-9a-f]{16}-nginx$/), relative: 'nginx', writable: false }
    ])
    expect(files.binds.map(b => [b.relative, b.placement.kind])).toEqual([
      ['nginx', 'object'],
      ['uploads', 'shared']
    ])
    expect(files.persistent).toEqual([{ relative: 'uploads', services: ['api'], filesHere: 0 }])
    expect(files.secrets).toEqual([{ name: 'db', relative: 'secrets/db.txt', services: ['api'] }])
    expect(files.entries.map(e => e.path)).toEqual([
      'app.env',
      'compose.yaml',
      'nginx',
      'nginx/a.conf'
    ])
    // Only a path known to be written relative is refused when it leaves the project.
    expect(
      refusal(() => plan(root, [bind(root, '../shared-config', '/cfg', { ro: true })])).message
    ).toMatch(/^service web \(\/cfg\): .* is outside the project folder/)
  })

  it('treats a path written absolute but inside the project as part of the project', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'nginx/a.conf': 'a\n' })
    const files = plan(root, [
      bind(root, path.join(root, 'nginx'), '/etc/nginx', { ro: true, writtenAbsolute: true })
    ])
    expect(files.hostPaths).toEqual([])
    expect(files.objects.map(o => o.relative)).toEqual(['nginx'])
  })
})

describe('planProjectFiles: compose files, env files, secrets and configs', () => {
  it('passes the .env next to the first compose file as an env file', () => {
    const root = project({ 'compose.yaml': COMPOSE, '.env': 'TAG=1\n' })
    const files = plan(root, [])
    expect(files.envFiles).toEqual(['.env'])
    expect(files.shipped).toEqual([
      { relative: '.env', usedBy: ['the project .env (interpolation)'] },
      { relative: 'compose.yaml', usedBy: ['compose file'] }
    ])
    expect(files.entries.map(e => e.path)).toEqual(['.env', 'compose.yaml'])
  })

  it('takes the project directory and its .env from the first compose file', () => {
    const root = project({
      '.env': 'ROOT=1\n',
      'deploy/compose.yaml': COMPOSE,
      'deploy/.env': 'TAG=1\n',
      'deploy/app.env': 'A=1\n',
      'deploy/prod/compose.prod.yaml': COMPOSE,
      'deploy/prod/.env': 'IGNORED=1\n'
    })
    const files = plan(root, [ref(root, 'deploy/app.env', { kind: 'env-file', service: 'api' })], {
      composeFiles: ['deploy/compose.yaml', path.join(root, 'deploy/prod/compose.prod.yaml')]
    })
    expect(files.projectDirectory).toBe('deploy')
    expect(files.composeFiles).toEqual(['deploy/compose.yaml', 'deploy/prod/compose.prod.yaml'])
    expect(files.envFiles).toEqual(['deploy/.env'])
    expect(files.entries.map(e => e.path)).toEqual([
      'deploy/.env',
      'deploy/app.env',
      'deploy/compose.yaml',
      'deploy/prod/compose.prod.yaml'
    ])
  })

  it('passes no .env when there is none or it is a folder', () => {
    const root = project({ 'compose.yaml': COMPOSE, '.env/x': 'x' })
    expect(plan(root, []).envFiles).toEqual([])
  })

  it('ships the closure’s compose files and the include env files that exist', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'db/compose.yaml': COMPOSE,
      'db/.env': 'PGV=16\n',
      'common.yaml': COMPOSE
    })
    const files = plan(root, [], {
      closure: {
        composeFiles: ['compose.yaml', 'db/compose.yaml', 'common.yaml'].map(f =>
          path.join(root, f)
        ),
        includeEnvFiles: [path.join(root, 'db/.env'), path.join(root, 'mq/.env')]
      }
    })
    expect(files.composeFiles).toEqual(['compose.yaml'])
    expect(files.shipped).toEqual([
      { relative: 'common.yaml', usedBy: ['compose file'] },
      { relative: 'compose.yaml', usedBy: ['compose file'] },
      { relative: 'db/.env', usedBy: ['include env_file'] },
      { relative: 'db/compose.yaml', usedBy: ['compose file'] }
    ])
  })

  it('ships env files that exist and skips optional ones that do not', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'app.env': 'A=1\n' })
    const files = plan(root, [
      ref(root, 'app.env', { kind: 'env-file', service: 'api' }),
      ref(root, 'optional.env', { kind: 'env-file', service: 'api' })
    ])
    expect(files.shipped).toEqual([
      { relative: 'app.env', usedBy: ['service api (env_file)'] },
      { relative: 'compose.yaml', usedBy: ['compose file'] }
    ])
  })

  it('records secret files without shipping them, with the services that use them', () => {
    const root = project({
      'compose.yaml': COMPOSE,
      'secrets/db_password.txt': 'hunter2\n'
    })
    const files = plan(
      root,
      [
        ref(root, 'secrets/db_password.txt', { kind: 'secret', name: 'db_password' }),
        ref(root, 'secrets/tls.key', { kind: 'secret', name: 'tls_key' }),
        ref(root, 'secrets/old.txt', { kind: 'secret', name: 'old' })
      ],
      {
        uses: {
          web: { secrets: ['tls_key'], configs: [] },
          db: { secrets: ['db_password'], configs: [] },
          api: { secrets: ['tls_key', 'db_password'], configs: [] },
          worker: { secrets: [], configs: [] }
        }
      }
    )
    expect(files.secrets).toEqual([
      { name: 'db_password', relative: 'secrets/db_password.txt', services: ['api', 'db'] },
      { name: 'tls_key', relative: undefined, services: ['api', 'web'] }
    ])
    expect(files.entries.map(e => e.path)).toEqual(['compose.yaml'])
    expect(files.objects).toEqual([])
  })

  it('ships a config file as an object that the configs name', () => {
    const root = project({ 'compose.yaml': COMPOSE, 'nginx/nginx.conf': 'events {}\n' })
    const files = plan(
      root,
      [ref(root, 'nginx/nginx.conf', { kind: 'config', name: 'nginx_conf' })],
      {
        uses: {
          web: { secrets: [], configs: ['nginx_conf'] },
          proxy: { secrets: [], configs: ['nginx_conf'] },
          api: { secrets: [], configs: [] }
        }
      }
    )
    expect(files.configs).toEqual([
      {
        name: 'nginx_conf',
        object: expect.stringMatching(/^[0-9a-f]{16}-nginx\.conf$/),
        services: ['proxy', 'web']
      }
    ])
    expect(files.objects).toEqual([
      { name: files.configs[0]?.object, relative: 'nginx/nginx.conf', writable: false }
    ])
    expect(files.shipped).toContainEqual({
      relative: 'nginx/nginx.conf',
      usedBy: ['config nginx_conf']
    })
  })

  it('refuses a config whose file is missing', () => {
    const root = project({ 'compose.yaml': COMPOSE })
    const error = refusal(() =>
      plan(root, [ref(root, 'config/app.yaml', { kind: 'config', name: 'app' })])
    )
    expect(error.input).toBe('compose-files')
    expect(error.message).toBe(`config app: its file config/app.yaml does not exist in ${root}`)
  })
})

describe('insideRoot', () => {
  it.each([
    ['/w/p/a/b', 'a/b'],
    ['/w/p', ''],
    ['/w/p/..a', '..a'],
    ['/w/p/a/../b', 'b'],
    ['/w', undefined],
    ['/w/pp', undefined],
    ['/w/p/../q', undefined],
    ['/etc', undefined]
  ])('%s', (absolute, expected) => {
    expect(insideRoot('/w/p', absolute)).toBe(expected)
  })
})

describe('parsePathRules', () => {
  it('reads PATH: persistent|release lines, skipping comments and blank lines', () => {
    expect(
      parsePathRules(
        [
          '# data the app writes',
          '',
          'uploads: persistent',
          '  ./database/backups/ :persistent  ',
          'nginx/html:release',
          'logs\\api: persistent',
          'a/./b/../c: release',
          'odd:name: release'
        ].join('\r\n')
      )
    ).toEqual(
      new Map([
        ['uploads', 'persistent'],
        ['database/backups', 'persistent'],
        ['nginx/html', 'release'],
        ['logs/api', 'persistent'],
        ['a/c', 'release'],
        ['odd:name', 'release']
      ])
    )
  })

  it('returns no rules for an empty input, and lets a later line win', () => {
    expect(parsePathRules('')).toEqual(new Map())
    expect(parsePathRules('data: release\ndata/: persistent\n')).toEqual(
      new Map([['data', 'persistent']])
    )
  })

  it.each([
    ['../data: persistent', '../data'],
    ['..: release', '..'],
    ['a/../../b: release', 'a/../../b'],
    ['.: persistent', '.'],
    ['./: persistent', './']
  ])('refuses %j: not inside the project', (line, shown) => {
    const error = (() => {
      try {
        parsePathRules(`# comment\n${line}`)
      } catch (e) {
        return e as ProjectFilesError
      }
      throw new Error('not refused')
    })()
    expect(error).toBeInstanceOf(ProjectFilesError)
    expect(error.input).toBe('paths')
    expect(error.message).toBe(
      `line 2: "${shown}" must be a path inside the project, relative to working-directory`
    )
  })

  it('keeps a path that starts with two dots without being a parent', () => {
    expect(parsePathRules('..data: release')).toEqual(new Map([['..data', 'release']]))
  })

  it.each([
    ['uploads', 1],
    ['uploads: shared', 1],
    ['ok: release\n\nuploads persistent', 3],
    [': persistent', 1]
  ])('refuses a bad line with its number: %j', (text, line) => {
    expect(() => parsePathRules(text)).toThrow(
      new RegExp(`^line ${line} ".*" is not "PATH: persistent" or "PATH: release"$`)
    )
  })
})

const OBJ_CONF = '0123456789abcdef-conf.d'
const OBJ_NGINX = 'fedcba9876543210-nginx.conf'

function handMade(overrides: Partial<ProjectFiles> = {}): ProjectFiles {
  return projectFilesWith({
    objects: [
      { name: OBJ_CONF, relative: 'nginx/conf.d', writable: false },
      { name: OBJ_NGINX, relative: 'nginx/nginx.conf', writable: false }
    ],
    binds: [
      {
        service: 'web',
        target: '/etc/nginx/conf.d',
        readOnly: true,
        relative: 'nginx/conf.d',
        options: { propagation: 'rslave', selinux: 'z' },
        placement: { kind: 'object', name: OBJ_CONF }
      },
      {
        service: 'api',
        target: '/app/uploads',
        readOnly: false,
        relative: 'uploads',
        options: {},
        placement: { kind: 'shared' }
      },
      {
        service: 'worker',
        target: '/app/uploads',
        readOnly: false,
        relative: 'uploads',
        options: {},
        placement: { kind: 'shared' }
      }
    ],
    persistent: [{ relative: 'uploads', services: ['api', 'worker'], filesHere: 0 }],
    secrets: [{ name: 'db_password', relative: 'secrets/db.txt', services: ['api', 'db'] }],
    configs: [{ name: 'nginx_conf', object: OBJ_NGINX, services: ['web'] }],
    ...overrides
  })
}

const onHost: FileLocations = {
  object: name => `/srv/shop/store/${name}`,
  shared: relative => `/srv/shop/shared/${relative}`,
  secret: name => `/srv/shop/releases/r1/secrets/${name}`
}

interface Override {
  services?: Record<
    string,
    { volumes?: Record<string, unknown>[]; labels?: Record<string, string> }
  >
  secrets?: Record<string, { file: string }>
  configs?: Record<string, { file: string }>
}

describe('filesOverrideYaml', () => {
  const hashes = secretHashes([{ name: 'db_password', content: 'hunter2' }])
  const override = (
    files = handMade(),
    where = onHost,
    secretHash: Record<string, string> = hashes
  ): Override => parse(filesOverrideYaml(files, where, secretHash)) as Override

  it('re-points every mount, secret and config, with create_host_path false', () => {
    const out = override()
    const label = (service: string): string | undefined =>
      out.services?.[service]?.labels?.[FILE_INPUTS_LABEL]
    expect(out).toEqual({
      services: {
        web: {
          volumes: [
            {
              type: 'bind',
              source: `/srv/shop/store/${OBJ_CONF}`,
              target: '/etc/nginx/conf.d',
              read_only: true,
              bind: { propagation: 'rslave', selinux: 'z', create_host_path: false }
            }
          ],
          labels: { [FILE_INPUTS_LABEL]: label('web') }
        },
        api: {
          volumes: [
            {
              type: 'bind',
              source: '/srv/shop/shared/uploads',
              target: '/app/uploads',
              bind: { create_host_path: false }
            }
          ],
          labels: { [FILE_INPUTS_LABEL]: label('api') }
        },
        worker: {
          volumes: [
            {
              type: 'bind',
              source: '/srv/shop/shared/uploads',
              target: '/app/uploads',
              bind: { create_host_path: false }
            }
          ]
        },
        db: { labels: { [FILE_INPUTS_LABEL]: label('db') } }
      },
      secrets: { db_password: { file: '/srv/shop/releases/r1/secrets/db_password' } },
      configs: { nginx_conf: { file: `/srv/shop/store/${OBJ_NGINX}` } }
    })
    expect(label('web')).toMatch(/^[0-9a-f]{32}$/)
    expect(label('api')).toMatch(/^[0-9a-f]{32}$/)
    // Same inputs, same label; a secret's label differs from a config's.
    expect(label('db')).toBe(label('api'))
    expect(label('web')).not.toBe(label('api'))
  })

  it('puts labels only on services that use secrets or configs', () => {
    const out = override(handMade({ secrets: [], configs: [] }))
    expect(Object.values(out.services ?? {}).some(s => s.labels !== undefined)).toBe(false)
    expect(out.secrets).toBeUndefined()
    expect(out.configs).toBeUndefined()
  })

  it('changes a label when a secret’s content or a config’s object changes, and only that one', () => {
    const labels = (out: Override): Record<string, string | undefined> =>
      Object.fromEntries(
        Object.entries(out.services ?? {}).map(([name, s]) => [name, s.labels?.[FILE_INPUTS_LABEL]])
      )
    const before = labels(override())
    expect(labels(override())).toEqual(before)
    const newSecret = labels(
      override(handMade(), onHost, secretHashes([{ name: 'db_password', content: 'hunter3' }]))
    )
    expect(newSecret.api).not.toBe(before.api)
    expect(newSecret.db).not.toBe(before.db)
    expect(newSecret.web).toBe(before.web)
    const newConfig = labels(
      override(
        handMade({
          objects: [
            { name: OBJ_CONF, relative: 'nginx/conf.d', writable: false },
            { name: '1111111111111111-nginx.conf', relative: 'nginx/nginx.conf', writable: false }
          ],
          configs: [
            { name: 'nginx_conf', object: '1111111111111111-nginx.conf', services: ['web'] }
          ]
        })
      )
    )
    expect(newConfig.web).not.toBe(before.web)
    expect(newConfig.api).toBe(before.api)
  })

  it('never writes a secret’s content or its given hash', () => {
    const text = filesOverrideYaml(handMade(), onHost, hashes)
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain(hashes.db_password)
  })

  it('leaves mounts and configs where compose put them when objects have no location', () => {
    const out = override(handMade(), { ...onHost, object: () => undefined })
    expect(out.services?.web?.volumes).toBeUndefined()
    expect(out.services?.api?.volumes?.[0]?.source).toBe('/srv/shop/shared/uploads')
    expect(out.configs).toBeUndefined()
    expect(out.secrets).toEqual({
      db_password: { file: '/srv/shop/releases/r1/secrets/db_password' }
    })
  })

  it('leaves secrets where compose put them when they have no location', () => {
    expect(override(handMade(), { ...onHost, secret: () => undefined }).secrets).toBeUndefined()
  })

  it('is an empty mapping when there is nothing to place', () => {
    const empty = handMade({ objects: [], binds: [], persistent: [], secrets: [], configs: [] })
    expect(filesOverrideYaml(empty, onHost, {})).toBe('{}\n')
  })
})

describe('secretContents and secretHashes', () => {
  const withSecrets = (root: string): ProjectFiles =>
    handMade({
      root,
      secrets: [
        { name: 'db_password', relative: 'secrets/db.txt', services: ['api'] },
        { name: 'tls_key', relative: undefined, services: ['web', 'proxy'] }
      ]
    })

  it('takes a given value first, else the working tree’s file', () => {
    const root = project({ 'secrets/db.txt': 'from-the-tree\n' })
    expect(secretContents(withSecrets(root), { tls_key: 'KEY' })).toEqual([
      { name: 'db_password', content: 'from-the-tree\n' },
      { name: 'tls_key', content: 'KEY' }
    ])
    expect(
      secretContents(withSecrets(root), { db_password: 'given', tls_key: 'line 1\nline 2' })
    ).toEqual([
      { name: 'db_password', content: 'given' },
      { name: 'tls_key', content: 'line 1\nline 2' }
    ])
  })

  it('refuses a secret with neither a file nor a value, by name', () => {
    const root = project({ 'secrets/db.txt': 'x' })
    const error = refusal(() => secretContents(withSecrets(root), {}))
    expect(error.input).toBe('secret-files')
    expect(error.message).toBe(
      'secret tls_key (used by web, proxy) has no file: it is not in the working tree and secret-files does not give it'
    )
  })

  it('refuses a given name that no service uses, without its value', () => {
    const root = project({ 'secrets/db.txt': 'x' })
    const one = refusal(() =>
      secretContents(withSecrets(root), { tls_key: 'K', db_pasword: 'typo-value' })
    )
    expect(one.input).toBe('secret-files')
    expect(one.message).toBe(
      'db_pasword is not a file secret that a service of the project uses (they are: db_password, tls_key)'
    )
    expect(one.message).not.toContain('typo-value')
    const two = refusal(() => secretContents(handMade({ secrets: [] }), { a: '1', b: '2' }))
    expect(two.message).toBe(
      'a, b are not a file secret that a service of the project uses (they are: none)'
    )
  })

  it('returns nothing when the project has no file secrets', () => {
    expect(secretContents(handMade({ secrets: [] }), {})).toEqual([])
  })

  it('hashes each secret’s content with sha256', () => {
    expect(
      secretHashes([
        { name: 'a', content: 'x' },
        { name: 'b', content: '' }
      ])
    ).toEqual({
      a: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881',
      b: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    })
    expect(secretHashes([])).toEqual({})
  })
})

describe('planProjectFiles: compose files from outside the project', () => {
  it('carries a later -f file from outside in a folder of its own, and ships nothing else of it', () => {
    const root = project({ 'compose.yaml': 'services: {}\n' })
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-outside-'))
    const override = path.join(outside, 'ci.override.yaml')
    fs.writeFileSync(override, 'services: {}\n')
    const planned = plan(root, [], { composeFiles: ['compose.yaml', override] })
    expect(planned.composeFiles).toEqual([
      'compose.yaml',
      '.stack-deploy-compose/1-ci.override.yaml'
    ])
    expect(planned.extraComposeFiles).toEqual([
      { relative: '.stack-deploy-compose/1-ci.override.yaml', absolute: override }
    ])
    expect(planned.entries.map(e => e.path)).toEqual(['compose.yaml'])
  })

  it('refuses a first compose file outside the project: its folder is the project directory', () => {
    const root = project({ 'compose.yaml': 'services: {}\n' })
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-outside-'))
    fs.writeFileSync(path.join(outside, 'compose.yaml'), 'services: {}\n')
    const error = refusal(() =>
      plan(root, [], { composeFiles: [path.join(outside, 'compose.yaml'), 'compose.yaml'] })
    )
    expect(error.input).toBe('compose-files')
    expect(error.message).toMatch(/is outside the project folder/)
  })
})
