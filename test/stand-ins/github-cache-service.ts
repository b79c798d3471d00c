/**
 * STAND-IN for GitHub's Actions cache service (what @actions/cache talks to on a runner).
 * Tests cannot reach the real service, so this keeps entries in a local directory instead,
 * with the service's rules as @actions/cache documents them:
 *
 * - restore: the exact primary key, else the most recently saved entry whose key starts with
 *   one of the restore keys (tried in order); returns the key that matched. Only entries saved
 *   with the same list of paths can match: @actions/cache puts the paths into the entry's
 *   version (cacheUtils.getCacheVersion), so a cache saved from another folder is a miss;
 * - save: entries are immutable; saving a key that exists keeps the old entry (the real
 *   service refuses the reservation; ActionsCacheStore treats that as "already saved");
 * - what is saved is a snapshot: later changes to the paths do not change the entry.
 *
 * It also records every call (for "saved before the scans" assertions) and can be switched to
 * `unreachable`, where every call fails as a network error would.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { CacheStore } from '../../src/scan/cache-store.js'

export interface CacheEvent {
  op: 'restore' | 'save' | 'save-existing' | 'unreachable'
  key: string
  matched?: string
  at: number
}

interface Entry {
  key: string
  paths: string[]
  created: number
}

export class GitHubCacheServiceStandIn implements CacheStore {
  readonly description = 'the GitHub cache service stand-in (test/stand-ins)'
  readonly events: CacheEvent[] = []
  unreachable = false
  private sequence = 0

  constructor(
    readonly root: string,
    private readonly onEvent: (event: CacheEvent) => void = () => {}
  ) {
    fs.mkdirSync(root, { recursive: true })
  }

  private record(event: Omit<CacheEvent, 'at'>): void {
    const full = { ...event, at: Date.now() }
    this.events.push(full)
    this.onEvent(full)
  }

  private entries(): Entry[] {
    return fs
      .readdirSync(this.root)
      .filter(name => fs.existsSync(path.join(this.root, name, 'entry.json')))
      .map(name => JSON.parse(fs.readFileSync(path.join(this.root, name, 'entry.json'), 'utf8')))
  }

  /** The keys saved so far. */
  keys(): string[] {
    return this.entries().map(entry => entry.key)
  }

  async restore(
    paths: string[],
    primaryKey: string,
    restoreKeys: string[]
  ): Promise<string | undefined> {
    if (this.unreachable) {
      this.record({ op: 'unreachable', key: primaryKey })
      throw new Error('Cache service responded with 503 (stand-in set to unreachable)')
    }
    const samePaths = (entry: Entry) => JSON.stringify(entry.paths) === JSON.stringify(paths)
    const newestFirst = this.entries()
      .filter(samePaths)
      .sort((a, b) => b.created - a.created)
    let hit = newestFirst.find(entry => entry.key === primaryKey)
    for (const prefix of restoreKeys) {
      hit ??= newestFirst.find(entry => entry.key.startsWith(prefix))
    }
    this.record({ op: 'restore', key: primaryKey, matched: hit?.key })
    if (!hit) return undefined
    const dir = path.join(this.root, encodeURIComponent(hit.key))
    paths.forEach((target, index) => {
      fs.rmSync(target, { recursive: true, force: true })
      fs.cpSync(path.join(dir, String(index)), target, { recursive: true })
    })
    return hit.key
  }

  async save(paths: string[], key: string): Promise<void> {
    if (this.unreachable) {
      this.record({ op: 'unreachable', key })
      throw new Error('Cache service responded with 503 (stand-in set to unreachable)')
    }
    const dir = path.join(this.root, encodeURIComponent(key))
    if (fs.existsSync(path.join(dir, 'entry.json'))) {
      this.record({ op: 'save-existing', key })
      return
    }
    paths.forEach((p, index) => fs.cpSync(p, path.join(dir, String(index)), { recursive: true }))
    const entry: Entry = { key, paths, created: Date.now() * 1000 + this.sequence++ }
    fs.writeFileSync(path.join(dir, 'entry.json'), JSON.stringify(entry))
    this.record({ op: 'save', key })
  }
}
