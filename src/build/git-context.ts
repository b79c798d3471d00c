import * as fs from 'node:fs'
import type { Executor } from '../exec/executor.js'

/**
 * What the tag and label rules need to know about the commit being built: on GitHub from the
 * runner's environment and event payload, locally from git.
 */
export interface GitContext {
  /** GitHub event name (push, pull_request, workflow_dispatch, ...) or 'local'. */
  event: string
  /** Full ref: refs/heads/main, refs/tags/v1.2.3, refs/pull/12/merge; '' when unknown. */
  ref: string
  /** Full commit sha; '' outside a git checkout. */
  sha: string
  /** The repository's default branch, when known. */
  defaultBranch: string | undefined
  /** Pull request number on pull_request events. */
  pullRequest: number | undefined
  /** Branch a pull request comes from (GITHUB_HEAD_REF), used as the branch tag on PRs. */
  headBranch: string | undefined
  /** https URL of the repository, for the OCI source label. */
  repositoryUrl: string | undefined
  /** Workflow run number, when on GitHub. */
  runNumber: string | undefined
}

interface GithubEventPayload {
  repository?: { default_branch?: string; html_url?: string }
  pull_request?: { number?: number }
  number?: number
}

export function isGithubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true'
}

/** Reads the context the runner provides (GITHUB_* variables and the event payload file). */
export function gitContextFromGithub(env: NodeJS.ProcessEnv): GitContext {
  let payload: GithubEventPayload = {}
  if (env.GITHUB_EVENT_PATH && fs.existsSync(env.GITHUB_EVENT_PATH)) {
    payload = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as GithubEventPayload
  }
  const ref = env.GITHUB_REF ?? ''
  const prFromRef = /^refs\/pull\/(\d+)\//.exec(ref)?.[1]
  const pullRequest = payload.pull_request?.number ?? (prFromRef ? Number(prFromRef) : undefined)
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
  return {
    event: env.GITHUB_EVENT_NAME ?? 'push',
    ref,
    sha: env.GITHUB_SHA ?? '',
    defaultBranch: payload.repository?.default_branch,
    pullRequest,
    headBranch: env.GITHUB_HEAD_REF || undefined,
    repositoryUrl:
      payload.repository?.html_url ??
      (env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}` : undefined),
    runNumber: env.GITHUB_RUN_NUMBER
  }
}

/** https form of a git remote URL (git@host:owner/repo.git -> https://host/owner/repo). */
export function httpsRepositoryUrl(remote: string): string | undefined {
  const trimmed = remote.trim().replace(/\.git$/, '')
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(trimmed)
  if (scp) return `https://${scp[1]}/${scp[2]}`
  const url = /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+)$/.exec(trimmed)
  if (url) return `https://${url[1]}/${url[2]}`
  return undefined
}

/** Reads the context from git in `cwd`; outside a checkout every field is empty. */
export async function gitContextFromLocal(executor: Executor, cwd: string): Promise<GitContext> {
  const git = async (...args: string[]): Promise<string> => {
    try {
      const result = await executor.run(['git', ...args], { cwd })
      return result.exitCode === 0 ? result.stdout.trim() : ''
    } catch {
      return '' // no git on this machine: build without git context
    }
  }
  const sha = await git('rev-parse', 'HEAD')
  if (!sha) {
    return {
      event: 'local',
      ref: '',
      sha: '',
      defaultBranch: undefined,
      pullRequest: undefined,
      headBranch: undefined,
      repositoryUrl: undefined,
      runNumber: undefined
    }
  }
  // Independent questions, asked at once: each git start-up costs a few milliseconds.
  const [exactTag, branch, originHead, remote] = await Promise.all([
    git('describe', '--tags', '--exact-match', 'HEAD'),
    git('symbolic-ref', '--quiet', '--short', 'HEAD'),
    git('symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'),
    git('remote', 'get-url', 'origin')
  ])
  return {
    event: 'local',
    ref: exactTag ? `refs/tags/${exactTag}` : branch ? `refs/heads/${branch}` : '',
    sha,
    defaultBranch: originHead ? originHead.replace(/^origin\//, '') : undefined,
    pullRequest: undefined,
    headBranch: undefined,
    repositoryUrl: remote ? httpsRepositoryUrl(remote) : undefined,
    runNumber: undefined
  }
}
