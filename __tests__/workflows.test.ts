/**
 * The workflows in .github/workflows (and action.yml) against GitHub's own parser, and against
 * our policies: pinned actions, least-privilege permissions, no secrets for pull requests,
 * deploy jobs behind an environment and a non-cancelling concurrency group, production running
 * the images staging ran, only real inputs given to our action, the reusable workflows running
 * the action of the very commit their caller pinned, and the release workflow's checks.
 *
 * The parser is @actions/workflow-parser (actions/languageservices, what the Actions editor
 * and VS Code extension use). It is ESM and imports JSON schemas, which jest's ESM mode cannot
 * load, so beforeAll bundles it once with esbuild into a CommonJS file under
 * node_modules/.cache (ignored by git) and loads that with createRequire.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import type { data as expressionData } from '@actions/expressions'
import { buildSync } from 'esbuild'
import { isScalar, parse, parseDocument, stringify, visit } from 'yaml'

type WorkflowParser = typeof import('../scripts/workflow-parser-entry.js')

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const WORKFLOWS_DIR = path.join(ROOT, '.github', 'workflows')
const BUNDLE = path.join(ROOT, 'node_modules', '.cache', 'stack-deploy', 'workflow-parser.cjs')

/** This repository, as the README and the callers name it. */
const OUR_REPOSITORY = 'org/stack-deploy'
/**
 * Where each job of the reusable workflows checks out this repository, at the commit of the
 * workflow file itself (job.workflow_sha), to run the action from; ci.yml runs it as `./`.
 */
const ACTION_PATH = '.stack-deploy-action'
const LOCAL_ACTION = `./${ACTION_PATH}`
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
  inputs?: Record<
    string,
    { type?: string; description?: string; default?: unknown; required?: boolean }
  >
  secrets?: Record<string, { description?: string; required?: boolean }>
  outputs?: Record<string, { description?: string; value?: string }>
}
interface Workflow {
  name?: string
  on?: Record<string, unknown> & { workflow_call?: WorkflowCall | null }
  permissions?: Record<string, string> | string
  concurrency?: string | { group?: string; 'cancel-in-progress'?: boolean | string }
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
/** Our action: `./` (ci.yml), the reusable workflows' checkout, or this repository by a ref. */
const isOurs = (uses: string | undefined): boolean =>
  uses === './' || uses === LOCAL_ACTION || (uses?.startsWith(`${OUR_REPOSITORY}@`) ?? false)
/** A step that checks out the action at the workflow's own commit. */
const isActionCheckout = (step: Step): boolean =>
  (step.uses?.startsWith('actions/checkout@') ?? false) && step.with?.path === ACTION_PATH
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
/** The job publishes this repository's releases: a GitHub release, or a moved tag. */
const publishesReleases = (job: Job): boolean =>
  stepsOf(job).some(s => /\bgh release create\b|\/git\/refs\b/.test(s.run ?? ''))
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
        'release.yml',
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

  it('runs our action as ./ in ci.yml and from the action checkout in reusable workflows', () => {
    const ours = usesNodes.filter(n => isOurs(n.uses))
    expect(ours.length).toBeGreaterThan(0)
    for (const node of ours)
      expect(node).toMatchObject({ uses: node.file === 'ci.yml' ? './' : LOCAL_ACTION })
  })

  it('never names this action, or a workflow of this repository, by a tag or any other ref', () => {
    // `org/stack-deploy@v1` in a reusable workflow runs whatever v1 is when the job starts,
    // whatever the caller pinned the workflow at.
    const byRef = new RegExp(`^${OUR_REPOSITORY.replace('/', '\\/')}(/[^@]*)?@`)
    for (const node of usesNodes)
      expect({ ...node, byRef: byRef.test(node.uses) }).toMatchObject({
        byRef: false
      })
    // `$/` (the self-repository reference) cannot name the action at the repository root, and
    // a workflow that uses it does not load on GitHub Enterprise Server.
    for (const node of usesNodes)
      expect({ ...node, self: node.uses.startsWith('$/') }).toMatchObject({ self: false })
  })
})

describe('permissions', () => {
  it('grants nothing (reusable workflows, release.yml) or read only (ci.yml) at the top level', () => {
    for (const [file, wf] of workflows) {
      expect({ file, type: typeof wf.permissions }).toEqual({ file, type: 'object' })
      const perms = wf.permissions as Record<string, string>
      if (isReusable(wf) || file === 'release.yml')
        expect({ file, perms }).toEqual({ file, perms: {} })
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
    if (publishesReleases(job)) needWrite.add('contents')
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
      if (deployStep(job) || !isReusable(workflow(file))) continue
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

  it.each(allJobs())('%s job %s hands values to scripts through env only', (_file, _name, job) => {
    // An expression inside `run:` is pasted into the script before bash reads it: a tag name,
    // an input or a branch could then inject commands.
    for (const step of stepsOf(job))
      expect({ step: step.id ?? step.name, run: step.run ?? '' }).not.toMatchObject({
        run: expect.stringContaining('${{')
      })
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

/** Contexts of a job (github, job, inputs, ...) as plain values. */
type Contexts = Record<string, unknown>

/**
 * What GitHub makes of a step input: one `${{ … }}` expression, evaluated by GitHub's own
 * expression engine (@actions/expressions) against `contexts`, or a literal string.
 */
function evaluate(value: unknown, contexts: Contexts): string {
  if (value === undefined || value === null) return ''
  const text = String(value)
  const whole = /^\$\{\{([\s\S]*)\}\}$/.exec(text.trim())
  if (!whole) {
    if (text.includes('${{')) throw new Error(`not one whole expression: ${text}`)
    return text
  }
  const tokens = new parser.Lexer(whole[1] as string).lex().tokens
  const expression = new parser.Parser(tokens, Object.keys(contexts), []).parse()
  const values = JSON.parse(
    JSON.stringify(contexts),
    parser.data.reviver
  ) as expressionData.Dictionary
  return new parser.Evaluator(expression, values).evaluate().coerceString()
}

/** The caller repository in these models, and its commit: what the github context names. */
const CALLER = { repository: 'acme/app', sha: '1111111111111111111111111111111111111111' }

interface CalledFile {
  owner: string
  repository: string
  path: string
  version: string
}
/** One step that runs stack-deploy's action, and the repository and ref it runs it from. */
interface ActionRun {
  job: string
  step: string
  repository: string
  ref: string
}

/**
 * Which commit of stack-deploy's action each step of a called workflow runs when `caller`
 * calls one of our reusable workflows, worked out the way GitHub does it, with GitHub's parser
 * and expression engine, since GitHub itself cannot be reached from the tests:
 *
 * - the parser resolves the caller's `uses: org/stack-deploy/.github/workflows/<file>@<ref>`
 *   into the called workflow's jobs, fetching the file through a FileProvider that stands in
 *   for GitHub serving it at <ref> (here: the file as it is in this checkout, or `called`);
 * - every called job gets the job context GitHub documents for a job that a reusable workflow
 *   defines: job.workflow_repository and job.workflow_sha are the called file's repository and
 *   the commit its <ref> resolved to (`commitOf`), while the github context stays the
 *   caller's. GitHub Enterprise Server (`ghes`) has no job.workflow_*;
 * - `uses: ./.stack-deploy-action` runs the action of the last checkout into that folder
 *   (actions/checkout: repository defaults to the caller's, and a later checkout of the
 *   workspace root cleans the folder away); `uses: org/stack-deploy@<ref>` runs <ref>, whatever
 *   the caller pinned.
 */
async function resolveCall(
  caller: string,
  options: { commitOf?: (ref: string) => string; ghes?: boolean; called?: string } = {}
): Promise<{ errors: string[]; called: CalledFile[]; runs: ActionRun[] }> {
  const called: CalledFile[] = []
  const calledText = (file: string): string | undefined => options.called ?? texts.get(file)
  const fileProvider = {
    getFileContent: async (ref: Partial<CalledFile> & { path: string }) => {
      const { owner, repository, version } = ref
      if (!owner || !repository || !version) throw new Error(`not a remote workflow: ${ref.path}`)
      called.push({ owner, repository, path: ref.path, version })
      const content = calledText(path.basename(ref.path))
      if (`${owner}/${repository}` !== OUR_REPOSITORY || content === undefined)
        throw new Error(`no such workflow: ${owner}/${repository}/${ref.path}`)
      return { name: ref.path, content }
    }
  }
  const parsed = parser.parseWorkflow(
    { name: 'caller.yml', content: caller },
    new parser.NoOperationTraceWriter()
  )
  const template = parsed.value
    ? await parser.convertWorkflowTemplate(parsed.context, parsed.value, fileProvider, {
        fetchReusableWorkflowDepth: 1
      })
    : undefined
  const errors = parsed.context.errors.getErrors().map(error => error.message)
  const runs: ActionRun[] = []
  const callerJobs = (parse(caller) as Workflow).jobs
  for (const callJob of template?.jobs ?? []) {
    if (callJob.type !== 'reusableWorkflowJob') continue
    const file = called.find(
      f => `${f.owner}/${f.repository}/${f.path}@${f.version}` === callJob.ref.value
    )
    if (!file) throw new Error(`${callJob.ref.value} was not fetched`)
    const calledWorkflow = parse(calledText(path.basename(file.path)) as string) as Workflow
    const given = (callerJobs[callJob.id.value] as { with?: Record<string, unknown> }).with ?? {}
    const inputs = Object.fromEntries(
      Object.entries(calledWorkflow.on?.workflow_call?.inputs ?? {}).map(([name, input]) => [
        name,
        name in given ? given[name] : (input.default ?? '')
      ])
    )
    const job = options.ghes
      ? { status: 'success' }
      : {
          status: 'success',
          workflow_repository: `${file.owner}/${file.repository}`,
          workflow_sha: (options.commitOf ?? (ref => ref))(file.version),
          workflow_ref: `${file.owner}/${file.repository}/${file.path}@${file.version}`,
          workflow_file_path: file.path
        }
    const contexts: Contexts = {
      github: { repository: CALLER.repository, sha: CALLER.sha, workflow_sha: CALLER.sha },
      job,
      inputs
    }
    for (const calledJob of callJob.jobs ?? []) {
      if (calledJob.type !== 'job') continue
      const name = calledJob.id.value
      // The model keeps each step's `uses`, not its `with`: those come from the file itself.
      const steps = stepsOf(calledWorkflow.jobs[name] as Job)
      if (steps.length !== calledJob.steps.length) throw new Error(`${name}: steps differ`)
      let checkout: { repository: string; ref: string } | undefined
      for (const [index, modelStep] of calledJob.steps.entries()) {
        const step = steps[index] as Step
        const uses = 'uses' in modelStep ? modelStep.uses.value : undefined
        if (uses !== step.uses) throw new Error(`${name} step ${index}: ${uses} ≠ ${step.uses}`)
        if (uses === undefined) continue
        const id = step.id ?? step.name ?? `#${index}`
        const ours = new RegExp(`^${OUR_REPOSITORY}@(.+)$`).exec(uses)
        if (uses.startsWith('actions/checkout@')) {
          const into = evaluate(step.with?.path, contexts)
          if (into === ACTION_PATH)
            checkout = {
              repository: evaluate(step.with?.repository, contexts) || CALLER.repository,
              ref: evaluate(step.with?.ref, contexts) || '(the default branch)'
            }
          else if (into === '' || into === '.') checkout = undefined
        } else if (uses === LOCAL_ACTION) {
          runs.push({
            job: name,
            step: id,
            repository: checkout?.repository ?? '(nothing checked out)',
            ref: checkout?.ref ?? '(nothing checked out)'
          })
        } else if (ours) {
          runs.push({ job: name, step: id, repository: OUR_REPOSITORY, ref: ours[1] as string })
        }
      }
    }
  }
  return { errors, called, runs }
}

/** A caller of one of our reusable workflows at `ref`, giving every required input. */
function callerOf(file: string, ref: string, extra: Record<string, string> = {}): string {
  const given: Record<string, string> = { ...extra }
  for (const [name, input] of Object.entries(workflow(file).on?.workflow_call?.inputs ?? {}))
    if (input.required) given[name] ??= 'app1.example.com'
  return stringify({
    name: 'caller',
    on: 'push',
    permissions: {},
    jobs: { call: { uses: `${OUR_REPOSITORY}/.github/workflows/${file}@${ref}`, with: given } }
  })
}

describe('which commit of stack-deploy the reusable workflows run', () => {
  const reusable = files.filter(f => isReusable(workflow(f)))
  /** A commit a caller pins, and the commit a caller's `@v1.4.2` resolves to. */
  const PINNED = '3f0c2b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b'
  const TAGGED = '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b'
  const ourStepCount = (file: string): number =>
    Object.values(workflow(file).jobs).reduce((n, job) => n + ourSteps(job).length, 0)

  it('covers every reusable workflow', () => {
    expect([...reusable].sort()).toEqual([
      'stack-deploy.yml',
      'stack-pr.yml',
      'stack-release.yml',
      'stack-rollback.yml'
    ])
  })

  it.each(reusable)('%s checks the action out in each job that runs it, first', file => {
    for (const [name, job] of Object.entries(workflow(file).jobs)) {
      const steps = stepsOf(job)
      const checkouts = steps.filter(isActionCheckout)
      if (ourSteps(job).length === 0) {
        expect({ job: name, checkouts }).toEqual({ job: name, checkouts: [] })
        continue
      }
      expect({ job: name, checkouts: checkouts.length }).toEqual({ job: name, checkouts: 1 })
      const checkout = checkouts[0] as Step
      const at = steps.indexOf(checkout)
      for (const [index, step] of steps.entries()) {
        // The caller's checkout cleans the workspace: it must come first.
        if (step !== checkout && step.uses?.startsWith('actions/checkout@'))
          expect({ job: name, index, before: index < at }).toMatchObject({ before: true })
        if (isOurs(step.uses))
          expect({ job: name, index, after: index > at }).toMatchObject({ after: true })
      }
      expect({ job: name, if: checkout.if }).toEqual({ job: name, if: undefined })
      expect(String(checkout.with?.['persist-credentials'])).toBe('false')
      // action.yml and the other root files, and dist/: what the action runs, nothing else.
      expect(checkout.with?.['sparse-checkout']).toBe('dist')
    }
  })

  it.each(reusable)(
    '%s: a caller pinning it by commit SHA runs the action of that SHA',
    async file => {
      const { errors, called, runs } = await resolveCall(callerOf(file, PINNED))
      expect(errors).toEqual([])
      expect(called).toEqual([
        {
          owner: 'org',
          repository: 'stack-deploy',
          path: `.github/workflows/${file}`,
          version: PINNED
        }
      ])
      expect(runs).toHaveLength(ourStepCount(file))
      for (const run of runs)
        expect(run).toEqual({ ...run, repository: OUR_REPOSITORY, ref: PINNED })
    }
  )

  it.each(reusable)(
    '%s: a caller pinning a release tag runs the action of the commit the tag resolved to',
    async file => {
      const commitOf = (ref: string): string => (ref === 'v1.4.2' ? TAGGED : ref)
      const { errors, runs } = await resolveCall(callerOf(file, 'v1.4.2'), { commitOf })
      expect(errors).toEqual([])
      expect(runs).toHaveLength(ourStepCount(file))
      for (const run of runs)
        expect(run).toEqual({ ...run, repository: OUR_REPOSITORY, ref: TAGGED })
    }
  )

  it.each(reusable)(
    '%s on GitHub Enterprise Server (no job.workflow_*): the action at action-ref, v1 by default',
    async file => {
      const byDefault = await resolveCall(callerOf(file, PINNED), { ghes: true })
      expect(byDefault.errors).toEqual([])
      expect(byDefault.runs).toHaveLength(ourStepCount(file))
      for (const run of byDefault.runs)
        expect(run).toEqual({ ...run, repository: OUR_REPOSITORY, ref: 'v1' })

      const pinned = await resolveCall(callerOf(file, PINNED, { 'action-ref': PINNED }), {
        ghes: true
      })
      expect(pinned.errors).toEqual([])
      expect(pinned.runs).toHaveLength(ourStepCount(file))
      for (const run of pinned.runs)
        expect(run).toEqual({ ...run, repository: OUR_REPOSITORY, ref: PINNED })
    }
  )

  it('catches the action run by a tag, or checked out from the wrong commit or repository', async () => {
    const file = 'stack-rollback.yml'
    const text = texts.get(file) as string
    const refsOf = async (called: string): Promise<string[]> =>
      (await resolveCall(callerOf(file, PINNED), { called })).runs.map(
        run => `${run.repository}@${run.ref}`
      )
    expect(await refsOf(text)).toEqual([`${OUR_REPOSITORY}@${PINNED}`])
    expect(
      await refsOf(
        text.replace(/^( +)uses: \.\/\.stack-deploy-action$/m, `$1uses: ${OUR_REPOSITORY}@v1`)
      )
    ).toEqual([`${OUR_REPOSITORY}@v1`])
    expect(await refsOf(text.replace(/ref: \$\{\{ job\.workflow_sha[^\n]*/, 'ref: v1'))).toEqual([
      `${OUR_REPOSITORY}@v1`
    ])
    expect(
      await refsOf(text.replace(/ref: \$\{\{ job\.workflow_sha[^\n]*/, 'ref: ${{ github.sha }}'))
    ).toEqual([`${OUR_REPOSITORY}@${CALLER.sha}`])
    expect(
      await refsOf(text.replace(/ *repository: \$\{\{ job\.workflow_repository[^\n]*\n/, ''))
    ).toEqual([`${CALLER.repository}@${PINNED}`])
  })

  it('defaults action-ref to the release line the README tells callers to use', () => {
    const defaults = new Set(
      reusable.map(file => workflow(file).on?.workflow_call?.inputs?.['action-ref']?.default)
    )
    expect(defaults.size).toBe(1)
    const line = [...defaults][0] as string
    expect(line).toMatch(/^v\d+$/)
    expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain(
      `${OUR_REPOSITORY}/.github/workflows/stack-deploy.yml@${line}\n`
    )
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

/**
 * Runs a step's script the way the runner runs `shell: bash` (bash -e -o pipefail), with
 * GITHUB_OUTPUT and a stand-in `gh` on the PATH that logs its arguments and answers from FAKE_*
 * variables: FAKE_RELEASE_EXISTS, FAKE_REFS (the matching refs, one a line), FAKE_API_STATUS
 * (the exit status of a ref update). No network.
 */
function runStep(
  step: Step,
  env: Record<string, string>
): { status: number | null; stdout: string; outputs: Record<string, string>; gh: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-deploy-step-'))
  try {
    fs.writeFileSync(
      path.join(dir, 'gh'),
      [
        '#!/usr/bin/env bash',
        'printf "%s\\n" "$*" >>"$FAKE_GH_LOG"',
        'if [ "$1 $2" = "release view" ]; then [ "${FAKE_RELEASE_EXISTS:-}" = true ]; exit; fi',
        'if [ "$1" = api ] && [[ "$*" == *matching-refs* ]]; then printf "%s" "${FAKE_REFS:-}"; exit 0; fi',
        'if [ "$1 $2" = "api -X" ]; then exit "${FAKE_API_STATUS:-0}"; fi',
        'exit 0',
        ''
      ].join('\n'),
      { mode: 0o755 }
    )
    const output = path.join(dir, 'output')
    const log = path.join(dir, 'gh.log')
    fs.writeFileSync(output, '')
    fs.writeFileSync(log, '')
    const run = spawnSync(
      'bash',
      ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', step.run ?? ''],
      {
        encoding: 'utf8',
        env: {
          PATH: `${dir}:${process.env.PATH ?? ''}`,
          HOME: dir,
          GITHUB_OUTPUT: output,
          FAKE_GH_LOG: log,
          ...env
        }
      }
    )
    const outputs = Object.fromEntries(
      fs
        .readFileSync(output, 'utf8')
        .split('\n')
        .filter(line => line.includes('='))
        .map(line => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
    )
    return { status: run.status, stdout: run.stdout, outputs, gh: fs.readFileSync(log, 'utf8') }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe('release.yml', () => {
  const wf = workflow('release.yml')
  const check = wf.jobs.check as Job
  const release = wf.jobs.release as Job
  const majorTag = wf.jobs['major-tag'] as Job
  const SHA = '5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f'

  it('runs for vX.Y.Z tags and by hand, not for the vMAJOR tag it moves', () => {
    expect(isReusable(wf)).toBe(false)
    const on = wf.on as {
      push?: { tags?: string[]; branches?: string[] }
      workflow_dispatch?: unknown
    }
    expect(Object.keys(on).sort()).toEqual(['push', 'workflow_dispatch'])
    expect(on.push?.branches).toBeUndefined()
    // GitHub's filter patterns: * is any run of characters but /, + repeats what precedes it.
    const patterns = (on.push?.tags ?? []).map(
      tag => new RegExp(`^${tag.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`)
    )
    const matches = (tag: string): boolean => patterns.some(pattern => pattern.test(tag))
    for (const tag of ['v1.4.2', 'v0.1.0', 'v1.5.0-rc.1', 'v10.20.30'])
      expect([tag, matches(tag)]).toEqual([tag, true])
    for (const tag of ['v1', 'v10', 'v1.4', 'latest', '1.4.2'])
      expect([tag, matches(tag)]).toEqual([tag, false])
    expect(on.workflow_dispatch).toMatchObject({
      inputs: { tag: { type: 'string', required: true } }
    })
  })

  it('checks the tag, dist and the unit tests before it writes anything', () => {
    expect(check.permissions).toEqual({ contents: 'read' })
    const steps = stepsOf(check)
    expect(steps[0]?.id).toBe('version')
    const runs = steps.map(s => s.run ?? '')
    for (const command of [
      'npm ci --no-audit --no-fund',
      'npm run check-dist',
      'npm run test:unit'
    ])
      expect(runs).toContain(command)
    expect(needsOf(release)).toEqual(['check'])
    expect(needsOf(majorTag).sort()).toEqual(['check', 'release'])
    expect(wf.concurrency).toMatchObject({ 'cancel-in-progress': false })
  })

  it('moves vMAJOR only for a release that is not a pre-release', () => {
    expect(majorTag.if).toBe("${{ needs.check.outputs.prerelease == 'false' }}")
    const secrets = allJobs()
      .filter(([file]) => file === 'release.yml')
      .flatMap(([, name, job]) => refs(job, /\bsecrets\.([\w-]+)/g).map(m => `${name}:${m[1]}`))
    expect(secrets).toEqual(['major-tag:MAJOR_TAG_TOKEN'])
  })

  describe('the SemVer check', () => {
    const step = stepsOf(check).find(s => s.id === 'version') as Step

    it.each([
      ['v1.4.2', '1', 'false'],
      ['v0.1.0', '0', 'false'],
      ['v10.20.30', '10', 'false'],
      ['v1.5.0-rc.1', '1', 'true'],
      ['v2.0.0-alpha-1.beta', '2', 'true'],
      ['v1.0.0+build.7-x', '1', 'false'],
      ['v1.0.0-rc.1+build.7', '1', 'true']
    ])('accepts %s (major %s, pre-release %s)', (tag, major, prerelease) => {
      const result = runStep(step, { TAG: tag })
      expect(result.status).toBe(0)
      expect(result.outputs).toEqual({ tag, version: tag.slice(1), major, prerelease })
    })

    it.each([
      '1.4.2',
      'v1',
      'v1.4',
      'v01.4.2',
      'v1.4.02',
      'v1.4.2-',
      'v1.4.2-01',
      'v1.4.2-rc..1',
      'v1.4.2+',
      'v1.4.2.1',
      'V1.4.2',
      ' v1.4.2',
      'v1.4.2\n::warning::injected',
      'main',
      ''
    ])('refuses %j', tag => {
      const result = runStep(step, { TAG: tag })
      expect(result.status).not.toBe(0)
      expect(result.stdout).toContain('::error title=release::not a SemVer tag')
      expect(result.stdout).not.toContain('\n::warning::')
      expect(result.outputs).toEqual({})
    })
  })

  describe('the GitHub release', () => {
    const step = stepsOf(release)[0] as Step
    const env = { GH_REPO: 'org/stack-deploy', TAG: 'v1.4.2', SHA, PRERELEASE: 'false' }

    it('is created for the existing tag, with generated notes that say how to pin it', () => {
      const { status, gh } = runStep(step, env)
      expect(status).toBe(0)
      expect(gh).toContain(
        'release create v1.4.2 --verify-tag --title v1.4.2 --generate-notes --notes '
      )
      expect(gh).toContain(`org/stack-deploy/.github/workflows/stack-deploy.yml@${SHA} # v1.4.2`)
      expect(gh).not.toContain('--prerelease')
    })

    it('is a pre-release for a -suffixed version', () => {
      const { status, gh } = runStep(step, { ...env, TAG: 'v1.5.0-rc.1', PRERELEASE: 'true' })
      expect(status).toBe(0)
      expect(gh).toMatch(/release create v1\.5\.0-rc\.1 [\s\S]*--prerelease\n$/)
    })

    it('is left alone when it exists already (the workflow run again)', () => {
      const { status, gh, stdout } = runStep(step, { ...env, FAKE_RELEASE_EXISTS: 'true' })
      expect(status).toBe(0)
      expect(gh).toBe('release view v1.4.2\n')
      expect(stdout).toContain('has a release already')
    })
  })

  describe('moving vMAJOR', () => {
    const step = stepsOf(majorTag)[0] as Step
    const move = (tag: string, refs: string[], extra: Record<string, string> = {}) =>
      runStep(step, {
        GH_REPO: 'org/stack-deploy',
        TAG: tag,
        MAJOR: tag.slice(1).split('.')[0] as string,
        SHA,
        FAKE_REFS: refs.map(ref => `refs/tags/${ref}\n`).join(''),
        ...extra
      })
    const updates = (gh: string): string[] =>
      gh.split('\n').filter(line => line.startsWith('api -X'))

    it('creates v1 with the first v1 release', () => {
      const { status, gh } = move('v1.0.0', ['v1.0.0'])
      expect(status).toBe(0)
      expect(gh).toContain('api --paginate repos/org/stack-deploy/git/matching-refs/tags/v1 ')
      expect(updates(gh)).toEqual([
        `api -X POST repos/org/stack-deploy/git/refs -f ref=refs/tags/v1 -f sha=${SHA}`
      ])
    })

    it('moves v1 to the newest v1 release', () => {
      const { status, gh } = move('v1.10.0', ['v1', 'v1.9.0', 'v1.10.0', 'v1.11.0-rc.1', 'v10.0.0'])
      expect(status).toBe(0)
      expect(updates(gh)).toEqual([
        `api -X PATCH repos/org/stack-deploy/git/refs/tags/v1 -f sha=${SHA} -F force=true`
      ])
    })

    it('leaves v1 where it is for a patch of an older minor version', () => {
      const { status, gh, stdout } = move('v1.3.1', ['v1', 'v1.3.0', 'v1.3.1', 'v1.4.0'])
      expect(status).toBe(0)
      expect(updates(gh)).toEqual([])
      expect(stdout).toContain('v1 stays where it is: v1.4.0 is newer than v1.3.1')
    })

    it('fails, and says what to do, when GitHub refuses the move', () => {
      const { status, stdout } = move('v1.4.0', ['v1', 'v1.4.0'], { FAKE_API_STATUS: '1' })
      expect(status).not.toBe(0)
      expect(stdout).toContain('::error title=release::GitHub refused to move v1 to v1.4.0')
      expect(stdout).toContain('MAJOR_TAG_TOKEN')
    })
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
        // @v1, @vX.Y.Z or a commit SHA (the README says which to use where).
        const match =
          /^org\/stack-deploy\/\.github\/workflows\/([\w.-]+)@(v\d+|v\d+\.\d+\.\d+\S*|[0-9a-f]{40})$/.exec(
            job.uses ?? ''
          )
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
