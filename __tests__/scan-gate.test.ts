import * as fs from 'node:fs'
import * as path from 'node:path'
import { evaluateGate, exitCodeFor, isUnfixed, type GatePolicy } from '../src/scan/gate.js'
import { parseTrivyIgnore, parseTrivyIgnoreYaml, splitExpired } from '../src/scan/ignore.js'
import {
  parseSeverities,
  parseTrivyReport,
  ScanReportError,
  type Severity,
  type TrivyReport
} from '../src/scan/report.js'

const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'scan')
const read = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8')
const api = parseTrivyReport(read('report-api.json'), 'api', 'report-api.json')

const policy = (over: Partial<GatePolicy> = {}): GatePolicy => ({
  severities: ['CRITICAL', 'HIGH'],
  ignoreUnfixed: false,
  rules: [],
  exitCode: 1,
  ...over
})

const counts = (c: number, h: number, m: number, l: number, u: number) => ({
  CRITICAL: c,
  HIGH: h,
  MEDIUM: m,
  LOW: l,
  UNKNOWN: u
})

describe('the gate', () => {
  it('counts every finding once, an empty severity as UNKNOWN', () => {
    const gate = evaluateGate(api, policy())
    // the duplicated libc6 entry counts once; libgnutls30 has Severity ""
    expect(gate.counts).toEqual(counts(2, 3, 1, 1, 1))
    expect(gate.ignored).toEqual({ ignoreFile: 0, unfixed: 0 })
  })

  it.each<[string, Severity[], ReturnType<typeof counts>, string]>([
    ['CRITICAL,HIGH', ['CRITICAL', 'HIGH'], counts(2, 3, 0, 0, 0), 'fail'],
    ['CRITICAL only', ['CRITICAL'], counts(2, 0, 0, 0, 0), 'fail'],
    ['MEDIUM only', ['MEDIUM'], counts(0, 0, 1, 0, 0), 'fail'],
    ['UNKNOWN only', ['UNKNOWN'], counts(0, 0, 0, 0, 1), 'fail'],
    ['LOW,UNKNOWN', ['LOW', 'UNKNOWN'], counts(0, 0, 0, 1, 1), 'fail']
  ])('threshold %s', (_name, severities, blocking, verdict) => {
    const gate = evaluateGate(api, policy({ severities }))
    expect(gate.blockingCounts).toEqual(blocking)
    expect(gate.verdict).toBe(verdict)
  })

  it('passes a clean report, whatever the threshold', () => {
    const clean = parseTrivyReport(read('report-clean.json'), 'web', 'report-clean.json')
    const gate = evaluateGate(
      clean,
      policy({ severities: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] })
    )
    expect(gate.verdict).toBe('pass')
    expect(gate.counts).toEqual(counts(0, 0, 0, 0, 0))
  })

  it('orders blocking findings most severe first, fixable first', () => {
    const gate = evaluateGate(api, policy())
    expect(gate.blocking.map(f => `${f.severity} ${f.id} ${f.pkg} ${f.fixed || '-'}`)).toEqual([
      'CRITICAL CVE-2099-1001 libssl3 3.0.13-1~deb12u1',
      'CRITICAL CVE-2099-1004 zlib1g -',
      'HIGH CVE-2099-1002 libc6 2.36-9+deb12u7',
      'HIGH CVE-2099-2001 lodash 4.17.21',
      'HIGH CVE-2099-1003 perl-base -'
    ])
  })

  it('skips unfixed findings with ignore-unfixed (no FixedVersion, or a status other than fixed)', () => {
    const gate = evaluateGate(api, policy({ ignoreUnfixed: true }))
    expect(gate.counts).toEqual(counts(1, 2, 1, 0, 1))
    expect(gate.ignored).toEqual({ ignoreFile: 0, unfixed: 3 })
    expect(gate.blocking.map(f => f.id)).toEqual([
      'CVE-2099-1001',
      'CVE-2099-1002',
      'CVE-2099-2001'
    ])
  })

  it.each([
    [{ FixedVersion: '1.2', Status: 'fixed' }, false],
    [{ FixedVersion: '1.2' }, false],
    [{ FixedVersion: '', Status: 'affected' }, true],
    [{ Status: 'will_not_fix' }, true],
    [{ FixedVersion: '1.2', Status: 'fix_deferred' }, true],
    [{}, true]
  ])('%j is unfixed: %s', (fields, unfixed) => {
    expect(isUnfixed({ VulnerabilityID: 'X', PkgName: 'p', ...fields })).toBe(unfixed)
  })

  it('applies a .trivyignore, minus its expired entries', () => {
    const config = parseTrivyIgnore(read('.trivyignore'), '.trivyignore')
    const { active } = splitExpired(config.rules, new Date('2026-11-21T12:00:00Z'))
    const gate = evaluateGate(api, policy({ rules: active }))
    // CVE-2099-1001 is ignored; CVE-2099-1002 expired on 2026-01-01 and counts again
    expect(gate.blocking.map(f => f.id)).toEqual([
      'CVE-2099-1004',
      'CVE-2099-1002',
      'CVE-2099-2001',
      'CVE-2099-1003'
    ])
    expect(gate.counts).toEqual(counts(1, 3, 0, 1, 1))
    expect(gate.ignored).toEqual({ ignoreFile: 2, unfixed: 0 })
  })

  it('applies a .trivyignore.yaml with paths and purls', () => {
    const config = parseTrivyIgnoreYaml(read('trivyignore.yaml'), 'trivyignore.yaml')
    const { active } = splitExpired(config.rules, new Date('2026-11-21T12:00:00Z'))
    const gate = evaluateGate(api, policy({ rules: active }))
    // lodash by path and perl-base by purl are ignored; bash's purl pins another version and
    // CVE-2099-1005's entry expired: both still count
    expect(gate.ignored).toEqual({ ignoreFile: 2, unfixed: 0 })
    expect(gate.counts).toEqual(counts(2, 1, 1, 1, 1))
    expect(gate.blocking.map(f => f.id)).toEqual([
      'CVE-2099-1001',
      'CVE-2099-1004',
      'CVE-2099-1002'
    ])
  })

  it('counts an unfixed finding as unfixed even when the ignore file lists it too', () => {
    const gate = evaluateGate(
      api,
      policy({ ignoreUnfixed: true, rules: [{ id: 'CVE-2099-1003' }, { id: 'CVE-2099-1001' }] })
    )
    expect(gate.ignored).toEqual({ ignoreFile: 1, unfixed: 3 })
  })

  it.each<[string, 0 | 1, string]>([
    ['exit code 1 fails', 1, 'fail'],
    ['exit code 0 reports only', 0, 'report-only']
  ])('%s', (_name, exitCode, verdict) => {
    expect(evaluateGate(api, policy({ exitCode })).verdict).toBe(verdict)
  })

  it.each<[string, { default: 0 | 1; perService: Record<string, 0 | 1> }, 0 | 1]>([
    ['api', { default: 1, perService: {} }, 1],
    ['api', { default: 1, perService: { api: 0 } }, 0],
    ['web', { default: 1, perService: { api: 0 } }, 1],
    ['web', { default: 0, perService: { api: 1 } }, 0],
    ['api', { default: 0, perService: { api: 1 } }, 1],
    ['constructor', { default: 1, perService: {} }, 1]
  ])('exit code of %s with %j', (service, exitCodes, code) => {
    expect(exitCodeFor(service, exitCodes)).toBe(code)
  })
})

describe('reading reports', () => {
  it('fails on a report cut off half-way, naming the service and the file, in one line', () => {
    const text = read('report-api.json')
    let error: unknown
    try {
      parseTrivyReport(text.slice(0, text.length / 2), 'api', '/out/api.trivy.json')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ScanReportError)
    const message = (error as Error).message
    expect(message).toMatch(
      /^The Trivy report for service "api" is not valid JSON: \/out\/api\.trivy\.json \(.+\); re-run the scan/
    )
    expect(message).not.toContain('\n')
  })

  it.each([
    ['[]', 'is not a JSON object'],
    ['{"SchemaVersion": 1}', 'has SchemaVersion 1, expected 2'],
    ['{"ArtifactName": "x"}', 'has SchemaVersion undefined, expected 2'],
    ['{"SchemaVersion": 2, "Results": {}}', 'has a "Results" that is not a list']
  ])('rejects %s', (text, message) => {
    expect(() => parseTrivyReport(text, 'web', '/w.json')).toThrow(message)
  })

  it('accepts a report without Results (nothing detected)', () => {
    const report: TrivyReport = parseTrivyReport(
      '{"SchemaVersion": 2, "ArtifactName": "x"}',
      's',
      'p'
    )
    expect(evaluateGate(report, policy()).verdict).toBe('pass')
  })
})

describe('severity thresholds', () => {
  it.each([
    [
      ['CRITICAL', 'HIGH'],
      ['CRITICAL', 'HIGH']
    ],
    [
      ['high', ' critical '],
      ['CRITICAL', 'HIGH']
    ],
    [
      ['LOW', 'LOW', 'UNKNOWN'],
      ['LOW', 'UNKNOWN']
    ]
  ])('normalises %j', (input, output) => {
    expect(parseSeverities(input)).toEqual(output)
  })

  it.each([
    [['SEVERE'], 'unknown severity "SEVERE"; use any of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN'],
    [[], 'give at least one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN'],
    [[' '], 'give at least one of']
  ])('rejects %j', (input, message) => {
    expect(() => parseSeverities(input)).toThrow(message)
  })
})
