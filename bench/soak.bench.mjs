// Soak (issue 11): `stack-deploy deploy` 20 times and `rollback` 3 times in a row on the lab's
// deploy host (zero-downtime, keep-releases 3, backup + migration on every deploy), while
// bench/load.mjs POSTs notes at ~10/s and GETs at ~20/s through nginx, each request on a fresh
// connection. Every deploy changes only the api (5 versions of it, built once, deployed
// round-robin). Prints, per deploy and rollback: its time, the failed requests in its window
// (and why), the release folders and project images left on the host; then the rows
// acknowledged against the rows in postgres. Then the same load across naive deploys of the
// same versions (`docker compose pull && up -d --wait` straight on the host's engine, another
// project) and the ratio of failed requests per deploy, ours / naive.
//
// Rounds: SOAK_DEPLOYS (20), SOAK_ROLLBACKS (3), SOAK_NAIVE (5), e.g.
//   SOAK_DEPLOYS=5 SOAK_ROLLBACKS=1 npm run bench -- soak
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { CLI, ROOT, labEnv, referenceStackEnv } from './lib.mjs'
import { attribute, checkRows, describeFailures, notesInPostgres, startLoad } from './load.mjs'
import { removeImages, removeProject, runSoak, soakReport, versionAt } from './soak-lib.mjs'

const PORT = 8093
const KEEP = 3
const VERSIONS = ['1', '2', '3', '4', '5']

const count = (name, fallback) => {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number, not ${value}`)
  return Number(value)
}

/** Runs a command without blocking (the load's child keeps its own clock either way). */
function run(argv, options = {}) {
  return new Promise((resolve, reject) => {
    const { input, ...spawnOptions } = options
    const child = spawn(argv[0], argv.slice(1), {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...spawnOptions
    })
    if (input !== undefined) child.stdin.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', status => resolve({ status, stdout, stderr }))
  })
}

async function checked(argv, options) {
  const result = await run(argv, options)
  if (result.status !== 0)
    throw new Error(
      `${argv.slice(0, 4).join(' ')} failed (${result.status}):\n${(result.stderr || result.stdout).slice(-3000)}`
    )
  return result.stdout
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

export default async function soakBench({
  deploys = count('SOAK_DEPLOYS', 20),
  rollbacks = count('SOAK_ROLLBACKS', 3),
  naiveDeploys = count('SOAK_NAIVE', 5)
} = {}) {
  const lab = labEnv()
  const namespace = `bench-soak-${process.pid}`
  const project = `bench-soak-${process.pid}`
  const naive = `bench-soak-naive-${process.pid}`
  const repoPrefix = `${lab.LAB_REGISTRY}/${namespace}/`
  const dockerHost = lab.LAB_DEPLOY_DOCKER_HOST
  const root = path.join(lab.LAB_DEPLOY_PATH, project)
  const baseUrl = `http://${lab.LAB_HOST}:${PORT}`
  const secrets = { POSTGRES_PASSWORD: 'bench-soak-pg', REDIS_PASSWORD: 'bench-soak-redis' }
  const env = referenceStackEnv(lab, {
    ...secrets,
    STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD,
    STACK_DEPLOY_SSH_KEY: fs.readFileSync(lab.LAB_SSH_KEY, 'utf8'),
    STACK_DEPLOY_SECRETS: Object.entries(secrets)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n')
  })
  const common = [
    ...['-f', 'compose/compose.yaml', '-p', project],
    ...['--registry', lab.LAB_REGISTRY, '--image-namespace', namespace],
    ...['--registry-username', lab.LAB_REGISTRY_USER],
    ...['--hosts', `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`],
    `--known-hosts=${fs.readFileSync(lab.LAB_KNOWN_HOSTS, 'utf8')}`,
    ...['--deploy-path', lab.LAB_DEPLOY_PATH, '--health-urls', `http://{host}:${PORT}/api/health`],
    '--zero-downtime'
  ]
  const envFile = version =>
    `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=${PORT}\nAPP_VERSION=${version}`
  const cli = (args, extraEnv = {}) =>
    checked([process.execPath, CLI, ...args], { cwd: ROOT, env: { ...env, ...extraEnv } })
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-soak-'))
  // The build's registry login in a docker config of its own: in the shared one, another
  // build's logout (the build logs out when it ends) can land between our login and push.
  const buildConfig = path.join(scratch, 'build-docker-config')
  const naiveEnv = version => ({
    ...referenceStackEnv(lab, secrets),
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: path.join(scratch, 'docker-config'),
    WEB_PORT: String(PORT),
    APP_VERSION: version
  })

  console.log(
    `soak: ${deploys} deploys + ${rollbacks} rollbacks under ~10 writes/s + ~20 reads/s, keep-releases ${KEEP}, api versions ${VERSIONS.join(', ')}; then ${naiveDeploys} naive deploys`
  )
  const results = {}
  try {
    // The versions, built and pushed once. Only the api differs between them.
    const images = new Map()
    for (const version of VERSIONS) {
      const built = await cli(['build', ...common, '--push'], {
        APP_VERSION: version,
        DOCKER_CONFIG: buildConfig
      })
      images.set(version, built.trim())
    }
    const webs = new Set([...images.values()].map(json => JSON.parse(json).web.ref))
    if (webs.size !== 1) throw new Error(`the web image differs between versions: ${[...webs]}`)

    // Ours. SIGTERM or SIGINT ends the sequence after the op under way, so that the report
    // still comes and the stacks are still removed.
    const stop = new AbortController()
    const onSignal = signal => stop.abort(`${signal} received`)
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    const started = Date.now()
    const soak = await runSoak({
      deploys,
      rollbacks,
      versions: VERSIONS,
      keep: KEEP,
      root,
      dockerHost,
      repoPrefix,
      baseUrl,
      project,
      tag: `bench-soak-${process.pid}`,
      log: line => console.log(line),
      // A soak reports every deploy: one that fails (and rolls itself back) does not end it.
      continueOnError: true,
      signal: stop.signal,
      deploy: async version => {
        const out = await cli(
          [
            ...['deploy', ...common, '--images', images.get(version)],
            ...['--migrate-service', 'migrate', '--backup-service', 'postgres'],
            ...['--keep-releases', String(KEEP), '--json']
          ],
          { STACK_DEPLOY_ENV_FILE: envFile(version) }
        )
        return JSON.parse(out).deploy.releaseId
      },
      rollback: async target => {
        const out = await cli([
          ...['rollback', ...common, '--json'],
          ...(target ? ['--release-id', target] : [])
        ])
        return JSON.parse(out).deploy.releaseId
      }
    })
    console.log(
      `stack-deploy, ${soak.ops.length} ops in ${((Date.now() - started) / 1000).toFixed(0)}s:`
    )
    console.log(soakReport(soak))
    const problems = soak.ops.flatMap(op => [
      ...(op.error ? [`${op.name}: failed`] : []),
      ...(op.problems ?? []).map(p => `${op.name}: ${p}`)
    ])
    const opWindows = soak.windows.slice(1)
    const failedOf = w => w.failedWrites + w.failedReads
    const oursFailed = opWindows.reduce((n, w) => n + failedOf(w), 0)
    const withFailures = opWindows.filter(w => failedOf(w) > 0)
    console.log(
      `  ops with failed requests: ${withFailures.length} of ${opWindows.length}${withFailures.length ? ` (${withFailures.map(w => w.name).join('; ')})` : ''}`
    )
    console.log(
      `  releases on the host after each op: max ${Math.max(...soak.ops.map(op => op.releases ?? 0))} (bound: keep-releases ${KEEP} + 1); project images: max ${Math.max(...soak.ops.map(op => op.images ?? 0))}`
    )
    console.log(`  host problems: ${problems.length ? problems.join(' | ') : 'none'}`)
    console.log(
      `  verdict: ${oursFailed === 0 ? '0 failed requests' : `${oursFailed} FAILED REQUESTS`}, ${soak.rows.lost.length === 0 ? '0 rows lost' : `${soak.rows.lost.length} ROWS LOST`}, ${problems.length === 0 ? 'releases and images bounded' : 'HOST PROBLEMS'}`
    )
    tearDownOurs()

    // Naive: the same versions, `docker compose pull && up -d --wait` on the host's engine.
    let naiveFailed = 0
    if (naiveDeploys > 0 && !stop.signal.aborted) {
      await checked(
        ['docker', 'login', '-u', lab.LAB_REGISTRY_USER, '--password-stdin', lab.LAB_REGISTRY],
        { env: naiveEnv(VERSIONS[0]), input: lab.LAB_REGISTRY_PASSWORD }
      )
      const naiveUp = async version => {
        const pins = path.join(scratch, `images-v${version}.yaml`)
        const map = JSON.parse(images.get(version))
        fs.writeFileSync(
          pins,
          `services:\n  api:\n    image: ${map.api.ref}\n  migrate:\n    image: ${map.api.ref}\n  web:\n    image: ${map.web.ref}\n`
        )
        const compose = ['docker', 'compose', '-p', naive, '-f', 'compose/compose.yaml', '-f', pins]
        const options = { cwd: ROOT, env: naiveEnv(version) }
        await checked([...compose, 'pull', '-q'], options)
        await checked([...compose, 'up', '-d', '--wait'], options)
      }
      await naiveUp(VERSIONS[0])
      const load = await startLoad({ baseUrl, tag: `bench-soak-naive-${process.pid}` })
      const ops = []
      let loadResult
      try {
        await sleep(2000)
        for (let i = 1; i <= naiveDeploys && !stop.signal.aborted; i++) {
          const version = VERSIONS[i % VERSIONS.length]
          const op = {
            name: `naive ${i} v${version}`,
            start: Date.now(),
            loadBefore: os.loadavg()[0]
          }
          ops.push(op)
          await naiveUp(version)
          op.end = Date.now()
          op.loadAfter = os.loadavg()[0]
          op.versionSeen = await versionAt(`${baseUrl}/api/health`)
          await sleep(2000)
        }
      } finally {
        loadResult = await load.stop()
      }
      const windows = attribute(loadResult, ops)
      const rows = checkRows(
        loadResult.acknowledged,
        notesInPostgres({ dockerHost, project: naive })
      )
      console.log(`naive (docker compose pull && up -d --wait), ${ops.length} deploys:`)
      for (const [i, op] of ops.entries()) {
        const w = windows[i + 1]
        console.log(
          `  ${op.name.padEnd(44)} ${((op.end - op.start) / 1000).toFixed(1).padStart(5)}s  failed writes ${w.failedWrites}/${w.writes}, reads ${w.failedReads}/${w.reads}, slowest ${w.maxMs}ms, api reports v${op.versionSeen}, load ${op.loadBefore.toFixed(1)}->${op.loadAfter.toFixed(1)}${w.failures.length ? `  [${describeFailures(w.failures, w.start)}]` : ''}`
        )
      }
      naiveFailed = windows.slice(1).reduce((n, w) => n + failedOf(w), 0)
      console.log(
        `  total: ${naiveFailed} failed; rows: ${rows.acknowledged} acknowledged, ${rows.found} found, ${rows.lost.length} lost`
      )
      const oursPerOp = oursFailed / Math.max(1, opWindows.length)
      const naivePerDeploy = naiveFailed / ops.length
      const ratio = naivePerDeploy === 0 ? null : oursPerOp / naivePerDeploy
      console.log(
        `failed requests per deploy: stack-deploy ${oursPerOp.toFixed(2)} (${oursFailed} in ${opWindows.length} ops) vs naive ${naivePerDeploy.toFixed(2)} (${naiveFailed} in ${ops.length}) -> ratio ${ratio === null ? 'n/a (naive had none)' : ratio.toFixed(3)}`
      )
      results.soak_failed_ratio = ratio
      results.soak_failed_per_deploy_naive = naivePerDeploy
      results.soak_rows_lost_naive = rows.lost.length
    }
    results.soak_failed_ours = oursFailed
    results.soak_rows_lost = soak.rows.lost.length
    results.soak_host_problems = problems.length
    return results
  } finally {
    tearDownOurs()
    removeProject(dockerHost, naive)
    await run(['docker', 'logout', lab.LAB_REGISTRY], { env: naiveEnv(VERSIONS[0]) })
    fs.rmSync(scratch, { recursive: true, force: true })
    removeImages(dockerHost, repoPrefix)
    removeImages('unix:///var/run/docker.sock', repoPrefix)
  }

  function tearDownOurs() {
    const left = removeProject(dockerHost, project)
    if (left.length > 0) console.log(`  warning: ${project} left behind ${left.join(', ')}`)
    fs.rmSync(root, { recursive: true, force: true })
  }
}
