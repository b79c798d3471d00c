/**
 * The health URLs, from the runner, after a rollout or a rollback: each must answer 2xx (a
 * WebSocket one: 101) within health-retries attempts.
 */
import { checkWebSocket } from '../../exec/websocket.js'
import { sleep } from '../../exec/time.js'
import { runStep, type HostContext } from '../host.js'

/** Substitutes {host} in a health URL. */
export function healthUrlFor(template: string, host: string): string {
  return template.replace(/\{host\}/g, host.includes(':') ? `[${host}]` : host)
}

async function check(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  if (/^wss?:\/\//.test(url)) {
    const result = await checkWebSocket(url, { timeoutMs })
    return { ok: result.ok, detail: result.detail }
  }
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual'
    })
    return {
      ok: response.status >= 200 && response.status < 300,
      detail: `HTTP ${response.status}`
    }
  } catch (error) {
    return { ok: false, detail: (error as Error).message }
  }
}

export async function verify(ctx: HostContext): Promise<void> {
  const { healthUrls, healthRetries, timeouts } = ctx.settings
  if (healthUrls.length === 0) return
  await runStep(ctx, 'verify', async () => {
    for (const template of healthUrls) {
      const url = healthUrlFor(template, ctx.session.address)
      let last = { ok: false, detail: '' }
      for (let attempt = 0; attempt <= healthRetries && !last.ok; attempt++) {
        if (attempt > 0) await sleep(timeouts.pollMs)
        last = await check(url, timeouts.healthRequestMs)
      }
      if (!last.ok)
        throw new Error(
          `health check ${url} failed after ${healthRetries + 1} attempts: ${last.detail}`
        )
    }
  })
}
