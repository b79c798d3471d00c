/** Escaping for the Markdown that stack-deploy writes: job summaries and the pull request comment. */

/**
 * Text for one cell of a Markdown table: one line, `\` and `|` escaped, so the text can neither
 * end the cell nor turn an escaped pipe back into a column break. `htmlComments` also defuses
 * `<!--` and `-->`: for a body that keeps its own data in an HTML comment (the pull request
 * comment), which a cell must not end early.
 */
export function tableCell(text: string, options: { htmlComments?: boolean } = {}): string {
  const cell = text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
  return options.htmlComments ? cell.replace(/<!--/g, '&lt;!--').replace(/-->/g, '--&gt;') : cell
}

/** Text as a code span in a table cell: a backtick (which would end the span) becomes `'`. */
export function codeCell(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``
}
