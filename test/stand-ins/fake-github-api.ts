/**
 * STAND-IN for the GitHub REST API: tests cannot (and must not) call api.github.com, so this is
 * a small HTTP server on 127.0.0.1 that answers the few endpoints stack-deploy uses, with the
 * response shapes GitHub documents (docs.github.com/rest: deployments, deployment statuses,
 * issue comments). The action is pointed at it with GITHUB_API_URL, as on GitHub Enterprise.
 *
 * Implemented, and nothing else (any other route answers 404 like GitHub does):
 *   POST  /repos/{owner}/{repo}/deployments                   201 deployment
 *   POST  /repos/{owner}/{repo}/deployments/{id}/statuses     201 deployment status
 *   GET   /repos/{owner}/{repo}/issues/{number}/comments      200 page of comments (per_page, max
 *         100, default 30; page), with GitHub's Link header (next, last, first, prev)
 *   POST  /repos/{owner}/{repo}/issues/{number}/comments      201 comment
 *   PATCH /repos/{owner}/{repo}/issues/comments/{id}          200 comment
 *
 * Like GitHub: no Authorization header is 401; an unknown deployment or comment is 404; a
 * missing `ref`, an unknown status `state`, a comment body over 65536 characters and a status
 * description over 140 characters (the maximum GitHub's docs state) are 422 "Validation Failed".
 * Unlike GitHub: any token is accepted, refs are not resolved, and nothing is persisted.
 *
 * For tests: every API request is recorded (method, path, JSON body, Authorization header);
 * `deny(path)` makes requests under a path answer 403 "Resource not accessible by integration",
 * as GitHub does for a token without the permission; comments can be seeded.
 *
 * Two ways to use it:
 *   - in-process (unit tests): `const api = await FakeGithubApi.start()`, then `api.requests`;
 *   - as its own process (e2e tests, whose runStep blocks the test's event loop while the action
 *     runs): `node test/stand-ins/fake-github-api.ts` (Node 24 strips the types) prints
 *     `{"url":"http://127.0.0.1:PORT"}` on its first line and serves until stdin closes; the
 *     test then uses the control routes under /_fake/ (not recorded): GET and DELETE
 *     /_fake/requests, POST /_fake/deny {path, method?, status?}, POST /_fake/seed-comments
 *     {owner, repo, issue, count, body?}.
 *
 * Only type annotations are used on top of JavaScript (no enums, no parameter properties), so
 * Node runs this file as it is.
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'

export interface RecordedRequest {
  method: string
  /** Path and query, as sent. */
  path: string
  pathname: string
  query: Record<string, string>
  body: unknown
  authorization: string | undefined
}

interface Deny {
  path: string
  method: string | undefined
  status: number
}

interface StoredComment {
  id: number
  owner: string
  repo: string
  issue: number
  body: string
  created_at: string
  updated_at: string
}

interface StoredDeployment {
  id: number
  owner: string
  repo: string
  environment: string
}

const USER = {
  login: 'github-actions[bot]',
  id: 41898282,
  node_id: 'MDM6Qm90NDE4OTgyODI=',
  type: 'Bot',
  site_admin: false
}

const DEPLOYMENT_STATES = [
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success'
]

class HttpError extends Error {
  status: number
  extra: Record<string, unknown>
  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message)
    this.status = status
    this.extra = extra
  }
}

function validationFailed(resource: string, field: string, message: string): HttpError {
  return new HttpError(422, 'Validation Failed', {
    errors: [{ resource, code: 'custom', field, message }]
  })
}

export class FakeGithubApi {
  readonly requests: RecordedRequest[] = []
  url = ''
  private server: http.Server | undefined
  private denied: Deny[] = []
  private comments: StoredComment[] = []
  private deployments: StoredDeployment[] = []
  private nextId = 1000

  /** Starts a server on 127.0.0.1 on a random free port. */
  static async start(): Promise<FakeGithubApi> {
    const api = new FakeGithubApi()
    const server = http.createServer((req, res) => {
      api.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ message: String(error) }))
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    api.server = server
    api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return api
  }

  async close(): Promise<void> {
    const server = this.server
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  /** Requests under `path` (a path prefix, e.g. /repos/o/r/deployments) answer `status`. */
  deny(path: string, options: { method?: string; status?: number } = {}): void {
    this.denied.push({ path, method: options.method?.toUpperCase(), status: options.status ?? 403 })
  }

  /** Adds `count` comments to an issue, as if people had commented before. */
  seedComments(owner: string, repo: string, issue: number, count: number, body = 'LGTM'): void {
    for (let i = 0; i < count; i++) this.addComment(owner, repo, issue, `${body} (${i + 1})`)
  }

  /** Every comment on an issue, oldest first. */
  commentsOn(owner: string, repo: string, issue: number): StoredComment[] {
    return this.comments.filter(c => c.owner === owner && c.repo === repo && c.issue === issue)
  }

  private addComment(owner: string, repo: string, issue: number, body: string): StoredComment {
    const now = new Date().toISOString()
    const comment = {
      id: this.nextId++,
      owner,
      repo,
      issue,
      body,
      created_at: now,
      updated_at: now
    }
    this.comments.push(comment)
    return comment
  }

  private commentJson(c: StoredComment): Record<string, unknown> {
    const repoUrl = `${this.url}/repos/${c.owner}/${c.repo}`
    return {
      id: c.id,
      node_id: `IC_fake${c.id}`,
      url: `${repoUrl}/issues/comments/${c.id}`,
      html_url: `https://github.com/${c.owner}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${repoUrl}/issues/${c.issue}`,
      body: c.body,
      user: USER,
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: 'NONE'
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      this.send(res, 400, { message: 'Problems parsing JSON' })
      return
    }
    const url = new URL(req.url ?? '/', this.url)
    const method = (req.method ?? 'GET').toUpperCase()

    if (url.pathname.startsWith('/_fake/')) {
      // Control calls come from a test whose event loop may have been blocked for a while (by
      // spawnSync): a kept-alive socket would be stale by then, so each one gets its own.
      res.setHeader('connection', 'close')
      this.control(method, url.pathname, body, res)
      return
    }
    const auth = req.headers.authorization
    this.requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      pathname: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: auth
    })
    try {
      if (!auth) throw new HttpError(401, 'Requires authentication')
      const deny = this.denied.find(
        d => url.pathname.startsWith(d.path) && (d.method === undefined || d.method === method)
      )
      if (deny) throw new HttpError(deny.status, 'Resource not accessible by integration')
      this.route(method, url, body as Record<string, unknown> | undefined, res)
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      this.send(res, error.status, {
        message: error.message,
        ...error.extra,
        documentation_url: 'https://docs.github.com/rest',
        status: String(error.status)
      })
    }
  }

  private route(
    method: string,
    url: URL,
    body: Record<string, unknown> | undefined,
    res: http.ServerResponse
  ): void {
    const parts = url.pathname.split('/').filter(Boolean)
    const [repos, owner, repo, kind, id, sub] = parts
    if (repos !== 'repos' || !owner || !repo) throw new HttpError(404, 'Not Found')
    const repoUrl = `${this.url}/repos/${owner}/${repo}`
    const now = new Date().toISOString()

    if (kind === 'deployments' && method === 'POST' && parts.length === 4) {
      const ref = body?.ref
      if (typeof ref !== 'string' || !ref)
        throw validationFailed('Deployment', 'ref', 'ref is missing')
      const environment = typeof body?.environment === 'string' ? body.environment : 'production'
      const deployment = { id: this.nextId++, owner, repo, environment }
      this.deployments.push(deployment)
      this.send(res, 201, {
        url: `${repoUrl}/deployments/${deployment.id}`,
        id: deployment.id,
        node_id: `DE_fake${deployment.id}`,
        sha: /^[0-9a-f]{40}$/.test(ref) ? ref : '0'.repeat(40),
        ref,
        task: body?.task ?? 'deploy',
        payload: body?.payload ?? {},
        original_environment: environment,
        environment,
        description: body?.description ?? null,
        creator: USER,
        created_at: now,
        updated_at: now,
        statuses_url: `${repoUrl}/deployments/${deployment.id}/statuses`,
        repository_url: repoUrl,
        transient_environment: body?.transient_environment ?? false,
        production_environment: body?.production_environment ?? environment === 'production'
      })
      return
    }

    if (kind === 'deployments' && sub === 'statuses' && method === 'POST' && parts.length === 6) {
      const deployment = this.deployments.find(
        d => d.owner === owner && d.repo === repo && String(d.id) === id
      )
      if (!deployment) throw new HttpError(404, 'Not Found')
      const state = body?.state
      if (typeof state !== 'string' || !DEPLOYMENT_STATES.includes(state))
        throw validationFailed('DeploymentStatus', 'state', `state is not included in the list`)
      const description = typeof body?.description === 'string' ? body.description : ''
      if (description.length > 140)
        throw validationFailed(
          'DeploymentStatus',
          'description',
          'description is too long (maximum is 140 characters)'
        )
      const statusId = this.nextId++
      const logUrl = typeof body?.log_url === 'string' ? body.log_url : ''
      this.send(res, 201, {
        url: `${repoUrl}/deployments/${deployment.id}/statuses/${statusId}`,
        id: statusId,
        node_id: `DES_fake${statusId}`,
        state,
        creator: USER,
        description,
        environment: body?.environment ?? deployment.environment,
        target_url: logUrl,
        log_url: logUrl,
        environment_url: body?.environment_url ?? '',
        created_at: now,
        updated_at: now,
        deployment_url: `${repoUrl}/deployments/${deployment.id}`,
        repository_url: repoUrl
      })
      return
    }

    if (kind === 'issues' && id && /^\d+$/.test(id) && sub === 'comments' && parts.length === 6) {
      const issue = Number(id)
      if (method === 'GET') {
        const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30)))
        const page = Math.max(1, Number(url.searchParams.get('page') ?? 1))
        const all = this.commentsOn(owner, repo, issue)
        const last = Math.max(1, Math.ceil(all.length / perPage))
        const slice = all.slice((page - 1) * perPage, page * perPage)
        const link = (p: number): string => {
          const next = new URL(url.toString())
          next.searchParams.set('per_page', String(perPage))
          next.searchParams.set('page', String(p))
          return `<${next.toString()}>`
        }
        const links = [
          ...(page > 1 ? [`${link(page - 1)}; rel="prev"`] : []),
          ...(page < last ? [`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`] : []),
          ...(page > 1 ? [`${link(1)}; rel="first"`] : [])
        ]
        this.send(
          res,
          200,
          slice.map(c => this.commentJson(c)),
          links.length > 0 ? { link: links.join(', ') } : {}
        )
        return
      }
      if (method === 'POST') {
        const text = body?.body
        if (typeof text !== 'string')
          throw validationFailed('IssueComment', 'body', 'body is missing')
        if (text.length > 65536)
          throw validationFailed(
            'IssueComment',
            'body',
            'body is too long (maximum is 65536 characters)'
          )
        this.send(res, 201, this.commentJson(this.addComment(owner, repo, issue, text)))
        return
      }
    }

    if (kind === 'issues' && id === 'comments' && sub && method === 'PATCH' && parts.length === 6) {
      const comment = this.comments.find(
        c => c.owner === owner && c.repo === repo && String(c.id) === sub
      )
      if (!comment) throw new HttpError(404, 'Not Found')
      const text = body?.body
      if (typeof text !== 'string')
        throw validationFailed('IssueComment', 'body', 'body is missing')
      if (text.length > 65536)
        throw validationFailed(
          'IssueComment',
          'body',
          'body is too long (maximum is 65536 characters)'
        )
      comment.body = text
      comment.updated_at = now
      this.send(res, 200, this.commentJson(comment))
      return
    }

    throw new HttpError(404, 'Not Found')
  }

  private control(method: string, pathname: string, body: unknown, res: http.ServerResponse): void {
    const args = (body ?? {}) as Record<string, unknown>
    if (pathname === '/_fake/requests' && method === 'GET') {
      this.send(res, 200, this.requests)
    } else if (pathname === '/_fake/requests' && method === 'DELETE') {
      this.requests.length = 0
      this.send(res, 200, {})
    } else if (pathname === '/_fake/deny' && method === 'POST') {
      this.deny(String(args.path), {
        method: typeof args.method === 'string' ? args.method : undefined,
        status: typeof args.status === 'number' ? args.status : undefined
      })
      this.send(res, 200, {})
    } else if (pathname === '/_fake/allow' && method === 'POST') {
      this.denied = []
      this.send(res, 200, {})
    } else if (pathname === '/_fake/seed-comments' && method === 'POST') {
      this.seedComments(
        String(args.owner),
        String(args.repo),
        Number(args.issue),
        Number(args.count),
        typeof args.body === 'string' ? args.body : undefined
      )
      this.send(res, 200, {})
    } else if (pathname === '/_fake/comments' && method === 'GET') {
      this.send(res, 200, this.comments)
    } else {
      this.send(res, 404, { message: 'Not Found' })
    }
  }

  private send(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {}
  ): void {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3; format=json',
      ...headers
    })
    res.end(JSON.stringify(body))
  }
}

// Run as its own process: print the URL, serve until the parent closes stdin (or is gone).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const api = await FakeGithubApi.start()
  process.stdout.write(`${JSON.stringify({ url: api.url })}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => {
    void api.close().then(() => process.exit(0))
  })
  process.on('SIGTERM', () => {
    void api.close().then(() => process.exit(0))
  })
}
