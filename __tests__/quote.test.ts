import { execFileSync } from 'node:child_process'
import { quoteArg, quoteArgv } from '../src/exec/quote.js'

describe('quoteArg', () => {
  it.each([
    ['plain', 'plain'],
    ['/srv/app/releases/20260101-abc', '/srv/app/releases/20260101-abc'],
    ['KEY=value', 'KEY=value'],
    ['', "''"],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ['$(reboot)', "'$(reboot)'"],
    ['`id`', "'`id`'"],
    ['a;b&&c|d', "'a;b&&c|d'"],
    ['${HOME}', "'${HOME}'"],
    ['line\nbreak', "'line\nbreak'"],
    ['*.txt', "'*.txt'"],
    ['~root', "'~root'"],
    ['-n', '-n'],
    ["'", "''\\'''"]
  ])('%j -> %s', (arg, quoted) => {
    expect(quoteArg(arg)).toBe(quoted)
  })

  it('refuses NUL bytes', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/)
  })

  it('survives a real POSIX shell unchanged, argument for argument', () => {
    const nasty = [
      '',
      ' ',
      "it's",
      '"dq"',
      '$(id)',
      '`id`',
      '\\',
      'a\nb',
      '*',
      '$HOME',
      '!x',
      '%s',
      '-e'
    ]
    // The shell parses the quoted text and prints each argument NUL-terminated.
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${quoteArgv(nasty)}`])
    expect(out.toString().split('\0').slice(0, -1)).toEqual(nasty)
  })

  it('refuses an empty argv', () => {
    expect(() => quoteArgv([])).toThrow()
  })
})
