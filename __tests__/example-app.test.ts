import { spawnSync } from 'node:child_process'

// The reference app's own tests (node:test, against in-memory fakes of pg and redis): run
// here so that `npm test` covers the code that the e2e tests then run in containers.
describe('the reference stack app', () => {
  it.each([['example/api'], ['example/web']])('%s passes its own tests', dir => {
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap'], {
      cwd: dir,
      encoding: 'utf8'
    })
    const passed = Number(/^# pass (\d+)$/m.exec(run.stdout)?.[1] ?? 0)
    const failed = Number(/^# fail (\d+)$/m.exec(run.stdout)?.[1] ?? -1)
    expect({ status: run.status, failed }).toEqual({ status: 0, failed: 0 })
    expect(passed).toBeGreaterThan(0)
  })
})
