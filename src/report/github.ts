/**
 * What the action tells GitHub itself, when it has a token (the github-token input): a
 * deployment with its statuses for deploy and rollback (the environment's page and the pull
 * request's timeline), and one comment per pull request with the build, scan and smoke results.
 *
 * GitHub's bookkeeping never decides a step's outcome: every call here is awaited (so the step
 * does not end before its status is sent) but a refused or failed call only gives a warning that
 * says which permission is missing; the deploy, or the build, goes on as if it had succeeded.
 */
import { DeployError } from '../errors.js'
import { context, getOctokit } from '@actions/github'
import type { Redact } from './redact.js'
import type { Reporter } from './reporter.js'
import {
  commentMarker,
  findMarkedComment,
  mergeRow,
  parseCommentData,
  renderComment,
  truncate,
  type CommentRow
} from './github-comment.js'

/** GitHub's maximum length of a deployment's or a deployment status's description. */
export const DESCRIPTION_LIMIT = 140
/** A call that takes longer than this is given up (with a warning): a deploy never waits on GitHub. */
const REQUEST_TIMEOUT_MS = 20_000
const PER_PAGE = 100

export interface RepoRef {
  owner: string
  repo: string
}

/** What a run knows about itself from the runner's environment and the event payload. */
export interface GithubRun {
  apiUrl: string
  repo: RepoRef | undefined
  runUrl: string | undefined
  eventName: string | undefined
  payload: { pull_request?: { number?: number; head?: { sha?: string } } }
  /** GITHUB_SHA: the commit the workflow runs on. */
  sha: string | undefined
}

export function githubRunFromEnv(
  env: NodeJS.ProcessEnv,
  runUrl: string | undefined,
  payload: GithubRun['payload'] = context.payload as GithubRun['payload']
): GithubRun {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
  return {
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    repo: owner && repo ? { owner, repo } : undefined,
    runUrl,
    eventName: env.GITHUB_EVENT_NAME,
    payload,
    sha: env.GITHUB_SHA || undefined
  }
}

/** The pull request a run is about: only on pull_request and pull_request_target events. */
export function pullRequestOf(
  run: GithubRun
): { number: number; headSha: string | undefined } | undefined {
  if (run.eventName !== 'pull_request' && run.eventName !== 'pull_request_target') return undefined
  const number = run.payload.pull_request?.number
  return typeof number === 'number'
    ? { number, headSha: run.payload.pull_request?.head?.sha }
    : undefined
}

/** Cuts a description to GitHub's 140 characters. */
export function truncateDescription(text: string): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), DESCRIPTION_LIMIT)
}

/** Sets `production_environment` on the deployment: these names are production by convention. */
export function isProductionEnvironment(environment: string): boolean {
  return ['production', 'prod'].includes(environment.trim().toLowerCase())
}

/**
 * The HTTP status GitHub answered with. Undefined when there was no answer: Octokit reports a
 * network error or a timeout with status 500 too, but without a response.
 */
function statusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; response?: unknown } | null
  return typeof e?.status === 'number' && e.response !== undefined ? e.status : undefined
}

function reasonOf(error: unknown): string {
  const status = statusOf(error)
  // Octokit's messages end with " - <documentation URL>"; the status says more in a log line.
  const message = (error instanceof Error ? error.message : String(error)).replace(
    / - https:\/\/docs\.github\.com\S*$/,
    ''
  )
  return status ? `HTTP ${status}: ${message}` : message
}

/** The few REST calls this module makes, through @actions/github's Octokit (which honours GITHUB_API_URL). */
export class GithubClient {
  private readonly octokit: ReturnType<typeof getOctokit>

  constructor(token: string, apiUrl: string) {
    // baseUrl is passed on: @actions/github reads GITHUB_API_URL once, when it is first loaded.
    this.octokit = getOctokit(token, { baseUrl: apiUrl })
  }

  private async call<T>(route: string, parameters: Record<string, unknown>): Promise<T> {
    const response = await this.octokit.request(route, {
      ...parameters,
      request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }
    })
    return response.data as T
  }

  async createDeployment(repo: RepoRef, body: DeploymentBody): Promise<{ id?: number }> {
    return this.call('POST /repos/{owner}/{repo}/deployments', { ...repo, ...body })
  }

  async createDeploymentStatus(repo: RepoRef, id: number, body: StatusBody): Promise<void> {
    await this.call('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
      ...repo,
      deployment_id: id,
      ...body
    })
  }

  /** Goes through the pages until `stop` says it has what it needs. */
  async findIssueComment<T extends { id: number; body?: string | null }>(
    repo: RepoRef,
    issue: number,
    stop: (page: T[]) => T | undefined
  ): Promise<T | undefined> {
    for (let page = 1; ; page++) {
      const response = await this.octokit.request(
        'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
        {
          ...repo,
          issue_number: issue,
          per_page: PER_PAGE,
          page,
          request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }
        }
      )
      const comments = response.data as unknown as T[]
      const found = stop(comments)
      if (found) return found
      // GitHub announces a next page in the Link header; a short page is the last one anyway.
      const next = /<[^>]*>;\s*rel="next"/.test(response.headers.link ?? '')
      if (!next || comments.length < PER_PAGE) return undefined
    }
  }

  async createIssueComment(repo: RepoRef, issue: number, body: string): Promise<{ id: number }> {
    return this.call('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...repo,
      issue_number: issue,
      body
    })
  }

  async updateIssueComment(repo: RepoRef, id: number, body: string): Promise<void> {
    await this.call('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
      ...repo,
      comment_id: id,
      body
    })
  }
}

// --- deployments ------------------------------------------------------------------------------

export type DeploymentTask = 'deploy' | 'deploy:rollback'
export type DeploymentState = 'in_progress' | 'success' | 'failure'

export interface DeploymentSpec {
  task: DeploymentTask
  /** The commit sha. */
  ref: string
  environment: string
  project: string
  /** The release id being deployed, or the one rolled back to ("previous" when not known yet). */
  release: string
  hosts: string[]
}

export interface DeploymentBody {
  ref: string
  task: DeploymentTask
  auto_merge: false
  required_contexts: string[]
  environment: string
  production_environment: boolean
  transient_environment: false
  description: string
  payload: { project: string; release: string; hosts: string[] }
}

export interface StatusBody {
  state: DeploymentState
  description: string
  log_url?: string
  environment_url?: string
}

function hostsLabel(hosts: readonly string[]): string {
  return hosts.length === 1 ? (hosts[0] as string) : `${hosts.length} hosts`
}

const asIs: Redact = text => text

/** POST /deployments: a deployment of the commit, with no merge and no required checks (the workflow already decided to deploy). */
export function deploymentBody(spec: DeploymentSpec, redact: Redact = asIs): DeploymentBody {
  const description =
    spec.task === 'deploy'
      ? `Deploy ${spec.release} of ${spec.project} to ${hostsLabel(spec.hosts)}`
      : `Roll back ${spec.project} on ${hostsLabel(spec.hosts)} to ${spec.release === 'previous' ? 'the previous release' : spec.release}`
  return {
    ref: spec.ref,
    task: spec.task,
    auto_merge: false,
    required_contexts: [],
    environment: spec.environment,
    production_environment: isProductionEnvironment(spec.environment),
    transient_environment: false,
    description: truncateDescription(redact(description)),
    payload: { project: spec.project, release: spec.release, hosts: spec.hosts }
  }
}

/**
 * One line out of a possibly long error: its first line, and when that line only announces
 * what follows ("compose up --wait failed on h1 (exit 1):"), the last line too, which is where
 * compose and the shell put the actual error.
 */
function oneLine(text: string): string {
  const lines = text
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
  const first = lines[0] ?? ''
  return first.endsWith(':') && lines.length > 1 ? `${first} ${lines[lines.length - 1]}` : first
}

/**
 * The failure status's description: where it failed (host and step, for the deploy stage's
 * errors), what became of that host, and of the others, within GitHub's 140 characters. All of
 * it comes from the DeployError's fields. The reason may quote a command's output (the last
 * lines of a failed migration): `redact` blanks the secrets in it before anything is cut, so
 * that a cut never leaves the start of a secret.
 */
export function describeDeployFailure(
  task: DeploymentTask,
  error: unknown,
  redact: Redact = asIs
): string {
  const verb = task === 'deploy' ? 'Deploy' : 'Rollback'
  if (!(error instanceof DeployError)) {
    const message = redact(error instanceof Error ? error.message : String(error))
    return truncateDescription(redact(`${verb} failed: ${oneLine(message)}`))
  }
  const outcome =
    task !== 'deploy'
      ? ''
      : error.outcome === 'rolled back'
        ? `; rolled back to ${error.rolledBackTo}`
        : `; ${error.outcome}`
  // The host is in the description already; what the outcome says is not repeated.
  const reason = oneLine(redact(error.reason).replace(/;\s*the previous release keeps serving/, ''))
    .split(` on ${error.host}`)
    .join('')
  const others = error.otherHosts
    .map(other =>
      other.outcome === 'kept the new release'
        ? `${other.host} keeps the new release`
        : `${other.host} ${other.outcome} to ${other.release}`
    )
    .join(', ')
  // The file name only: the status has 140 characters, and the error annotation has the path.
  const backup =
    error.backup && error.step === 'migrate' ? `; backup ${error.backup.split('/').pop()}` : ''
  return truncateDescription(
    redact(
      `${verb} failed on ${error.host} at ${error.step}${outcome}${backup}${others ? ` (${others})` : ''}: ${reason}`
    )
  )
}

/** HTTP statuses after which GitHub will refuse the next calls too: the token lacks a permission. */
const REFUSED = new Set([401, 403, 404])

/**
 * One deployment and its statuses: created, then `in_progress`, then `success` or `failure`.
 * After a refusal (no permission) it stops calling; after any other error it tries the next status.
 * Every description is redacted (the reporter's secrets) before it is cut and sent.
 */
export class DeploymentRecorder {
  private id: number | undefined
  private refused = false
  /** The states that GitHub accepted, in order. */
  readonly sent: DeploymentState[] = []
  private readonly redact: Redact = text => this.reporter.redact(text)

  constructor(
    private readonly client: GithubClient,
    private readonly repo: RepoRef,
    private readonly spec: DeploymentSpec,
    private readonly logUrl: string | undefined,
    private readonly reporter: Reporter
  ) {}

  private warn(what: string, error: unknown): void {
    const status = statusOf(error)
    if (status !== undefined && REFUSED.has(status)) this.refused = true
    const hint =
      status === 403 || status === 404 || status === 401
        ? `: the token needs the \`deployments: write\` permission on ${this.repo.owner}/${this.repo.repo} (add \`permissions: deployments: write\` to the job)`
        : ''
    this.reporter.warning(
      `Could not ${what} (${reasonOf(error)})${hint}. The ${this.spec.task === 'deploy' ? 'deploy' : 'rollback'} goes on; only GitHub's record of it is missing.`
    )
  }

  /** Creates the deployment and marks it in progress. */
  async start(): Promise<void> {
    try {
      const created = await this.client.createDeployment(
        this.repo,
        deploymentBody(this.spec, this.redact)
      )
      if (typeof created.id !== 'number') {
        this.reporter.warning(
          `GitHub did not create a deployment for ${this.spec.environment} (no id in its answer); no deployment status is recorded.`
        )
        return
      }
      this.id = created.id
      this.reporter.info(
        `GitHub deployment ${this.id} (${this.spec.task}) to ${this.spec.environment} created`
      )
    } catch (error) {
      this.warn(`create the GitHub deployment to ${this.spec.environment}`, error)
      return
    }
    const verb = this.spec.task === 'deploy' ? 'Deploying' : 'Rolling back to'
    const what =
      this.spec.task === 'deploy' || this.spec.release !== 'previous'
        ? this.spec.release
        : 'the previous release'
    await this.status({
      state: 'in_progress',
      description: `${verb} ${what} on ${hostsLabel(this.spec.hosts)}`
    })
  }

  async succeed(environmentUrl: string | undefined, description: string): Promise<void> {
    await this.status({
      state: 'success',
      description,
      ...(environmentUrl ? { environment_url: environmentUrl } : {})
    })
  }

  async fail(error: unknown): Promise<void> {
    await this.status({
      state: 'failure',
      description: describeDeployFailure(this.spec.task, error, this.redact)
    })
  }

  private async status(body: Omit<StatusBody, 'log_url'>): Promise<void> {
    if (this.id === undefined || this.refused) return
    try {
      await this.client.createDeploymentStatus(this.repo, this.id, {
        ...body,
        description: truncateDescription(this.redact(body.description)),
        ...(this.logUrl ? { log_url: this.logUrl } : {})
      })
      this.sent.push(body.state)
    } catch (error) {
      this.warn(`set the GitHub deployment ${this.id} to ${body.state}`, error)
    }
  }
}

// --- the pull request comment -----------------------------------------------------------------

interface IssueComment {
  id: number
  body?: string | null
  html_url?: string
}

/**
 * Adds one stage's row to the pull request's comment for `project`: finds the comment by its
 * marker (through every page), merges the row into the rows it keeps, and updates it; or
 * creates the comment when there is none yet. The rows' details, and then the whole body, are
 * redacted (the reporter's secrets): a failed stage's detail may quote a command's output.
 */
export async function upsertPullRequestRow(
  client: GithubClient,
  repo: RepoRef,
  pullRequest: number,
  project: string,
  row: CommentRow,
  reporter: Reporter
): Promise<void> {
  try {
    const existing = await client.findIssueComment<IssueComment>(repo, pullRequest, page =>
      findMarkedComment(page, project)
    )
    const redact: Redact = text => reporter.redact(text)
    const data = mergeRow(
      existing ? parseCommentData(existing.body ?? '', project) : { project, rows: [] },
      row,
      redact
    )
    const body = redact(renderComment(data))
    if (existing) {
      await client.updateIssueComment(repo, existing.id, body)
      reporter.info(`Updated the ${row.stage} row of the stack-deploy comment on #${pullRequest}`)
    } else {
      const created = await client.createIssueComment(repo, pullRequest, body)
      reporter.info(
        `Added the stack-deploy comment to #${pullRequest} (comment ${created.id}, ${commentMarker(project)})`
      )
    }
  } catch (error) {
    const status = statusOf(error)
    const hint =
      status === 403
        ? ': the token needs the `pull-requests: write` permission (add it under `permissions:` in the job). Pull requests from forks only get a read-only token, so no comment can be written on them'
        : status === 404 || status === 401
          ? `: the token cannot see pull request #${pullRequest} of ${repo.owner}/${repo.repo}`
          : ''
    reporter.warning(
      `Could not update the stack-deploy comment on pull request #${pullRequest} (${reasonOf(error)})${hint}. The ${row.stage} result itself is not affected.`
    )
  }
}

// --- what the engine uses ---------------------------------------------------------------------

/** The engine's handle on GitHub for one run: deployments and the pull request comment. */
export class GithubIntegration {
  constructor(
    readonly client: GithubClient,
    readonly run: GithubRun,
    private readonly reporter: Reporter
  ) {}

  static open(token: string, runUrl: string | undefined, reporter: Reporter): GithubIntegration {
    const run = githubRunFromEnv(process.env, runUrl)
    return new GithubIntegration(new GithubClient(token, run.apiUrl), run, reporter)
  }

  /** A recorder for one deployment, or undefined (with a warning) when the run cannot have one. */
  deployment(spec: DeploymentSpec): DeploymentRecorder | undefined {
    if (!this.run.repo) {
      this.reporter.warning(
        'github-token is set but GITHUB_REPOSITORY (owner/name) is not: no GitHub deployment is recorded. Set GITHUB_REPOSITORY when running outside GitHub Actions.'
      )
      return undefined
    }
    if (!spec.ref) {
      this.reporter.warning(
        'No commit sha is known (not a git checkout, no GITHUB_SHA): no GitHub deployment is recorded.'
      )
      return undefined
    }
    return new DeploymentRecorder(this.client, this.run.repo, spec, this.run.runUrl, this.reporter)
  }

  /** Merges one stage's row into the pull request's comment; says why when there is nothing to comment on. */
  async commentRow(
    project: string,
    row: Omit<CommentRow, 'sha' | 'runUrl' | 'at'>,
    fallbackSha: string
  ): Promise<void> {
    const pullRequest = pullRequestOf(this.run)
    if (!pullRequest) {
      this.reporter.info(
        `pr-comment: this run is not for a pull request (event ${this.run.eventName ?? 'unknown'}); no comment written`
      )
      return
    }
    if (!this.run.repo) {
      this.reporter.warning(
        'pr-comment is set but GITHUB_REPOSITORY (owner/name) is not: no comment written.'
      )
      return
    }
    await upsertPullRequestRow(
      this.client,
      this.run.repo,
      pullRequest.number,
      project,
      {
        ...row,
        sha: pullRequest.headSha ?? this.run.sha ?? fallbackSha,
        runUrl: this.run.runUrl,
        at: new Date().toISOString()
      },
      this.reporter
    )
  }
}
