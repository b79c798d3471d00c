#!/usr/bin/env node
/**
 * The `stack-deploy` command line: the same engine as the action, with inputs taken from flags
 * named like the action's inputs. With no command it plans, builds and smoke-tests the stack.
 */
import { parseArgs } from 'node:util'
import { INPUT_SPECS, parseInputs, type Command } from '../inputs.js'
import { DEFAULT_PIPELINE, runEngine } from '../engine.js'
import { LocalExecutor } from '../exec/executor.js'
import { ConsoleReporter } from '../report/console-reporter.js'

const USAGE = `Usage: stack-deploy [command] [options]

Commands:
  (none)    plan, build and smoke-test the stack (the default)
  plan      print the compose model: built, pulled and one-shot services, healthchecks, ports
  build     build every service that has a build section (docker buildx bake)
  smoke     bring the whole stack up, wait until healthy, tear it down (builds first)

Options (named like the action's inputs):
  -f, --compose-file FILE     a compose file; repeat for several (default: compose.yaml)
  -p, --project-name NAME     compose project name
  -C, --working-directory DIR folder the compose files are relative to
      --profile NAME          enable a compose profile; repeat for several
      --services LIST         only these services (comma-separated)
      --images JSON           smoke: run these built images (the build command's output)
      --wait-timeout SECONDS  smoke: how long to wait for healthy (default 180)
      --keep                  smoke: leave the stack running
      --json                  print machine-readable JSON on stdout
  -h, --help                  show this help
`

/** Flags that map onto action inputs; repeated flags become the newline list the input takes. */
const FLAG_TO_INPUT: Record<string, string> = {
  'compose-file': 'compose-files',
  'compose-files': 'compose-files',
  'project-name': 'project-name',
  'working-directory': 'working-directory',
  profile: 'profiles',
  profiles: 'profiles',
  services: 'services',
  images: 'images',
  'wait-timeout': 'wait-timeout',
  keep: 'keep'
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'compose-file': { type: 'string', short: 'f', multiple: true },
        'compose-files': { type: 'string', multiple: true },
        'project-name': { type: 'string', short: 'p' },
        'working-directory': { type: 'string', short: 'C' },
        profile: { type: 'string', multiple: true },
        profiles: { type: 'string', multiple: true },
        services: { type: 'string', multiple: true },
        images: { type: 'string' },
        'wait-timeout': { type: 'string' },
        keep: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      }
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
    for (const [flag, value] of Object.entries(values)) {
      const input = FLAG_TO_INPUT[flag]
      if (!input || value === undefined) continue
      const text = Array.isArray(value) ? value.join('\n') : String(value)
      inputValues[input] = inputValues[input] ? `${inputValues[input]}\n${text}` : text
    }
    const known = new Set(INPUT_SPECS.map(spec => spec.name))
    const inputs = parseInputs(name => (known.has(name) ? (inputValues[name] ?? '') : ''))

    const stages: readonly Command[] =
      command === undefined
        ? DEFAULT_PIPELINE
        : inputs.command === 'smoke' && !inputs.images
          ? ['build', 'smoke']
          : [inputs.command]
    const jsonOutput = Boolean(values.json)
    // `plan` prints its table on stdout; otherwise stdout is kept for results (JSON) and the
    // progress, the table included, goes to stderr.
    const toStdout = command === 'plan' && !jsonOutput
    const reporter = new ConsoleReporter(text =>
      toStdout ? process.stdout.write(text) : process.stderr.write(text)
    )
    const result = await runEngine(inputs, stages, new LocalExecutor(process.stderr), reporter)
    if (jsonOutput) {
      const payload =
        stages.length === 1 && stages[0] === 'plan'
          ? result.plan
          : { plan: result.plan, images: result.images, smoke: result.smoke }
      process.stdout.write(`${JSON.stringify(payload, null, 2)}\n`)
    } else if (result.images && stages.includes('build') && !stages.includes('smoke')) {
      process.stdout.write(`${JSON.stringify(result.images)}\n`)
    }
    return 0
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`stack-deploy: ${message}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
