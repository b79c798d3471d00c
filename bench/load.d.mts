// Types of bench/load.mjs, for the e2e test that shares it.
export interface LoadOptions {
  baseUrl: string
  writesPerSecond?: number
  readsPerSecond?: number
  timeoutMs?: number
  maxSeconds?: number
  tag?: string
}
export interface Failure {
  kind: 'w' | 'r'
  at: number
  ms: number
  method: string
  path: string
  reason: string
}
export interface LoadResult {
  started: number
  stopped: number
  requests: ['w' | 'r', number, number, 0 | 1][]
  failures: Failure[]
  acknowledged: [number, string][]
  unacknowledged: number
}
export interface Window {
  name: string
  start: number
  end: number
  writes: number
  reads: number
  failedWrites: number
  failedReads: number
  maxMs: number
  failures: Failure[]
}
export interface Rows {
  acknowledged: number
  found: number
  lost: [number, string][]
}
export function startLoad(options: LoadOptions): Promise<{ stop: () => Promise<LoadResult> }>
export function request(
  method: string,
  url: string,
  body: unknown,
  timeoutMs: number
): Promise<{ status: number; body: string }>
export function attribute(load: LoadResult, ops: { name: string; start: number }[]): Window[]
export function describeFailures(failures: Failure[], since?: number): string
export function notesInPostgres(options: {
  dockerHost: string
  project: string
  user?: string
  database?: string
}): Map<number, string>
export function checkRows(acknowledged: [number, string][], notes: Map<number, string>): Rows
