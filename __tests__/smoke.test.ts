import { smokeSummary, startFailures } from '../src/smoke/smoke.js'

describe('smoke report', () => {
  it('lists services by time to ready and the probe table', () => {
    const summary = smokeSummary({
      project: 'shop-smoke-abc123',
      secondsToReady: 12.04,
      totalSeconds: 15.5,
      serviceSeconds: { web: 12, postgres: 4.25, api: 9.5 },
      probes: [
        {
          name: 'GET web:8080/health',
          kind: 'http',
          target: 'web:8080/health',
          ok: true,
          attempts: 1,
          seconds: 0.01,
          detail: ''
        }
      ]
    })
    expect(summary).toContain(
      'Every service healthy or done after **12.0s**; total 15.5s (project `shop-smoke-abc123`).'
    )
    expect(summary).toContain('| postgres | 4.3s |\n| api | 9.5s |\n| web | 12.0s |')
    expect(summary).toContain('GET web:8080/health')
  })
})

describe('startFailures', () => {
  const stuck = [
    { service: 'app', reason: 'container is created' },
    { service: 'web', reason: 'container is created' }
  ]
  it('names the service the daemon error is about, without the endpoint id', () => {
    const output = [
      ' Container p-smoke-1-web-1  Starting',
      `Error response from daemon: driver failed programming external connectivity on endpoint p-smoke-1-web-1 (${'f'.repeat(64)}): Bind for 0.0.0.0:8080 failed: port is already allocated`
    ].join('\n')
    expect(startFailures(output, 'p-smoke-1', stuck)).toEqual([
      {
        service: 'web',
        reason:
          'container is created: Error response from daemon: driver failed programming external connectivity on endpoint p-smoke-1-web-1: Bind for 0.0.0.0:8080 failed: port is already allocated'
      }
    ])
  })
  it('falls back to every service that did not start', () => {
    expect(startFailures('no such image', 'p', stuck).map(f => f.service)).toEqual(['app', 'web'])
  })
})
