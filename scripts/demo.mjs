// `npm run demo`: with the lab up (the npm script starts it), runs stack-deploy's default
// pipeline on the reference stack: plan, build with buildx bake, smoke-test, tear down.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const env = { ...process.env }
for (const line of fs.readFileSync(path.join(root, '.lab', 'env'), 'utf8').split('\n')) {
  const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
  if (match) env[match[1]] = match[2].replace(/^'(.*)'$/, '$1')
}
// Throwaway secrets for a stack that lives only for this run.
env.POSTGRES_PASSWORD ??= 'demo-postgres-password'
env.REDIS_PASSWORD ??= 'demo-redis-password'
env.WEB_PORT ??= '0'

const cli = path.join(root, 'dist', 'cli', 'index.js')
const result = spawnSync(
  process.execPath,
  [cli, '--working-directory', path.join(root, 'compose'), ...process.argv.slice(2)],
  {
    env,
    stdio: 'inherit'
  }
)
process.exit(result.status ?? 1)
