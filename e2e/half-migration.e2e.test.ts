/**
 * Safety hole 9 of issue 11, through the runner contract on the lab's deploy host: a migration
 * that fails half-way (an earlier file of it committed, a later one failed). Nothing switches,
 * the previous release keeps serving, and the error names the backup to restore from — a
 * backup that really holds the data from before, and that restores by hand.
 *
 * The reference api's migrate job (example/api/src/migrate.js) runs each migration file in its
 * own transaction, so "half-applied" is: file 900 commits, file 901 fails and is rolled back.
 * Both files are in e2e/fixtures/half-migration/ and reach only the second build: that build
 * adds a compose file that points the api's build context at a temporary copy of example/api
 * with the two files added to its migrations/ (same Dockerfile, same compose file otherwise).
 * The deploys themselves use the reference stack's compose file alone, as deploy-safety does.
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import type { RecordedRequest } from '../test/stand-ins/fake-github-api.js'
import {
  ROOT,
  docker,
  labEnv,
  referenceStackEnv,
  removeProject,
  runStep,
  startFakeGithubApi,
  type Run,
  type StepRun
} from './lab.js'

const lab = labEnv()
const project = `half-${process.pid}`
const PORT = 8094
const host = `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`
const root = path.join(lab.LAB_DEPLOY_PATH as string, project)
const hostEnv = { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string }
const web = `http://${lab.LAB_HOST}:${PORT}`
const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const TOKEN = `ghs_half${process.pid}tokenvalue`
const HEAD = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
const FIXTURE = path.join(ROOT, 'e2e', 'fixtures', 'half-migration')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'half-migration-'))
// The reference stack's database and role (POSTGRES_DB / POSTGRES_USER default to app).
const DB = 'app'
const RESTORED = 'half_restored'

const common = {
  'compose-files': 'compose/compose.yaml',
  'working-directory': ROOT,
  'project-name': project,
  registry: lab.LAB_REGISTRY as string,
  'image-namespace': `e2e-half-${process.pid}`,
  'registry-username': lab.LAB_REGISTRY_USER as string,
  'registry-password': lab.LAB_REGISTRY_PASSWORD as string
}
const deployInputs = {
  ...common,
  command: 'deploy',
  hosts: host,
  'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
  'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
  'deploy-path': lab.LAB_DEPLOY_PATH as string,
  'health-urls': `http://{host}:${PORT}/api/health`,
  'health-retries': '20',
  'env-file': `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=${PORT}`,
  secrets: 'POSTGRES_PASSWORD=half-pg-secret\nREDIS_PASSWORD=half-redis-secret',
  'backup-service': 'postgres',
  'migrate-service': 'migrate'
}

/**
 * A compose file that builds the api from a copy of example/api whose migrations/ also holds
 * the fixture's files. Only what api.Dockerfile reads from its context (and the context's
 * .dockerignore) is copied; the Dockerfile is the repository's own.
 */
function halfMigrationOverride(): string {
  const api = path.join(ROOT, 'example', 'api')
  const context = path.join(tmp, 'api')
  for (const entry of ['.dockerignore', 'package.json', 'package-lock.json', 'src', 'migrations'])
    fs.cpSync(path.join(api, entry), path.join(context, entry), { recursive: true })
  for (const file of fs.readdirSync(FIXTURE).filter(name => name.endsWith('.sql')))
    fs.copyFileSync(path.join(FIXTURE, file), path.join(context, 'migrations', file))
  const override = path.join(tmp, 'half-migration.yaml')
  fs.writeFileSync(
    override,
    [
      'services:',
      '  api:',
      '    build:',
      `      context: ${JSON.stringify(context)}`,
      `      dockerfile: ${JSON.stringify(path.join(ROOT, 'dockerfiles', 'api.Dockerfile'))}`,
      ''
    ].join('\n')
  )
  return override
}

/** A command on the deploy host, over ssh as the deploy user. */
function onHost(command: string): Run {
  const result = spawnSync(
    'ssh',
    [
      '-i',
      lab.LAB_SSH_KEY as string,
      '-p',
      lab.LAB_SSH_PORT as string,
      '-o',
      `UserKnownHostsFile=${lab.LAB_KNOWN_HOSTS}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      host,
      command
    ],
    { encoding: 'utf8' }
  )
  if (result.error) throw result.error
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

function containerOf(service: string): string {
  const ids = docker(
    [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      `label=com.docker.compose.service=${service}`
    ],
    hostEnv
  )
    .stdout.split('\n')
    .filter(Boolean)
  expect(ids).toHaveLength(1)
  return ids[0] as string
}

/** psql in the stack's postgres container (local socket, as the backup's pg_dump connects). */
function psql(sql: string, database = DB, input?: Buffer): string {
  const result = spawnSync(
    'docker',
    [
      'exec',
      ...(input ? ['-i'] : []),
      containerOf('postgres'),
      'psql',
      '-X',
      '-q',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-U',
      DB,
      '-d',
      database,
      ...(input ? [] : ['-c', sql])
    ],
    { env: { ...process.env, ...hostEnv }, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }
  )
  if (result.status !== 0) throw new Error(`psql ${sql}: ${result.stderr}`)
  return result.stdout.trim()
}

/**
 * The whole database as SQL (schema and data), for comparing two databases. Only the header
 * comments and the per-dump random \restrict key of newer pg_dump releases differ between two
 * dumps of the same content.
 */
function dumpOf(database: string): string {
  const result = docker(
    ['exec', containerOf('postgres'), 'pg_dump', '--no-owner', '-U', DB, '-d', database],
    hostEnv
  )
  if (result.status !== 0) throw new Error(`pg_dump ${database}: ${result.stderr}`)
  return result.stdout
    .split('\n')
    .filter(line => !line.startsWith('--') && !/^\\(un)?restrict /.test(line))
    .join('\n')
}

let fake: ChildProcess
let apiUrl = ''
async function recorded(): Promise<RecordedRequest[]> {
  return (await (await fetch(`${apiUrl}/_fake/requests`)).json()) as RecordedRequest[]
}

describe('a migration that fails half-way (issue 11, hole 9)', () => {
  const images: string[] = []
  let live = ''
  let note = { id: 0, text: '' }
  let before = ''
  let failed: StepRun
  /** The backup the failed deploy took, found on the host (not read from the error). */
  let backup = ''

  beforeAll(async () => {
    ;({ fake, apiUrl } = await startFakeGithubApi())

    for (const [version, composeFiles] of [
      ['1', common['compose-files']],
      ['2', `${common['compose-files']}\n${halfMigrationOverride()}`]
    ] as const) {
      const built = runStep(
        { ...common, 'compose-files': composeFiles, command: 'build', push: 'true' },
        {},
        referenceStackEnv({ APP_VERSION: version })
      )
      if (built.status !== 0) throw new Error(built.stdout.slice(-2000))
      images.push(built.outputs.images as string)
    }

    const first = runStep({ ...deployInputs, images: images[0] as string }, {}, referenceStackEnv())
    if (first.status !== 0) throw new Error(first.stdout.slice(-3000))
    live = first.outputs['release-id'] as string

    // Data that exists only before the second deploy: a note written through nginx.
    const posted = await fetch(`${web}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `written before the half migration ${process.pid}` })
    })
    expect(posted.status).toBe(201)
    note = (await posted.json()) as { id: number; text: string }
    before = dumpOf(DB)

    failed = runStep(
      {
        ...deployInputs,
        images: images[1] as string,
        'github-token': TOKEN,
        environment: 'staging'
      },
      {},
      referenceStackEnv({
        GITHUB_API_URL: apiUrl,
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_SHA: HEAD,
        GITHUB_RUN_ID: '4243',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_EVENT_NAME: 'push'
      })
    )
    const backups = fs.existsSync(path.join(root, 'backups'))
      ? fs.readdirSync(path.join(root, 'backups'))
      : []
    expect(backups).toHaveLength(1)
    backup = path.join(root, 'backups', backups[0] as string)
  })

  afterAll(async () => {
    removeProject(project, hostEnv)
    fs.rmSync(root, { recursive: true, force: true })
    fs.rmSync(tmp, { recursive: true, force: true })
    if (fake) {
      const exited = new Promise(resolve => fake.once('exit', resolve))
      fake.stdin?.end()
      await exited
    }
  })

  it('fails at "migrate": nothing switches, the previous release keeps serving its data', async () => {
    expect(failed.status).toBe(1)
    expect(failed.stdout).toMatch(
      new RegExp(
        `::error::Deploy to ${escaped(host)} failed at "migrate": the migration \\(service migrate\\) exited with code [1-9]`
      )
    )
    // The migration's own output says which file failed.
    expect(failed.summary).toContain('<summary>Migration output</summary>')
    expect(failed.summary).toMatch(/901_half_applied_failure\.sql failed and was rolled back/)
    expect(failed.summary).toMatch(/\| ❌ migrate \|/)
    expect(failed.summary).not.toMatch(/roll out/)

    // `current` is the first release, the new release folder is gone, and so is the lock.
    expect(path.basename(fs.readlinkSync(path.join(root, 'current')))).toBe(live)
    expect(fs.readdirSync(path.join(root, 'releases'))).toEqual([live])
    expect(fs.existsSync(path.join(root, '.lock'))).toBe(false)

    // The first release's api serves, with the note written before.
    const api = JSON.parse(images[0] as string).api.ref as string
    expect(api).not.toBe(JSON.parse(images[1] as string).api.ref)
    expect(
      docker(
        ['inspect', '--format', '{{.Config.Image}}', containerOf('api')],
        hostEnv
      ).stdout.trim()
    ).toBe(api)
    const health = await fetch(`${web}/api/health`)
    expect(health.status).toBe(200)
    expect(((await health.json()) as { status: string }).status).toBe('ok')
    const read = await fetch(`${web}/api/notes/${note.id}`)
    expect(read.status).toBe(200)
    expect(((await read.json()) as { text: string }).text).toBe(note.text)
  })

  it('left the migration half-applied: the first file committed, the failing one rolled back', () => {
    expect(psql('SELECT id, note FROM half_applied_marker ORDER BY id')).toBe(
      '1|committed by 900_half_applied_marker'
    )
    expect(psql("SELECT to_regclass('half_applied_never') IS NULL")).toBe('t')
    const applied = psql('SELECT version FROM schema_migrations ORDER BY version').split('\n')
    expect(applied).toContain('900')
    expect(applied).not.toContain('901')
    // So the database is no longer what it was before the deploy.
    expect(dumpOf(DB)).not.toBe(before)
  })

  it('took a whole backup on the host before migrating, holding the data from before', () => {
    // Under <deploy-path>/<project>/backups/, named after the release that was discarded.
    const release = path.basename(backup).replace(/-postgres\.sql\.gz$/, '')
    expect(path.basename(backup)).toBe(`${release}-postgres.sql.gz`)
    expect(release).not.toBe(live)
    expect(fs.existsSync(path.join(root, 'releases', release))).toBe(false)
    expect(failed.summary).toContain(`Backup: \`${backup}\``)

    // Readable by the deploy user on the host, a whole gzip stream, not empty.
    const check = onHost(`test -r ${backup} && gzip -t ${backup} && stat -c %s ${backup}`)
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
    expect(Number(check.stdout.trim())).toBeGreaterThan(100)

    const sql = zlib.gunzipSync(fs.readFileSync(backup)).toString('utf8')
    expect(sql).toContain('PostgreSQL database dump')
    expect(sql).toContain(note.text)
    expect(sql).not.toContain('half_applied_marker')
  })

  it('names that backup in the error annotation', () => {
    const annotation = failed.stdout.split('\n').find(line => line.startsWith('::error::Deploy'))
    expect(annotation).toBeDefined()
    expect(annotation).toContain(
      `. The database was backed up before the migration: restore from ${backup} if it committed part of its work`
    )
  })

  it('names that backup in the GitHub deployment status', async () => {
    const statuses = (await recorded())
      .map(request => request.body as { state?: string; description?: string })
      .filter(body => body.state !== undefined)
    expect(statuses.map(body => body.state)).toEqual(['in_progress', 'failure'])
    const description = statuses[1]?.description as string
    expect(description).toMatch(
      new RegExp(`^Deploy failed on ${escaped(host)} at migrate; nothing switched`)
    )
    expect(description).toContain(`; backup ${path.basename(backup)}`)
    expect([...description].length).toBeLessThanOrEqual(140)
  })

  it('restores by hand from that backup to exactly the data from before the deploy', () => {
    psql(`CREATE DATABASE ${RESTORED}`, 'postgres')
    // gunzip | psql, into a fresh database next to the half-migrated one.
    psql('', RESTORED, zlib.gunzipSync(fs.readFileSync(backup)))
    expect(psql("SELECT to_regclass('half_applied_marker') IS NULL", RESTORED)).toBe('t')
    expect(psql(`SELECT text FROM notes WHERE id = ${note.id}`, RESTORED)).toBe(note.text)
    expect(dumpOf(RESTORED)).toBe(before)
  })
})
