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
}

export const INPUT_SPECS: readonly InputSpec[] = [
  {
    name: 'command',
    description: 'What to do: plan, build, scan, smoke, deploy or rollback.',
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
    description: 'Compose profiles to enable, one per line or comma-separated.'
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
      'smoke: checks to run once the stack is up (YAML list). HTTP: `- http: web:8080/health` with status, contains, json, retries, interval, timeout; inside a service: `- exec: postgres` with `command: [pg_isready]`.'
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
    name: 'keep',
    description: 'smoke: leave the stack running after the smoke test, for debugging.',
    default: 'false'
  }
]

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
