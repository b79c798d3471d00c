import * as path from 'node:path'
import { backupsToPrune } from '../src/deploy/steps/backup.js'
import { healthUrlFor } from '../src/deploy/steps/verify.js'
import { deploySummary, type HostReport } from '../src/report/deploy-summary.js'
import { otherHostOutcome, prepareRelease, type DeployContext } from '../src/deploy/stage.js'
import { planFromConfig } from '../src/compose/plan.js'
import { parseInputs } from '../src/inputs.js'
import { planProjectFiles } from '../src/compose/project-files.js'
import { describeOtherHost } from '../src/errors.js'

const DIGEST = `sha256:${'d'.repeat(64)}`
const plan = planFromConfig({
  name: 'shop',
  services: {
    api: { image: 'shop/api:local', build: { context: '/w/api' } },
    migrate: { image: 'shop/api:local' },
    postgres: { image: 'postgres:16' }
  }
})
const root = path.resolve('__tests__/fixtures/extends')
const files = planProjectFiles({
  root,
  composeFiles: ['compose.yaml', 'compose.override.yaml'],
  closure: {
    composeFiles: [path.join(root, 'compose.yaml'), path.join(root, 'compose.override.yaml')],
    includeEnvFiles: []
  },
  references: [
    {
      path: path.join(root, 'db_password.txt'),
      writtenAbsolute: false,
      use: { kind: 'secret', name: 'db_password' }
    }
  ],
  rules: new Map(),
  uses: { api: { secrets: ['db_password'], configs: [] } }
})
const inputs = (values: Record<string, string>) =>
  parseInputs(
    name =>
      ({
        command: 'deploy',
        hosts: 'deploy@h1',
        'ssh-key': 'k',
        'known-hosts': 'h1 ssh-ed25519 AAAA',
        ...values
      })[name] ?? ''
  ).deploy

function context(
  over: Partial<DeployContext> = {},
  values: Record<string, string> = {}
): DeployContext {
  return {
    ref: {
      workingDirectory: path.resolve('__tests__/fixtures/extends'),
      files: ['compose.yaml', 'compose.override.yaml'],
      profiles: []
    },
    plan,
    files,
    secretFiles: { db_password: 'from-input' },
    images: { api: { image: 'r/api', tags: ['1'], digest: DIGEST, ref: `r/api@${DIGEST}` } },
    inputs: inputs(values),
    registry: undefined,
    waitTimeoutSeconds: 120,
    sha: '0123456789',
    actor: 'octocat',
    runUrl: undefined,
    ...over
  }
}

describe('preparing a deploy', () => {
  it('pins images, names the release after time and commit, and reads the compose files', () => {
    const prepared = prepareRelease(
      context({}, { 'env-file': 'A=1', secrets: 'B=2', 'migrate-service': 'migrate' }),
      new Date('2026-11-21T22:00:00Z')
    )
    expect(prepared.releaseId).toBe('20261121T220000.000Z-0123456')
    // The files keep their layout under the release's project/ folder: no flattening.
    expect(prepared.compose).toEqual({
      projectDirectory: 'project',
      composeFiles: ['project/compose.yaml', 'project/compose.override.yaml'],
      envFiles: [],
      overrides: ['images.override.yaml', 'files.override.yaml'],
      profiles: []
    })
    expect(prepared.secretFiles).toEqual([{ name: 'db_password', content: 'from-input' }])
    // Only a hash of the secret reaches the override, never its value.
    expect(prepared.filesOverride).not.toContain('from-input')
    expect(prepared.filesOverride).toContain(
      '/srv/stack-deploy/shop/releases/20261121T220000.000Z-0123456/secrets/db_password'
    )
    expect(prepared.envFile).toBe("A='1'\nB='2'\n")
    expect(prepared.imagesOverride).toContain(`image: r/api@${DIGEST}`)
    expect(prepared.imagesOverride).toContain('build: !reset null')
    // migrate runs the api image: pinned to the same digest.
    expect(prepared.imagesOverride).toMatch(new RegExp(`migrate:\\n    image: r/api@${DIGEST}`))
  })

  it.each([
    [{ images: {} }, {}, /^Input 'images': deploy needs the images output/],
    [
      { images: { api: { image: 'r/api', tags: ['1'], digest: '', ref: 'r/api:1' } } },
      {},
      /^Input 'images': deploys run by digest, but api has no image@sha256 ref/
    ],
    [
      {},
      { 'backup-service': 'db' },
      /^Input 'backup-service': unknown service "db"; the project has: api, migrate, postgres/
    ],
    [
      {},
      { 'migrate-service': 'migrations' },
      /^Input 'migrate-service': unknown service "migrations"/
    ],
    [{}, { 'env-file': 'NOT A LINE' }, /^Input 'env-file': line 1 is not KEY=value/],
    [
      { secretFiles: { db_pasword: 'x' } },
      {},
      /^Input 'secret-files': db_pasword is not a file secret that a service of the project uses \(they are: db_password\)/
    ],
    [
      {
        files: { ...files, secrets: [{ name: 'tls_key', relative: undefined, services: ['web'] }] },
        secretFiles: {}
      },
      {},
      /^Input 'secret-files': secret tls_key \(used by web\) has no file: it is not in the working tree and secret-files does not give it/
    ]
  ])('refuses %#', (over, values, message) => {
    expect(() =>
      prepareRelease(context(over as Partial<DeployContext>, values), new Date())
    ).toThrow(message)
  })
})

describe('deploy helpers', () => {
  it.each([
    ['http://{host}:8080/health', '10.0.0.5', 'http://10.0.0.5:8080/health'],
    ['https://{host}/health', '2001:db8::1', 'https://[2001:db8::1]/health'],
    ['https://app.example.com/health', 'h', 'https://app.example.com/health']
  ])('health URL %s on %s', (template, host, url) => {
    expect(healthUrlFor(template, host)).toBe(url)
  })

  it('keeps the newest backups of a service', () => {
    const files = [
      '20260101T000000Z-a-postgres.sql.gz',
      '20260103T000000Z-c-postgres.sql.gz',
      '20260102T000000Z-b-postgres.sql.gz',
      '20260102T000000Z-b-other.sql.gz'
    ]
    expect(backupsToPrune(files, 'postgres', 2)).toEqual(['20260101T000000Z-a-postgres.sql.gz'])
  })

  it('summarises each host: steps with durations, the backup, the migration output, the result', () => {
    const summary = deploySummary('Deploy 20261121T220000Z-0123456', [
      {
        host: 'deploy@h1',
        result: 'rolled back',
        steps: [
          { step: 'pull', seconds: 3.21, ok: true, detail: '' },
          {
            step: 'roll out',
            seconds: 12,
            ok: false,
            detail: 'compose up --wait failed | api unhealthy'
          }
        ],
        backup: { service: 'postgres', file: '/srv/x/backups/b.sql.gz', bytes: 2048 },
        migrationOutput: 'applied 003_add_tags.sql',
        previous: '20261120T000000Z-abc'
      }
    ])
    expect(summary).toContain('### Deploy 20261121T220000Z-0123456')
    expect(summary).toContain('#### deploy@h1: rolled back')
    expect(summary).toContain('| ✅ pull | 3.2s |  |')
    expect(summary).toContain(
      '| ❌ roll out | 12.0s | compose up --wait failed \\| api unhealthy |'
    )
    expect(summary).toContain('Backup: `/srv/x/backups/b.sql.gz` (2048 bytes)')
    expect(summary).toContain('applied 003_add_tags.sql')
  })
})

describe('what a failed multi-host deploy says of the hosts already switched', () => {
  const report = (previous: string | undefined): HostReport => ({
    host: 'deploy@web-1',
    result: 'deployed',
    steps: [],
    backup: undefined,
    migrationOutput: '',
    previous
  })
  it.each([
    ['20261120T100000Z-aaaaaaa', true, 'deploy@web-1 was rolled back to 20261120T100000Z-aaaaaaa'],
    [undefined, false, 'deploy@web-1 had no release before and keeps the new one'],
    [
      '20261120T100000Z-aaaaaaa',
      false,
      'deploy@web-1 could not be rolled back to 20261120T100000Z-aaaaaaa and runs the new release: roll it back with command: rollback'
    ]
  ])('previous %s, rolled back %s', (previous, rolled, expected) => {
    expect(describeOtherHost(otherHostOutcome(report(previous), rolled))).toBe(expected)
  })
})
