/** Argv builders for the smoke stage; each takes the compose prefix from composeBaseArgs. */
import { composeUpWaitArgs } from '../compose/args.js'

/** The stack runs the images it was given: nothing is built. */
export function upArgs(base: string[], waitTimeoutSeconds: number): string[] {
  return [...composeUpWaitArgs(base, waitTimeoutSeconds), '--no-build']
}

export function downArgs(base: string[]): string[] {
  return [...base, 'down', '--volumes', '--remove-orphans', '--timeout', '10']
}

export function logsArgs(base: string[], service: string, tail: number): string[] {
  return [...base, 'logs', '--no-color', '--tail', String(tail), service]
}
