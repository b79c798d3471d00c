// `npm run bench` (after `npm run lab:up`): runs every bench/*.bench.mjs, or those named on
// the command line (`npm run bench -- plan`), and prints the ratios each one measured.
import * as fs from 'node:fs'
import * as path from 'node:path'

const dir = path.dirname(new URL(import.meta.url).pathname)
const wanted = process.argv.slice(2)
const files = fs
  .readdirSync(dir)
  .filter(file => file.endsWith('.bench.mjs'))
  .filter(file => wanted.length === 0 || wanted.includes(file.replace('.bench.mjs', '')))
  .sort()
if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}`)
  process.exit(1)
}
const results = {}
for (const file of files) {
  console.log(`== ${file}`)
  const bench = (await import(path.join(dir, file))).default
  Object.assign(results, await bench())
}
console.log(`\nratios (stack-deploy / plain docker): ${JSON.stringify(results)}`)
