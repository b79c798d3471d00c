import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  globToRegExp,
  loadIgnoreConfig,
  matchIgnoreRule,
  parseIgnoreDate,
  parseIgnoreFile,
  parsePurl,
  parseTrivyIgnore,
  parseTrivyIgnoreYaml,
  purlMatches,
  splitExpired
} from '../src/scan/ignore.js'
import type { TrivyVulnerability } from '../src/scan/report.js'

const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'scan')

describe('.trivyignore', () => {
  const config = parseTrivyIgnore(
    fs.readFileSync(path.join(FIXTURES, '.trivyignore'), 'utf8'),
    '.trivyignore'
  )

  it('reads IDs, skips comments and blank lines, and reads exp: dates', () => {
    expect(config.rules.map(r => [r.id, r.expiredAt?.toISOString().slice(0, 10), r.line])).toEqual([
      ['CVE-2099-1001', undefined, 2],
      ['CVE-2099-1002', '2026-01-01', 5],
      ['CVE-2099-1005', '2027-01-01', 8]
    ])
  })

  it('skips a line with a bad date, as Trivy does, and says so', () => {
    expect(config.rules.map(r => r.id)).not.toContain('CVE-2099-9999')
    expect(config.warnings).toEqual([
      '.trivyignore:9: "exp:2026-13-45" is not a date like exp:2026-12-31; the line is skipped, as Trivy skips it'
    ])
  })

  it.each([
    ['2026-11-21T00:00:00Z', ['CVE-2099-1001', 'CVE-2099-1005'], ['CVE-2099-1002']],
    ['2025-12-31T23:59:59Z', ['CVE-2099-1001', 'CVE-2099-1002', 'CVE-2099-1005'], []],
    // exp:2026-01-01 is 2026-01-01T00:00Z: Trivy drops it once that instant has passed
    ['2026-01-01T00:00:00.001Z', ['CVE-2099-1001', 'CVE-2099-1005'], ['CVE-2099-1002']],
    ['2027-06-01T00:00:00Z', ['CVE-2099-1001'], ['CVE-2099-1002', 'CVE-2099-1005']]
  ])('at %s applies %j and has expired %j', (now, active, expired) => {
    const split = splitExpired(config.rules, new Date(now))
    expect(split.active.map(r => r.id)).toEqual(active)
    expect(split.expired.map(r => r.id)).toEqual(expired)
  })

  it.each([
    ['2026-02-28', '2026-02-28T00:00:00.000Z'],
    ['2026-02-30', undefined],
    ['26-01-01', undefined],
    ['2026-1-1', undefined]
  ])('parses the date %s like Go time.Parse("2006-01-02")', (text, iso) => {
    expect(parseIgnoreDate(text)?.toISOString()).toBe(iso)
  })

  it('takes only the first field as the ID', () => {
    expect(parseTrivyIgnore('  CVE-1   extra words\n\t# indented comment\n', 'f').rules).toEqual([
      { id: 'CVE-1', line: 1 }
    ])
  })
})

describe('.trivyignore.yaml', () => {
  const config = parseTrivyIgnoreYaml(
    fs.readFileSync(path.join(FIXTURES, 'trivyignore.yaml'), 'utf8'),
    'trivyignore.yaml'
  )

  it('reads vulnerabilities with paths, purls, statement and expired_at', () => {
    expect(config.format).toBe('yaml')
    expect(config.rules).toEqual([
      {
        id: 'CVE-2099-2001',
        paths: ['app/node_modules/**'],
        statement: 'The app does not call the vulnerable lodash function'
      },
      { id: 'CVE-2099-1003', purls: ['pkg:deb/debian/perl-base'] },
      { id: 'CVE-2099-1006', purls: ['pkg:deb/debian/bash@9.9.9'] },
      { id: 'CVE-2099-1005', expiredAt: new Date('2026-01-01T00:00:00Z') }
    ])
  })

  it('is chosen by the extension, as Trivy chooses it', () => {
    expect(parseIgnoreFile('vulnerabilities: [{id: X}]', '/a/ignore.yml').format).toBe('yaml')
    expect(parseIgnoreFile('X\n', '/a/.trivyignore').format).toBe('trivyignore')
  })

  it.each([
    ['vulnerabilities: [{ paths: [a] }]', 'f.yaml: vulnerabilities[0] has no "id"'],
    ['vulnerabilities: {id: X}', 'f.yaml: "vulnerabilities" must be a list of { id, ... }'],
    [
      'vulnerabilities: [{id: X, expired_at: soon}]',
      'f.yaml: vulnerabilities[0].expired_at "soon" is not a date like 2026-12-31'
    ],
    [
      'vulnerabilities: [{id: X, purls: [lodash]}]',
      'f.yaml: vulnerabilities[0].purls has "lodash", not a PURL'
    ],
    [
      'vulnerabilities: [{id: X, paths: a}]',
      'f.yaml: vulnerabilities[0].paths must be a list of strings'
    ],
    [
      '- just a list',
      'f.yaml must be a mapping with a "vulnerabilities:" list (Trivy\'s .trivyignore.yaml format)'
    ],
    ['vulnerabilities: [', 'f.yaml is not valid YAML:']
  ])('rejects %j', (text, message) => {
    expect(() => parseTrivyIgnoreYaml(text, 'f.yaml')).toThrow(message)
  })

  it('accepts an empty file and a file without vulnerabilities', () => {
    expect(parseTrivyIgnoreYaml('', 'f.yaml').rules).toEqual([])
    expect(parseTrivyIgnoreYaml('secrets: [{id: aws-key}]', 'f.yaml').rules).toEqual([])
  })
})

describe('matching', () => {
  it.each([
    ['app/node_modules/**', 'app/node_modules/lodash/package.json', true],
    ['app/node_modules/**', 'app/lib/x.js', false],
    ['**/package.json', 'package.json', true],
    ['**/package.json', 'a/b/package.json', true],
    ['*.json', 'a/b.json', false],
    ['usr/lib/*/x', 'usr/lib/python3/x', true],
    ['usr/lib/{a,b}/x', 'usr/lib/b/x', true],
    ['usr/lib/[ab]/x', 'usr/lib/c/x', false],
    ['file?.txt', 'file1.txt', true],
    [
      'registry.example.com/shop/api:1.4.2 (debian 12.8)',
      'registry.example.com/shop/api:1.4.2 (debian 12.8)',
      true
    ]
  ])('doublestar %s against %s', (pattern, candidate, matches) => {
    expect(globToRegExp(pattern).test(candidate)).toBe(matches)
  })

  it.each([
    [
      'pkg:deb/debian/perl-base',
      'pkg:deb/debian/perl-base@5.36.0-7?arch=amd64&distro=debian-12.8',
      true
    ],
    ['pkg:deb/debian/perl-base@5.36.0-7', 'pkg:deb/debian/perl-base@5.36.0-7?arch=amd64', true],
    ['pkg:deb/debian/perl-base@5.36.0-8', 'pkg:deb/debian/perl-base@5.36.0-7?arch=amd64', false],
    ['pkg:deb/debian/perl-base?arch=arm64', 'pkg:deb/debian/perl-base@5.36.0-7?arch=amd64', false],
    ['pkg:deb/debian/perl-base?arch=amd64', 'pkg:deb/debian/perl-base@5.36.0-7?arch=amd64', true],
    ['pkg:deb/ubuntu/perl-base', 'pkg:deb/debian/perl-base@5.36.0-7', false],
    ['pkg:npm/%40babel/core', 'pkg:npm/%40babel/core@7.0.0', true],
    ['pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1', 'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1', true]
  ])('purl %s matches %s: %s', (rule, target, matches) => {
    expect(purlMatches(parsePurl(rule)!, parsePurl(target)!)).toBe(matches)
  })

  const vuln = (over: Partial<TrivyVulnerability> = {}): TrivyVulnerability => ({
    VulnerabilityID: 'CVE-1',
    PkgName: 'lodash',
    PkgPath: 'app/node_modules/lodash/package.json',
    PkgIdentifier: { PURL: 'pkg:npm/lodash@4.17.20' },
    ...over
  })

  it.each([
    ['by ID', [{ id: 'CVE-1' }], vuln(), 'Node.js', true],
    ['another ID', [{ id: 'CVE-2' }], vuln(), 'Node.js', false],
    ['by package path', [{ id: 'CVE-1', paths: ['app/**'] }], vuln(), 'Node.js', true],
    ['by target', [{ id: 'CVE-1', paths: ['Node.js'] }], vuln(), 'Node.js', true],
    ['path elsewhere', [{ id: 'CVE-1', paths: ['lib/**'] }], vuln(), 'Node.js', false],
    ['by purl', [{ id: 'CVE-1', purls: ['pkg:npm/lodash'] }], vuln(), 'Node.js', true],
    ['other purl', [{ id: 'CVE-1', purls: ['pkg:npm/underscore'] }], vuln(), 'Node.js', false],
    [
      'purls do not filter a package without a PURL (Trivy)',
      [{ id: 'CVE-1', purls: ['pkg:npm/underscore'] }],
      vuln({ PkgIdentifier: undefined }),
      'Node.js',
      true
    ]
  ])('%s', (_name, rules, v, target, ignored) => {
    expect(matchIgnoreRule(rules, v, target) !== undefined).toBe(ignored)
  })
})

describe('finding the ignore file', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-ignore-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('finds none', () => {
    expect(loadIgnoreConfig(undefined, dir)).toEqual({
      file: undefined,
      format: 'none',
      rules: [],
      warnings: []
    })
  })

  it('prefers .trivyignore.yaml and warns when there are two', () => {
    fs.writeFileSync(path.join(dir, '.trivyignore'), 'CVE-A\n')
    fs.writeFileSync(path.join(dir, '.trivyignore.yaml'), 'vulnerabilities: [{id: CVE-B}]\n')
    const config = loadIgnoreConfig(undefined, dir)
    expect(config.file).toBe(path.join(dir, '.trivyignore.yaml'))
    expect(config.rules.map(r => r.id)).toEqual(['CVE-B'])
    expect(config.warnings).toEqual([
      `Found .trivyignore.yaml and .trivyignore in ${dir}; using .trivyignore.yaml only. Merge them into one file, or name one explicitly.`
    ])
  })

  it('reads a named file relative to the working directory', () => {
    fs.mkdirSync(path.join(dir, 'security'))
    fs.writeFileSync(path.join(dir, 'security', 'accepted.trivyignore'), 'CVE-C\n')
    const config = loadIgnoreConfig('security/accepted.trivyignore', dir)
    expect(config.rules.map(r => r.id)).toEqual(['CVE-C'])
  })

  it('fails on a named file that does not exist, naming it', () => {
    expect(() => loadIgnoreConfig('nope.yaml', dir)).toThrow(
      `The ignore file ${path.join(dir, 'nope.yaml')} does not exist`
    )
  })
})
