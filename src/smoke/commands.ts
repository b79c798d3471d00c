/** Argv builders for the smoke stage; each takes the compose prefix from composeBaseArgs. */

export function upArgs(base: string[], waitTimeoutSeconds: number): string[] {
  return [
    ...base,
    'up',
    '--detach',
    '--wait',
    '--wait-timeout',
    String(waitTimeoutSeconds),
    '--no-build'
  ]
}

export function downArgs(base: string[]): string[] {
  return [...base, 'down', '--volumes', '--remove-orphans', '--timeout', '10']
}

export function psArgs(base: string[]): string[] {
  return [...base, 'ps', '--all', '--format', 'json']
}

export function logsArgs(base: string[], service: string, tail: number): string[] {
  return [...base, 'logs', '--no-color', '--tail', String(tail), service]
}
