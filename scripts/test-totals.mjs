// Prints the closing "N passed, N failed" line from the totals the jest reporter wrote.
import * as fs from 'node:fs'
import * as path from 'node:path'

const dir = path.resolve('.jest-results')
const extraFailures = Number(process.argv[2] ?? 0)
let passed = 0
let failed = extraFailures
let skipped = 0
for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  const totals = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))
  passed += totals.passed
  failed += totals.failed
  skipped += totals.skipped
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
