import {
  compareVersions,
  dbDownloadArgs,
  imageScanArgs,
  isRateLimited,
  parseTrivyVersion,
  quietNetworkFlags,
  sarifConvertArgs,
  trivyVersionArgs
} from '../src/scan/trivy-args.js'

describe('trivy argv', () => {
  it('asks for the version', () => {
    expect(trivyVersionArgs('/t/trivy')).toEqual(['/t/trivy', '--version'])
  })

  it.each([
    [
      'one repository, a current Trivy',
      { cacheDir: '/c', repository: 'mirror.gcr.io/aquasec/trivy-db:2', version: '0.74.0' },
      [
        'trivy',
        'image',
        '--download-db-only',
        '--cache-dir',
        '/c',
        '--db-repository',
        'mirror.gcr.io/aquasec/trivy-db:2',
        '--no-progress',
        '--skip-version-check',
        '--disable-telemetry',
        '--timeout',
        '10m'
      ]
    ],
    [
      'a Trivy older than the telemetry flags',
      {
        cacheDir: '/dir with space',
        repository: 'ghcr.io/aquasecurity/trivy-db:2',
        version: '0.62.1'
      },
      [
        'trivy',
        'image',
        '--download-db-only',
        '--cache-dir',
        '/dir with space',
        '--db-repository',
        'ghcr.io/aquasecurity/trivy-db:2',
        '--no-progress',
        '--timeout',
        '10m'
      ]
    ]
  ])('downloads the DB: %s', (_name, options, argv) => {
    expect(dbDownloadArgs('trivy', options)).toEqual(argv)
  })

  it('scans an image completely: all severities, exit code 0, no ignore file, no DB update', () => {
    expect(
      imageScanArgs('/t/trivy', {
        ref: 'registry.example.com/shop/api@sha256:abc',
        cacheDir: '/c',
        output: '/out/api.trivy.json',
        emptyIgnoreFile: '/w/no-ignores.trivyignore',
        version: '0.74.0'
      })
    ).toEqual([
      '/t/trivy',
      'image',
      '--scanners',
      'vuln',
      '--format',
      'json',
      '--output',
      '/out/api.trivy.json',
      '--severity',
      'UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL',
      '--exit-code',
      '0',
      '--ignorefile',
      '/w/no-ignores.trivyignore',
      '--cache-dir',
      '/c',
      '--cache-backend',
      'memory',
      '--skip-db-update',
      '--skip-java-db-update',
      '--no-progress',
      '--skip-version-check',
      '--disable-telemetry',
      '--timeout',
      '15m',
      'registry.example.com/shop/api@sha256:abc'
    ])
  })

  it('passes a custom timeout, and the image ref last', () => {
    const argv = imageScanArgs('trivy', {
      ref: 'x:1',
      cacheDir: '/c',
      output: '/o.json',
      emptyIgnoreFile: '/e',
      version: '0.55.0',
      timeout: '30m'
    })
    expect(argv.slice(-3)).toEqual(['--timeout', '30m', 'x:1'])
    expect(argv).not.toContain('--disable-telemetry')
  })

  it('converts JSON to SARIF with the ignore file, every severity', () => {
    expect(
      sarifConvertArgs('trivy', {
        input: '/r/api.json',
        output: '/w/api.sarif',
        ignoreFile: '/p/.trivyignore'
      })
    ).toEqual([
      'trivy',
      'convert',
      '--format',
      'sarif',
      '--output',
      '/w/api.sarif',
      '--severity',
      'UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL',
      '--ignorefile',
      '/p/.trivyignore',
      '/r/api.json'
    ])
  })
})

describe('trivy output', () => {
  it.each([
    ['Version: 0.74.0\n', '0.74.0'],
    [
      'Version: 0.74.0\nVulnerability DB:\n  Version: 2\n  UpdatedAt: 2026-11-21 06:11:37 +0000 UTC\n',
      '0.74.0'
    ],
    ['Version: v0.63.1\n', '0.63.1'],
    ['trivy version dev\n', undefined],
    ['', undefined]
  ])('parses the version of %j', (output, version) => {
    expect(parseTrivyVersion(output)).toBe(version)
  })

  it.each([
    [
      '2024-10-29T16:05:02Z\tERROR\t[vulndb] Failed to download artifact\trepo="ghcr.io/aquasecurity/trivy-db:2" err="OCI repository error: 1 error occurred:\\n\\t* GET https://ghcr.io/v2/aquasecurity/trivy-db/manifests/2: TOOMANYREQUESTS: retry-after: 571.072µs, allowed: 44000/minute"',
      true
    ],
    ['GET https://mirror.gcr.io/v2/...: unexpected status code 429 Too Many Requests', true],
    ['HTTP 429', true],
    ['dial tcp: lookup mirror.gcr.io: no such host', false],
    ['unexpected status code 500 Internal Server Error (body 4290 bytes)', false]
  ])('recognises a rate limit in %j', (stderr, limited) => {
    expect(isRateLimited(stderr)).toBe(limited)
  })
})

describe('versions', () => {
  it.each([
    ['0.74.0', '0.63.0', 1],
    ['0.63.0', '0.63.0', 0],
    ['0.9.0', '0.63.0', -1],
    ['1.0.0', '0.99.9', 1]
  ])('compares %s with %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign)
  })

  it.each([
    ['0.74.0', ['--skip-version-check', '--disable-telemetry']],
    ['0.63.0', ['--skip-version-check', '--disable-telemetry']],
    ['0.62.1', []]
  ])('quiets network calls on %s', (version, flags) => {
    expect(quietNetworkFlags(version)).toEqual(flags)
  })
})
