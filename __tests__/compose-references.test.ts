import {
  ComposeReferenceError,
  composeFileClosure,
  envFileReferences,
  modelReferences,
  serviceFileUses,
  type ComposeModels
} from '../src/compose/references.js'
import type { ComposeConfig } from '../src/compose/types.js'

// The two views of one project, shaped like `docker compose config --format json` output
// (captured with Compose 2.26 and trimmed): `resolved` (plain config) and `asWritten` (--no-interpolate
// --no-path-resolution: paths as the user wrote them).
const P = '/home/runner/work/shop'

const resolved = {
  name: 'shop',
  services: {
    web: {
      image: 'nginx:1.27',
      environment: { TZ: 'UTC' },
      networks: { default: null },
      volumes: [
        {
          type: 'bind',
          source: `${P}/nginx/conf.d`,
          target: '/etc/nginx/conf.d',
          read_only: true,
          bind: { create_host_path: true }
        },
        {
          type: 'bind',
          source: `${P}/logs/nginx`,
          target: '/var/log/nginx',
          bind: { create_host_path: true }
        },
        {
          type: 'bind',
          source: '/etc/letsencrypt',
          target: '/etc/letsencrypt',
          read_only: true,
          bind: { create_host_path: true }
        },
        {
          type: 'bind',
          source: '/root/certs',
          target: '/certs',
          read_only: true,
          bind: { create_host_path: true }
        },
        { type: 'volume', source: 'cache', target: '/var/cache/nginx', volume: {} },
        { type: 'tmpfs', target: '/run' }
      ],
      configs: [{ source: 'nginx_conf' }]
    },
    api: {
      image: 'shop/api:dev',
      environment: { A: '1', B: '2' },
      volumes: [
        {
          type: 'bind',
          source: '/srv/data',
          target: '/data',
          bind: { create_host_path: true }
        },
        {
          type: 'bind',
          source: `${P}/uploads`,
          target: '/opt/app/uploads',
          bind: { propagation: 'rslave', selinux: 'z', create_host_path: true }
        },
        {
          type: 'bind',
          source: `${P}/../shared`,
          target: '/shared',
          read_only: true,
          bind: { create_host_path: true }
        },
        { type: 'bind', target: '/no-source' }
      ],
      secrets: [
        { source: 'db_password', target: '/run/secrets/db_password' },
        { source: 'registry_token', target: '/run/secrets/registry_token' }
      ]
    },
    worker: { image: 'shop/worker:dev' }
  },
  volumes: { cache: { name: 'shop_cache' } },
  secrets: {
    db_password: { name: 'shop_db_password', file: `${P}/secrets/db_password.txt` },
    tls_key: { name: 'shop_tls_key', file: '/etc/ssl/private/shop.key' },
    registry_token: { name: 'registry_token', external: true },
    from_env: { name: 'shop_from_env', environment: 'TOKEN' }
  },
  configs: {
    nginx_conf: { name: 'shop_nginx_conf', file: `${P}/nginx/nginx.conf` },
    inline: { name: 'shop_inline', content: 'x' },
    ext_conf: { name: 'ext_conf', external: true, file: `${P}/never.conf` }
  }
} as unknown as ComposeConfig

const asWritten = {
  name: 'shop',
  services: {
    web: {
      image: 'nginx:1.27',
      volumes: [
        {
          type: 'bind',
          source: './nginx/conf.d',
          target: '/etc/nginx/conf.d',
          read_only: true,
          bind: { create_host_path: true }
        },
        { type: 'bind', source: 'logs/nginx', target: '/var/log/nginx' },
        { type: 'bind', source: '/etc/letsencrypt', target: '/etc/letsencrypt', read_only: true },
        { type: 'bind', source: '~/certs', target: '/certs', read_only: true },
        { type: 'volume', source: 'cache', target: '/var/cache/nginx', volume: {} }
      ]
    },
    api: {
      image: 'shop/api:dev',
      env_file: [
        { path: 'app.env', required: true },
        { path: '/etc/shop/host.env', required: true },
        { path: './optional.env', required: false }
      ],
      volumes: [
        { type: 'bind', source: '${DATA_DIR:-/srv/data}', target: '/data' },
        { type: 'bind', source: './uploads', target: '/opt/app/uploads' },
        { type: 'bind', source: '../shared', target: '/shared', read_only: true }
      ]
    },
    worker: { image: 'shop/worker:dev', env_file: ['worker.env'] }
  },
  secrets: {
    db_password: { name: 'shop_db_password', file: './secrets/db_password.txt' },
    tls_key: { name: 'shop_tls_key', file: '/etc/ssl/private/shop.key' },
    registry_token: { name: 'registry_token', external: true }
  },
  configs: {
    nginx_conf: { name: 'shop_nginx_conf', file: '${CONF_DIR}/nginx.conf' }
  }
} as unknown as ComposeConfig

const models: ComposeModels = { resolved, asWritten }

describe('modelReferences', () => {
  const references = modelReferences(models)

  it('lists every bind mount, secret file and config file, in model order (env files come from the closure)', () => {
    expect(references.map(r => [r.use.kind, r.path])).toEqual([
      ['bind', `${P}/nginx/conf.d`],
      ['bind', `${P}/logs/nginx`],
      ['bind', '/etc/letsencrypt'],
      ['bind', '/root/certs'],
      ['bind', '/srv/data'],
      ['bind', `${P}/uploads`],
      ['bind', `${P}/../shared`],
      ['secret', `${P}/secrets/db_password.txt`],
      ['secret', '/etc/ssl/private/shop.key'],
      ['config', `${P}/nginx/nginx.conf`]
    ])
  })

  it('keeps read_only and compose’s bind options, and skips volumes, tmpfs and source-less binds', () => {
    expect(references.filter(r => r.use.kind === 'bind').map(r => r.use)).toEqual([
      {
        kind: 'bind',
        service: 'web',
        target: '/etc/nginx/conf.d',
        readOnly: true,
        options: { create_host_path: true }
      },
      {
        kind: 'bind',
        service: 'web',
        target: '/var/log/nginx',
        readOnly: false,
        options: { create_host_path: true }
      },
      {
        kind: 'bind',
        service: 'web',
        target: '/etc/letsencrypt',
        readOnly: true,
        options: { create_host_path: true }
      },
      {
        kind: 'bind',
        service: 'web',
        target: '/certs',
        readOnly: true,
        options: { create_host_path: true }
      },
      {
        kind: 'bind',
        service: 'api',
        target: '/data',
        readOnly: false,
        options: { create_host_path: true }
      },
      {
        kind: 'bind',
        service: 'api',
        target: '/opt/app/uploads',
        readOnly: false,
        options: { propagation: 'rslave', selinux: 'z', create_host_path: true }
      },
      {
        kind: 'bind',
        service: 'api',
        target: '/shared',
        readOnly: true,
        options: { create_host_path: true }
      }
    ])
  })

  it('gives a bind without compose’s bind options an empty options object', () => {
    const bare = {
      name: 'p',
      services: { s: { volumes: [{ type: 'bind', source: `${P}/x`, target: '/x' }] } }
    } as unknown as ComposeConfig
    expect(modelReferences({ resolved: bare, asWritten: bare })).toEqual([
      {
        path: `${P}/x`,
        writtenAbsolute: true,
        use: { kind: 'bind', service: 's', target: '/x', readOnly: false, options: {} }
      }
    ])
  })

  it('tells a path written absolute, with ~ or with a variable from a relative one', () => {
    const written = Object.fromEntries(
      references.map(r => [
        r.use.kind === 'bind' ? `${r.use.service}:${r.use.target}` : `${r.use.kind}:${r.path}`,
        r.writtenAbsolute
      ])
    )
    expect(written).toEqual({
      'web:/etc/nginx/conf.d': false, // ./nginx/conf.d
      'web:/var/log/nginx': false, // logs/nginx
      'web:/etc/letsencrypt': true, // /etc/letsencrypt
      'web:/certs': true, // ~/certs
      'api:/data': true, // ${DATA_DIR:-/srv/data}
      'api:/opt/app/uploads': false, // ./uploads
      'api:/shared': false, // ../shared: relative, even though it leaves the project
      [`secret:${P}/secrets/db_password.txt`]: false,
      'secret:/etc/ssl/private/shop.key': true,
      [`config:${P}/nginx/nginx.conf`]: true // ${CONF_DIR}/nginx.conf
    })
  })

  it('falls back to the resolved path when the written model has no matching entry', () => {
    // Compose resolves every path, so an unmatched entry counts as absolute (the host's own).
    const bare = {
      name: 'p',
      services: { s: { volumes: [{ type: 'bind', source: `${P}/a`, target: '/a' }] } }
    } as unknown as ComposeConfig
    const written = {
      name: 'p',
      services: { s: { volumes: [{ type: 'bind', source: './a', target: '/other' }] } }
    } as unknown as ComposeConfig
    expect(modelReferences({ resolved: bare, asWritten: written })[0]?.writtenAbsolute).toBe(true)
    expect(
      modelReferences({
        resolved: bare,
        asWritten: { name: 'p', services: {} }
      })[0]?.writtenAbsolute
    ).toBe(true)
  })

  it('says nothing of how a path was written when compose could not make that view', () => {
    expect(modelReferences({ resolved, asWritten: undefined }).map(r => r.writtenAbsolute)).toEqual(
      modelReferences({ resolved, asWritten: undefined }).map(() => undefined)
    )
    expect(modelReferences({ resolved, asWritten: undefined }).length).toBe(references.length)
  })

  it('takes secrets and configs with a file, never external, environment or content ones', () => {
    expect(references.filter(r => r.use.kind === 'secret' || r.use.kind === 'config')).toEqual([
      {
        path: `${P}/secrets/db_password.txt`,
        writtenAbsolute: false,
        use: { kind: 'secret', name: 'db_password' }
      },
      {
        path: '/etc/ssl/private/shop.key',
        writtenAbsolute: true,
        use: { kind: 'secret', name: 'tls_key' }
      },
      {
        path: `${P}/nginx/nginx.conf`,
        writtenAbsolute: true,
        use: { kind: 'config', name: 'nginx_conf' }
      }
    ])
  })

  it('copes with null secret and config entries and a model without them', () => {
    const withNulls = {
      name: 'p',
      services: {},
      secrets: { a: null },
      configs: { b: null }
    } as unknown as ComposeConfig
    expect(modelReferences({ resolved: withNulls, asWritten: withNulls })).toEqual([])
    const none = { name: 'p', services: {} } as ComposeConfig
    expect(modelReferences({ resolved: none, asWritten: none })).toEqual([])
  })
})

/** An in-memory file system for composeFileClosure, counting reads. */
function memory(files: Record<string, string>): {
  read: (file: string) => string
  reads: string[]
} {
  const reads: string[] = []
  return {
    reads,
    read: (file: string) => {
      reads.push(file)
      const text = files[file]
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${file}'`)
      return text
    }
  }
}

function refusal(run: () => unknown): ComposeReferenceError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ComposeReferenceError)
    return error as ComposeReferenceError
  }
  throw new Error('expected a ComposeReferenceError, nothing was thrown')
}

describe('composeFileClosure', () => {
  const R = '/repo'

  it('returns the files themselves when they pull nothing in', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: 'services:\n  api:\n    image: api\n',
      [`${R}/compose.prod.yaml`]: 'services:\n  api:\n    restart: always\n'
    })
    expect(composeFileClosure([`${R}/compose.yaml`, `${R}/compose.prod.yaml`], fs.read)).toEqual({
      composeFiles: [`${R}/compose.yaml`, `${R}/compose.prod.yaml`],
      includeEnvFiles: [],
      envFiles: []
    })
  })

  it('lists env_file entries of every service, resolved as compose does, with how they were written', () => {
    const fs = memory({
      [`${R}/deploy/compose.yaml`]: [
        'services:',
        '  api:',
        '    env_file: app.env',
        '  worker:',
        '    env_file:',
        '      - ../shared/worker.env',
        '      - path: /etc/shop/host.env',
        '        required: false',
        '  tool:',
        '    extends: { file: ../common/base.yaml, service: base }',
        ''
      ].join('\n'),
      // A later -f file resolves against the first file's folder, not its own.
      [`${R}/prod/override.yaml`]: 'services:\n  api:\n    env_file: [prod.env]\n',
      [`${R}/common/base.yaml`]: 'services:\n  base:\n    env_file: base.env\n'
    })
    const closure = composeFileClosure(
      [`${R}/deploy/compose.yaml`, `${R}/prod/override.yaml`],
      fs.read
    )
    expect(closure.envFiles).toEqual([
      { service: 'api', path: `${R}/deploy/app.env`, writtenAbsolute: false, required: true },
      { service: 'worker', path: `${R}/shared/worker.env`, writtenAbsolute: false, required: true },
      { service: 'worker', path: '/etc/shop/host.env', writtenAbsolute: true, required: false },
      { service: 'base', path: `${R}/common/base.env`, writtenAbsolute: false, required: true },
      { service: 'api', path: `${R}/deploy/prod.env`, writtenAbsolute: false, required: true }
    ])
    expect(envFileReferences(closure).map(r => [r.use, r.path])).toEqual(
      closure.envFiles.map(e => [{ kind: 'env-file', service: e.service }, e.path])
    )
  })

  it('refuses an env_file written with a variable: its file could not be shipped', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: 'services:\n  api:\n    env_file: ${ENVF:-./app.env}\n'
    })
    expect(() => composeFileClosure([`${R}/compose.yaml`], fs.read)).toThrow(
      /services\.api\.env_file "\$\{ENVF:-\.\/app\.env\}" uses a variable/
    )
  })

  it('follows include as strings, resolved against the including file', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: 'include:\n  - db/compose.yaml\n  - ./cache.yaml\nservices: {}\n',
      [`${R}/db/compose.yaml`]: 'include:\n  - ../common/base.yaml\n',
      [`${R}/cache.yaml`]: 'services:\n  cache:\n    image: redis\n',
      [`${R}/common/base.yaml`]: 'services:\n  base:\n    image: busybox\n'
    })
    expect(composeFileClosure([`${R}/compose.yaml`], fs.read)).toEqual({
      composeFiles: [
        `${R}/compose.yaml`,
        `${R}/db/compose.yaml`,
        `${R}/common/base.yaml`,
        `${R}/cache.yaml`
      ],
      // Each included project's own .env, which compose reads for its interpolation.
      includeEnvFiles: [`${R}/common/.env`, `${R}/db/.env`, `${R}/.env`],
      envFiles: []
    })
  })

  it('follows include as { path, env_file }, with a single path or a list', () => {
    const fs = memory({
      [`${R}/deploy/compose.yaml`]: [
        'include:',
        '  - path: ../stacks/db.yaml',
        '    env_file: ../stacks/db.env',
        '  - path:',
        '      - ./mq/base.yaml',
        '      - ./mq/override.yaml',
        '    env_file:',
        '      - mq/one.env',
        '      - /etc/mq/two.env',
        ''
      ].join('\n'),
      [`${R}/stacks/db.yaml`]: 'services: {}\n',
      [`${R}/deploy/mq/base.yaml`]: 'services: {}\n',
      [`${R}/deploy/mq/override.yaml`]: 'services: {}\n'
    })
    expect(composeFileClosure([`${R}/deploy/compose.yaml`], fs.read)).toEqual({
      composeFiles: [
        `${R}/deploy/compose.yaml`,
        `${R}/stacks/db.yaml`,
        `${R}/deploy/mq/base.yaml`,
        `${R}/deploy/mq/override.yaml`
      ],
      includeEnvFiles: [`${R}/stacks/db.env`, `${R}/deploy/mq/one.env`, '/etc/mq/two.env'],
      envFiles: []
    })
  })

  it('adds an include’s default .env: its project_directory’s, else the included file’s folder', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: [
        'include:',
        '  - db/compose.yaml',
        '  - path: mq/compose.yaml',
        '  - path: [cache/a.yaml, other/b.yaml]',
        '  - path: web/compose.yaml',
        '    project_directory: ./web-env',
        ''
      ].join('\n'),
      [`${R}/db/compose.yaml`]: '',
      [`${R}/mq/compose.yaml`]: '',
      [`${R}/cache/a.yaml`]: '',
      [`${R}/other/b.yaml`]: '',
      [`${R}/web/compose.yaml`]: ''
    })
    expect(composeFileClosure([`${R}/compose.yaml`], fs.read).includeEnvFiles).toEqual([
      `${R}/db/.env`,
      `${R}/mq/.env`,
      `${R}/cache/.env`,
      `${R}/web-env/.env`
    ])
  })

  it('refuses an include project_directory written with a variable', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: 'include:\n  - path: db.yaml\n    project_directory: $DIR\n',
      [`${R}/db.yaml`]: ''
    })
    expect(refusal(() => composeFileClosure([`${R}/compose.yaml`], fs.read)).message).toBe(
      `${R}/compose.yaml: include[0].project_directory "$DIR" uses a variable; stack-deploy ships the files a project references and needs their paths written out`
    )
  })

  it('follows extends.file, nested, and ignores extends within the same file', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: [
        'services:',
        '  api:',
        '    extends:',
        '      file: services/api.yaml',
        '      service: api',
        '  worker:',
        '    extends: api',
        '  empty:',
        ''
      ].join('\n'),
      [`${R}/services/api.yaml`]: [
        'services:',
        '  api:',
        '    extends: { file: ../common.yaml, service: base }',
        ''
      ].join('\n'),
      [`${R}/common.yaml`]: 'services:\n  base:\n    image: node\n'
    })
    expect(composeFileClosure([`${R}/compose.yaml`], fs.read).composeFiles).toEqual([
      `${R}/compose.yaml`,
      `${R}/services/api.yaml`,
      `${R}/common.yaml`
    ])
  })

  it('visits each file once, through cycles and repeated references', () => {
    const fs = memory({
      [`${R}/a.yaml`]: 'include:\n  - b.yaml\n  - ./b.yaml\n  - sub/../b.yaml\n',
      [`${R}/b.yaml`]: [
        'include:',
        '  - a.yaml',
        'services:',
        '  x:',
        '    extends: { file: ./a.yaml, service: y }',
        '  z:',
        '    extends: { file: b.yaml, service: x }',
        ''
      ].join('\n')
    })
    expect(composeFileClosure([`${R}/a.yaml`, `${R}/b.yaml`], fs.read)).toEqual({
      composeFiles: [`${R}/a.yaml`, `${R}/b.yaml`],
      includeEnvFiles: [`${R}/.env`],
      envFiles: []
    })
    expect(fs.reads).toEqual([`${R}/a.yaml`, `${R}/b.yaml`])
  })

  it('reads a multi-document compose file (compose merges its documents)', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: [
        'services:',
        '  a:',
        '    image: nginx',
        '---',
        'include:',
        '  - other.yaml',
        ''
      ].join('\n'),
      [`${R}/other.yaml`]: 'services: {}\n'
    })
    expect(composeFileClosure([`${R}/compose.yaml`], fs.read).composeFiles).toEqual([
      `${R}/compose.yaml`,
      `${R}/other.yaml`
    ])
  })

  it('resolves an override file’s include and extends against the project directory, as compose does', () => {
    // `-f compose.yaml -f deploy/prod.yaml`: compose resolves the paths of every -f file after
    // the first against the first file's folder; an included or extended file's own paths
    // against that file's folder.
    const fs = memory({
      [`${R}/compose.yaml`]: 'services: {}\n',
      [`${R}/deploy/prod.yaml`]: [
        'include:',
        '  - ./monitoring.yaml',
        'services:',
        '  api:',
        '    extends: { file: ./common.yaml, service: base }',
        ''
      ].join('\n'),
      [`${R}/monitoring.yaml`]: 'include:\n  - ./mon/inner.yaml\n',
      [`${R}/mon/inner.yaml`]: 'services: {}\n',
      [`${R}/common.yaml`]: 'services:\n  base:\n    image: node\n'
    })
    expect(
      composeFileClosure([`${R}/compose.yaml`, `${R}/deploy/prod.yaml`], fs.read).composeFiles
    ).toEqual([
      `${R}/compose.yaml`,
      `${R}/deploy/prod.yaml`,
      `${R}/monitoring.yaml`,
      `${R}/mon/inner.yaml`,
      `${R}/common.yaml`
    ])
  })

  it('accepts an empty file and a document that is not a mapping', () => {
    const fs = memory({ [`${R}/a.yaml`]: '', [`${R}/b.yaml`]: '# only a comment\n' })
    expect(composeFileClosure([`${R}/a.yaml`, `${R}/b.yaml`], fs.read).composeFiles).toEqual([
      `${R}/a.yaml`,
      `${R}/b.yaml`
    ])
  })

  it.each([
    ['include:\n  - ${STACK}/db.yaml\n', 'include[0]', '${STACK}/db.yaml'],
    ['include:\n  - path: $DIR/x.yaml\n', 'include[0].path', '$DIR/x.yaml'],
    ['include:\n  - path: x.yaml\n    env_file: ${ENV}.env\n', 'include[0].env_file', '${ENV}.env'],
    [
      'services:\n  api:\n    extends:\n      file: ${COMMON:-common.yaml}\n      service: a\n',
      'services.api.extends.file',
      '${COMMON:-common.yaml}'
    ]
  ])('refuses a path written with a variable: %j', (text, what, value) => {
    const fs = memory({ [`${R}/compose.yaml`]: text, [`${R}/x.yaml`]: '' })
    const error = refusal(() => composeFileClosure([`${R}/compose.yaml`], fs.read))
    expect(error.file).toBe(`${R}/compose.yaml`)
    expect(error.message).toBe(
      `${R}/compose.yaml: ${what} "${value}" uses a variable; stack-deploy ships the files a project references and needs their paths written out`
    )
  })

  it.each([
    ['include:\n  - {}\n', 'include[0].path'],
    ['include:\n  - path: ""\n', 'include[0].path'],
    ['include:\n  - 42\n', 'include[0].path'],
    ['services:\n  api:\n    extends:\n      file: 7\n', 'services.api.extends.file']
  ])('refuses an include or extends that is not a path: %j', (text, what) => {
    const fs = memory({ [`${R}/compose.yaml`]: text })
    const error = refusal(() => composeFileClosure([`${R}/compose.yaml`], fs.read))
    expect(error.message).toBe(`${R}/compose.yaml: ${what} is not a path`)
  })

  it('refuses unparseable YAML, naming the file', () => {
    const fs = memory({
      [`${R}/compose.yaml`]: 'include:\n  - bad.yaml\n',
      [`${R}/bad.yaml`]: 'services: [\n  api\n'
    })
    const error = refusal(() => composeFileClosure([`${R}/compose.yaml`], fs.read))
    expect(error.file).toBe(`${R}/bad.yaml`)
    expect(error.message).toMatch(new RegExp(`^cannot read ${R}/bad\\.yaml: .*line`))
  })

  it('refuses an included file that cannot be read, naming it', () => {
    const fs = memory({ [`${R}/compose.yaml`]: 'include:\n  - missing.yaml\n' })
    const error = refusal(() => composeFileClosure([`${R}/compose.yaml`], fs.read))
    expect(error.file).toBe(`${R}/missing.yaml`)
    expect(error.message).toBe(
      `cannot read ${R}/missing.yaml: ENOENT: no such file or directory, open '${R}/missing.yaml'`
    )
    expect(error.name).toBe('ComposeReferenceError')
  })
})

describe('serviceFileUses', () => {
  it('lists each service’s secrets and configs by name, and empty lists for the others', () => {
    expect(serviceFileUses(resolved)).toEqual({
      web: { secrets: [], configs: ['nginx_conf'] },
      api: { secrets: ['db_password', 'registry_token'], configs: [] },
      worker: { secrets: [], configs: [] }
    })
  })

  it('returns nothing for a model without services', () => {
    expect(serviceFileUses({ name: 'p', services: {} })).toEqual({})
  })
})
