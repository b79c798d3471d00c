// `stack-deploy smoke` on the reference stack against the raw commands it replaces, in the same
// run and interleaved: `docker compose up -d --wait`, curl probes, `docker compose down -v`.
// Both sides run the same, already built images and the same three HTTP checks. Also prints
// the time from `up` until every service was healthy (the seeds ask for under 30 s).
import { spawnSync } from 'node:child_process'
import * as net from 'node:net'
import * as path from 'node:path'
import { CLI, ROOT, labEnv, median, report, timed, referenceStackEnv } from './lib.mjs'

const LIMIT = 1.15
const HEALTHY_TARGET_SECONDS = 30

const PROBES = [
  '- http: web:8080/health',
  '- http: web:8080/api/health',
  '  json: { path: status, equals: ok }',
  '- http: web:8080/api/notes',
  '  method: POST',
  '  headers: { content-type: application/json }',
  `  body: '{"text": "bench"}'`,
  '  status: 201'
].join('\n')

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

/** The raw sequence a workflow would write by hand; returns its wall time and time to healthy. */
function rawSmoke(env, cwd, project, port) {
  const compose = ['docker', 'compose', '-f', 'compose.yaml', '-p', project]
  const started = process.hrtime.bigint()
  try {
    const up = timed([...compose, 'up', '-d', '--wait', '--no-build'], {
      cwd,
      env: { ...env, WEB_PORT: String(port) }
    })
    const base = `http://127.0.0.1:${port}`
    timed([
      'curl',
      '-fsS',
      '--retry',
      '5',
      '--retry-connrefused',
      '--retry-delay',
      '1',
      `${base}/health`
    ])
    const health = timed([
      'curl',
      '-fsS',
      '--retry',
      '5',
      '--retry-delay',
      '1',
      `${base}/api/health`
    ])
    if (JSON.parse(health.stdout).status !== 'ok') throw new Error(`api health: ${health.stdout}`)
    timed([
      'curl',
      '-fsS',
      '-X',
      'POST',
      '-H',
      'content-type: application/json',
      '-d',
      '{"text": "bench"}',
      `${base}/api/notes`
    ])
    return { healthy: up.seconds }
  } finally {
    spawnSync(compose[0], [...compose.slice(1), 'down', '-v', '--remove-orphans'], { cwd, env })
    rawSmoke.seconds = Number(process.hrtime.bigint() - started) / 1e9
  }
}

export default async function smokeBench({ rounds = 4 } = {}) {
  const lab = labEnv()
  const env = referenceStackEnv(lab, {
    POSTGRES_PASSWORD: 'bench-postgres',
    REDIS_PASSWORD: 'bench-redis'
  })
  const cwd = path.join(ROOT, 'compose')
  // Build once; both sides then run exactly these images.
  const built = timed([process.execPath, CLI, 'build', '-f', 'compose.yaml'], { cwd, env })
  const images = built.stdout.trim()

  const ours = []
  const theirs = []
  const oursHealthy = []
  const theirsHealthy = []
  let perService = {}
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first, so that neither side always meets a warmer machine.
    const sides = round % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours']
    for (const side of sides) {
      if (side === 'ours') {
        const run = timed(
          [
            process.execPath,
            CLI,
            'smoke',
            '-f',
            'compose.yaml',
            '--images',
            images,
            `--probes=${PROBES}`,
            '--json'
          ],
          { cwd, env }
        )
        const smoke = JSON.parse(run.stdout).smoke
        if (!smoke.probes.every(p => p.ok)) throw new Error('a probe failed in our smoke run')
        ours.push(run.seconds)
        oursHealthy.push(smoke.secondsToReady)
        perService = smoke.serviceSeconds
      } else {
        const { healthy } = rawSmoke(
          env,
          cwd,
          `bench-raw-${process.pid}-${round}`,
          await freePort()
        )
        theirs.push(rawSmoke.seconds)
        theirsHealthy.push(healthy)
      }
    }
  }
  const ratio = report(
    'smoke (reference stack: up --wait, 3 HTTP checks, down -v)',
    ours,
    theirs,
    LIMIT
  )
  const healthy = median(oursHealthy)
  console.log(
    `time from up until every service healthy: stack-deploy ${healthy.toFixed(1)}s, raw up -d --wait ${median(theirsHealthy).toFixed(1)}s (median of ${rounds}; target under ${HEALTHY_TARGET_SECONDS}s: ${healthy < HEALTHY_TARGET_SECONDS ? 'ok' : 'OVER'})`
  )
  console.log(
    `per service, last run: ${Object.entries(perService)
      .sort((a, b) => a[1] - b[1])
      .map(([service, seconds]) => `${service} ${seconds.toFixed(1)}s`)
      .join(', ')}`
  )
  return { smoke: ratio, smoke_seconds_to_healthy: healthy }
}
