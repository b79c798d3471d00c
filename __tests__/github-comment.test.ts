import {
  COMMENT_LIMIT,
  DETAIL_LIMIT,
  buildRowDetail,
  commentMarker,
  failureRowDetail,
  findMarkedComment,
  mergeRow,
  parseCommentData,
  renderComment,
  scanRowDetail,
  smokeRowDetail,
  truncate,
  type CommentData,
  type CommentRow
} from '../src/report/github-comment.js'

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const RUN = 'https://github.com/acme/shop/actions/runs/4242'

function row(over: Partial<CommentRow> = {}): CommentRow {
  return {
    stage: 'build',
    ok: true,
    detail: 'api 12.3s, 80% cached',
    sha: SHA,
    runUrl: RUN,
    at: '2026-11-21T10:00:00.000Z',
    ...over
  }
}

const empty: CommentData = { project: 'shop', rows: [] }

/** Renders, then reads back, the way the next step sees the comment. */
const roundTrip = (data: CommentData): CommentData =>
  parseCommentData(renderComment(data), data.project)

describe('the comment marker', () => {
  it.each([
    ['shop', [`${commentMarker('shop')}\n### x`], 0],
    ['shop', ['a human comment', `${commentMarker('shop')}\nbody`], 1],
    // Another compose project of the same pull request has its own comment.
    ['shop', [`${commentMarker('shop-admin')}\nbody`, `${commentMarker('shop')}\nbody`], 1],
    ['shop-admin', [`${commentMarker('shop')}\nbody`], -1],
    // Quoting the marker inside a sentence is not our comment.
    ['shop', [`see ${commentMarker('shop')} above`], -1],
    ['shop', [], -1]
  ])('project %s among %j → index %d', (project, bodies, index) => {
    const comments = bodies.map((body, id) => ({ id, body }))
    expect(findMarkedComment(comments, project)?.id ?? -1).toBe(index)
  })

  it('ignores comments without a body', () => {
    expect(findMarkedComment([{ id: 1, body: null }, { id: 2 }], 'shop')).toBeUndefined()
  })
})

describe('merging rows', () => {
  it.each<[string, CommentRow[], CommentRow, string[]]>([
    ['the first row', [], row(), ['build ✅']],
    ['a second stage', [row()], row({ stage: 'smoke' }), ['build ✅', 'smoke ✅']],
    [
      'rows stay in stage order',
      [row({ stage: 'smoke' })],
      row({ stage: 'scan', ok: false }),
      ['scan ❌', 'smoke ✅']
    ],
    [
      'a stage replaces its own older row',
      [row(), row({ stage: 'scan' })],
      row({ ok: false, detail: 'Build failed' }),
      ['build ❌', 'scan ✅']
    ],
    [
      'all three',
      [row({ stage: 'smoke' }), row()],
      row({ stage: 'scan' }),
      ['build ✅', 'scan ✅', 'smoke ✅']
    ]
  ])('%s', (_name, before, added, after) => {
    const merged = mergeRow({ project: 'shop', rows: before }, added)
    expect(merged.rows.map(r => `${r.stage} ${r.ok ? '✅' : '❌'}`)).toEqual(after)
  })

  it('cuts a long detail when it stores it, and keeps it on one line', () => {
    const merged = mergeRow(empty, row({ detail: `first\nsecond ${'x'.repeat(5000)}` }))
    const detail = merged.rows[0]?.detail as string
    expect(detail.startsWith('first second x')).toBe(true)
    expect([...detail]).toHaveLength(DETAIL_LIMIT)
    expect(detail.endsWith('…')).toBe(true)
  })
})

describe('rendering and reading back', () => {
  it('renders the marker, a table with one row per stage and the run link', () => {
    const data = mergeRow(mergeRow(empty, row()), row({ stage: 'smoke', detail: 'ready in 20.1s' }))
    const body = renderComment(data)
    expect(body.split('\n')[0]).toBe(commentMarker('shop'))
    expect(body).toContain('| Stage | Result | Detail | Commit | Run |')
    expect(body).toContain(
      `| build | ✅ | api 12.3s, 80% cached | \`a1b2c3d\` | [run 4242](${RUN}) |`
    )
    expect(body).toContain(`| smoke | ✅ | ready in 20.1s | \`a1b2c3d\` | [run 4242](${RUN}) |`)
  })

  it('reads back exactly the rows it rendered', () => {
    const data = mergeRow(
      mergeRow(mergeRow(empty, row()), row({ stage: 'scan', ok: false, runUrl: undefined })),
      row({ stage: 'smoke', sha: '' })
    )
    expect(roundTrip(data)).toEqual(data)
  })

  it.each([
    ['an HTML comment end', 'error --> here <!-- and -- there'],
    ['pipes and backslashes', 'a | b \\ c'],
    ['JSON', '{"rows": [], "x": "-->"}'],
    ['unicode', 'café ✅ 🚀']
  ])('keeps a detail with %s intact, and the table and the hidden data unbroken', (_n, detail) => {
    const data = mergeRow(empty, row({ detail }))
    const body = renderComment(data)
    expect(roundTrip(data).rows[0]?.detail).toBe(detail)
    // The only "-->" in the body end our two HTML comments: the marker and the data.
    expect(body.match(/-->/g)).toHaveLength(2)
    const tableRow = body.split('\n').find(line => line.startsWith('| build |')) as string
    expect(tableRow.split(/(?<!\\)\|/)).toHaveLength(7)
  })

  it('marks rows of an older commit than the newest row', () => {
    const data = mergeRow(
      mergeRow(empty, row({ sha: '1'.repeat(40), at: '2026-11-21T09:00:00.000Z' })),
      row({ stage: 'smoke', sha: '2'.repeat(40), at: '2026-11-21T11:00:00.000Z' })
    )
    const body = renderComment(data)
    expect(body).toContain('| build | ✅ | api 12.3s, 80% cached | `1111111` (older) |')
    expect(body).toContain('| `2222222` |')
    expect(body).toContain('Last update: 2026-11-21T11:00:00Z.')
  })

  it.each([
    ['no data comment', 'just text'],
    ['broken JSON', '<!-- stack-deploy:data {"rows": [ -->'],
    ['rows that are not rows', '<!-- stack-deploy:data {"rows": [{"stage": "deploy"}, 3]} -->'],
    ['an unterminated data comment', '<!-- stack-deploy:data {"rows": []}']
  ])('reads a body with %s as no rows, never an error', (_name, body) => {
    expect(parseCommentData(body, 'shop')).toEqual({ project: 'shop', rows: [] })
  })

  it('stays under GitHub 65536-character limit even with rows edited to be huge', () => {
    const huge = row({ detail: 'y'.repeat(200_000) })
    const data: CommentData = { project: 'shop', rows: [huge, { ...huge, stage: 'smoke' }] }
    const body = renderComment(data)
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT)
    expect(body.split('\n')[0]).toBe(commentMarker('shop'))
    expect(parseCommentData(body, 'shop').rows.map(r => r.stage)).toEqual(['build', 'smoke'])
  })

  it('a full comment of three capped rows is a few kilobytes', () => {
    let data = empty
    for (const stage of ['build', 'scan', 'smoke'] as const)
      data = mergeRow(data, row({ stage, detail: '|'.repeat(10_000) }))
    expect(renderComment(data).length).toBeLessThan(10_000)
  })
})

describe('row details', () => {
  it.each([
    [[], 'nothing to build (no selected service has a build section)'],
    [
      [{ service: 'api', tags: ['1'], digest: '', seconds: 12.34, steps: 10, cached: 8 }],
      'api 12.3s, 80% cached'
    ],
    [
      [
        { service: 'api', tags: ['1'], digest: 'sha256:abc', seconds: 3, steps: 0, cached: 0 },
        { service: 'web', tags: ['1'], digest: 'sha256:def', seconds: 4.06, steps: 4, cached: 4 }
      ],
      'api 3.0s · web 4.1s, 100% cached; pushed'
    ]
  ])('build %j → %s', (reports, detail) => {
    expect(buildRowDetail(reports)).toBe(detail)
  })

  const counts = (critical: number, high: number, medium = 0) => ({
    CRITICAL: critical,
    HIGH: high,
    MEDIUM: medium,
    LOW: 0,
    UNKNOWN: 0
  })
  const service = (name: string, c: ReturnType<typeof counts>, verdict: string) =>
    ({ service: name, counts: c, verdict }) as never

  it.each([
    [
      { passed: true, failing: [], threshold: ['CRITICAL', 'HIGH'], services: [] },
      'no images; gate CRITICAL,HIGH: passed'
    ],
    [
      {
        passed: true,
        failing: [],
        threshold: ['CRITICAL'],
        services: [service('api', counts(0, 0, 2), 'pass'), service('web', counts(0, 0), 'pass')]
      },
      'api: 2 MEDIUM · web: no findings; gate CRITICAL: passed'
    ],
    [
      {
        passed: false,
        failing: ['postgres'],
        threshold: ['CRITICAL', 'HIGH'],
        services: [
          service('postgres', counts(1, 3), 'fail'),
          service('redis', counts(0, 1), 'report-only')
        ]
      },
      'postgres: 1 CRITICAL, 3 HIGH · redis: 1 HIGH; gate CRITICAL,HIGH: failed for postgres'
    ],
    [
      {
        passed: true,
        failing: [],
        threshold: ['HIGH'],
        services: [service('redis', counts(0, 1), 'report-only')]
      },
      'redis: 1 HIGH; gate HIGH: passed (report only for redis)'
    ]
  ])('scan %#', (result, detail) => {
    expect(scanRowDetail(result as never)).toBe(detail)
  })

  it('smoke: ready time with the slowest service, probes and total', () => {
    expect(
      smokeRowDetail({
        project: 'shop-smoke-1',
        secondsToReady: 21.04,
        serviceSeconds: { redis: 3, postgres: 12.5, api: 20.9 },
        probes: [{ ok: true }, { ok: false }, { ok: true }] as never,
        totalSeconds: 30.55
      })
    ).toBe('ready in 21.0s (slowest: api 20.9s); probes 2/3 passed; total 30.6s')
    expect(
      smokeRowDetail({
        project: 'p',
        secondsToReady: 1,
        serviceSeconds: {},
        probes: [],
        totalSeconds: 2
      })
    ).toBe('ready in 1.0s; total 2.0s')
  })

  const named = (name: string, message: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(message), { name }, extra)

  it.each([
    [
      'build',
      named('BuildFailedError', 'Build failed for service "api" at step [3/5] RUN npm ci\nmore'),
      'Build failed for service "api" at step [3/5] RUN npm ci'
    ],
    [
      'smoke',
      named('SmokeFailedError', 'Smoke test failed: 2 services', {
        failures: [
          { service: 'app', reason: 'container exited with code 2\nfatal' },
          { service: 'web', reason: 'unhealthy' }
        ]
      }),
      'app: container exited with code 2 · web: unhealthy'
    ],
    [
      'smoke',
      named('SmokeFailedError', 'Smoke test failed: the test command exited with code 1', {
        failures: []
      }),
      'Smoke test failed: the test command exited with code 1'
    ],
    [
      'scan',
      named('ScanGateError', 'gate failed', {
        result: {
          passed: false,
          failing: ['api'],
          threshold: ['CRITICAL'],
          services: [service('api', counts(2, 0), 'fail')]
        }
      }),
      'api: 2 CRITICAL; gate CRITICAL: failed for api'
    ],
    ['scan', new Error("Input 'severity': unknown severity"), "Input 'severity': unknown severity"],
    ['build', 'a thrown string', 'a thrown string']
  ] as const)('%s failure, case %#: one line saying what failed', (stage, error, detail) => {
    expect(failureRowDetail(stage, error)).toBe(detail)
  })
})

describe('truncate', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly ten', 11, 'exactly ten'],
    ['a longer text', 8, 'a longe…'],
    ['✅✅✅✅', 3, '✅✅…']
  ])('%j to %d → %j', (text, limit, out) => {
    expect(truncate(text, limit)).toBe(out)
  })
})
