import {
  backupCommands,
  backupFileName,
  composeCommands,
  containerCommands,
  parseDiskFree,
  pgDumpArgs,
  preflightCommands,
  releaseCommands,
  remoteComposeArgs
} from '../src/deploy/commands.js'
import { legacyCompose, releaseLayout } from '../src/deploy/release.js'

const layout = releaseLayout('/srv/sd', 'shop', '20261121T220130Z-abcdef0')
const R = '/srv/sd/shop/releases/20261121T220130Z-abcdef0'
const base = remoteComposeArgs(
  layout,
  'shop',
  legacyCompose(['compose/compose.yaml', 'compose/compose.prod.yaml'])
)

describe('deploy argv', () => {
  it('runs compose on a release from its project tree: files, overrides, env files, profiles', () => {
    expect(
      remoteComposeArgs(layout, 'shop', {
        projectDirectory: 'project/deploy',
        composeFiles: ['project/deploy/compose.yaml'],
        envFiles: ['project/deploy/.env'],
        overrides: ['images.override.yaml', 'files.override.yaml'],
        profiles: ['tools']
      })
    ).toEqual([
      'docker',
      'compose',
      '--project-directory',
      `${R}/project/deploy`,
      '-p',
      'shop',
      '-f',
      `${R}/project/deploy/compose.yaml`,
      '-f',
      `${R}/images.override.yaml`,
      '-f',
      `${R}/files.override.yaml`,
      '--env-file',
      `${R}/project/deploy/.env`,
      '--env-file',
      `${R}/.env`,
      '--profile',
      'tools'
    ])
  })

  it('runs compose on a release made before the project tree: flat files at its root', () => {
    expect(base).toEqual([
      'docker',
      'compose',
      '--project-directory',
      R,
      '-p',
      'shop',
      '-f',
      `${R}/compose.yaml`,
      '-f',
      `${R}/compose.prod.yaml`,
      '-f',
      `${R}/images.override.yaml`,
      '--env-file',
      `${R}/.env`
    ])
  })

  it.each([
    [preflightCommands.dockerVersion(), ['docker', 'version', '--format', '{{.Server.Version}}']],
    [preflightCommands.composeVersion(), ['docker', 'compose', 'version', '--short']],
    [preflightCommands.diskFree('/srv/sd'), ['df', '-Pk', '/srv/sd']],
    [
      preflightCommands.makeDirs(layout),
      ['mkdir', '-p', '/srv/sd/shop/releases', '/srv/sd/shop/backups']
    ],
    [preflightCommands.writable(layout), ['test', '-w', '/srv/sd/shop']],
    [releaseCommands.makeRelease(layout), ['mkdir', '-p', R]],
    [releaseCommands.readCurrent(layout), ['readlink', '/srv/sd/shop/current']],
    [releaseCommands.linkNew(layout, R), ['ln', '-sfn', R, '/srv/sd/shop/current.new']],
    [
      releaseCommands.switchCurrent(layout),
      ['mv', '-T', '/srv/sd/shop/current.new', '/srv/sd/shop/current']
    ],
    [
      releaseCommands.removeReleases(layout, ['a', 'b']).slice(3),
      ['stack-deploy', '/srv/sd/shop/releases/a', '/srv/sd/shop/releases/b']
    ],
    [
      releaseCommands.appendAudit(layout),
      ['dd', 'of=/srv/sd/shop/audit.log', 'oflag=append', 'conv=notrunc', 'status=none']
    ],
    [composeCommands.pull(base), [...base, 'pull', '--quiet']],
    [composeCommands.migrate(base, 'migrate'), [...base, 'run', '--rm', '-T', 'migrate']],
    [
      composeCommands.up(base, 120),
      [...base, 'up', '--detach', '--wait', '--wait-timeout', '120', '--remove-orphans']
    ],
    [
      // The migration already ran: scaled to 0, compose neither runs it again nor waits on it.
      composeCommands.up(base, 120, ['migrate', 'seed']),
      [
        ...base,
        ...['up', '--detach', '--wait', '--wait-timeout', '120', '--remove-orphans'],
        ...['--scale', 'migrate=0', '--scale', 'seed=0']
      ]
    ],
    [
      // What `compose ps` lists for a service, without the one-off containers of `compose run`.
      containerCommands.running('shop', 'postgres'),
      [
        ...['docker', 'ps', '--quiet', '--no-trunc'],
        ...['--filter', 'label=com.docker.compose.project=shop'],
        ...['--filter', 'label=com.docker.compose.service=postgres'],
        ...['--filter', 'label=com.docker.compose.oneoff=False', '--filter', 'status=running']
      ]
    ],
    [
      backupCommands.remove(layout, ['../../etc/passwd']),
      ['rm', '-f', '/srv/sd/shop/backups/passwd']
    ]
  ])('%#: %j', (argv, expected) => {
    expect(argv).toEqual(expected)
  })

  it('dumps with the database container’s own credentials, none in argv', () => {
    const argv = pgDumpArgs('c0ffee')
    expect(argv.slice(0, 3)).toEqual(['docker', 'exec', 'c0ffee'])
    expect(argv.join(' ')).not.toMatch(/password/i)
    expect(backupFileName('20261121T220130Z-abcdef0', 'postgres')).toBe(
      '20261121T220130Z-abcdef0-postgres.sql.gz'
    )
  })

  it.each([
    [
      'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 263174212 23000000 83000000 22% /\n',
      83000000
    ],
    ['garbage', undefined]
  ])('reads free space from df', (output, kib) => {
    expect(parseDiskFree(output)).toBe(kib)
  })
})
