'use strict'
// Container healthcheck without curl/wget: exit 0 when GET /health answers
// 200 within the timeout, 1 otherwise. Used by the Dockerfile HEALTHCHECK and
// the compose healthcheck (`node src/healthcheck.js`).
const port = process.env.PORT || 3000
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS) || 3000

fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) })
  .then(async res => {
    if (res.ok) process.exit(0)
    console.error(`unhealthy: HTTP ${res.status} ${await res.text()}`)
    process.exit(1)
  })
  .catch(err => {
    console.error(`unhealthy: ${err.message}`)
    process.exit(1)
  })
