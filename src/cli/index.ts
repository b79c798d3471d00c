#!/usr/bin/env node
/**
 * The `stack-deploy` command line: the same engine as the action, with inputs taken from flags
 * named like the action's inputs. With no command it plans, builds and smoke-tests the stack.
 */
import { parseArgs } from 'node:util'
import { INPUT_SPECS, parseInputs, registerInputSecrets, type Command } from '../inputs.js'
import { DEFAULT_PIPELINE, runEngine } from '../engine.js'
import { LocalExecutor } from '../exec/executor.js'
import { ConsoleReporter } from '../report/console-reporter.js'

const USAGE = `Usage: stack-deploy [command] [options]

Commands:
  (none)    plan, build and smoke-test the stack (the default)
  plan      print the compose model: built, pulled and one-shot services, healthchecks, ports
  build     build every service that has a build section (docker buildx bake)
  scan      scan the built images with Trivy and gate on severity (builds first)
  smoke     bring the whole stack up, wait until healthy, tear it down (builds first)
  deploy    deploy pushed images (--images) to --hosts over SSH
  rollback  put --hosts back on the previous release (or --release-id)
  releases  list each host's releases, newest first, the live one marked (*), with their backups

Options (named like the action's inputs):
  -f, --compose-file FILE     a compose file; repeat for several (default: compose.yaml)
  -p, --project-name NAME     compose project name
  -C, --working-directory DIR folder the compose files are relative to
      --profile NAME          enable a compose profile; repeat for several
      --services LIST         only these services (comma-separated)
      --images JSON           smoke: run these built images (the build command's output)
      --wait-timeout SECONDS  smoke: how long to wait for healthy (default 180)
      --keep                  smoke: leave the stack running
      --registry HOST         build: name images <registry>/<namespace>/<service>
      --push                  build: push after every service has built
      --tags TEMPLATE         build: a tag template; repeat for several
      --json                  print machine-readable JSON on stdout
  Every other action input is a flag of the same name (--cache, --cache-mode, ...).
  Any input can also come from the environment as STACK_DEPLOY_<NAME>, e.g.
  STACK_DEPLOY_REGISTRY_PASSWORD: secrets (registry-password, ssh-key, secrets,
  secret-files, github-token) are only taken that way, never as flags.
  -h, --help                  show this help
`

/** Inputs that hold secrets: never taken as flags (argv is visible to every user in `ps`). */
const SECRET_INPUTS = new Set(INPUT_SPECS.filter(spec => spec.secret).map(spec => spec.name))

/** Short or alternative flag names for some inputs; every other input is `--<input-name>`. */
const ALIASES: Record<string, { input: string; short?: string; multiple?: boolean }> = {
  'compose-file': { input: 'compose-files', short: 'f', multiple: true },
  profile: { input: 'profiles', multiple: true }
}
const SHORT: Record<string, string> = { 'project-name': 'p', 'working-directory': 'C' }

const isBooleanInput = (name: string): boolean => {
  const spec = INPUT_SPECS.find(s => s.name === name)
  return spec?.default === 'true' || spec?.default === 'false'
}

type OptionConfig = { type: 'string' | 'boolean'; short?: string; multiple?: boolean }

function cliOptions(): Record<string, OptionConfig> {
  const options: Record<string, OptionConfig> = {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  }
  for (const spec of INPUT_SPECS) {
    if (spec.name === 'command' || SECRET_INPUTS.has(spec.name)) continue
    options[spec.name] = isBooleanInput(spec.name)
      ? { type: 'boolean' }
      : { type: 'string', multiple: true, ...(SHORT[spec.name] ? { short: SHORT[spec.name] } : {}) }
  }
  for (const [flag, alias] of Object.entries(ALIASES)) {
    options[flag] = {
      type: 'string',
      multiple: alias.multiple,
      ...(alias.short ? { short: alias.short } : {})
    }
  }
  return options
}

/** `STACK_DEPLOY_REGISTRY_PASSWORD` for `registry-password`: how the CLI takes any input from the environment. */
export function envNameOf(input: string): string {
  return `STACK_DEPLOY_${input.replace(/-/g, '_').toUpperCase()}`
}

export async function main(argv: string[]): Promise<number> {
  // `plan` prints its table on stdout; otherwise stdout is kept for results (JSON) and the
  // progress, the table included, goes to stderr. Made first, so that the secrets are
  // registered (and redacted, even from an error about the inputs) before anything else.
  let toStdout = false
  const reporter = new ConsoleReporter(text =>
    toStdout ? process.stdout.write(text) : process.stderr.write(text)
  )
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: cliOptions()
    })
    if (values.help) {
      process.stdout.write(USAGE)
      return 0
    }
    if (positionals.length > 1) {
      throw new Error(`Input 'command': expected one command, got ${positionals.join(' ')}`)
    }
    const command = positionals[0]
    const inputValues: Record<string, string> = { command: command ?? 'smoke' }
    for (const spec of INPUT_SPECS) {
      const fromEnv = process.env[envNameOf(spec.name)]
      if (fromEnv !== undefined && spec.name !== 'command') inputValues[spec.name] = fromEnv
    }
    const fromFlags: Record<string, string> = {}
    for (const [flag, value] of Object.entries(values)) {
      const input = ALIASES[flag]?.input ?? flag
      if (value === undefined || flag === 'json' || flag === 'help') continue
      const text = Array.isArray(value) ? value.join('\n') : String(value)
      fromFlags[input] = fromFlags[input] ? `${fromFlags[input]}\n${text}` : text
    }
    Object.assign(inputValues, fromFlags)
    registerInputSecrets(name => inputValues[name] ?? '', reporter)
    const inputs = parseInputs(name => inputValues[name] ?? '')

    const stages: readonly Command[] =
      command === undefined
        ? DEFAULT_PIPELINE
        : (inputs.command === 'smoke' ||
              (inputs.command === 'scan' && inputs.scan.imageRefs.length === 0)) &&
            !inputs.images
          ? ['build', inputs.command]
          : [inputs.command]
    const jsonOutput = Boolean(values.json)
    toStdout = command === 'plan' && !jsonOutput
    const result = await runEngine(inputs, stages, new LocalExecutor(process.stderr), reporter)
    if (jsonOutput) {
      const payload =
        stages.length === 1 && stages[0] === 'plan'
          ? result.plan
          : {
              plan: result.plan,
              images: result.images,
              scan: result.scan,
              smoke: result.smoke,
              deploy: result.deploy,
              releases: result.releases
            }
      process.stdout.write(`${JSON.stringify(payload, null, 2)}\n`)
    } else if (result.releases) {
      // Loaded here, as the engine loads the stage: other commands do not pay for it.
      const { renderReleasesText } = await import('../ops/releases.js')
      process.stdout.write(renderReleasesText(result.releases))
    } else if (result.images && stages.includes('build') && !stages.includes('smoke')) {
      process.stdout.write(`${JSON.stringify(result.images)}\n`)
    }
    return 0
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`stack-deploy: ${reporter.redact(message)}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
