// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with @vercel/ncc.
// With --check, bundles into a temporary folder and fails if dist/ differs: dist/ is what
// the runner executes, so a stale one ships old code.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const check = process.argv.includes('--check')
// Always bundled into a fresh folder first: a failed bundle must not leave dist/ half gone.
const out = fs.mkdtempSync(
  path.join(check ? os.tmpdir() : root, check ? 'stack-deploy-dist-' : '.dist-')
)
const ncc = path.join(root, 'node_modules', '.bin', 'ncc')

const bundles = [
  { entry: 'src/index.ts', dir: '.' },
  { entry: 'src/cli/index.ts', dir: 'cli' }
]
try {
  for (const bundle of bundles) bundleOne(bundle)
} catch (error) {
  fs.rmSync(out, { recursive: true, force: true })
  console.error(`Bundling failed; dist/ is left as it was. ${error.message.split('\n')[0]}`)
  process.exit(1)
}
function bundleOne(bundle) {
  execFileSync(
    ncc,
    [
      'build',
      bundle.entry,
      '--out',
      path.join(out, bundle.dir),
      '--license',
      'licenses.txt',
      '--quiet',
      '--target',
      'es2023'
    ],
    {
      cwd: root,
      stdio: 'inherit'
    }
  )
}
// ncc writes ESM bundles; a package.json marks them as modules wherever dist/ is copied.
fs.writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n')
const cli = path.join(out, 'cli', 'index.js')
fs.chmodSync(cli, 0o755)
if (!check) {
  const dist = path.join(root, 'dist')
  fs.rmSync(dist, { recursive: true, force: true })
  fs.renameSync(out, dist)
}

if (check) {
  const listing = dir =>
    fs
      .readdirSync(dir, { recursive: true })
      .map(String)
      .filter(f => fs.statSync(path.join(dir, f)).isFile())
      .sort()
  const want = listing(out)
  const have = fs.existsSync(path.join(root, 'dist')) ? listing(path.join(root, 'dist')) : []
  const stale = [
    ...want.filter(
      f =>
        !have.includes(f) ||
        !fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(root, 'dist', f)))
    ),
    ...have.filter(f => !want.includes(f))
  ]
  fs.rmSync(out, { recursive: true, force: true })
  if (stale.length > 0) {
    console.error(`dist/ is stale (${stale.join(', ')}): run \`npm run package\` and commit dist/.`)
    process.exit(1)
  }
  console.log('dist/ is up to date.')
}
