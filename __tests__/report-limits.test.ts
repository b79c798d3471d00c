import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionReporter } from '../src/report/action-reporter.js'
import { AnnotationBudget, fitSummary, SUMMARY_LIMIT_BYTES } from '../src/report/limits.js'

describe('fitSummary', () => {
  it('leaves a summary that fits as it is', () => {
    expect(fitSummary('### Build\n\n| a | b |\n', 0)).toEqual({
      text: '### Build\n\n| a | b |\n',
      omittedBytes: 0
    })
  })

  it('cuts on a line boundary, closes an open fence and details, and says how much is left out', () => {
    const head = '### Smoke test failed\n\n<details><summary>api</summary>\n\n```text\n'
    const lines = Array.from({ length: 5000 }, (_, i) => `log line ${i} ${'x'.repeat(60)}`)
    const markdown = `${head}${lines.join('\n')}\n\`\`\`\n</details>\n`
    const fitted = fitSummary(markdown, 0, 100 * 1024)
    expect(Buffer.byteLength(fitted.text)).toBeLessThanOrEqual(100 * 1024)
    expect(fitted.omittedBytes).toBeGreaterThan(0)
    expect(fitted.text.startsWith(head)).toBe(true)
    const body = fitted.text.slice(0, fitted.text.indexOf('\n> [!NOTE]'))
    // The last kept log line is whole, then the fence and the details block are closed.
    expect(body).toMatch(/log line \d+ x{60}\n```\n<\/details>\n$/)
    expect(fitted.text).toContain(`${fitted.omittedBytes} bytes left out`)
  })

  it('counts bytes, not characters, and never splits a multi-byte character', () => {
    const markdown = `${'✅ ok\n'.repeat(40000)}`
    const fitted = fitSummary(markdown, 0, 64 * 1024)
    expect(Buffer.byteLength(fitted.text)).toBeLessThanOrEqual(64 * 1024)
    expect(fitted.text).not.toContain('\uFFFD')
    expect(fitted.text.split('\n> [!NOTE]')[0]).toMatch(/^(✅ ok\n)+$/)
  })

  it('accounts for what the step already wrote', () => {
    const markdown = 'y'.repeat(200) + '\n'
    expect(fitSummary(markdown, 0, 20 * 1024).omittedBytes).toBe(0)
    // 16 KiB of margin + 4 KiB already used: nothing is left.
    expect(fitSummary(markdown, 4 * 1024, 20 * 1024)).toEqual({ text: '', omittedBytes: 201 })
  })

  it('keeps a whole default-sized summary under 1 MiB', () => {
    const big = `${'| svc | CVE-2024-0001 | HIGH | pkg | 1.0 | 1.1 |\n'.repeat(40000)}`
    const fitted = fitSummary(big, 0)
    expect(Buffer.byteLength(fitted.text)).toBeLessThan(SUMMARY_LIMIT_BYTES)
  })
})

describe('AnnotationBudget', () => {
  it('allows 10 warnings and 9 errors, keeping one error for the failure message', () => {
    const budget = new AnnotationBudget()
    const warnings = Array.from({ length: 12 }, () => budget.take('warning'))
    const errors = Array.from({ length: 12 }, () => budget.take('error'))
    expect(warnings.filter(Boolean)).toHaveLength(10)
    expect(errors.filter(Boolean)).toHaveLength(9)
    // The first ones are kept: stages emit the most important first.
    expect(warnings.slice(0, 10).every(Boolean)).toBe(true)
    expect(errors.slice(0, 9).every(Boolean)).toBe(true)
    expect(budget.overflow('warning')).toBe(2)
    expect(budget.overflow('error')).toBe(3)
  })
})

describe('ActionReporter within the limits', () => {
  let dir: string
  let written: string[]
  let restore: () => void
  const saved = process.env.GITHUB_STEP_SUMMARY

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summary-'))
    process.env.GITHUB_STEP_SUMMARY = path.join(dir, 'summary.md')
    fs.writeFileSync(process.env.GITHUB_STEP_SUMMARY, '')
    written = []
    const original = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array): boolean => {
      written.push(String(chunk))
      return true
    }) as typeof process.stdout.write
    restore = () => {
      process.stdout.write = original
    }
  })
  afterEach(() => {
    restore()
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY
    else process.env.GITHUB_STEP_SUMMARY = saved
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('annotates the first 9 errors and 10 warnings, and logs the rest', () => {
    const reporter = new ActionReporter()
    for (let i = 1; i <= 12; i++) reporter.error(`service ${i} failed`, { title: `svc${i}` })
    for (let i = 1; i <= 11; i++) reporter.warning(`warning ${i}`)
    const out = written.join('')
    const errors = out.split('\n').filter(line => line.startsWith('::error'))
    expect(errors).toHaveLength(9)
    expect(errors[0]).toBe('::error title=svc1::service 1 failed')
    expect(out.split('\n').filter(line => line.startsWith('::warning'))).toHaveLength(10)
    expect(out).toContain('ERROR: svc10: service 10 failed')
    expect(out).toContain('ERROR: svc12: service 12 failed')
    expect(out).toContain('WARNING: warning 11')
  })

  it('keeps the summary file under 1 MiB, however much is added', async () => {
    const reporter = new ActionReporter()
    const block = `### Scan\n\n${'| api | CVE-2024-0001 | HIGH | openssl | 3.0 | 3.1 |\n'.repeat(12000)}`
    for (let i = 0; i < 3; i++) await reporter.addSummary(block)
    const size = fs.statSync(process.env.GITHUB_STEP_SUMMARY as string).size
    expect(size).toBeLessThan(SUMMARY_LIMIT_BYTES)
    expect(size).toBeGreaterThan(SUMMARY_LIMIT_BYTES - 64 * 1024)
    const text = fs.readFileSync(process.env.GITHUB_STEP_SUMMARY as string, 'utf8')
    expect(text.startsWith(block)).toBe(true)
    expect(text).toContain('bytes left out')
    expect(written.join('')).toContain("near GitHub's 1 MiB limit")
  })
})
