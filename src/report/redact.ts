/**
 * Secret values, and their removal from text we write or send ourselves. The runner masks only
 * its log lines (core.setSecret); the job summary file, the GitHub API calls (the pull request
 * comment, the deployment statuses), the log bundle and the hosts' audit log are not masked by
 * anybody but us. Leaf module: it imports nothing.
 */

/** Blanks the secret values in a text: Reporter.redact, passed to code that has no reporter. */
export type Redact = (text: string) => string

/** What a secret's value is replaced with: the runner's own mask. */
export const REDACTED = '***'

/**
 * Values shorter than this (after trimming) are never registered: a two- or three-character
 * "secret" (a line `-}` of a key file, a `yes`, a port) would blank ordinary words, numbers and
 * punctuation everywhere and make every summary unreadable, while hiding nothing worth hiding.
 * The runner's own masking of multi-line values skips such lines too.
 */
export const MIN_SECRET_LENGTH = 4

/**
 * The forms in which our own writers put a value into what they produce, besides the value
 * itself: a JSON string (the audit log's lines, the pull request comment's hidden data, the log
 * bundle's JSON files), a Markdown table cell (`|`, and `\` then `|`, escaped) and HTML text
 * (`&`, `<`, `>`). A secret with a quote, a pipe or a backslash is then found in those too.
 */
function escapedForms(value: string): string[] {
  return [
    JSON.stringify(value).slice(1, -1),
    value.replace(/\|/g, '\\|'),
    value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|'),
    value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  ]
}

/**
 * The secret values of a run. `add` registers a value; `redact` replaces every occurrence of
 * every registered value with `***`.
 *
 * Matching is on the text as written, all values at once: each occurrence of each value (and of
 * its escaped forms) is found in the original text, overlapping and touching occurrences are
 * merged, and each merged stretch becomes one `***`. So a secret that contains another is
 * replaced whole, two secrets that overlap leave no character of either, and a value's
 * regular-expression metacharacters are just characters.
 */
export class SecretValues {
  private readonly values = new Set<string>()
  /** The lines registered, as given (no escaped forms): what the runner was told to mask. */
  private readonly lines = new Set<string>()
  /** The values, longest first; undefined after an `add`, until the next `redact`. */
  private sorted: string[] | undefined = []

  /**
   * Registers a secret. A multi-line value (a TLS key) is registered line by line, each line
   * trimmed, as the runner masks it (its log lines never hold more than one line of it), and
   * as a whole too. Lines shorter than MIN_SECRET_LENGTH are skipped. Returns the lines that
   * were new, for the runner's masking (core.setSecret).
   */
  add(value: string): string[] {
    const lines = value
      .split(/\r?\n/)
      .map(line => line.trim())
      .filter(line => line.length >= MIN_SECRET_LENGTH)
    const whole = value.trim()
    const added = [...new Set(lines.filter(line => !this.lines.has(line)))]
    for (const line of added) this.lines.add(line)
    const candidates = whole.includes('\n') && whole.length >= MIN_SECRET_LENGTH ? [whole] : []
    for (const candidate of [...lines, ...candidates]) {
      for (const form of [candidate, ...escapedForms(candidate)]) {
        if (this.values.has(form)) continue
        this.values.add(form)
        this.sorted = undefined
      }
    }
    return added
  }

  /** How many values (escaped forms included) are registered. */
  get size(): number {
    return this.values.size
  }

  /** The text with every registered value replaced by `***`. */
  redact(text: string): string {
    if (this.values.size === 0 || text === '') return text
    this.sorted ??= [...this.values].sort((a, b) => b.length - a.length)
    const spans: [number, number][] = []
    for (const value of this.sorted) {
      // Every occurrence, overlapping ones included ("aaaa" in "aaaaa" twice).
      for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1))
        spans.push([at, at + value.length])
    }
    if (spans.length === 0) return text
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1])
    let out = ''
    let position = 0
    let index = 0
    while (index < spans.length) {
      const [start] = spans[index] as [number, number]
      let end = (spans[index] as [number, number])[1]
      index++
      // Overlapping or touching occurrences are one stretch: no character between them shows.
      while (index < spans.length && (spans[index] as [number, number])[0] <= end) {
        end = Math.max(end, (spans[index] as [number, number])[1])
        index++
      }
      out += text.slice(position, start) + REDACTED
      position = end
    }
    return out + text.slice(position)
  }
}
