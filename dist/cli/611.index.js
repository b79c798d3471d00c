export const id = 611;
export const ids = [611];
export const modules = {

/***/ 7611:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   DESCRIPTION_LIMIT: () => (/* binding */ DESCRIPTION_LIMIT),
/* harmony export */   DeploymentRecorder: () => (/* binding */ DeploymentRecorder),
/* harmony export */   GithubClient: () => (/* binding */ GithubClient),
/* harmony export */   GithubIntegration: () => (/* binding */ GithubIntegration),
/* harmony export */   deploymentBody: () => (/* binding */ deploymentBody),
/* harmony export */   describeDeployFailure: () => (/* binding */ describeDeployFailure),
/* harmony export */   githubRunFromEnv: () => (/* binding */ githubRunFromEnv),
/* harmony export */   isProductionEnvironment: () => (/* binding */ isProductionEnvironment),
/* harmony export */   pullRequestOf: () => (/* binding */ pullRequestOf),
/* harmony export */   truncateDescription: () => (/* binding */ truncateDescription),
/* harmony export */   upsertPullRequestRow: () => (/* binding */ upsertPullRequestRow)
/* harmony export */ });
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3916);
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2413);
/* harmony import */ var _github_comment_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(8879);
/**
 * What the action tells GitHub itself, when it has a token (the github-token input): a
 * deployment with its statuses for deploy and rollback (the environment's page and the pull
 * request's timeline), and one comment per pull request with the build, scan and smoke results.
 *
 * GitHub's bookkeeping never decides a step's outcome: every call here is awaited (so the step
 * does not end before its status is sent) but a refused or failed call only gives a warning that
 * says which permission is missing; the deploy, or the build, goes on as if it had succeeded.
 */



/** GitHub's maximum length of a deployment's or a deployment status's description. */
const DESCRIPTION_LIMIT = 140;
/** A call that takes longer than this is given up (with a warning): a deploy never waits on GitHub. */
const REQUEST_TIMEOUT_MS = 20_000;
const PER_PAGE = 100;
function githubRunFromEnv(env, runUrl, payload = _actions_github__WEBPACK_IMPORTED_MODULE_1__/* .context */ ._.payload) {
    const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
    return {
        apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
        repo: owner && repo ? { owner, repo } : undefined,
        runUrl,
        eventName: env.GITHUB_EVENT_NAME,
        payload,
        sha: env.GITHUB_SHA || undefined
    };
}
/** The pull request a run is about: only on pull_request and pull_request_target events. */
function pullRequestOf(run) {
    if (run.eventName !== 'pull_request' && run.eventName !== 'pull_request_target')
        return undefined;
    const number = run.payload.pull_request?.number;
    return typeof number === 'number'
        ? { number, headSha: run.payload.pull_request?.head?.sha }
        : undefined;
}
/** Cuts a description to GitHub's 140 characters. */
function truncateDescription(text) {
    return (0,_github_comment_js__WEBPACK_IMPORTED_MODULE_2__/* .truncate */ .xv)(text.replace(/\s+/g, ' ').trim(), DESCRIPTION_LIMIT);
}
/** Sets `production_environment` on the deployment: these names are production by convention. */
function isProductionEnvironment(environment) {
    return ['production', 'prod'].includes(environment.trim().toLowerCase());
}
/**
 * The HTTP status GitHub answered with. Undefined when there was no answer: Octokit reports a
 * network error or a timeout with status 500 too, but without a response.
 */
function statusOf(error) {
    const e = error;
    return typeof e?.status === 'number' && e.response !== undefined ? e.status : undefined;
}
function reasonOf(error) {
    const status = statusOf(error);
    // Octokit's messages end with " - <documentation URL>"; the status says more in a log line.
    const message = (error instanceof Error ? error.message : String(error)).replace(/ - https:\/\/docs\.github\.com\S*$/, '');
    return status ? `HTTP ${status}: ${message}` : message;
}
/** The few REST calls this module makes, through @actions/github's Octokit (which honours GITHUB_API_URL). */
class GithubClient {
    octokit;
    constructor(token, apiUrl) {
        // baseUrl is passed on: @actions/github reads GITHUB_API_URL once, when it is first loaded.
        this.octokit = (0,_actions_github__WEBPACK_IMPORTED_MODULE_1__/* .getOctokit */ .Q)(token, { baseUrl: apiUrl });
    }
    async call(route, parameters) {
        const response = await this.octokit.request(route, {
            ...parameters,
            request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }
        });
        return response.data;
    }
    async createDeployment(repo, body) {
        return this.call('POST /repos/{owner}/{repo}/deployments', { ...repo, ...body });
    }
    async createDeploymentStatus(repo, id, body) {
        await this.call('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
            ...repo,
            deployment_id: id,
            ...body
        });
    }
    /** Goes through the pages until `stop` says it has what it needs. */
    async findIssueComment(repo, issue, stop) {
        for (let page = 1;; page++) {
            const response = await this.octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
                ...repo,
                issue_number: issue,
                per_page: PER_PAGE,
                page,
                request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }
            });
            const comments = response.data;
            const found = stop(comments);
            if (found)
                return found;
            // GitHub announces a next page in the Link header; a short page is the last one anyway.
            const next = /<[^>]*>;\s*rel="next"/.test(response.headers.link ?? '');
            if (!next || comments.length < PER_PAGE)
                return undefined;
        }
    }
    async createIssueComment(repo, issue, body) {
        return this.call('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
            ...repo,
            issue_number: issue,
            body
        });
    }
    async updateIssueComment(repo, id, body) {
        await this.call('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
            ...repo,
            comment_id: id,
            body
        });
    }
}
function hostsLabel(hosts) {
    return hosts.length === 1 ? hosts[0] : `${hosts.length} hosts`;
}
const asIs = text => text;
/** POST /deployments: a deployment of the commit, with no merge and no required checks (the workflow already decided to deploy). */
function deploymentBody(spec, redact = asIs) {
    const description = spec.task === 'deploy'
        ? `Deploy ${spec.release} of ${spec.project} to ${hostsLabel(spec.hosts)}`
        : `Roll back ${spec.project} on ${hostsLabel(spec.hosts)} to ${spec.release === 'previous' ? 'the previous release' : spec.release}`;
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
    };
}
/**
 * One line out of a possibly long error: its first line, and when that line only announces
 * what follows ("compose up --wait failed on h1 (exit 1):"), the last line too, which is where
 * compose and the shell put the actual error.
 */
function oneLine(text) {
    const lines = text
        .split('\n')
        .map(line => line.trim())
        .filter(Boolean);
    const first = lines[0] ?? '';
    return first.endsWith(':') && lines.length > 1 ? `${first} ${lines[lines.length - 1]}` : first;
}
/**
 * The failure status's description: where it failed (host and step, for the deploy stage's
 * errors), what became of that host, and of the others, within GitHub's 140 characters. All of
 * it comes from the DeployError's fields. The reason may quote a command's output (the last
 * lines of a failed migration): `redact` blanks the secrets in it before anything is cut, so
 * that a cut never leaves the start of a secret.
 */
function describeDeployFailure(task, error, redact = asIs) {
    const verb = task === 'deploy' ? 'Deploy' : 'Rollback';
    if (!(error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .DeployError */ .sH)) {
        const message = redact(error instanceof Error ? error.message : String(error));
        return truncateDescription(redact(`${verb} failed: ${oneLine(message)}`));
    }
    const outcome = task !== 'deploy'
        ? ''
        : error.outcome === 'rolled back'
            ? `; rolled back to ${error.rolledBackTo}`
            : `; ${error.outcome}`;
    // The host is in the description already; what the outcome says is not repeated.
    const reason = oneLine(redact(error.reason).replace(/;\s*the previous release keeps serving/, ''))
        .split(` on ${error.host}`)
        .join('');
    const others = error.otherHosts
        .map(other => other.outcome === 'kept the new release'
        ? `${other.host} keeps the new release`
        : `${other.host} ${other.outcome} to ${other.release}`)
        .join(', ');
    // The file name only: the status has 140 characters, and the error annotation has the path.
    const backup = error.backup && error.step === 'migrate' ? `; backup ${error.backup.split('/').pop()}` : '';
    return truncateDescription(redact(`${verb} failed on ${error.host} at ${error.step}${outcome}${backup}${others ? ` (${others})` : ''}: ${reason}`));
}
/** HTTP statuses after which GitHub will refuse the next calls too: the token lacks a permission. */
const REFUSED = new Set([401, 403, 404]);
/**
 * One deployment and its statuses: created, then `in_progress`, then `success` or `failure`.
 * After a refusal (no permission) it stops calling; after any other error it tries the next status.
 * Every description is redacted (the reporter's secrets) before it is cut and sent.
 */
class DeploymentRecorder {
    client;
    repo;
    spec;
    logUrl;
    reporter;
    id;
    refused = false;
    /** The states that GitHub accepted, in order. */
    sent = [];
    redact = text => this.reporter.redact(text);
    constructor(client, repo, spec, logUrl, reporter) {
        this.client = client;
        this.repo = repo;
        this.spec = spec;
        this.logUrl = logUrl;
        this.reporter = reporter;
    }
    warn(what, error) {
        const status = statusOf(error);
        if (status !== undefined && REFUSED.has(status))
            this.refused = true;
        const hint = status === 403 || status === 404 || status === 401
            ? `: the token needs the \`deployments: write\` permission on ${this.repo.owner}/${this.repo.repo} (add \`permissions: deployments: write\` to the job)`
            : '';
        this.reporter.warning(`Could not ${what} (${reasonOf(error)})${hint}. The ${this.spec.task === 'deploy' ? 'deploy' : 'rollback'} goes on; only GitHub's record of it is missing.`);
    }
    /** Creates the deployment and marks it in progress. */
    async start() {
        try {
            const created = await this.client.createDeployment(this.repo, deploymentBody(this.spec, this.redact));
            if (typeof created.id !== 'number') {
                this.reporter.warning(`GitHub did not create a deployment for ${this.spec.environment} (no id in its answer); no deployment status is recorded.`);
                return;
            }
            this.id = created.id;
            this.reporter.info(`GitHub deployment ${this.id} (${this.spec.task}) to ${this.spec.environment} created`);
        }
        catch (error) {
            this.warn(`create the GitHub deployment to ${this.spec.environment}`, error);
            return;
        }
        const verb = this.spec.task === 'deploy' ? 'Deploying' : 'Rolling back to';
        const what = this.spec.task === 'deploy' || this.spec.release !== 'previous'
            ? this.spec.release
            : 'the previous release';
        await this.status({
            state: 'in_progress',
            description: `${verb} ${what} on ${hostsLabel(this.spec.hosts)}`
        });
    }
    async succeed(environmentUrl, description) {
        await this.status({
            state: 'success',
            description,
            ...(environmentUrl ? { environment_url: environmentUrl } : {})
        });
    }
    async fail(error) {
        await this.status({
            state: 'failure',
            description: describeDeployFailure(this.spec.task, error, this.redact)
        });
    }
    async status(body) {
        if (this.id === undefined || this.refused)
            return;
        try {
            await this.client.createDeploymentStatus(this.repo, this.id, {
                ...body,
                description: truncateDescription(this.redact(body.description)),
                ...(this.logUrl ? { log_url: this.logUrl } : {})
            });
            this.sent.push(body.state);
        }
        catch (error) {
            this.warn(`set the GitHub deployment ${this.id} to ${body.state}`, error);
        }
    }
}
/**
 * Adds one stage's row to the pull request's comment for `project`: finds the comment by its
 * marker (through every page), merges the row into the rows it keeps, and updates it; or
 * creates the comment when there is none yet. The rows' details, and then the whole body, are
 * redacted (the reporter's secrets): a failed stage's detail may quote a command's output.
 */
async function upsertPullRequestRow(client, repo, pullRequest, project, row, reporter) {
    try {
        const existing = await client.findIssueComment(repo, pullRequest, page => (0,_github_comment_js__WEBPACK_IMPORTED_MODULE_2__/* .findMarkedComment */ .Jp)(page, project));
        const redact = text => reporter.redact(text);
        const data = (0,_github_comment_js__WEBPACK_IMPORTED_MODULE_2__/* .mergeRow */ .Dd)(existing ? (0,_github_comment_js__WEBPACK_IMPORTED_MODULE_2__/* .parseCommentData */ .nD)(existing.body ?? '', project) : { project, rows: [] }, row, redact);
        const body = redact((0,_github_comment_js__WEBPACK_IMPORTED_MODULE_2__/* .renderComment */ .wQ)(data));
        if (existing) {
            await client.updateIssueComment(repo, existing.id, body);
            reporter.info(`Updated the ${row.stage} row of the stack-deploy comment on #${pullRequest}`);
        }
        else {
            const created = await client.createIssueComment(repo, pullRequest, body);
            reporter.info(`Added the stack-deploy comment to #${pullRequest} (comment ${created.id}, ${(0,_github_comment_js__WEBPACK_IMPORTED_MODULE_2__/* .commentMarker */ .Ql)(project)})`);
        }
    }
    catch (error) {
        const status = statusOf(error);
        const hint = status === 403
            ? ': the token needs the `pull-requests: write` permission (add it under `permissions:` in the job). Pull requests from forks only get a read-only token, so no comment can be written on them'
            : status === 404 || status === 401
                ? `: the token cannot see pull request #${pullRequest} of ${repo.owner}/${repo.repo}`
                : '';
        reporter.warning(`Could not update the stack-deploy comment on pull request #${pullRequest} (${reasonOf(error)})${hint}. The ${row.stage} result itself is not affected.`);
    }
}
// --- what the engine uses ---------------------------------------------------------------------
/** The engine's handle on GitHub for one run: deployments and the pull request comment. */
class GithubIntegration {
    client;
    run;
    reporter;
    constructor(client, run, reporter) {
        this.client = client;
        this.run = run;
        this.reporter = reporter;
    }
    static open(token, runUrl, reporter) {
        const run = githubRunFromEnv(process.env, runUrl);
        return new GithubIntegration(new GithubClient(token, run.apiUrl), run, reporter);
    }
    /** A recorder for one deployment, or undefined (with a warning) when the run cannot have one. */
    deployment(spec) {
        if (!this.run.repo) {
            this.reporter.warning('github-token is set but GITHUB_REPOSITORY (owner/name) is not: no GitHub deployment is recorded. Set GITHUB_REPOSITORY when running outside GitHub Actions.');
            return undefined;
        }
        if (!spec.ref) {
            this.reporter.warning('No commit sha is known (not a git checkout, no GITHUB_SHA): no GitHub deployment is recorded.');
            return undefined;
        }
        return new DeploymentRecorder(this.client, this.run.repo, spec, this.run.runUrl, this.reporter);
    }
    /** Merges one stage's row into the pull request's comment; says why when there is nothing to comment on. */
    async commentRow(project, row, fallbackSha) {
        const pullRequest = pullRequestOf(this.run);
        if (!pullRequest) {
            this.reporter.info(`pr-comment: this run is not for a pull request (event ${this.run.eventName ?? 'unknown'}); no comment written`);
            return;
        }
        if (!this.run.repo) {
            this.reporter.warning('pr-comment is set but GITHUB_REPOSITORY (owner/name) is not: no comment written.');
            return;
        }
        await upsertPullRequestRow(this.client, this.run.repo, pullRequest.number, project, {
            ...row,
            sha: pullRequest.headSha ?? this.run.sha ?? fallbackSha,
            runUrl: this.run.runUrl,
            at: new Date().toISOString()
        }, this.reporter);
    }
}


/***/ })

};
