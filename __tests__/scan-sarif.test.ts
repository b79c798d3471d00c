import {
  automationId,
  parseSarif,
  sarifCategory,
  serviceFileName,
  stampSarifCategory,
  type SarifLog
} from '../src/scan/sarif.js'

const trivySarif = (): SarifLog => ({
  version: '2.1.0',
  $schema:
    'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json',
  runs: [
    {
      tool: { driver: { name: 'Trivy', fullName: 'Trivy Vulnerability Scanner', rules: [] } },
      results: [{ ruleId: 'CVE-2099-1001', level: 'error' }],
      columnKind: 'utf16CodeUnits'
    }
  ]
})

describe('SARIF categories', () => {
  it.each([
    ['api', 'stack-deploy/api', 'stack-deploy/api/'],
    ['web-frontend', 'stack-deploy/web-frontend', 'stack-deploy/web-frontend/'],
    ['db_1', 'stack-deploy/db_1', 'stack-deploy/db_1/']
  ])('%s → category %s, automation id %s', (service, category, id) => {
    expect(sarifCategory(service)).toBe(category)
    expect(automationId(service)).toBe(id)
  })

  it('stamps every run, keeps everything else, and does not touch the input', () => {
    const input = trivySarif()
    input.runs.push({
      tool: { driver: { name: 'Trivy' } },
      automationDetails: { id: 'x/', guid: 'g' }
    })
    const stamped = stampSarifCategory(input, 'api')
    expect(stamped.runs.map(run => run.automationDetails)).toEqual([
      { id: 'stack-deploy/api/' },
      { id: 'stack-deploy/api/', guid: 'g' }
    ])
    expect(stamped.runs[0]?.results).toEqual(input.runs[0]?.results)
    expect(stamped.$schema).toBe(input.$schema)
    expect(input.runs[0]?.automationDetails).toBeUndefined()
    expect(input.runs[1]?.automationDetails?.id).toBe('x/')
  })

  it('gives two services two different analyses of the same tool', () => {
    const ids = ['api', 'web'].map(
      s => stampSarifCategory(trivySarif(), s).runs[0]?.automationDetails?.id
    )
    expect(new Set(ids).size).toBe(2)
  })

  it.each([
    ['not json', 'The SARIF of api is not valid JSON'],
    ['{"version": "2.0.0", "runs": []}', 'The SARIF of api is not SARIF 2.1.0'],
    ['{"version": "2.1.0"}', 'The SARIF of api has no runs with a tool driver name'],
    ['{"version": "2.1.0", "runs": [{"tool": {}}]}', 'has no runs with a tool driver name']
  ])('rejects %j', (text, message) => {
    expect(() => parseSarif(text, 'The SARIF of api')).toThrow(message)
  })

  it('parses what Trivy writes', () => {
    expect(parseSarif(JSON.stringify(trivySarif()), 'x').runs[0]?.tool.driver.name).toBe('Trivy')
  })

  it.each([
    ['api', 'api'],
    ['my.service-1_x', 'my.service-1_x'],
    ['../evil/name', '.._evil_name']
  ])('file name for %s is %s', (service, file) => {
    expect(serviceFileName(service)).toBe(file)
  })
})
