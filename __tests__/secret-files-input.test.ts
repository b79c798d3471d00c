import { InputError } from '../src/errors.js'
import { parseSecretFiles } from '../src/inputs.js'

function refusal(text: string): InputError {
  try {
    parseSecretFiles(text)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return error as InputError
  }
  throw new Error('expected an InputError, nothing was thrown')
}

const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  '-----END PRIVATE KEY-----'
]

describe('parseSecretFiles', () => {
  it('reads nothing from an empty input', () => {
    expect(parseSecretFiles('')).toEqual({})
    expect(parseSecretFiles('\n  \n# only a comment\n')).toEqual({})
  })

  it('reads NAME=value lines, keeping the value as written after the first =', () => {
    expect(
      parseSecretFiles(
        [
          'db_password=hunter2',
          '  api.token=abc=def==',
          'empty=',
          'spaced=  two  words  ',
          'quote="kept"',
          'Upper-Case_1=#not a comment'
        ].join('\n')
      )
    ).toEqual({
      db_password: 'hunter2',
      'api.token': 'abc=def==',
      empty: '',
      spaced: '  two  words  ',
      quote: '"kept"',
      'Upper-Case_1': '#not a comment'
    })
  })

  it('skips comments and blank lines between entries, and reads CRLF input', () => {
    expect(
      parseSecretFiles(
        ['# the database', '', 'db=one', '   # indented comment', '\t', 'cache=two', ''].join(
          '\r\n'
        )
      )
    ).toEqual({ db: 'one', cache: 'two' })
  })

  it('reads NAME<<DELIMITER blocks: the inner lines joined by \\n, no trailing newline', () => {
    expect(
      parseSecretFiles(
        [
          'config<<EOF',
          'first line',
          '',
          '# not a comment inside a block',
          '  indented=kept',
          'last line',
          'EOF',
          'after=1'
        ].join('\n')
      )
    ).toEqual({
      config: 'first line\n\n# not a comment inside a block\n  indented=kept\nlast line',
      after: '1'
    })
  })

  it('reads a PEM key and certificate, each whole', () => {
    const files = parseSecretFiles(
      [
        'tls_key<<KEY_END',
        ...PEM,
        'KEY_END',
        'tls_cert<<CERT_END',
        '-----BEGIN CERTIFICATE-----',
        'MIIDazCCAlOgAwIBAgIUJeohtgk8nnt8ofratXJg7kUJsI4wDQYJKoZIhvcNAQEL',
        '-----END CERTIFICATE-----',
        'CERT_END'
      ].join('\n')
    )
    expect(files).toEqual({
      tls_key: PEM.join('\n'),
      tls_cert: [
        '-----BEGIN CERTIFICATE-----',
        'MIIDazCCAlOgAwIBAgIUJeohtgk8nnt8ofratXJg7kUJsI4wDQYJKoZIhvcNAQEL',
        '-----END CERTIFICATE-----'
      ].join('\n')
    })
  })

  it('reads an empty block, and a block closed by an indented delimiter', () => {
    expect(parseSecretFiles('a<<EOF\nEOF\nb<<END\nvalue\n   END   \n')).toEqual({
      a: '',
      b: 'value'
    })
  })

  it('reads CRLF blocks without carriage returns in the value', () => {
    expect(parseSecretFiles('key<<EOF\r\nline 1\r\nline 2\r\nEOF\r\n')).toEqual({
      key: 'line 1\nline 2'
    })
  })

  it.each([
    ['a=1\na=2', 'a'],
    ['a<<EOF\nx\nEOF\na=2', 'a'],
    ['tls=1\ntls<<EOF\nx\nEOF', 'tls']
  ])('refuses a name given twice: %j', (text, name) => {
    const error = refusal(text)
    expect(error.input).toBe('secret-files')
    expect(error.message).toBe(`Input 'secret-files': ${name} is given twice`)
  })

  it('refuses a block without its closing delimiter, without quoting the value', () => {
    const error = refusal(['ok=1', 'tls_key<<EOF', ...PEM, 'EOF-not-quite'].join('\n'))
    expect(error.input).toBe('secret-files')
    expect(error.message).toBe(
      "Input 'secret-files': tls_key<<EOF (line 2) has no closing EOF line"
    )
    expect(error.message).not.toContain('PRIVATE KEY')
  })

  it.each([
    ['my secret=hunter2-value', 1],
    ['-leading=hunter2-value', 1],
    ['.dot=hunter2-value', 1],
    ['ok=1\n=hunter2-value', 2],
    ['ok=1\n\nhunter2-value', 3],
    ['ok=1\nname/with/slash=hunter2-value', 2],
    ['ünicode=hunter2-value', 1],
    ['bad name<<EOF\nhunter2-value\nEOF', 1]
  ])('refuses a bad line without the value appearing: %j', (text, line) => {
    const error = refusal(text)
    expect(error.input).toBe('secret-files')
    expect(error.message).toBe(
      `Input 'secret-files': line ${line} is not NAME=value or NAME<<DELIMITER with a compose secret name`
    )
    expect(error.message).not.toContain('hunter2')
  })
})
