/**
 * Secret values and their redaction (src/report/redact.ts): table tests with hostile values,
 * then the reporters that use it (every addSummary redacts what it writes) and the one list of
 * which inputs hold secrets (input-specs.ts, read by inputSecrets for the action and the CLI).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { MIN_SECRET_LENGTH, REDACTED, SecretValues } from '../src/report/redact.js'
import { MemoryReporter } from '../src/report/reporter.js'
import { ActionReporter } from '../src/report/action-reporter.js'
import { ConsoleReporter } from '../src/report/console-reporter.js'
import { INPUT_SPECS, inputSecrets, registerInputSecrets } from '../src/inputs.js'

const redactor = (...values: string[]): SecretValues => {
  const secrets = new SecretValues()
  for (const value of values) secrets.add(value)
  return secrets
}

const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
  'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'abc',
  '-----END PRIVATE KEY-----'
].join('\n')

describe('SecretValues.redact', () => {
  it.each<[string, string[], string, string]>([
    ['nothing registered', [], 'password hunter2-x', 'password hunter2-x'],
    ['one value, twice', ['hunter2-x'], 'a hunter2-x b hunter2-x', 'a *** b ***'],
    ['at the start and the end', ['hunter2-x'], 'hunter2-x mid hunter2-x', '*** mid ***'],
    ['at a line end', ['hunter2-x'], 'pw: hunter2-x\nnext: ok\n', 'pw: ***\nnext: ok\n'],
    ['at a CRLF line end', ['hunter2-x'], 'pw: hunter2-x\r\nnext', 'pw: ***\r\nnext'],
    ['back to back: one stretch', ['hunter2-x'], 'hunter2-xhunter2-x!', '***!'],
    ['regex metacharacters are characters', ['a.b*c+?'], 'a.b*c+? axbbbc', '*** axbbbc'],
    [
      'replacement patterns are characters',
      ['$1$&$$(x)[y]{2}^|\\'],
      'say $1$&$$(x)[y]{2}^|\\ now',
      'say *** now'
    ],
    ['a value containing another: replaced whole', ['pass', 'password123'], 'password123', '***'],
    [
      'the shorter one alone still goes',
      ['pass', 'password123'],
      'pass; password123; passw',
      '***; ***; ***w'
    ],
    ['overlapping values: no character of either', ['abcd1', 'd1xyz'], '-abcd1xyz-', '-***-'],
    ['overlapping occurrences of one value', ['aaaa'], 'xaaaaaay', 'x***y'],
    ['surrounding whitespace is not part of it', ['  hunter2-x \n'], 'hunter2-x', '***'],
    ['unicode', ['пароль-секрет'], 'pw=пароль-секрет.', 'pw=***.'],
    [
      'a multi-line value, line by line',
      [PEM],
      'key line: BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
      'key line: ***'
    ],
    [
      'a multi-line value, whole (short lines included)',
      [PEM],
      `before\n${PEM}\nafter`,
      'before\n***\nafter'
    ],
    [
      'a short line of a multi-line value, when all of it shows',
      ['abc\nlong-line'],
      'abc\nlong-line abc',
      '*** abc'
    ],
    [
      'a multi-line value, line by line with prefixes (compose logs)',
      [PEM],
      PEM.split('\n')
        .map(line => `migrate-1  | ${line}`)
        .join('\n'),
      'migrate-1  | ***\nmigrate-1  | ***\nmigrate-1  | ***\nmigrate-1  | abc\nmigrate-1  | ***'
    ],
    [
      'JSON-escaped form (a quote, a backslash)',
      ['pa"ss\\word'],
      '{"pw":"pa\\"ss\\\\word"}',
      '{"pw":"***"}'
    ],
    ['Markdown table cell form', ['pa|ss\\wd'], '| x | pa\\|ss\\\\wd |', '| x | *** |'],
    ['pipe-escaped form', ['pa|ssword'], '| pa\\|ssword |', '| *** |'],
    ['HTML-escaped form', ['<pa&ss>'], '<b>&lt;pa&amp;ss&gt;</b>', '<b>***</b>']
  ])('%s', (_name, values, text, expected) => {
    expect(redactor(...values).redact(text)).toBe(expected)
  })

  it(`ignores values shorter than ${MIN_SECRET_LENGTH} characters, which would blank ordinary words`, () => {
    const secrets = redactor('abc', ' no ', '', '\n\n', 'x\ny')
    expect(secrets.size).toBe(0)
    expect(secrets.redact('abc no x\ny')).toBe('abc no x\ny')
    expect(redactor('abcd').redact('abcd abc')).toBe(`${REDACTED} abc`)
  })

  it('add returns the lines that are new, trimmed, for the runner to mask', () => {
    const secrets = new SecretValues()
    expect(secrets.add(PEM)).toEqual([
      '-----BEGIN PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
      '-----END PRIVATE KEY-----'
    ])
    expect(secrets.add(' hunter2-x ')).toEqual(['hunter2-x'])
    expect(secrets.add('hunter2-x')).toEqual([])
    expect(secrets.add('ab')).toEqual([])
  })

  it('values added later count from then on', () => {
    const secrets = redactor('first-secret')
    expect(secrets.redact('first-secret second-secret')).toBe('*** second-secret')
    secrets.add('second-secret')
    expect(secrets.redact('first-secret second-secret')).toBe('*** ***')
  })
})

/** A Markdown summary the way the deploy stage writes it: a failed step, the migration output. */
const migrationSummary = (secret: string): string =>
  [
    '#### deploy@h1: failed',
    '',
    '| Step | Time | Detail |',
    '|---|---|---|',
    `| ❌ migrate | 1.2s | the migration exited with code 3. Last lines: connecting with password ${secret.replace(/\|/g, '\\|')} |`,
    '',
    '<details><summary>Migration output</summary>',
    '',
    '```text',
    `connecting with password ${secret}`,
    '```',
    '</details>',
    ''
  ].join('\n')

const SECRET = 'db-pw-7f3|Kq"9\\x'

describe('every reporter redacts what it writes', () => {
  it('MemoryReporter: the summary, log lines and annotations', async () => {
    const reporter = new MemoryReporter()
    reporter.setSecret(SECRET)
    await reporter.addSummary(migrationSummary(SECRET))
    reporter.info(`migrate: connecting with password ${SECRET}`)
    reporter.warning(`w ${SECRET}`)
    reporter.error(`e ${SECRET}`)
    const shown = [reporter.summary, ...reporter.lines, ...reporter.warnings, ...reporter.errors]
    for (const text of shown) {
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain('Kq"9')
      expect(text).toContain(REDACTED)
    }
    expect(reporter.summary).toContain('connecting with password ***\n```')
    expect(reporter.redact(`x ${SECRET} y`)).toBe('x *** y')
    expect(reporter.secrets).toEqual([SECRET])
  })

  it('ConsoleReporter: every line it writes (a terminal masks nothing)', async () => {
    const written: string[] = []
    const reporter = new ConsoleReporter(text => written.push(text))
    reporter.setSecret(SECRET)
    reporter.info(`connecting with password ${SECRET}`)
    reporter.warning(`w ${SECRET}`, { title: 'migrate' })
    reporter.error(`e ${SECRET}`)
    await reporter.group(`group ${SECRET}`, async () => undefined)
    await reporter.addSummary()
    expect(written).toEqual([
      'connecting with password ***\n',
      'warning: migrate: w ***\n',
      'error: e ***\n',
      '==> group ***\n'
    ])
    expect(reporter.redact(SECRET)).toBe(REDACTED)
  })

  describe('ActionReporter', () => {
    let dir: string
    let written: string[]
    let restore: () => void
    const saved = process.env.GITHUB_STEP_SUMMARY

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redact-summary-'))
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

    it('tells the runner to mask each line, and keeps the secret out of the summary file', async () => {
      const reporter = new ActionReporter()
      reporter.setSecret(`${SECRET}\nsecond-line-of-it`)
      await reporter.addSummary(migrationSummary(SECRET))
      const summary = fs.readFileSync(process.env.GITHUB_STEP_SUMMARY as string, 'utf8')
      expect(summary).not.toContain(SECRET)
      expect(summary).not.toContain('Kq"9')
      expect(summary).toContain('connecting with password ***')
      expect(summary).toContain('Last lines: connecting with password *** |')
      const masks = written.filter(line => line.startsWith('::add-mask::'))
      expect(masks).toEqual([`::add-mask::${SECRET}\n`, '::add-mask::second-line-of-it\n'])
    })

    it('redacts annotations and log lines itself too', () => {
      const reporter = new ActionReporter()
      reporter.setSecret(SECRET)
      reporter.error(`Deploy failed: connecting with password ${SECRET}`, { title: 'deploy' })
      reporter.info(`log ${SECRET}`)
      const log = written.filter(line => !line.startsWith('::add-mask::')).join('')
      expect(log).not.toContain('Kq"9')
      expect(log).toContain('::error title=deploy::Deploy failed: connecting with password ***')
      expect(log).toContain('log ***')
    })
  })
})

describe('which inputs hold secrets', () => {
  it('is said once, in input-specs.ts', () => {
    expect(INPUT_SPECS.filter(spec => spec.secret).map(spec => [spec.name, spec.secret])).toEqual([
      ['registry-password', 'value'],
      ['ssh-key', 'value'],
      ['secrets', 'env-lines'],
      ['secret-files', 'secret-files'],
      ['github-token', 'value']
    ])
  })

  const inputs = (values: Record<string, string>) => (name: string) => values[name] ?? ''

  it('reads each kind of secret input', () => {
    expect(
      inputSecrets(
        inputs({
          'registry-password': 'reg-pass-1',
          'github-token': ' ghs_token1 \n',
          'ssh-key': PEM,
          secrets: [
            '# a comment',
            'DB_PASSWORD=db-pw-1',
            "QUOTED='quoted pw'",
            'DOUBLE="double pw"',
            'export SPACED = spaced-pw ',
            'EMPTY=',
            'pasted-without-a-key'
          ].join('\n'),
          'secret-files': 'api_key=api-key-1\ntls_key<<EOF\nline-one\nline-two\nEOF',
          'env-file': 'NOT_SECRET=visible',
          hosts: 'deploy@h1'
        })
      )
    ).toEqual([
      'reg-pass-1',
      PEM,
      'db-pw-1',
      'quoted pw',
      'double pw',
      'spaced-pw',
      'pasted-without-a-key',
      'api-key-1',
      'line-one\nline-two',
      ' ghs_token1 \n'
    ])
  })

  it('reads a secret-files input that does not parse line by line, never throwing', () => {
    // No closing delimiter: parseInputs fails later, without quoting the value.
    expect(inputSecrets(inputs({ 'secret-files': 'tls_key<<EOF\nline-one\nline-two' }))).toEqual([
      'line-one',
      'line-two'
    ])
  })

  it('registers them with the reporter, which then redacts them', () => {
    const reporter = new MemoryReporter()
    registerInputSecrets(
      inputs({ secrets: 'DB_PASSWORD=db-pw-1', 'secret-files': 'tls_key<<EOF\nline-one\nEOF' }),
      reporter
    )
    expect(reporter.redact('db-pw-1 line-one env')).toBe('*** *** env')
  })
})
