/**
 * Quoting for commands that a remote shell will parse (ssh sends one string, which the
 * remote user's shell splits again). This is the only place where argv becomes shell text.
 *
 * Every argument is wrapped in single quotes, inside which POSIX shells interpret nothing;
 * a single quote itself is written as '\'' (close, escaped quote, reopen). Arguments made only
 * of characters that no shell treats specially are left bare, for readable logs.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

export function quoteArg(arg: string): string {
  if (arg.includes('\0'))
    throw new Error('an argument contains a NUL byte, which no shell can pass')
  if (arg !== '' && SAFE.test(arg)) return arg
  return `'${arg.replace(/'/g, `'\\''`)}'`
}

export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('internal error: empty argv')
  return argv.map(quoteArg).join(' ')
}
