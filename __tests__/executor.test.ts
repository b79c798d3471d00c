import { PassThrough } from 'node:stream'
import { LocalExecutor, runWithInput } from '../src/exec/executor.js'

const quiet = new PassThrough()
quiet.resume()

describe('LocalExecutor with stdin input', () => {
  const executor = new LocalExecutor(quiet)

  it('passes the input on stdin and captures stdout, stderr and the exit code', async () => {
    const result = await executor.run(
      ['sh', '-c', 'read -r line; echo "got:$line"; echo oops >&2; exit 3'],
      { input: 'secret value\n' }
    )
    expect(result.exitCode).toBe(3)
    expect(result.stdout).toBe('got:secret value\n')
    expect(result.stderr).toBe('oops\n')
    expect(result.argv).toEqual([
      'sh',
      '-c',
      'read -r line; echo "got:$line"; echo oops >&2; exit 3'
    ])
  })

  // @actions/exec would crash the process with EPIPE here: the command exits without reading
  // an input larger than the pipe buffer.
  it('survives a command that exits before reading a large input', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024)
    const result = await executor.run(['sh', '-c', 'echo early; exit 7'], { input: big })
    expect(result.exitCode).toBe(7)
    expect(result.stdout).toBe('early\n')
  })

  it('reads a large input whole when the command reads it', async () => {
    const big = 'y'.repeat(3 * 1024 * 1024 + 17)
    const result = await executor.run(['wc', '-c'], { input: big })
    expect(result.exitCode).toBe(0)
    expect(Number(result.stdout.trim())).toBe(big.length)
  })

  it('reports each output line, including a last line without a newline', async () => {
    const lines: string[] = []
    await executor.run(['sh', '-c', 'cat; printf "tail"'], {
      input: 'one\ntwo\n',
      onLine: line => lines.push(line)
    })
    expect(lines).toEqual(['one', 'two', 'tail'])
  })

  it('gives 128 + the signal number to a command killed by a signal', async () => {
    const result = await runWithInput('sh', ['-c', 'kill -TERM $$'], '')
    expect(result.exitCode).toBe(143)
  })

  it('passes env and cwd', async () => {
    const result = await executor.run(['sh', '-c', 'echo "$SD_TEST_VALUE $(pwd)"'], {
      input: '',
      env: { SD_TEST_VALUE: 'v1' },
      cwd: '/'
    })
    expect(result.stdout).toBe('v1 /\n')
  })

  it('rejects with the file name when the program does not exist', async () => {
    await expect(executor.run(['/nonexistent/stack-deploy-test'], { input: 'x' })).rejects.toThrow(
      /cannot run \/nonexistent\/stack-deploy-test/
    )
  })
})

describe('allSettledOrThrow', () => {
  it('returns every value in order', async () => {
    const { allSettledOrThrow } = await import('../src/exec/time.js')
    await expect(allSettledOrThrow([Promise.resolve(1), Promise.resolve('b')])).resolves.toEqual([
      1,
      'b'
    ])
  })

  it('throws the first failure only once every promise has settled', async () => {
    const { allSettledOrThrow, sleep } = await import('../src/exec/time.js')
    let slowDone = false
    const slow = sleep(30).then(() => {
      slowDone = true
    })
    const failure = allSettledOrThrow([
      Promise.reject(new Error('first')),
      slow,
      Promise.reject(new Error('second'))
    ])
    await expect(failure).rejects.toThrow('first')
    // Nothing was left running behind the error.
    expect(slowDone).toBe(true)
  })
})
