/**
 * The action's inputs and outputs, as data: action.yml and the README's tables are generated
 * from this file (`npm run docs`), and tests check that they match. Kept free of imports so the
 * generator can load it on its own.
 */
export interface InputSpec {
  name: string
  description: string
  default?: string
  required?: boolean
  /**
   * The input holds secrets, and how to find them in its text (inputs.ts, inputSecrets): each
   * one is masked in the log and redacted from everything we write or send, and the CLI takes
   * the input only from the environment (argv is visible to every user in `ps`).
   * value: the whole value (line by line when it has several); env-lines: the values of its
   * KEY=value lines; secret-files: the values of the secret-files format.
   */
  secret?: 'value' | 'env-lines' | 'secret-files'
}

export const INPUT_SPECS: readonly InputSpec[] = [
  {
    name: 'command',
    description:
      "What to do: plan, build, scan, smoke, deploy, rollback, or releases (list each host's releases and their backups).",
    required: true
  },
  {
    name: 'compose-files',
    description:
      'Compose files, one per line, in the order `docker compose -f` takes them (later files override earlier ones).',
    default: 'compose.yaml'
  },
  {
    name: 'project-name',
    description:
      'Compose project name. Default: the name compose derives (the `name:` key or the folder).'
  },
  {
    name: 'working-directory',
    description: 'Folder that the compose files are relative to.',
    default: '.'
  },
  {
    name: 'profiles',
    description:
      'Compose profiles to enable, one per line or comma-separated. A deploy records them with the release, so the hosts, a rollback and a backup use the same.'
  },
  {
    name: 'services',
    description:
      'Only these services (one per line or comma-separated). Default: every service of the project.'
  },
  {
    name: 'registry',
    description:
      'build: registry host to name and push images to (e.g. ghcr.io). Images are then `<registry>/<image-namespace>/<service>`; without it, each service keeps its own `image:` name.'
  },
  {
    name: 'image-namespace',
    description:
      'build: namespace under the registry. Default: the GitHub repository (owner/name, lower-cased), or the compose project name outside GitHub.'
  },
  {
    name: 'push',
    description:
      'build: push the images after every service has built. Default: load them into the local engine only.',
    default: 'false'
  },
  {
    name: 'registry-username',
    description: 'build: user to log in to the registry as (the password is passed on stdin).'
  },
  {
    name: 'registry-password',
    secret: 'value',
    description: 'build: password or token for the registry. Masked in logs, never put in argv.'
  },
  {
    name: 'tags',
    description:
      'build: tag templates, one per line, replacing the default rules; e.g. `{{branch}}-{{short_sha}}`. Variables: sha, short_sha, branch, pr, tag, version, major, minor, patch, run_number, service, event. A line with a variable unknown in this build is skipped.'
  },
  {
    name: 'cache',
    description:
      'build: cache backend: auto (GitHub Actions cache on GitHub, else the registry when one is set), gha, registry or none.',
    default: 'auto'
  },
  {
    name: 'cache-mode',
    description: 'build: min (final stage only) or max (every stage) cache export.',
    default: 'max'
  },
  {
    name: 'cache-write',
    description:
      'build: when to write the cache: always, default-branch (pull requests only read it) or never.',
    default: 'always'
  },
  {
    name: 'builder',
    description:
      'build: buildx builder to use (e.g. the output of docker/setup-buildx-action). Default: the current one.'
  },
  {
    name: 'image-refs',
    description: 'scan: image references to scan, one per line, when there is no `images` map.'
  },
  {
    name: 'severity',
    description:
      'scan: severities that fail the gate (comma-separated, from CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN). Reports always list every severity.',
    default: 'CRITICAL,HIGH'
  },
  {
    name: 'ignore-unfixed',
    description: 'scan: let findings that have no fixed version pass the gate.',
    default: 'false'
  },
  {
    name: 'ignore-file',
    description:
      'scan: a .trivyignore or .trivyignore.yaml of accepted findings. Default: the one in working-directory, if any.'
  },
  {
    name: 'exit-code',
    description:
      'scan: 1 fails the step when the gate finds something, 0 only reports. Per service: `1, web=0` (a bare number sets the default).',
    default: '1'
  },
  {
    name: 'parallel',
    description: 'scan: how many images to scan at once.',
    default: '2'
  },
  {
    name: 'trivy-version',
    description:
      'scan: Trivy release to download (checksum-verified, kept in the tool cache), or `path` for the trivy on PATH.',
    default: '0.74.0'
  },
  {
    name: 'trivy-db-repositories',
    description:
      'scan: where to fetch the vulnerability DB from, one per line, tried in order (rate limits are retried with backoff).',
    default: 'mirror.gcr.io/aquasec/trivy-db:2\nghcr.io/aquasecurity/trivy-db:2'
  },
  {
    name: 'sarif-dir',
    description:
      'scan: folder for one SARIF file per service (category `stack-deploy/<service>`), for github/codeql-action/upload-sarif.',
    default: 'stack-deploy-sarif'
  },
  {
    name: 'images',
    description:
      'scan, smoke: the `images` output of a build step (JSON: service → { image, tags, digest, ref }). The stack runs exactly these images.'
  },
  {
    name: 'wait-timeout',
    description: 'smoke: seconds to wait for every service to be healthy or done.',
    default: '180'
  },
  {
    name: 'probes',
    description:
      'smoke: checks to run once the stack is up (YAML list). HTTP: `- http: web:8080/health` with status, contains, json, retries, interval, timeout; WebSocket: `- ws: web:8080/socket`, which must upgrade (101), with optional send, expect (text the first reply must contain) and headers; inside a service: `- exec: postgres` with `command: [pg_isready]`.'
  },
  {
    name: 'test-command',
    description:
      "smoke: your own test script, run from the runner with bash once the probes pass; the stack's URLs are in its environment (WEB_URL, WEB_8080_URL, ...)."
  },
  {
    name: 'ports',
    description:
      'smoke: ephemeral (published ports move to random host ports on 127.0.0.1, so runs never collide) or fixed (as the compose files say).',
    default: 'ephemeral'
  },
  {
    name: 'log-dir',
    description: 'smoke: folder for the log bundle written when the smoke test fails.',
    default: 'stack-deploy-logs'
  },
  {
    name: 'hosts',
    description:
      'deploy, rollback, releases: hosts to deploy to, one per line (`host`, `user@host` or `user@host:port`), in order, one at a time.'
  },
  {
    name: 'ssh-user',
    description: 'deploy, rollback, releases: user to log in as, for hosts that do not name one.',
    default: 'deploy'
  },
  {
    name: 'ssh-port',
    description: 'deploy, rollback, releases: SSH port, for hosts that do not name one.',
    default: '22'
  },
  {
    name: 'ssh-key',
    secret: 'value',
    description:
      'deploy, rollback, releases: the private key (OpenSSH or PEM, no passphrase). Written 0600 to a private folder and removed in the post step.'
  },
  {
    name: 'known-hosts',
    description:
      "deploy, rollback, releases: the hosts' keys, as known_hosts lines (hashed entries and several key types work) and/or SHA256 fingerprints (`host SHA256:...`). Required: no pinned key, no connection."
  },
  {
    name: 'trust-on-first-use',
    description:
      'deploy, rollback, releases: accept a host key that is not pinned, and print its fingerprint. Off by default; avoid it in production.',
    default: 'false'
  },
  {
    name: 'jump-host',
    description:
      'deploy, rollback, releases: a bastion to go through (`user@host:port`); its key must be pinned too.'
  },
  {
    name: 'connect-timeout',
    description: 'deploy, rollback, releases: seconds to wait for an SSH connection.',
    default: '15'
  },
  {
    name: 'deploy-path',
    description:
      'deploy, rollback, releases: folder on the hosts for releases, backups and the audit log (`<deploy-path>/<project>/`).',
    default: '/srv/stack-deploy'
  },
  {
    name: 'env-file',
    description: "deploy: the release's .env: KEY=value lines (written with mode 0600 on the host)."
  },
  {
    name: 'secrets',
    secret: 'env-lines',
    description:
      'deploy: more KEY=value lines for the .env, each value masked in logs; pass them from GitHub secrets.'
  },
  {
    name: 'paths',
    description:
      'smoke, deploy: how to treat a bind-mounted path, one `PATH: persistent` or `PATH: release` per line (PATH relative to working-directory). persistent: kept in `shared/` on the host across releases (writable folders are, by default); release: copied into each release (read-only mounts and single files are, by default).'
  },
  {
    name: 'secret-files',
    secret: 'secret-files',
    description:
      "smoke, deploy: contents for compose `secrets:` files, from GitHub secrets: `NAME=value` for one line, or `NAME<<EOF`, the lines, `EOF` for several (a TLS key). Written 0400 on the host, masked in logs, never in argv. A secret's file in the working tree is used when it is not given here. CLI: only from STACK_DEPLOY_SECRET_FILES."
  },
  {
    name: 'backup-service',
    description:
      "deploy: the Postgres service to pg_dump before migrating (needs the official image's POSTGRES_USER/POSTGRES_DB)."
  },
  {
    name: 'backup',
    description: 'deploy: take the backup when backup-service is set.',
    default: 'true'
  },
  {
    name: 'backup-keep',
    description: 'deploy: how many backups to keep on each host.',
    default: '5'
  },
  {
    name: 'migrate-service',
    description:
      "deploy: a service to run once, from the new release's image, before the rollout (e.g. migrate). If it fails, nothing switches."
  },
  {
    name: 'migrate-timeout',
    description: 'deploy: seconds the migration may take.',
    default: '600'
  },
  {
    name: 'health-urls',
    description:
      "deploy, rollback: URLs checked from the runner after the rollout, one per line; `{host}` is each host's address. http(s) URLs must answer 2xx; ws(s) URLs must upgrade (101). A failure rolls back."
  },
  {
    name: 'health-retries',
    description: 'deploy, rollback: attempts per health URL, a second apart.',
    default: '10'
  },
  {
    name: 'lock-timeout',
    description:
      "deploy, rollback: seconds to wait for another deploy's lock on a host before failing.",
    default: '300'
  },
  {
    name: 'lock-ttl',
    description: 'deploy, rollback: seconds after which a lock is stale and may be taken over.',
    default: '3600'
  },
  {
    name: 'zero-downtime',
    description:
      'deploy, rollback: replace each changed service that is built, has a healthcheck, publishes no port and keeps no volume by starting its new container next to the old one, waiting until it is healthy, then stopping the old one. false: compose recreates it in place.',
    default: 'true'
  },
  {
    name: 'zero-downtime-settle',
    description:
      "deploy, rollback: seconds after a new container starts before its old one may stop, at the least: how long your proxy may cache the service's DNS answer (the reference stack's nginx: 2 s).",
    default: '3'
  },
  {
    name: 'keep-releases',
    description: 'deploy: releases to keep on each host (older ones are removed).',
    default: '5'
  },
  {
    name: 'min-free-disk',
    description: 'deploy: MiB that must be free under deploy-path.',
    default: '1024'
  },
  {
    name: 'release-id',
    description: 'rollback: the release to go back to. Default: the one before the live release.'
  },
  {
    name: 'keep',
    description: 'smoke: leave the stack running after the smoke test, for debugging.',
    default: 'false'
  },
  {
    name: 'github-token',
    secret: 'value',
    description:
      'A token for the GitHub API (e.g. github.token), to record deploys and rollbacks as GitHub deployments (needs `deployments: write`) and for pr-comment (needs `pull-requests: write`). Masked in logs. Empty: no GitHub API call at all. CLI: only from STACK_DEPLOY_GITHUB_TOKEN.'
  },
  {
    name: 'environment',
    description:
      'deploy, rollback: the GitHub environment (staging, production, ...) the deployment is recorded in; required when github-token is set. `production` and `prod` are marked as production environments.'
  },
  {
    name: 'environment-url',
    description:
      "deploy, rollback: the URL recorded on the deployment (the environment's link on GitHub). Default: the first health URL on the first host (the `url` output)."
  },
  {
    name: 'pr-comment',
    description:
      "build, scan, smoke: on a pull_request or pull_request_target event, add this step's result to the pull request's stack-deploy comment (one comment per pull request and compose project; each step updates its own row). Needs github-token with `pull-requests: write`; on pull requests from forks the token is read-only, and the step only warns.",
    default: 'false'
  }
]

/** An input's default, as action.yml declares it; '' for an input without one. */
export function inputDefault(name: string): string {
  return INPUT_SPECS.find(spec => spec.name === name)?.default ?? ''
}

export interface OutputSpec {
  name: string
  description: string
}

export const OUTPUT_SPECS: readonly OutputSpec[] = [
  {
    name: 'plan',
    description:
      'The compose plan as JSON: every service with its kind (build, image or job), build settings, healthcheck, ports, volumes and networks.'
  },
  {
    name: 'smoke',
    description:
      'smoke: JSON with the project name, seconds until every service was ready, per-service times and the probe results.'
  },
  {
    name: 'log-bundle',
    description:
      'smoke: path of the .tar.gz of states, health logs and logs of the failing services (set when the smoke test fails).'
  },
  {
    name: 'release-id',
    description: 'deploy, rollback: the release now live on every host.'
  },
  {
    name: 'url',
    description:
      'deploy, rollback: the first health URL, on the first host (for an environment URL).'
  },
  {
    name: 'releases',
    description:
      'releases: JSON list, one entry per host, of its releases newest first (id, live, sha, actor, createdAt, images, backups).'
  },
  {
    name: 'digests',
    description: 'deploy: JSON map from service to the image@digest that was deployed.'
  },
  {
    name: 'scan',
    description:
      'scan: JSON with the gate verdict and, per service, the counts by severity, the worst findings and the report and SARIF paths.'
  },
  {
    name: 'sarif-dir',
    description: 'scan: the folder holding one SARIF file per service.'
  },
  {
    name: 'images',
    description:
      'build: JSON map from service to { image, tags, digest, ref, id }; after a push, ref is image@sha256:… so later steps run exactly what was built.'
  }
]
