import {
  buildEnvFile,
  buildManifest,
  isReleaseId,
  previousRelease,
  releaseId,
  releaseLayout,
  imagesToPrune,
  releasesToPrune,
  unpinnedImages
} from '../src/deploy/release.js'
import {
  decideOnHeldLock,
  parseLockOwner,
  type BusyCommand,
  type HeldLockState,
  type LockOwner
} from '../src/deploy/lock.js'

const DIGEST = `sha256:${'c'.repeat(64)}`

describe('release ids and layout', () => {
  it('makes sortable ids that name the commit', () => {
    const id = releaseId(new Date('2026-11-21T22:01:30.123Z'), 'ABCDEF0123456789')
    expect(id).toBe('20261121T220130.123Z-abcdef0')
    expect(isReleaseId(id)).toBe(true)
    expect(releaseId(new Date('2026-01-02T03:04:05Z'), '')).toBe('20260102T030405.000Z-nogit')
    expect(isReleaseId('../../etc')).toBe(false)
    // Ids made before milliseconds stay valid, so their releases can be rolled back to.
    expect(isReleaseId('20261121T220130Z-abcdef0')).toBe(true)
    expect(isReleaseId('20261121T220130.12Z-abcdef0')).toBe(false)
  })

  it('gives two deploys of one commit in the same second different ids, in time order', () => {
    const first = releaseId(new Date('2026-11-21T22:01:30.001Z'), 'abcdef0')
    const second = releaseId(new Date('2026-11-21T22:01:30.002Z'), 'abcdef0')
    expect(second).not.toBe(first)
    expect([second, first].sort()).toEqual([first, second])
    expect(previousRelease([first, second], second)).toBe(first)
  })

  it('lays a release out under <deploy-path>/<project>', () => {
    expect(releaseLayout('/srv/stack-deploy', 'shop', '20261121T220130Z-abcdef0')).toEqual({
      root: '/srv/stack-deploy/shop',
      releases: '/srv/stack-deploy/shop/releases',
      release: '/srv/stack-deploy/shop/releases/20261121T220130Z-abcdef0',
      current: '/srv/stack-deploy/shop/current',
      backups: '/srv/stack-deploy/shop/backups',
      auditLog: '/srv/stack-deploy/shop/audit.log',
      lockDir: '/srv/stack-deploy/shop/.lock',
      tree: '/srv/stack-deploy/shop/releases/20261121T220130Z-abcdef0/project',
      secrets: '/srv/stack-deploy/shop/releases/20261121T220130Z-abcdef0/secrets',
      shared: '/srv/stack-deploy/shop/shared',
      store: '/srv/stack-deploy/shop/store'
    })
  })

  const ids = [
    '20260101T000000Z-a',
    '20260102T000000Z-b',
    '20260103T000000Z-c',
    '20260104T000000Z-d',
    'junk'
  ]
  it.each([
    [2, [], ['20260101T000000Z-a', '20260102T000000Z-b']],
    [2, ['20260101T000000Z-a'], ['20260102T000000Z-b']],
    [10, [], []],
    [0, ['20260104T000000Z-d'], ['20260101T000000Z-a', '20260102T000000Z-b', '20260103T000000Z-c']]
  ])('keeping %i (protecting %j) prunes %j', (keep, protect, pruned) => {
    expect(releasesToPrune(ids, keep, protect)).toEqual(pruned)
  })

  const ref = (name: string, hex: string): string => `r/${name}@sha256:${hex.repeat(64)}`
  type Images = ({ images: Record<string, string> } | undefined)[]
  it.each<[string, Images, Images, string[]]>([
    [
      'only the refs no kept release runs',
      [{ images: { api: ref('api', 'a'), web: ref('web', 'b') } }],
      [{ images: { api: ref('api', 'c'), web: ref('web', 'b') } }],
      [ref('api', 'a')]
    ],
    [
      'each ref once, sorted',
      [
        { images: { api: ref('api', 'd') } },
        { images: { api: ref('api', 'd'), web: ref('web', 'e') } }
      ],
      [],
      [ref('api', 'd'), ref('web', 'e')]
    ],
    [
      'nothing from a release without a readable manifest',
      [undefined],
      [{ images: { api: ref('api', 'a') } }],
      []
    ],
    [
      'never a ref that is not pinned by digest (a tag can be shared)',
      [{ images: { api: 'r/api:latest', db: 'postgres:16' } }],
      [],
      []
    ]
  ])('images to prune: %s', (_why, removed, kept, expected) => {
    expect(imagesToPrune(removed, kept)).toEqual(expected)
  })

  it('finds the previous release for a rollback', () => {
    expect(previousRelease(ids, '20260103T000000Z-c')).toBe('20260102T000000Z-b')
    expect(previousRelease(ids, '20260101T000000Z-a')).toBeUndefined()
    expect(previousRelease(ids, 'unknown')).toBeUndefined()
  })
})

describe('manifest', () => {
  it('records image@digest per service and no secrets', () => {
    const manifest = buildManifest({
      release: 'r',
      project: 'shop',
      images: { api: { image: 'r/api', tags: ['1'], digest: DIGEST, ref: `r/api@${DIGEST}` } },
      sha: 'abc',
      actor: 'octocat',
      createdAt: '2026-11-21T22:00:00Z',
      runUrl: 'https://github.com/acme/shop/actions/runs/1',
      composeFiles: ['compose.yaml']
    })
    expect(manifest.images).toEqual({ api: `r/api@${DIGEST}` })
  })

  it('refuses images that were not pushed by digest', () => {
    expect(
      unpinnedImages({
        api: { image: 'r/api', tags: ['1'], digest: DIGEST, ref: `r/api@${DIGEST}` },
        web: { image: 'r/web', tags: ['1'], digest: '', ref: 'r/web:1' }
      })
    ).toEqual(['web'])
  })
})

describe('env file', () => {
  it('merges sources, later ones winning, and quotes values for compose', () => {
    const { text, values } = buildEnvFile([
      '# app settings\nLOG_LEVEL=info\nexport APP_URL="https://shop.example"\n',
      "POSTGRES_PASSWORD=p@ss w$rd#1\nLOG_LEVEL=debug\nQUOTE=it's\nBACKSLASH=a\\\\b"
    ])
    expect(values).toEqual({
      LOG_LEVEL: 'debug',
      APP_URL: 'https://shop.example',
      POSTGRES_PASSWORD: 'p@ss w$rd#1',
      QUOTE: "it's",
      BACKSLASH: 'a\\\\b'
    })
    expect(text).toBe(
      "LOG_LEVEL='debug'\nAPP_URL='https://shop.example'\nPOSTGRES_PASSWORD='p@ss w$rd#1'\nQUOTE='it\\'s'\nBACKSLASH='a\\\\b'\n"
    )
  })

  it.each([
    ['no equals sign', 'JUSTAKEY', /line 1 is not KEY=value/],
    ['a bad key', 'BAD-KEY=1', /line 1 is not KEY=value \(key "BAD-KEY"\)/],
    ['a trailing backslash', 'A=ok\nB=ends\\', /value of B has a backslash/],
    ['a backslash before a quote', "C=a\\'b", /value of C has a backslash/]
  ])('rejects %s', (_name, source, message) => {
    expect(() => buildEnvFile([source])).toThrow(message)
  })
})

describe('deploy lock', () => {
  const owner = {
    token: 't1',
    owner: 'octocat (deploy #12)',
    runUrl: 'https://github.com/acme/shop/actions/runs/12',
    acquiredAt: '2026-11-21T22:00:00.000Z',
    ttlSeconds: 900
  }
  const holder =
    'octocat (deploy #12) since 2026-11-21T22:00:00.000Z (https://github.com/acme/shop/actions/runs/12)'
  const migrate = [{ id: 'migrate', pid: 4242 }]
  const state = (
    record: LockOwner | undefined,
    ageSeconds: number,
    busy: BusyCommand[] = []
  ): HeldLockState => ({ owner: record, token: record?.token ?? '', mtime: 1000, ageSeconds, busy })

  it('reads an owner record and refuses garbage', () => {
    expect(parseLockOwner(JSON.stringify(owner))).toEqual(owner)
    expect(parseLockOwner('{')).toBeUndefined()
    expect(parseLockOwner('{"owner": "x"}')).toBeUndefined()
  })

  it.each([
    ['a fresh lock', owner, 0, [], 'wait'],
    ['a lock renewed within its TTL', owner, 900, [], 'wait'],
    ['a lock not renewed past its TTL', owner, 901, [], 'take-over'],
    [
      'a lock past its own TTL, shorter than ours',
      { ...owner, ttlSeconds: 60 },
      61,
      [],
      'take-over'
    ],
    [
      'a lock within its own TTL, longer than ours',
      { ...owner, ttlSeconds: 3600 },
      1800,
      [],
      'wait'
    ],
    ['a record without TTL, judged by ours', { ...owner, ttlSeconds: 0 }, 901, [], 'take-over'],
    ['a stale lock whose migration still runs', owner, 86_400, migrate, 'wait'],
    ['a fresh lock whose migration runs', owner, 5, migrate, 'wait'],
    ['no owner record yet', undefined, 5, [], 'wait'],
    ['no owner record, old directory', undefined, 3600, [], 'take-over'],
    ['no owner record, a command still running', undefined, 3600, migrate, 'wait'],
    ['an age the host could not tell', owner, Number.NaN, [], 'wait'],
    ['a heartbeat in the future (clock moved back)', owner, -300, [], 'wait']
  ] as Array<[string, LockOwner | undefined, number, BusyCommand[], string]>)(
    '%s',
    (_name, record, age, busy, action) => {
      expect(decideOnHeldLock(state(record, age, busy), 900).action).toBe(action)
    }
  )

  it('judges the age the host gave, never the acquiredAt of the record (the runner clock)', () => {
    const longAgo = { ...owner, acquiredAt: '2000-01-01T00:00:00.000Z' }
    expect(decideOnHeldLock(state(longAgo, 10), 900).action).toBe('wait')
    const justNow = { ...owner, acquiredAt: new Date().toISOString() }
    expect(decideOnHeldLock(state(justNow, 5000), 900).action).toBe('take-over')
  })

  it('names the holder and why', () => {
    expect(decideOnHeldLock(state(owner, 300), 900)).toEqual({
      action: 'wait',
      holder,
      reason: 'renewed 300s ago (TTL 900s)'
    })
    expect(decideOnHeldLock(state(owner, 1000.4), 900)).toEqual({
      action: 'take-over',
      holder,
      reason: 'not renewed for 1000s, past its TTL of 900s'
    })
    expect(
      decideOnHeldLock(state(owner, 5000, [...migrate, { id: 'up', pid: 4250 }]), 900)
    ).toEqual({
      action: 'wait',
      holder,
      reason: 'migrate (pid 4242), up (pid 4250) still running on the host'
    })
    expect(decideOnHeldLock(state(undefined, 3600), 900)).toEqual({
      action: 'take-over',
      holder: 'an unknown deploy (no owner record)',
      reason: 'its lock has no owner record and is 3600s old, past the TTL of 900s'
    })
  })
})
