import type { ComposeProjectRef } from './types.js'

/** `docker compose -f A -f B [-p NAME] [--profile P]`: the prefix of every compose command. */
export function composeBaseArgs(ref: ComposeProjectRef): string[] {
  return [
    'docker',
    'compose',
    ...ref.files.flatMap(file => ['-f', file]),
    ...(ref.projectName ? ['-p', ref.projectName] : []),
    ...ref.profiles.flatMap(profile => ['--profile', profile])
  ]
}

export function composeConfigArgs(ref: ComposeProjectRef): string[] {
  return [...composeBaseArgs(ref), 'config', '--format', 'json']
}

/** Every container of the project, stopped ones too, as parsePsOutput (./ps.ts) reads them. */
export function composePsArgs(base: string[]): string[] {
  return [...base, 'ps', '--all', '--format', 'json']
}

/**
 * `up` in the background, returning once every container runs (and is healthy, where it has a
 * healthcheck) or failing after the timeout. Each stage appends its own flags.
 */
export function composeUpWaitArgs(base: string[], waitTimeoutSeconds: number): string[] {
  return [...base, 'up', '--detach', '--wait', '--wait-timeout', String(waitTimeoutSeconds)]
}
