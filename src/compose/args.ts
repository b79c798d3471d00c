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
