// The soak test's sequence (bench/soak.bench.mjs, e2e/soak.e2e.test.ts): deploys and
// rollbacks of the reference stack in a row under the load of bench/load.mjs, each changing only
// the api, and what is checked on the deploy host after each one: the release folders and the
// project's images stay bounded by keep-releases. The rule, restated from the deploy's prune
// step (src/deploy/release.ts releasesToPrune / imagesToPrune) rather than imported, so that
// the host is checked against the documented behaviour and not against the code under test:
// - a deploy keeps the newest `keep` releases, plus the one it deployed and the one that was
//   live before it (after a rollback to an old release, that one can be older than the newest
//   `keep`): at most keep + 1 folders; every other one is removed;
// - a rollback switches to a kept release and removes nothing;
// - the project's images on the host are only those some remaining release's manifest names.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  attribute,
  checkRows,
  describeFailures,
  notesInPostgres,
  request,
  startLoad
} from './load.mjs'

const RELEASE_ID = /^\d{8}T\d{6}(?:\.\d{3})?Z-[0-9a-z]{1,12}$/

/** The release folders of `<deployPath>/<project>` (sorted: ids sort by time) and the live one. */
export function releasesOn(root) {
  const dir = path.join(root, 'releases')
  const ids = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter(id => RELEASE_ID.test(id))
        .sort()
    : []
  const link = path.join(root, 'current')
  const current = fs.existsSync(link) ? path.basename(fs.readlinkSync(link)) : undefined
  return { ids, current }
}

/** The image refs (`name@sha256:…`) that the manifests of the releases `ids` name. */
export function imagesOfReleases(root, ids) {
  const refs = new Set()
  for (const id of ids) {
    const file = path.join(root, 'releases', id, 'manifest.json')
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'))
    for (const ref of Object.values(manifest.images ?? {})) refs.add(ref)
  }
  return [...refs].sort()
}

/** The images on the engine at `dockerHost` under `repoPrefix` (e.g. `<registry>/<namespace>/`). */
export function imagesOnHost(dockerHost, repoPrefix) {
  const list = spawnSync(
    'docker',
    ['image', 'ls', '--digests', '--format', '{{.Repository}}@{{.Digest}} {{.ID}}'],
    { env: { ...process.env, DOCKER_HOST: dockerHost }, encoding: 'utf8' }
  )
  if (list.status !== 0) throw new Error(`docker image ls failed: ${list.stderr}`)
  const byId = new Map()
  for (const line of list.stdout.split('\n')) {
    const [ref, id] = line.trim().split(' ')
    if (!ref?.startsWith(repoPrefix)) continue
    byId.set(id, [...(byId.get(id) ?? []), ref])
  }
  return { count: byId.size, refs: [...byId.values()].flat().sort() }
}

/**
 * The host after one deploy or rollback, against the rule above. `before` is releasesOn()
 * from just before it, `after` from just after; `deployed` the release the command reported.
 * Returns { releases, images, problems }: problems is empty when the host is as it should be.
 */
export function checkHost({ kind, keep, before, after, deployed, root, dockerHost, repoPrefix }) {
  const problems = []
  if (after.current !== deployed)
    problems.push(`current is ${after.current}, the command reported ${deployed}`)
  let expected
  if (kind === 'deploy') {
    const all = [...new Set([...before.ids, deployed])].sort()
    const kept = new Set([...all.slice(Math.max(0, all.length - keep)), deployed])
    if (before.current) kept.add(before.current)
    expected = all.filter(id => kept.has(id))
    if (after.ids.length > keep + 1)
      problems.push(`${after.ids.length} releases on the host, more than keep-releases ${keep} + 1`)
  } else {
    expected = before.ids
  }
  if (JSON.stringify(after.ids) !== JSON.stringify(expected))
    problems.push(`releases ${after.ids.join(', ')}; expected ${expected.join(', ')}`)
  const named = imagesOfReleases(root, after.ids)
  const images = imagesOnHost(dockerHost, repoPrefix)
  const stray = images.refs.filter(ref => !named.includes(ref))
  if (stray.length > 0)
    problems.push(`images no remaining release names are still on the host: ${stray.join(', ')}`)
  return { releases: after.ids.length, images: images.count, named: named.length, problems }
}

/**
 * The soak's sequence: `deploys` deploys with `rollbacks` rollbacks spread evenly among them
 * (a rollback after deploy ceil(k * deploys / (rollbacks + 1)), k = 1..rollbacks).
 */
export function soakSchedule(deploys, rollbacks) {
  const after = []
  for (let k = 1; k <= rollbacks; k++) after.push(Math.ceil((k * deploys) / (rollbacks + 1)))
  const ops = []
  for (let d = 1; d <= deploys; d++) {
    ops.push('deploy')
    for (const at of after) if (at === d) ops.push('rollback')
  }
  return ops
}

/** The `version` that the api reports through nginx at `healthUrl` (fresh connection). */
export async function versionAt(healthUrl) {
  try {
    const res = await request('GET', healthUrl, undefined, 10_000)
    return res.status === 200 ? JSON.parse(res.body).version : `HTTP ${res.status}`
  } catch (error) {
    return error.code ?? error.message
  }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/**
 * The soak. First deploys versions[0] (to an empty host, not under load), then starts the load
 * and runs soakSchedule(deploys, rollbacks):
 * - a deploy takes the next of `versions` round-robin, skipping the live one, so that every
 *   deploy changes the api image (and only it: the callers build the versions so);
 * - odd-numbered rollbacks go to the oldest kept release (release-id; the next deploy must then
 *   keep it as the previous live one: keep + 1 folders), even-numbered ones to the default (the
 *   release before the live one).
 * `deploy(version)` and `rollback(releaseId | undefined)` run the command and give the release
 * now live; they throw when it fails: the sequence stops there (load and rows are still
 * checked), or with continueOnError goes on from the release the host then runs. An aborted
 * `signal` ends the sequence before the next op (the load, the rows and the report still
 * come). After each op: the host check (checkHost) and the version the api reports.
 * Returns { ops, load, windows, rows }; ops[i].window is its share of the load (attribute()).
 */
export async function runSoak({
  deploys,
  rollbacks,
  versions,
  keep,
  root,
  dockerHost,
  repoPrefix,
  baseUrl,
  project,
  deploy,
  rollback,
  log = () => {},
  pauseMs = 2000,
  continueOnError = false,
  signal,
  tag
}) {
  const healthUrl = `${baseUrl}/api/health`
  const versionOf = new Map()
  const first = await deploy(versions[0])
  versionOf.set(first, versions[0])
  let live = versions[0]
  let turn = 1
  let rollbackCount = 0
  const ops = []
  const load = await startLoad({ baseUrl, tag })
  let result
  try {
    await sleep(pauseMs)
    for (const [index, kind] of soakSchedule(deploys, rollbacks).entries()) {
      if (signal?.aborted) {
        log(`  stopped before op ${index + 1}: ${signal.reason}`)
        break
      }
      const before = releasesOn(root)
      // The machine's 1-minute load average around it: the lab shares its CPUs with whatever
      // else runs, and an api starved of CPU fails requests on its own timeouts.
      const op = {
        name: `${index + 1} ${kind}`,
        kind,
        start: Date.now(),
        loadBefore: os.loadavg()[0]
      }
      ops.push(op)
      try {
        let release
        if (kind === 'deploy') {
          let version = versions[turn++ % versions.length]
          if (version === live) version = versions[turn++ % versions.length]
          op.name += ` v${version}`
          release = await deploy(version)
          versionOf.set(release, version)
        } else {
          rollbackCount++
          const others = before.ids.filter(id => id !== before.current)
          const target = rollbackCount % 2 === 1 ? others[0] : undefined
          const expected = target ?? others.filter(id => id < before.current).pop()
          op.name += expected
            ? ` to v${versionOf.get(expected) ?? '?'}${target ? ' (release-id: oldest kept)' : ' (previous)'}`
            : ' (no release before the live one)'
          release = await rollback(target)
          if (release !== expected) throw new Error(`rolled back to ${release}, not ${expected}`)
        }
        op.end = Date.now()
        op.loadAfter = os.loadavg()[0]
        op.release = release
        op.version = versionOf.get(release)
        live = op.version
        op.versionSeen = await versionAt(healthUrl)
        Object.assign(
          op,
          checkHost({
            kind,
            keep,
            before,
            after: releasesOn(root),
            deployed: release,
            root,
            dockerHost,
            repoPrefix
          })
        )
        if (op.versionSeen !== op.version)
          op.problems.push(`the api reports version ${op.versionSeen}, not ${op.version}`)
        log(
          `  ${op.name}: ${((op.end - op.start) / 1000).toFixed(1)}s, releases ${op.releases}, images ${op.images}${op.problems.length ? `, PROBLEMS: ${op.problems.join('; ')}` : ''}`
        )
      } catch (error) {
        op.end = Date.now()
        op.loadAfter = os.loadavg()[0]
        op.error = error.message
        log(
          `  ${op.name}: FAILED after ${((op.end - op.start) / 1000).toFixed(1)}s: ${error.message.slice(-1500)}`
        )
        if (!continueOnError) break
        // Go on from whatever the host now runs (the deploy's own rollback, if it worked).
        live = versionOf.get(releasesOn(root).current) ?? live
      }
      await sleep(pauseMs)
    }
  } finally {
    result = await load.stop()
  }
  const windows = attribute(result, ops)
  for (const op of ops) op.window = windows.find(w => w.name === op.name && w.start === op.start)
  const rows = checkRows(result.acknowledged, notesInPostgres({ dockerHost, project }))
  return { ops, load: result, windows, rows, tag }
}

const lastLine = text =>
  text
    .trim()
    .split('\n')
    .filter(line => line.trim())
    .pop()
    ?.slice(0, 600) ?? ''

/** One line per op and the totals, as the bench prints them (and the e2e test logs them). */
export function soakReport({ ops, load, windows, rows }) {
  const lines = []
  const before = windows[0]
  lines.push(
    `  before the first op: ${before.writes} writes, ${before.reads} reads, ${before.failedWrites + before.failedReads} failed`
  )
  for (const op of ops) {
    const w = op.window
    lines.push(
      `  ${op.name.padEnd(44)} ${((op.end - op.start) / 1000).toFixed(1).padStart(5)}s  failed writes ${w.failedWrites}/${w.writes}, reads ${w.failedReads}/${w.reads}, slowest ${w.maxMs}ms, releases ${op.releases ?? '?'}, images ${op.images ?? '?'}, load ${op.loadBefore.toFixed(1)}->${op.loadAfter.toFixed(1)}${w.failures.length ? `  [${describeFailures(w.failures, w.start)}]` : ''}${op.error ? `  ERROR: ${lastLine(op.error)}` : ''}`
    )
  }
  const failed = windows.reduce((n, w) => n + w.failedWrites + w.failedReads, 0)
  const seconds = (load.stopped - load.started) / 1000
  lines.push(
    `  total: ${ops.length} ops, ${load.requests.length} requests in ${seconds.toFixed(0)}s (${(load.requests.filter(r => r[0] === 'w').length / seconds).toFixed(1)} writes/s, ${(load.requests.filter(r => r[0] === 'r').length / seconds).toFixed(1)} reads/s), ${failed} failed`
  )
  lines.push(
    `  rows: ${rows.acknowledged} acknowledged, ${rows.found} found in postgres, ${rows.lost.length} lost (${load.unacknowledged} writes not acknowledged)`
  )
  return lines.join('\n')
}

/** Removes the images under `repoPrefix` from the engine at `dockerHost` (by name, never -f). */
export function removeImages(dockerHost, repoPrefix) {
  const env = { ...process.env, DOCKER_HOST: dockerHost }
  const list = spawnSync(
    'docker',
    ['image', 'ls', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}'],
    { env, encoding: 'utf8' }
  )
  const refs = new Set()
  for (const line of list.stdout.split('\n')) {
    const [repo, tag, digest] = line.trim().split(' ')
    if (!repo?.startsWith(repoPrefix)) continue
    if (tag && tag !== '<none>') refs.add(`${repo}:${tag}`)
    if (digest && digest !== '<none>') refs.add(`${repo}@${digest}`)
  }
  if (refs.size > 0) spawnSync('docker', ['image', 'rm', ...refs], { env, encoding: 'utf8' })
  return refs.size
}

/**
 * Removes compose project `project` from the engine at `dockerHost`: `compose down`, then
 * whatever still carries its label (compose 2.26's `down -p` without the files gives up on a
 * project whose containers no longer match one model, e.g. a removed job container).
 */
export function removeProject(dockerHost, project) {
  const env = { ...process.env, DOCKER_HOST: dockerHost }
  const docker = args => spawnSync('docker', args, { env, encoding: 'utf8' })
  docker(['compose', '-p', project, 'down', '--volumes', '--remove-orphans'])
  const filter = ['--filter', `label=com.docker.compose.project=${project}`]
  const ids = args =>
    docker(args)
      .stdout.split('\n')
      .filter(id => id.trim())
  const containers = ids(['ps', '-aq', ...filter])
  if (containers.length > 0) docker(['rm', '-f', '-v', ...containers])
  const volumes = ids(['volume', 'ls', '-q', ...filter])
  if (volumes.length > 0) docker(['volume', 'rm', '-f', ...volumes])
  const networks = ids(['network', 'ls', '-q', ...filter])
  if (networks.length > 0) docker(['network', 'rm', ...networks])
  return [...ids(['ps', '-aq', ...filter]), ...ids(['volume', 'ls', '-q', ...filter])]
}
