import { parseImageMap, type ImageMap } from './build/images.js'

/**
 * The one typed inputs module. Its keys are the inputs of action.yml (a unit test checks that
 * they match, name for name and default for default); the action reads them from INPUT_*
 * variables and the CLI from flags of the same names, and both get the same validation.
 */

export const COMMANDS = ['plan', 'build', 'scan', 'smoke', 'deploy', 'rollback'] as const
export type Command = (typeof COMMANDS)[number]

/** Commands this version implements; the others are rejected up front, not half-run. */
export const IMPLEMENTED_COMMANDS: readonly Command[] = ['plan', 'build', 'smoke']

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
    name: 'images',
    description:
      'smoke: the `images` output of a build step (JSON: service → { image, tags, digest, ref }). The stack runs exactly these images.'
  },
  {
    name: 'wait-timeout',
    description: 'smoke: seconds to wait for every service to be healthy or done.',
    default: '180'
  },
  {
    name: 'keep',
    description: 'smoke: leave the stack running after the smoke test, for debugging.',
    default: 'false'
  }
]

export interface Inputs {
  command: Command
  composeFiles: string[]
  projectName: string | undefined
  workingDirectory: string
  profiles: string[]
  services: string[]
  images: ImageMap | undefined
  waitTimeoutSeconds: number
  keep: boolean
}

/** A bad input value. The message always names the input, so the user knows what to fix. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string
  ) {
    super(`Input '${input}': ${message}`)
    this.name = 'InputError'
  }
}

/** Reads one raw input; returns '' when it is not set (as @actions/core's getInput does). */
export type InputGetter = (name: string) => string

function specDefault(name: string): string {
  return INPUT_SPECS.find(spec => spec.name === name)?.default ?? ''
}

function raw(get: InputGetter, name: string): string {
  const value = get(name).trim()
  return value === '' ? specDefault(name) : value
}

/** Splits a list input on newlines and commas, dropping blanks and `#` comments. */
export function parseList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(item => item.replace(/#.*$/, '').trim())
    .filter(item => item !== '')
}

/** Like parseList, but one item per line only: file paths may contain commas. */
export function parseLines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map(item => item.trim())
    .filter(item => item !== '' && !item.startsWith('#'))
}

export function parseBoolean(name: string, value: string): boolean {
  const normalized = value.trim().toLowerCase()
  if (['true', 'yes', '1', 'on'].includes(normalized)) return true
  if (['false', 'no', '0', 'off', ''].includes(normalized)) return false
  throw new InputError(name, `expected true or false, got "${value}"`)
}

export function parsePositiveInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) {
    throw new InputError(name, `expected a whole number of seconds above 0, got "${value}"`)
  }
  return Number(value)
}

function parseImagesInput(value: string): ImageMap | undefined {
  if (value === '') return undefined
  try {
    return parseImageMap(value)
  } catch (error) {
    throw new InputError('images', (error as Error).message)
  }
}

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/

export function parseInputs(get: InputGetter): Inputs {
  const command = raw(get, 'command')
  if (command === '') {
    throw new InputError('command', `is required; use one of ${COMMANDS.join(', ')}`)
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new InputError(
      'command',
      `unknown command "${command}"; use one of ${COMMANDS.join(', ')}`
    )
  }
  if (!IMPLEMENTED_COMMANDS.includes(command as Command)) {
    throw new InputError(
      'command',
      `"${command}" is not available in this version of stack-deploy yet; available: ${IMPLEMENTED_COMMANDS.join(', ')}`
    )
  }

  const composeFiles = parseLines(raw(get, 'compose-files'))
  if (composeFiles.length === 0) {
    throw new InputError('compose-files', 'give at least one compose file')
  }

  const projectName = raw(get, 'project-name') || undefined
  if (projectName !== undefined && !PROJECT_NAME.test(projectName)) {
    throw new InputError(
      'project-name',
      `"${projectName}" is not a valid compose project name: use lowercase letters, digits, "-" and "_", starting with a letter or digit`
    )
  }

  return {
    command: command as Command,
    composeFiles,
    projectName,
    workingDirectory: raw(get, 'working-directory'),
    profiles: parseList(raw(get, 'profiles')),
    services: parseList(raw(get, 'services')),
    images: parseImagesInput(raw(get, 'images')),
    waitTimeoutSeconds: parsePositiveInteger('wait-timeout', raw(get, 'wait-timeout')),
    keep: parseBoolean('keep', raw(get, 'keep'))
  }
}
