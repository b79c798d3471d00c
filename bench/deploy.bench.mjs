// `stack-deploy deploy` to the lab's deploy host against the naive sequence it replaces,
// `ssh host 'docker compose pull && docker compose up -d --wait'`, in the same run and
// interleaved, each side switching the api between two versions every round. Also counts the
// SSH handshakes our deploy makes (sshd's "Accepted publickey" lines), and the failed requests
// of a ~20 requests/s load on web -> api during one deploy of each side.
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CLI, ROOT, labEnv, median, report, timed, referenceStackEnv } from './lib.mjs'

// The target of issue 11 (the pipeline issue): at most 1.15 times the naive sequence.
const LIMIT = 1.15
const SSHD_LOG = '/var/lib/stack-deploy-lab/logs/sshd.log'

function acceptedCount() {
  if (!fs.existsSync(SSHD_LOG)) return 0
  return (fs.readFileSync(SSHD_LOG, 'utf8').match(/Accepted publickey/g) ?? []).length
}

/** Like timed(), but asynchronous, so that the load keeps running while the deploy does. */
function timedAsync(argv, options = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const { input, ...spawnOptions } = options
    const child = spawn(argv[0], argv.slice(1), {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...spawnOptions
    })
    if (input !== undefined) child.stdin.end(input)
    let stderr = ''
    child.stdout.resume()
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => {
      if (code === 0) resolve({ seconds: (Date.now() - started) / 1000 })
      else
        reject(new Error(`${argv.slice(0, 3).join(' ')} failed (${code}):\n${stderr.slice(-2000)}`))
    })
  })
}

/** ~20 requests a second at `url` until `done` resolves; bounded by `maxSeconds`. */
async function load(url, done, maxSeconds = 300) {
  let sent = 0
  let failed = 0
  const reasons = {}
  let finished = false
  done.then(() => (finished = true))
  const deadline = Date.now() + maxSeconds * 1000
  const started = Date.now()
  while (!finished && Date.now() < deadline) {
    sent++
    let reason
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (response.status !== 200) reason = `HTTP ${response.status}`
      await response.arrayBuffer()
    } catch (error) {
      reason = error.cause?.code ?? error.name ?? 'error'
    }
    if (reason) {
      failed++
      const key = `${reason} at ${((Date.now() - started) / 1000).toFixed(0)}s`
      reasons[key] = (reasons[key] ?? 0) + 1
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { sent, failed, reasons }
}

function run(argv, options) {
  const result = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options
  })
  if (result.status !== 0) {
    throw new Error(
      `${argv.slice(0, 4).join(' ')} failed:\n${(result.stderr || result.stdout).slice(-2000)}`
    )
  }
  return result.stdout
}

export default async function deployBench({ rounds = 3 } = {}) {
  const lab = labEnv()
  const namespace = 'bench-deploy'
  const ours = 'bench-ours'
  const naive = 'bench-naive'
  const knownHosts = fs.readFileSync(lab.LAB_KNOWN_HOSTS, 'utf8')
  const ssh = [
    ...['ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes'],
    ...[
      '-o',
      `UserKnownHostsFile=${lab.LAB_KNOWN_HOSTS}`,
      '-i',
      lab.LAB_SSH_KEY,
      '-p',
      lab.LAB_SSH_PORT
    ],
    `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`
  ]
  const env = referenceStackEnv(lab, {
    POSTGRES_PASSWORD: 'bench-pg',
    REDIS_PASSWORD: 'bench-redis',
    STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD,
    STACK_DEPLOY_SSH_KEY: fs.readFileSync(lab.LAB_SSH_KEY, 'utf8'),
    STACK_DEPLOY_SECRETS: 'POSTGRES_PASSWORD=bench-pg\nREDIS_PASSWORD=bench-redis'
  })
  const common = (project, port) => [
    ...['-f', 'compose/compose.yaml', '-p', project],
    ...[
      '--registry',
      lab.LAB_REGISTRY,
      '--image-namespace',
      namespace,
      '--registry-username',
      lab.LAB_REGISTRY_USER
    ],
    ...['--hosts', `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`, `--known-hosts=${knownHosts}`],
    ...['--deploy-path', lab.LAB_DEPLOY_PATH, '--health-urls', `http://{host}:${port}/api/health`]
  ]

  // Two api versions, pushed once.
  const versions = ['1', '2'].map(version =>
    run([process.execPath, CLI, 'build', ...common(ours, 8082), '--push'], {
      cwd: ROOT,
      env: { ...env, APP_VERSION: version }
    }).trim()
  )

  // The naive side's files on the host, once: the same compose file, its .env, a pin file per version.
  const naiveDir = path.posix.join(lab.LAB_DEPLOY_PATH, naive)
  run([...ssh, 'mkdir', '-p', naiveDir])
  const upload = (name, content) => run([...ssh, `cat > ${naiveDir}/${name}`], { input: content })
  upload('compose.yaml', fs.readFileSync(path.join(ROOT, 'compose', 'compose.yaml'), 'utf8'))
  upload(
    '.env',
    `POSTGRES_PASSWORD=bench-pg\nREDIS_PASSWORD=bench-redis\nPOSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=8083\n`
  )
  versions.forEach((images, i) => {
    const map = JSON.parse(images)
    const pins = [
      'services:',
      ...['api', 'migrate', 'web'].map(
        s => `  ${s}:\n    image: ${map[s === 'migrate' ? 'api' : s].ref}`
      )
    ]
    upload(`images-v${i + 1}.yaml`, `${pins.join('\n')}\n`)
  })

  const naiveCompose = version =>
    `docker compose -p ${naive} -f compose.yaml -f images-v${version}.yaml`
  // The registry login is part of the naive sequence too (ours logs in and out on every deploy,
  // and both sides share the host's deploy user); the password goes on stdin.
  const login = `docker login -u ${lab.LAB_REGISTRY_USER} --password-stdin ${lab.LAB_REGISTRY} >/dev/null`
  const naiveArgv = version => [
    ...ssh,
    `${login} && cd ${naiveDir} && ${naiveCompose(version)} pull -q && ${naiveCompose(version)} up -d --wait`
  ]
  const naiveOptions = { input: lab.LAB_REGISTRY_PASSWORD }
  const oursArgv = version => [
    ...[process.execPath, CLI, 'deploy', ...common(ours, 8082), '--images', versions[version - 1]],
    ...['--migrate-service', 'migrate', '--backup-service', 'postgres']
  ]
  const oursOptions = {
    cwd: ROOT,
    env: {
      ...env,
      STACK_DEPLOY_ENV_FILE: `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=8082`
    }
  }

  try {
    // The first deploys (to an empty host) are not timed: both sides start from a running v1.
    timed(naiveArgv(1), naiveOptions)
    timed(oursArgv(1), oursOptions)
    const oursTimes = []
    const naiveTimes = []
    const handshakes = []
    for (let round = 0; round < rounds; round++) {
      const version = round % 2 === 0 ? 2 : 1
      const before = acceptedCount()
      oursTimes.push(timed(oursArgv(version), oursOptions).seconds)
      handshakes.push(acceptedCount() - before)
      naiveTimes.push(timed(naiveArgv(version), naiveOptions).seconds)
    }
    const ratio = report(
      'deploy (reference stack, api version switch; ours adds backup + migration)',
      oursTimes,
      naiveTimes,
      LIMIT
    )
    console.log(
      `ssh handshakes per deploy (one host): ${handshakes.join(', ')} (median ${median(handshakes)})`
    )

    // Downtime under ~20 requests/s: one api version switch each.
    const measure = async (name, url, deploy) => {
      let finish
      const done = new Promise(resolve => (finish = resolve))
      const loadRun = load(url, done)
      await new Promise(resolve => setTimeout(resolve, 500))
      const started = Date.now()
      try {
        await deploy()
      } finally {
        finish()
      }
      const result = await loadRun
      console.log(
        `downtime, ${name}: ${result.failed} failed of ${result.sent} requests (~20/s) during ${((Date.now() - started) / 1000).toFixed(1)}s${
          result.failed
            ? ` (${Object.entries(result.reasons)
                .map(([why, n]) => `${n}x ${why}`)
                .join(', ')})`
            : ''
        }`
      )
      return result.failed
    }
    const next = rounds % 2 === 0 ? 2 : 1
    const oursFailed = await measure('stack-deploy', `http://${lab.LAB_HOST}:8082/api/health`, () =>
      timedAsync(oursArgv(next), oursOptions)
    )
    const naiveFailed = await measure('naive', `http://${lab.LAB_HOST}:8083/api/health`, () =>
      timedAsync(naiveArgv(next), naiveOptions)
    )
    return {
      deploy: ratio,
      deploy_handshakes: median(handshakes),
      downtime_failed_ours: oursFailed,
      downtime_failed_naive: naiveFailed
    }
  } finally {
    const cleanup = [
      `docker compose -p ${naive} down -v --remove-orphans`,
      `docker compose -p ${ours} down -v --remove-orphans`,
      `docker logout ${lab.LAB_REGISTRY}`,
      `rm -rf ${naiveDir} ${path.posix.join(lab.LAB_DEPLOY_PATH, ours)}`
    ]
    spawnSync(ssh[0], [...ssh.slice(1), cleanup.join('; ')])
  }
}
