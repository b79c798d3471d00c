import type { Finding } from '../src/scan/gate.js'
import { emptyCounts, type Severity } from '../src/scan/report.js'
import {
  describeCounts,
  failureAnnotation,
  gateFailureMessage,
  orderRows,
  renderScanSummary,
  worstFindings,
  type ServiceRow,
  type SummaryContext
} from '../src/scan/summary.js'

const finding = (
  id: string,
  severity: Severity,
  pkg: string,
  installed: string,
  fixed = ''
): Finding => ({
  id,
  pkg,
  installed,
  fixed,
  severity,
  title: `${pkg} title | with pipe`,
  url: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
  target: 'x'
})

function row(service: string, findings: Finding[], over: Partial<ServiceRow> = {}): ServiceRow {
  const counts = emptyCounts()
  const blockingCounts = emptyCounts()
  for (const f of findings) {
    counts[f.severity]++
    if (f.severity === 'CRITICAL' || f.severity === 'HIGH') blockingCounts[f.severity]++
  }
  const blocking = findings.filter(f => f.severity === 'CRITICAL' || f.severity === 'HIGH')
  return {
    service,
    ref: `registry.example.com/shop/${service}:1`,
    counts,
    ignored: { ignoreFile: 0, unfixed: 0 },
    blocking,
    blockingCounts,
    verdict: blocking.length === 0 ? 'pass' : 'fail',
    exitCode: 1,
    ...over
  }
}

const api = row('api', [
  finding('CVE-2099-0003', 'HIGH', 'perl-base', '5.36.0-7'),
  finding('CVE-2099-0001', 'CRITICAL', 'libssl3', '3.0.11-1', '3.0.13-1'),
  finding('CVE-2099-0002', 'CRITICAL', 'zlib1g', '1:1.2.13'),
  finding('CVE-2099-0004', 'HIGH', 'libc6', '2.36-9', '2.36-9+deb12u7'),
  finding('CVE-2099-0005', 'HIGH', 'tar', '1.34', '1.35'),
  finding('CVE-2099-0006', 'HIGH', 'bash', '5.2', '5.3'),
  finding('CVE-2099-0007', 'MEDIUM', 'curl', '7.88', '7.89'),
  finding('CVE-2099-0008', 'LOW', 'gzip', '1.12')
])
const web = row('web', [finding('CVE-2099-0100', 'HIGH', 'nginx', '1.22.1', '1.22.2')])
const db = row('db', [finding('CVE-2099-0200', 'CRITICAL', 'libpq5', '15.1', '15.2')], {
  verdict: 'report-only',
  exitCode: 0
})
const cache = row('cache', [finding('CVE-2099-0300', 'LOW', 'redis', '7.0')], {
  ignored: { ignoreFile: 2, unfixed: 1 }
})

const context: SummaryContext = {
  threshold: ['CRITICAL', 'HIGH'],
  ignoreUnfixed: true,
  ignoreFile: '.trivyignore',
  ignoreNote: '3 rules, 1 expired',
  trivyVersion: '0.74.0',
  dbNote: 'downloaded from mirror.gcr.io/aquasec/trivy-db:2, cached as trivy-db-2026-11-21',
  sarifDir: 'stack-deploy-sarif'
}

describe('scan summary', () => {
  it('orders services: failing, then report-only, then passing; most severe first', () => {
    expect(orderRows([cache, web, db, api]).map(r => r.service)).toEqual([
      'api',
      'web',
      'db',
      'cache'
    ])
  })

  it('picks the 5 worst blocking findings, most severe and fixable first', () => {
    expect(worstFindings(api).map(f => `${f.severity} ${f.id}`)).toEqual([
      'CRITICAL CVE-2099-0001',
      'CRITICAL CVE-2099-0002',
      'HIGH CVE-2099-0004',
      'HIGH CVE-2099-0005',
      'HIGH CVE-2099-0006'
    ])
  })

  it('renders the service × severity table, the settings, and the worst findings', () => {
    expect(renderScanSummary([cache, web, db, api], context)).toBe(
      [
        '### Image scan',
        '',
        '| Service | Image | CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN | Ignored | Gate |',
        '|---|---|--:|--:|--:|--:|--:|--:|---|',
        '| api | `registry.example.com/shop/api:1` | **2** | **4** | 1 | 1 | 0 | 0 | ❌ fail |',
        '| web | `registry.example.com/shop/web:1` | 0 | **1** | 0 | 0 | 0 | 0 | ❌ fail |',
        '| db | `registry.example.com/shop/db:1` | **1** | 0 | 0 | 0 | 0 | 0 | ⚠️ report only (exit code 0) |',
        '| cache | `registry.example.com/shop/cache:1` | 0 | 0 | 0 | 1 | 0 | 3 | ✅ pass |',
        '',
        'Gate: CRITICAL, HIGH · ignore unfixed: yes · ignore file: `.trivyignore` (3 rules, 1 expired) · Trivy 0.74.0 · DB downloaded from mirror.gcr.io/aquasec/trivy-db:2, cached as trivy-db-2026-11-21 · SARIF in `stack-deploy-sarif`',
        '',
        '#### api: worst findings (5 of 6)',
        '',
        '| Severity | ID | Package | Installed | Fixed | Title |',
        '|---|---|---|---|---|---|',
        '| CRITICAL | [CVE-2099-0001](https://avd.aquasec.com/nvd/cve-2099-0001) | libssl3 | `3.0.11-1` | `3.0.13-1` | libssl3 title \\| with pipe |',
        '| CRITICAL | [CVE-2099-0002](https://avd.aquasec.com/nvd/cve-2099-0002) | zlib1g | `1:1.2.13` | no fix yet | zlib1g title \\| with pipe |',
        '| HIGH | [CVE-2099-0004](https://avd.aquasec.com/nvd/cve-2099-0004) | libc6 | `2.36-9` | `2.36-9+deb12u7` | libc6 title \\| with pipe |',
        '| HIGH | [CVE-2099-0005](https://avd.aquasec.com/nvd/cve-2099-0005) | tar | `1.34` | `1.35` | tar title \\| with pipe |',
        '| HIGH | [CVE-2099-0006](https://avd.aquasec.com/nvd/cve-2099-0006) | bash | `5.2` | `5.3` | bash title \\| with pipe |',
        '',
        '#### web: worst findings',
        '',
        '| Severity | ID | Package | Installed | Fixed | Title |',
        '|---|---|---|---|---|---|',
        '| HIGH | [CVE-2099-0100](https://avd.aquasec.com/nvd/cve-2099-0100) | nginx | `1.22.1` | `1.22.2` | nginx title \\| with pipe |',
        '',
        '#### db: worst findings',
        '',
        '| Severity | ID | Package | Installed | Fixed | Title |',
        '|---|---|---|---|---|---|',
        '| CRITICAL | [CVE-2099-0200](https://avd.aquasec.com/nvd/cve-2099-0200) | libpq5 | `15.1` | `15.2` | libpq5 title \\| with pipe |',
        '',
        ''
      ].join('\n')
    )
  })

  it('gives a failing service one annotation naming its worst findings', () => {
    expect(failureAnnotation(api, ['CRITICAL', 'HIGH'])).toEqual({
      title: 'Scan gate failed: api',
      message: [
        'api (registry.example.com/shop/api:1) has 2 CRITICAL, 4 HIGH at or above the threshold CRITICAL,HIGH. Worst findings:',
        '- CVE-2099-0001 libssl3 3.0.11-1 → 3.0.13-1 (CRITICAL)',
        '- CVE-2099-0002 zlib1g 1:1.2.13 → no fix yet (CRITICAL)',
        '- CVE-2099-0004 libc6 2.36-9 → 2.36-9+deb12u7 (HIGH)',
        '- CVE-2099-0005 tar 1.34 → 1.35 (HIGH)',
        '- CVE-2099-0006 bash 5.2 → 5.3 (HIGH)',
        '- and 1 more (see the job summary and the SARIF upload)',
        'Rebuild on a patched base image or upgrade these packages; to accept a risk, list its ID in .trivyignore with an exp: date.'
      ].join('\n')
    })
    expect(failureAnnotation(db, ['CRITICAL', 'HIGH']).title).toBe(
      'Scan findings (report only): db'
    )
  })

  it('says in one line which services fail and why', () => {
    expect(gateFailureMessage([cache, web, db, api], ['CRITICAL', 'HIGH'])).toBe(
      'Scan gate failed: api has 2 CRITICAL, 4 HIGH; web has 1 HIGH (threshold CRITICAL,HIGH); see the job summary'
    )
  })

  it.each([
    [{ ...emptyCounts(), HIGH: 1, CRITICAL: 2 }, '2 CRITICAL, 1 HIGH'],
    [{ ...emptyCounts(), UNKNOWN: 3 }, '3 UNKNOWN'],
    [emptyCounts(), '']
  ])('describes %j', (counts, text) => {
    expect(describeCounts(counts)).toBe(text)
  })
})
