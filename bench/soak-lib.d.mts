// Types of bench/soak-lib.mjs, for the e2e test that shares it.
import type { LoadResult, Rows, Window } from './load.mjs'

export interface Releases {
  ids: string[]
  current: string | undefined
}
export interface SoakOp {
  name: string
  kind: 'deploy' | 'rollback'
  start: number
  end: number
  /** The machine's 1-minute load average at the start and the end. */
  loadBefore: number
  loadAfter: number
  release?: string
  version?: string
  versionSeen?: string
  releases?: number
  images?: number
  named?: number
  problems?: string[]
  error?: string
  window: Window
}
export interface Soak {
  ops: SoakOp[]
  load: LoadResult
  windows: Window[]
  rows: Rows
  tag: string | undefined
}
export function releasesOn(root: string): Releases
export function imagesOfReleases(root: string, ids: string[]): string[]
export function imagesOnHost(
  dockerHost: string,
  repoPrefix: string
): { count: number; refs: string[] }
export function checkHost(options: {
  kind: 'deploy' | 'rollback'
  keep: number
  before: Releases
  after: Releases
  deployed: string
  root: string
  dockerHost: string
  repoPrefix: string
}): { releases: number; images: number; named: number; problems: string[] }
export function soakSchedule(deploys: number, rollbacks: number): ('deploy' | 'rollback')[]
export function versionAt(healthUrl: string): Promise<string>
export function runSoak(options: {
  deploys: number
  rollbacks: number
  versions: string[]
  keep: number
  root: string
  dockerHost: string
  repoPrefix: string
  baseUrl: string
  project: string
  deploy: (version: string) => string | Promise<string>
  rollback: (releaseId: string | undefined) => string | Promise<string>
  log?: (line: string) => void
  pauseMs?: number
  continueOnError?: boolean
  signal?: AbortSignal
  tag?: string
}): Promise<Soak>
export function soakReport(soak: Soak): string
export function removeImages(dockerHost: string, repoPrefix: string): number
/** Removes the project's containers, volumes and networks; gives what is still left. */
export function removeProject(dockerHost: string, project: string): string[]
