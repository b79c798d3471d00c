import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { InputError } from '../errors.js'
import { lastLines, type Executor } from '../exec/executor.js'
import { composeBaseArgs, composeConfigArgs } from './args.js'
import type { ComposeConfig, ComposeProjectRef } from './types.js'
import {
  ProjectFilesError,
  planProjectFiles,
  secretContents,
  type PathMode,
  type ProjectFiles
} from './project-files.js'
import {
  ComposeReferenceError,
  composeFileClosure,
  envFileReferences,
  modelReferences,
  serviceFileUses
} from './references.js'

/**
 * Checks what compose would report less clearly: that each file exists and is valid YAML
 * (compose's own YAML errors do not always say which of several files is at fault).
 * The YAML library only checks syntax here; compose remains the only reader of the model.
 */
export function checkComposeFiles(ref: ComposeProjectRef): void {
  for (const file of ref.files) {
    const full = path.resolve(ref.workingDirectory, file)
    if (!fs.existsSync(full)) {
      throw new InputError(
        'compose-files',
        `${file} was not found (looked in ${ref.workingDirectory}; set working-directory or compose-files)`
      )
    }
    const text = fs.readFileSync(full, 'utf8')
    for (const doc of parseAllDocuments(text)) {
      const error = 'errors' in doc ? doc.errors[0] : undefined
      if (error) {
        const where = error.linePos?.[0]
        const at = where ? ` at line ${where.line}, column ${where.col}` : ''
        const reason = error.message.split('\n')[0]
        throw new InputError('compose-files', `${file} is not valid YAML${at}: ${reason}`)
      }
    }
  }
}

/** Finds which of the compose files refers to a variable, for an error that names the file. */
export function filesReferencing(ref: ComposeProjectRef, variable: string): string[] {
  const pattern = new RegExp(`\\$\\{${variable}(?::?[?\\-+]|\\})`)
  return ref.files.filter(file => {
    try {
      return pattern.test(fs.readFileSync(path.resolve(ref.workingDirectory, file), 'utf8'))
    } catch {
      return false
    }
  })
}

/** Turns compose's stderr into an error that names the input and says what to do. */
export function explainConfigFailure(ref: ComposeProjectRef, stderr: string): Error {
  const missing = /required variable (\w+) is missing a value(?::\s*(.*))?/.exec(stderr)
  if (missing) {
    const variable = missing[1] as string
    const hint = missing[2]?.trim()
    const files = filesReferencing(ref, variable)
    const where = files.length > 0 ? files.join(', ') : ref.files.join(', ')
    return new InputError(
      'compose-files',
      `variable ${variable} is required by ${where} but is not set${hint ? ` (${hint})` : ''}; set it in the environment or in the project's .env file`
    )
  }
  const detail = lastLines(stderr, 5).replace(/\n/g, ' | ')
  return new InputError(
    'compose-files',
    `docker compose could not read ${ref.files.join(', ')}: ${detail}`
  )
}

/** Runs `docker compose config --format json` and returns the normalised model. */
export async function loadComposeConfig(
  ref: ComposeProjectRef,
  executor: Executor
): Promise<ComposeConfig> {
  checkComposeFiles(ref)
  return readResolvedConfig(ref, executor)
}

/** compose's two models of a project, being read (see loadComposeModels). */
export interface ComposeModels {
  /** loadComposeConfig's: the resolved model, which the plan is made from. */
  config: Promise<ComposeConfig>
  /** readAsWritten's, when asked for: what loadProjectFiles reads besides. Never rejects. */
  asWritten: Promise<ComposeConfig | undefined> | undefined
}

/**
 * loadComposeConfig, and with `asWritten` the second model loadProjectFiles needs. Neither read
 * needs the other's result (both are compose reading the same files), so compose makes them at
 * once instead of one after the other; the second only once the files were found and parsed,
 * as the first. A problem with the files throws here; the config promise is to be awaited at
 * once (it rejects with compose's own failure).
 */
export function loadComposeModels(
  ref: ComposeProjectRef,
  executor: Executor,
  options: { asWritten: boolean }
): ComposeModels {
  checkComposeFiles(ref)
  return {
    config: readResolvedConfig(ref, executor),
    asWritten: options.asWritten ? readAsWritten(ref, executor) : undefined
  }
}

async function readResolvedConfig(
  ref: ComposeProjectRef,
  executor: Executor
): Promise<ComposeConfig> {
  const result = await executor.run(composeConfigArgs(ref), { cwd: ref.workingDirectory })
  if (result.exitCode !== 0) throw explainConfigFailure(ref, result.stderr || result.stdout)
  try {
    return JSON.parse(result.stdout) as ComposeConfig
  } catch {
    throw new Error(
      'docker compose config did not print JSON; stack-deploy needs Compose v2.17 or later (check `docker compose version`)'
    )
  }
}

/**
 * `config --no-interpolate --no-path-resolution`: the model with paths (and env_file entries)
 * as written. Compose cannot always make this view (see references.ts): undefined then, and
 * never a rejection, so that it can be started long before it is awaited.
 */
export function readAsWritten(
  ref: ComposeProjectRef,
  executor: Executor
): Promise<ComposeConfig | undefined> {
  return executor
    .run(
      [
        ...composeBaseArgs(ref),
        'config',
        '--no-interpolate',
        '--no-path-resolution',
        '--format',
        'json'
      ],
      { cwd: ref.workingDirectory }
    )
    .then(result =>
      result.exitCode === 0 ? (JSON.parse(result.stdout) as ComposeConfig) : undefined
    )
    .catch(() => undefined)
}

/**
 * What a release of this project carries (./project-files.ts), from compose's own models: the
 * resolved one the plan was made from, plus the two views that keep env_file entries and paths
 * as written (see ./references.ts). Refusals become InputErrors naming the input to fix.
 * `asWritten`: readAsWritten's answer, when it was started earlier (loadComposeModels).
 */
export async function loadProjectFiles(
  ref: ComposeProjectRef,
  executor: Executor,
  resolved: ComposeConfig,
  rules: Map<string, PathMode>,
  asWritten: Promise<ComposeConfig | undefined> = readAsWritten(ref, executor)
): Promise<ProjectFiles> {
  const written = await asWritten
  try {
    const closure = composeFileClosure(
      ref.files.map(file => path.resolve(ref.workingDirectory, file)),
      file => fs.readFileSync(file, 'utf8')
    )
    return planProjectFiles({
      root: ref.workingDirectory,
      composeFiles: ref.files,
      closure,
      references: [
        ...modelReferences({ resolved, asWritten: written }),
        ...envFileReferences(closure)
      ],
      rules,
      uses: serviceFileUses(resolved)
    })
  } catch (error) {
    if (error instanceof ProjectFilesError) throw new InputError(error.input, error.message)
    if (error instanceof ComposeReferenceError) throw new InputError('compose-files', error.message)
    throw error
  }
}

/** secretContents, with its refusals as InputErrors naming the secret-files input. */
export function loadSecretFiles(
  files: ProjectFiles,
  given: Record<string, string>
): { name: string; content: string }[] {
  try {
    return secretContents(files, given)
  } catch (error) {
    if (error instanceof ProjectFilesError) throw new InputError(error.input, error.message)
    throw error
  }
}
