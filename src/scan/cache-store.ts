/**
 * Where the Trivy vulnerability DB is kept between runs. The scan stage only sees CacheStore;
 * on GitHub Actions it is @actions/cache (GitHub's cache service), elsewhere a directory on
 * this machine, so that the CLI works the same locally.
 */
import * as actionsCache from '@actions/cache'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export interface CacheStore {
  /** Restores `paths`; returns the key that matched (primary or a restore-key prefix), or undefined. */
  restore(paths: string[], primaryKey: string, restoreKeys: string[]): Promise<string | undefined>
  /** Saves `paths` under `key`. Keys are immutable: saving an existing key keeps the old entry. */
  save(paths: string[], key: string): Promise<void>
  /** For messages: "GitHub Actions cache", "local cache in /x"... */
  readonly description: string
}

/** GitHub's cache service through @actions/cache. */
export class ActionsCacheStore implements CacheStore {
  readonly description = 'the GitHub Actions cache'

  async restore(
    paths: string[],
    primaryKey: string,
    restoreKeys: string[]
  ): Promise<string | undefined> {
    return actionsCache.restoreCache(paths, primaryKey, restoreKeys)
  }

  async save(paths: string[], key: string): Promise<void> {
    try {
      const id = await actionsCache.saveCache(paths, key)
      // saveCache reports most failures as a warning and -1, not as an error.
      if (id === -1) throw new Error(`the cache service did not store key ${key}`)
    } catch (error) {
      // Another job of this run (or an earlier run today) saved the same key first: fine.
      if ((error as Error).name === actionsCache.ReserveCacheError.name) return
      throw error
    }
  }
}

interface Manifest {
  key: string
  paths: string[]
  savedAt: string
}

function entryName(key: string): string {
  return encodeURIComponent(key)
}

/**
 * A cache in a local directory, with GitHub's rules: restore by exact key, else the newest entry
 * whose key starts with a restore key; a saved key is never overwritten.
 */
export class LocalDirectoryCacheStore implements CacheStore {
  readonly description: string

  constructor(readonly root: string) {
    this.description = `the local cache in ${root}`
  }

  private entries(): Manifest[] {
    if (!fs.existsSync(this.root)) return []
    const manifests: Manifest[] = []
    for (const name of fs.readdirSync(this.root)) {
      const file = path.join(this.root, name, 'manifest.json')
      try {
        manifests.push(JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest)
      } catch {
        // an entry being written, or not ours: skip it
      }
    }
    return manifests
  }

  async restore(
    paths: string[],
    primaryKey: string,
    restoreKeys: string[]
  ): Promise<string | undefined> {
    const entries = this.entries().sort((a, b) => b.savedAt.localeCompare(a.savedAt))
    let hit = entries.find(entry => entry.key === primaryKey)
    for (const prefix of restoreKeys) {
      if (hit) break
      hit = entries.find(entry => entry.key.startsWith(prefix))
    }
    if (!hit) return undefined
    const dir = path.join(this.root, entryName(hit.key))
    hit.paths.forEach((saved, index) => {
      // Restored to where the caller asks, in the same order as saved.
      const target = paths[index] ?? saved
      fs.rmSync(target, { recursive: true, force: true })
      fs.mkdirSync(path.dirname(target), { recursive: true })
      fs.cpSync(path.join(dir, 'data', String(index)), target, { recursive: true })
    })
    return hit.key
  }

  async save(paths: string[], key: string): Promise<void> {
    const dir = path.join(this.root, entryName(key))
    if (fs.existsSync(path.join(dir, 'manifest.json'))) return
    for (const p of paths) {
      if (!fs.existsSync(p)) throw new Error(`cannot cache ${p}: it does not exist`)
    }
    const staging = `${dir}.partial-${process.pid}-${Date.now()}`
    fs.rmSync(staging, { recursive: true, force: true })
    paths.forEach((p, index) => {
      fs.cpSync(p, path.join(staging, 'data', String(index)), { recursive: true })
    })
    const manifest: Manifest = { key, paths, savedAt: new Date().toISOString() }
    fs.writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(manifest))
    try {
      fs.renameSync(staging, dir)
    } catch (error) {
      fs.rmSync(staging, { recursive: true, force: true })
      // Someone saved the same key at the same moment: keys are immutable, keep theirs.
      if (fs.existsSync(path.join(dir, 'manifest.json'))) return
      throw error
    }
  }
}

/** The local cache's folder: next to the tool cache when there is one, else in the user cache. */
export function localCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNNER_TOOL_CACHE) return path.join(env.RUNNER_TOOL_CACHE, 'stack-deploy-cache')
  const base = env.XDG_CACHE_HOME || path.join(os.homedir() || os.tmpdir(), '.cache')
  return path.join(base, 'stack-deploy', 'cache')
}

/** @actions/cache on a runner (ACTIONS_RUNTIME_TOKEN is set), a local directory elsewhere. */
export function defaultCacheStore(env: NodeJS.ProcessEnv = process.env): CacheStore {
  if (env.ACTIONS_RUNTIME_TOKEN) return new ActionsCacheStore()
  return new LocalDirectoryCacheStore(localCacheRoot(env))
}
