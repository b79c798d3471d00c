/** HostSettings for unit tests of the host pipeline and the day-2 commands: project "shop". */
import { releaseComposeOf } from '../../src/deploy/release-files.js'
import { DEFAULT_TIMEOUTS, type HostSettings } from '../../src/deploy/settings.js'
import { projectFilesWith } from './project-files.js'

export function settingsWith(over: Partial<HostSettings> = {}): HostSettings {
  return {
    project: 'shop',
    deployPath: '/srv/sd',
    fallbackCompose: releaseComposeOf(projectFilesWith(), []),
    waitTimeoutSeconds: 5,
    lockTimeoutSeconds: 0,
    lockTtlSeconds: 600,
    keepReleases: 5,
    jobs: ['migrate'],
    rollingServices: ['api'],
    settleSeconds: 0,
    healthUrls: [],
    healthRetries: 0,
    sha: 'abc1234',
    actor: 'octocat',
    runUrl: undefined,
    timeouts: { ...DEFAULT_TIMEOUTS, pollMs: 10, lockPollMs: 10 },
    ...over
  }
}
