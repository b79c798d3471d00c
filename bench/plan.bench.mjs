// `stack-deploy plan --json` against the command it wraps, `docker compose config --format json`,
// on the reference stack: what reading the model through our CLI costs on top of compose.
import * as path from 'node:path'
import { CLI, ROOT, labEnv, report, timed, referenceStackEnv } from './lib.mjs'

export default function planBench({ runs = 7 } = {}) {
  const lab = labEnv()
  const env = referenceStackEnv(lab, {
    POSTGRES_PASSWORD: 'bench',
    REDIS_PASSWORD: 'bench'
  })
  const cwd = path.join(ROOT, 'compose')
  const ours = []
  const theirs = []
  for (let i = 0; i < runs; i++) {
    // Interleaved so that noise hits both sides alike.
    theirs.push(
      timed(
        [
          'docker',
          'compose',
          '-f',
          'compose.yaml',
          '-f',
          'compose.prod.yaml',
          'config',
          '--format',
          'json'
        ],
        { cwd, env }
      ).seconds
    )
    ours.push(
      timed(
        [process.execPath, CLI, 'plan', '--json', '-f', 'compose.yaml', '-f', 'compose.prod.yaml'],
        { cwd, env }
      ).seconds
    )
  }
  return { plan: report('plan (reference stack, base + prod)', ours, theirs) }
}
