/**
 * The workflows in .github/workflows (and action.yml) against GitHub's own parser, and against
 * our policies: pinned actions, least-privilege permissions, no secrets for pull requests,
 * deploy jobs behind an environment and a non-cancelling concurrency group, production running
 * the images staging ran, and only real inputs given to our action.
 *
 * The parser is @actions/workflow-parser (actions/languageservices, what the Actions editor
 * and VS Code extension use). It is ESM and imports JSON schemas, which jest's ESM mode cannot
 * load, so beforeAll bundles it once with esbuild into a CommonJS file under
 * node_modules/.cache (ignored by git) and loads that with createRequire.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { buildSync } from 'esbuild'
import { isScalar, parse, parseDocument, visit } from 'yaml'

type WorkflowParser = typeof import('../scripts/workflow-parser-entry.js')

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const WORKFLOWS_DIR = path.join(ROOT, '.github', 'workflows')
const BUNDLE = path.join(ROOT, 'node_modules', '.cache', 'stack-deploy', 'workflow-parser.cjs')

/** How the reusable workflows run the action (the README's name for it); ci.yml uses `./`. */
const OUR_ACTION = 'org/stack-deploy@v1'
/** Inputs being added to action.yml alongside these workflows; allowed before they land. */
const UPCOMING_INPUTS = ['github-token', 'environment', 'environment-url', 'pr-comment']
const COMMANDS = ['plan', 'build', 'scan', 'smoke', 'deploy', 'rollback']
const RUNNERS = ['ubuntu-24.04', 'ubuntu-latest']
const SHA_PIN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/
const VERSION_COMMENT = /^\s*v\d+(\.\d+){0,2}(\S*)\s*$/

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
  env?: Record<string, unknown>
  'continue-on-error'?: boolean | string
}
interface Job {
  'runs-on'?: string
  needs?: string | string[]
  if?: string
  permissions?: Record<string, string> | string
  environment?: string | { name?: string; url?: string }
  concurrency?: string | { group?: string; 'cancel-in-progress'?: boolean | string }
  outputs?: Record<string, string>
  steps?: Step[]
  uses?: string
}
interface WorkflowCall {
  inputs?: Record<string, { type?: string; description?: string; default?: unknown }>
  secrets?: Record<string, { description?: string; required?: boolean }>
  outputs?: Record<string, { description?: string; value?: string }>
}
interface Workflow {
  name?: string
  on?: Record<string, unknown> & { workflow_call?: WorkflowCall | null }
  permissions?: Record<string, string> | string
  jobs: Record<string, Job>
}

const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { required?: boolean }>
  outputs: Record<string, unknown>
}
const actionInputs = new Set([...Object.keys(action.inputs), ...UPCOMING_INPUTS])
const actionOutputs = new Set(Object.keys(action.outputs))

const files = fs
  .readdirSync(WORKFLOWS_DIR)
  .filter(name => /\.ya?ml$/.test(name))
  .sort()
const texts = new Map(files.map(f => [f, fs.readFileSync(path.join(WORKFLOWS_DIR, f), 'utf8')]))
const workflows = new Map(files.map(f => [f, parse(texts.get(f) as string) as Workflow]))

function workflow(file: string): Workflow {
  const wf = workflows.get(file)
  if (!wf) throw new Error(`${file} is missing from .github/workflows`)
  return wf
}
const isReusable = (wf: Workflow): boolean => wf.on !== undefined && 'workflow_call' in wf.on
const isOurs = (uses: string | undefined): boolean => uses === OUR_ACTION || uses === './'
const stepsOf = (job: Job): Step[] => job.steps ?? []
const ourSteps = (job: Job): Step[] => stepsOf(job).filter(s => isOurs(s.uses))
const commandOf = (step: Step): string => String(step.with?.command ?? '')
const needsOf = (job: Job): string[] =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]
const uploadsSarif = (job: Job): boolean =>
  stepsOf(job).some(s => s.uses?.startsWith('github/codeql-action/upload-sarif@'))
const deployStep = (job: Job): Step | undefined =>
  ourSteps(job).find(s => ['deploy', 'rollback'].includes(commandOf(s)))
const pushes = (job: Job): boolean =>
  ourSteps(job).some(s => commandOf(s) === 'build' && String(s.with?.push) === 'true')
const commentsOnPr = (job: Job): boolean =>
  ourSteps(job).some(
    s => s.with?.['pr-comment'] !== undefined && String(s.with['pr-comment']) !== 'false'
  )
const allJobs = (): [string, string, Job][] =>
  [...workflows].flatMap(([file, wf]) =>
    Object.entries(wf.jobs).map(([name, job]) => [file, name, job] as [string, string, Job])
  )

/** The expressions in a piece of a workflow: every `${{ … }}`, and `if:` values whole. */
function expressions(value: unknown, key = ''): string[] {
  if (typeof value === 'string') {
    const inside = [...value.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map(m => m[1] as string)
    return key === 'if' && inside.length === 0 ? [value] : inside
  }
  if (Array.isArray(value)) return value.flatMap(item => expressions(item))
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => expressions(v, k))
  return []
}
/** Matches of `pattern` (global) inside the expressions of `value`. */
const refs = (value: unknown, pattern: RegExp): RegExpMatchArray[] =>
  expressions(value).flatMap(expression => [...expression.matchAll(pattern)])

let parser: WorkflowParser

beforeAll(() => {
  buildSync({
    entryPoints: [path.join(ROOT, 'scripts', 'workflow-parser-entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: BUNDLE,
    logLevel: 'warning'
  })
  parser = createRequire(import.meta.url)(BUNDLE) as WorkflowParser
}, 60_000)

/** Every error GitHub's parser reports for a workflow: schema, expressions, job graph. */
async function workflowErrors(name: string, content: string): Promise<string[]> {
  const result = parser.parseWorkflow({ name, content }, new parser.NoOperationTraceWriter())
  if (result.value) await parser.convertWorkflowTemplate(result.context, result.value)
  return result.context.errors.getErrors().map(error => error.message)
}

function actionErrors(name: string, content: string): string[] {
  const result = parser.parseAction({ name, content }, new parser.NoOperationTraceWriter())
  return result.context.errors.getErrors().map(error => error.message)
}

describe('GitHub workflow parser', () => {
  it('finds the workflows', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'ci.yml',
        'stack-deploy.yml',
        'stack-pr.yml',
        'stack-release.yml',
        'stack-rollback.yml'
      ])
    )
  })

  it.each(files)('%s parses with no errors', async file => {
    expect(await workflowErrors(file, texts.get(file) as string)).toEqual([])
  })

  it('action.yml parses with no errors', () => {
    expect(
      actionErrors('action.yml', fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'))
    ).toEqual([])
  })

  it('reports broken workflows (the check is not a no-op)', async () => {
    const valid =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n'
    expect(await workflowErrors('valid.yml', valid)).toEqual([])

    const badOn = await workflowErrors('bad-on.yml', valid.replace('on: push', 'on: pushed'))
    expect(badOn.join('\n')).toMatch(/Line: 1.*Unexpected value 'pushed'/)

    const unknownKey = await workflowErrors('key.yml', valid.replace('    steps:', '    stepz:'))
    expect(unknownKey.join('\n')).toMatch(/Unexpected value 'stepz'/)

    const badPermission = await workflowErrors(
      'perm.yml',
      valid.replace('jobs:', 'permissions:\n  contents: writ\njobs:')
    )
    expect(badPermission.join('\n')).toMatch(/Unexpected value 'writ'/)

    const badContext = await workflowErrors(
      'context.yml',
      valid.replace('run: echo', 'run: echo ${{ secret.TOKEN }}')
    )
    expect(badContext.join('\n')).toMatch(/Unrecognized named-value: 'secret'/)

    const cycle = await workflowErrors(
      'needs.yml',
      `${valid}  b:\n    needs: c\n    runs-on: x\n    steps: [{ run: echo }]\n  c:\n    needs: b\n    runs-on: x\n    steps: [{ run: echo }]\n`
    )
    expect(cycle.length).toBeGreaterThan(0)
  })

  it('reports a broken action.yml', () => {
    const broken = 'name: x\ndescription: y\nruns:\n  using: node24\n  mian: index.js\n'
    expect(actionErrors('action.yml', broken).join('\n')).toMatch(/mian/)
  })
})

describe('pinned actions', () => {
  const usesNodes = files.flatMap(file => {
    const found: { file: string; uses: string; comment: string | undefined }[] = []
    visit(parseDocument(texts.get(file) as string), {
      Pair(_, pair) {
        if (isScalar(pair.key) && pair.key.value === 'uses' && isScalar(pair.value))
          found.push({
            file,
            uses: String(pair.value.value),
            comment: pair.value.comment ?? undefined
          })
      }
    })
    return found
  })

  it('pins every third-party action to a full commit SHA with a version comment', () => {
    const thirdParty = usesNodes.filter(n => !isOurs(n.uses))
    expect(thirdParty.length).toBeGreaterThan(0)
    for (const node of thirdParty) {
      expect({ ...node, pinned: SHA_PIN.test(node.uses) }).toMatchObject({ pinned: true })
      expect({ ...node, versioned: VERSION_COMMENT.test(node.comment ?? '') }).toMatchObject({
        versioned: true
      })
    }
  })

  it('pins each action to one SHA and version everywhere', () => {
    const byAction = new Map<string, Set<string>>()
    for (const node of usesNodes.filter(n => !isOurs(n.uses))) {
      const [name, sha] = node.uses.split('@') as [string, string]
      const repo = name.split('/').slice(0, 2).join('/')
      const seen = byAction.get(repo) ?? new Set<string>()
      seen.add(`${sha} ${node.comment?.trim()}`)
      byAction.set(repo, seen)
    }
    for (const [repo, seen] of byAction)
      expect({ repo, pins: [...seen] }).toMatchObject({ repo, pins: [expect.any(String)] })
  })

  it('runs our action as the README names it in reusable workflows, and as ./ only in ci.yml', () => {
    expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain(`uses: ${OUR_ACTION}`)
    for (const node of usesNodes.filter(n => isOurs(n.uses))) {
      if (node.file === 'ci.yml') expect(node).toMatchObject({ uses: './' })
      else expect(node).toMatchObject({ uses: OUR_ACTION })
    }
  })
})

describe('permissions', () => {
  it('grants nothing (reusable workflows) or read only (ci.yml) at the top level', () => {
    for (const [file, wf] of workflows) {
      expect({ file, type: typeof wf.permissions }).toEqual({ file, type: 'object' })
      const perms = wf.permissions as Record<string, string>
      if (isReusable(wf)) expect({ file, perms }).toEqual({ file, perms: {} })
      else
        for (const level of Object.values(perms))
          expect({ file, level }).toEqual({ file, level: 'read' })
    }
  })

  it.each(allJobs())('%s job %s asks for the least it needs', (file, name, job) => {
    expect(typeof job.permissions).toBe('object')
    const perms = job.permissions as Record<string, string>
    for (const level of Object.values(perms)) expect(['read', 'write', 'none']).toContain(level)

    const needWrite = new Set<string>()
    if (pushes(job)) needWrite.add('packages')
    if (uploadsSarif(job)) needWrite.add('security-events')
    if (deployStep(job)) needWrite.add('deployments')
    if (commentsOnPr(job)) needWrite.add('pull-requests')
    const granted = Object.keys(perms).filter(key => perms[key] === 'write')
    expect({ job: `${file}:${name}`, write: granted.sort() }).toEqual({
      job: `${file}:${name}`,
      write: [...needWrite].sort()
    })

    // Reads: contents for checkout; actions only for upload-sarif; packages only to pull.
    const reads = Object.keys(perms).filter(key => perms[key] === 'read')
    const allowedReads = new Set(['contents'])
    if (uploadsSarif(job)) allowedReads.add('actions')
    if (ourSteps(job).some(s => ['scan', 'deploy'].includes(commandOf(s))) && !pushes(job))
      allowedReads.add('packages')
    for (const key of reads)
      expect({ job: name, read: key, allowed: allowedReads.has(key) }).toMatchObject({
        allowed: true
      })
    if (stepsOf(job).some(s => s.uses?.startsWith('actions/checkout@')))
      expect(perms.contents).toBe('read')
  })
})

describe('inputs, secrets and outputs', () => {
  it.each(allJobs())('%s job %s gives our action only inputs it has', (_file, _name, job) => {
    for (const step of ourSteps(job)) {
      expect(COMMANDS).toContain(commandOf(step))
      const unknown = Object.keys(step.with ?? {}).filter(key => !actionInputs.has(key))
      expect({ step: step.id ?? step.name, unknown }).toEqual({
        step: step.id ?? step.name,
        unknown: []
      })
    }
  })

  it.each(allJobs())('%s job %s reads only outputs that exist', (file, name, job) => {
    const wf = workflow(file)
    const steps = new Map(stepsOf(job).flatMap(s => (s.id ? [[s.id, s] as const] : [])))
    for (const [, id, output] of refs(job, /steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const step = steps.get(id as string)
      expect({ job: name, step: id, exists: step !== undefined }).toMatchObject({ exists: true })
      if (isOurs(step?.uses))
        expect({ step: id, output, known: actionOutputs.has(output as string) }).toMatchObject({
          known: true
        })
    }
    for (const [, other, output] of refs(job, /needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      expect(needsOf(job)).toContain(other)
      expect(Object.keys(wf.jobs[other as string]?.outputs ?? {})).toContain(output)
    }
  })

  it.each(files.filter(f => isReusable(workflow(f))))(
    '%s declares every input and secret it reads, and its outputs come from jobs',
    file => {
      const wf = workflow(file)
      const call = wf.on?.workflow_call ?? {}
      const inputs = Object.keys(call.inputs ?? {})
      const secrets = Object.keys(call.secrets ?? {})
      for (const [, input] of refs(wf.jobs, /\binputs\.([\w-]+)/g)) expect(inputs).toContain(input)
      for (const [, secret] of refs(wf.jobs, /\bsecrets\.([\w-]+)/g))
        expect(secrets).toContain(secret)
      for (const [name, def] of Object.entries(call.inputs ?? {})) {
        expect({
          name,
          typed: ['string', 'boolean', 'number'].includes(def.type ?? '')
        }).toMatchObject({ typed: true })
        expect({ name, described: (def.description ?? '').length > 0 }).toMatchObject({
          described: true
        })
      }
      for (const [name, def] of Object.entries(call.secrets ?? {}))
        expect({ name, described: (def.description ?? '').length > 0 }).toMatchObject({
          described: true
        })
      for (const [name, def] of Object.entries(call.outputs ?? {})) {
        const used = refs(def.value, /jobs\.([\w-]+)\.outputs\.([\w-]+)/g)
        expect({ name, used: used.length > 0 }).toMatchObject({ used: true })
        for (const [, job, output] of used)
          expect(Object.keys(wf.jobs[job as string]?.outputs ?? {})).toContain(output)
      }
    }
  )

  it('stack-deploy and stack-release output the image map and the release id', () => {
    for (const file of ['stack-deploy.yml', 'stack-release.yml']) {
      const outputs = workflow(file).on?.workflow_call?.outputs ?? {}
      expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['images', 'release-id']))
      expect(outputs.images?.value).toBe('${{ jobs.build.outputs.images }}')
    }
  })

  it('gives the deploy secrets only to the jobs that deploy', () => {
    for (const [file, name, job] of allJobs()) {
      if (deployStep(job)) continue
      const used = refs(job, /\bsecrets\.([\w-]+)/g).map(m => m[1])
      expect({ job: `${file}:${name}`, used: used.filter(s => s !== 'REGISTRY_PASSWORD') }).toEqual(
        {
          job: `${file}:${name}`,
          used: []
        }
      )
    }
  })
})

describe('jobs', () => {
  it.each(allJobs())('%s job %s runs on a hosted Ubuntu runner', (_file, _name, job) => {
    expect(RUNNERS).toContain(job['runs-on'])
  })

  it.each(allJobs())('%s job %s checks out without persisting the token', (_file, _name, job) => {
    for (const step of stepsOf(job).filter(s => s.uses?.startsWith('actions/checkout@')))
      expect(String(step.with?.['persist-credentials'])).toBe('false')
  })

  it('deploy and rollback jobs take their environment and a non-cancelling concurrency group', () => {
    const deployJobs = allJobs().filter(([, , job]) => deployStep(job))
    expect(deployJobs.map(([file, name]) => `${file}:${name}`).sort()).toEqual([
      'stack-deploy.yml:deploy',
      'stack-deploy.yml:rollback',
      'stack-release.yml:deploy-production',
      'stack-release.yml:deploy-staging',
      'stack-rollback.yml:rollback'
    ])
    for (const [file, name, job] of deployJobs) {
      const step = deployStep(job) as Step
      const env = job.environment as { name?: string; url?: string }
      expect({ job: `${file}:${name}`, env: typeof env }).toMatchObject({ env: 'object' })
      expect(env.name).toMatch(/^\$\{\{ inputs\.[\w-]*environment \}\}$/)
      expect(env.url).toBe(`\${{ steps.${step.id}.outputs.url }}`)
      const envExpr = (env.name as string).slice(4, -3)
      expect(job.concurrency).toEqual({
        group: `deploy-\${{ github.repository }}-\${{ ${envExpr} }}`,
        'cancel-in-progress': false
      })
      // The GitHub deployment record names the same environment.
      expect(step.with?.environment).toBe(env.name)
      expect(step.with?.['github-token']).toBe('${{ github.token }}')
    }
  })
})

describe('stack-pr.yml', () => {
  const wf = workflow('stack-pr.yml')
  const jobs = Object.values(wf.jobs)

  it('uses no secrets, so that fork pull requests run it', () => {
    expect(wf.on?.workflow_call?.secrets).toBeUndefined()
    expect(refs(wf, /\bsecrets\b/g)).toEqual([])
    expect(texts.get('stack-pr.yml')).not.toMatch(/secrets:\s*inherit/)
  })

  it('builds without pushing, scans and smoke-tests in one job, with a PR comment', () => {
    expect(jobs).toHaveLength(1)
    const steps = ourSteps(jobs[0] as Job)
    expect(steps.map(commandOf)).toEqual(['build', 'scan', 'smoke'])
    const [build, scan, smoke] = steps as [Step, Step, Step]
    expect(String(build.with?.push)).toBe('false')
    expect(scan.with?.images).toBe(`\${{ steps.${build.id}.outputs.images }}`)
    expect(smoke.with?.images).toBe(`\${{ steps.${build.id}.outputs.images }}`)
    for (const step of steps) {
      expect(String(step.with?.['pr-comment'])).toBe('true')
      expect(step.with?.['github-token']).toBe('${{ github.token }}')
    }
  })

  it('uploads the SARIF folder, never failing the job and skipping fork pull requests', () => {
    const job = jobs[0] as Job
    const upload = stepsOf(job).find(s => s.uses?.startsWith('github/codeql-action/upload-sarif@'))
    const scan = ourSteps(job).find(s => commandOf(s) === 'scan') as Step
    expect(upload?.with?.sarif_file).toBe(`\${{ steps.${scan.id}.outputs.sarif-dir }}`)
    expect(upload?.['continue-on-error']).toBe(true)
    expect(upload?.if).toContain(
      'github.event.pull_request.head.repo.full_name == github.repository'
    )
  })

  it('uploads the smoke log bundle when the smoke test fails', () => {
    const job = jobs[0] as Job
    const smoke = ourSteps(job).find(s => commandOf(s) === 'smoke') as Step
    const upload = stepsOf(job).find(s => s.uses?.startsWith('actions/upload-artifact@'))
    expect(upload?.if).toMatch(/failure\(\)/)
    expect(upload?.with?.path).toBe(`\${{ steps.${smoke.id}.outputs.log-bundle }}`)
  })
})

describe('stack-deploy.yml', () => {
  const wf = workflow('stack-deploy.yml')

  it("builds and pushes, scans, then deploys the build job's digests", () => {
    expect(needsOf(wf.jobs.scan as Job)).toEqual(['build'])
    expect(needsOf(wf.jobs.deploy as Job).sort()).toEqual(['build', 'scan'])
    expect(pushes(wf.jobs.build as Job)).toBe(true)
    for (const job of ['scan', 'deploy'])
      expect(ourSteps(wf.jobs[job] as Job)[0]?.with?.images).toBe(
        '${{ needs.build.outputs.images }}'
      )
  })

  it('rolls back without building when rollback-to is set', () => {
    expect(wf.on?.workflow_call?.inputs?.['rollback-to']).toMatchObject({
      type: 'string',
      default: ''
    })
    for (const job of ['build', 'scan', 'deploy'])
      expect(wf.jobs[job]?.if).toContain("inputs.rollback-to == ''")
    const rollback = wf.jobs.rollback as Job
    expect(rollback.if).toContain("inputs.rollback-to != ''")
    expect(needsOf(rollback)).toEqual([])
    expect(ourSteps(rollback).map(commandOf)).toEqual(['rollback'])
  })
})

describe('stack-rollback.yml', () => {
  it('only rolls back: no build, no scan, no push', () => {
    const wf = workflow('stack-rollback.yml')
    expect(Object.keys(wf.jobs)).toEqual(['rollback'])
    expect(ourSteps(wf.jobs.rollback as Job).map(commandOf)).toEqual(['rollback'])
  })
})

describe('stack-release.yml', () => {
  const wf = workflow('stack-release.yml')

  it('builds once, with the semver tags derived from the v-tag', () => {
    const builders = Object.entries(wf.jobs).filter(([, job]) =>
      ourSteps(job).some(s => commandOf(s) === 'build')
    )
    expect(builders.map(([name]) => name)).toEqual(['build'])
    const build = ourSteps(wf.jobs.build as Job).find(s => commandOf(s) === 'build') as Step
    expect(String(build.with?.push)).toBe('true')
    expect(build.with?.tags).toBeUndefined()
    expect(JSON.stringify(wf.jobs.build)).toContain("startsWith(github.ref, 'refs/tags/v')")
  })

  it('deploys to production, after staging, the images staging deployed', () => {
    const staging = wf.jobs['deploy-staging'] as Job
    const production = wf.jobs['deploy-production'] as Job
    expect(needsOf(staging)).toEqual(expect.arrayContaining(['build', 'scan']))
    expect(needsOf(production)).toContain('deploy-staging')
    const images = deployStep(staging)?.with?.images
    expect(images).toBe('${{ needs.build.outputs.images }}')
    expect(deployStep(production)?.with?.images).toBe(images)
    expect(ourSteps(production).map(commandOf)).toEqual(['deploy'])
    expect(stepsOf(production).some(s => s.uses?.startsWith('docker/setup-buildx-action@'))).toBe(
      false
    )
    expect(production.environment).toMatchObject({ name: '${{ inputs.production-environment }}' })
    expect(staging.environment).toMatchObject({ name: '${{ inputs.staging-environment }}' })
  })
})

describe('ci.yml', () => {
  const wf = workflow('ci.yml')
  const runs = Object.values(wf.jobs).flatMap(job => stepsOf(job).map(s => s.run ?? ''))

  it('runs on pushes and pull requests', () => {
    expect(Object.keys(wf.on ?? {})).toEqual(expect.arrayContaining(['push', 'pull_request']))
    expect(isReusable(wf)).toBe(false)
  })

  it('lints, type-checks, runs the unit tests, checks dist and runs the e2e suite as root', () => {
    for (const command of [
      'npm run lint',
      'npm run build',
      'npm run test:unit',
      'npm run check-dist',
      'sudo -E env "PATH=$PATH" npm test'
    ])
      expect(runs).toContain(command)
  })

  it('runs the action on itself with uses: ./ (plan, then a build without push)', () => {
    const steps = Object.values(wf.jobs).flatMap(job => ourSteps(job))
    expect(steps.every(s => s.uses === './')).toBe(true)
    expect(steps.map(commandOf)).toEqual(expect.arrayContaining(['plan', 'build']))
    const build = steps.find(s => commandOf(s) === 'build') as Step
    expect(String(build.with?.push)).toBe('false')
  })

  it('sets up Node 24 for the npm scripts', () => {
    for (const job of Object.values(wf.jobs))
      for (const step of stepsOf(job).filter(s => s.uses?.startsWith('actions/setup-node@')))
        expect(String(step.with?.['node-version'])).toBe('24')
  })
})

/** The caller workflows the docs tell users to copy: ```yaml blocks that start with `# .github/workflows/`. */
function documentedCallers(): { source: string; name: string; text: string }[] {
  const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map(f => `docs/${f}`)]
  return docs.flatMap(source =>
    [
      ...fs
        .readFileSync(path.join(ROOT, source), 'utf8')
        .matchAll(/```yaml\n(# \.github\/workflows\/([\w.-]+)[\s\S]*?)```/g)
    ].map(match => ({ source, name: match[2] as string, text: match[1] as string }))
  )
}

describe('the caller workflows in the docs', () => {
  const callers = documentedCallers()

  it('include the PR, staging, release and rollback callers', () => {
    expect(callers.map(c => c.name)).toEqual(
      expect.arrayContaining(['pr.yml', 'staging.yml', 'release.yml', 'rollback.yml'])
    )
  })

  it.each(callers.map(c => [`${c.source}: ${c.name}`, c] as const))(
    '%s parses with no errors and calls a workflow with what it declares',
    async (_label, caller) => {
      expect(await workflowErrors(caller.name, caller.text)).toEqual([])
      const wf = parse(caller.text) as Workflow
      for (const [jobName, job] of Object.entries(wf.jobs)) {
        const match = /^org\/stack-deploy\/\.github\/workflows\/([\w.-]+)@v1$/.exec(job.uses ?? '')
        expect({ job: jobName, uses: job.uses, ok: match !== null }).toMatchObject({ ok: true })
        const called = workflow((match as RegExpExecArray)[1] as string)
        const call = called.on?.workflow_call as WorkflowCall
        const given = (job as Job & { with?: Record<string, unknown> }).with ?? {}
        // Only inputs the called workflow declares, and every required one.
        for (const key of Object.keys(given))
          expect({ input: key, declared: key in (call.inputs ?? {}) }).toEqual({
            input: key,
            declared: true
          })
        for (const [key, input] of Object.entries(call.inputs ?? {}))
          if ((input as { required?: boolean }).required)
            expect({ required: key, given: key in given }).toEqual({ required: key, given: true })
        // The caller grants at least every write permission the called jobs ask for.
        const granted = (job.permissions ?? {}) as Record<string, string>
        for (const calledJob of Object.values(called.jobs))
          for (const [scope, level] of Object.entries(
            (calledJob.permissions ?? {}) as Record<string, string>
          )) {
            const rank = (l: string | undefined): number =>
              ['none', 'read', 'write'].indexOf(l ?? 'none')
            expect({ scope, enough: rank(granted[scope]) >= rank(level) }).toEqual({
              scope,
              enough: true
            })
          }
      }
    }
  )
})

describe('docs/workflows.md', () => {
  it('has the reference tables the workflow files give (npm run docs)', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'docs.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8'
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
  })
})
