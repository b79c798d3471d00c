'use strict'
// One JSON object per line on stdout: easy for `docker logs`, jq and log shippers.
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 }

function createLogger(level = 'info', base = {}, out = process.stdout) {
  const min = LEVELS[level] ?? LEVELS.info
  const write = (lvl, msg, fields) => {
    if (LEVELS[lvl] < min) return
    const entry = { time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }
    if (entry.err instanceof Error) entry.err = { message: entry.err.message, code: entry.err.code }
    out.write(`${JSON.stringify(entry)}\n`)
  }
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields)
  }
}

module.exports = { createLogger }
