/**
 * GitHub's limits on what a step can show, applied before the runner applies them for us:
 *
 * - A step's job summary may be at most 1 MiB; a bigger one is not shown at all (the runner
 *   replaces it with an error). So we cut ours to fit, on a line boundary, close what the cut
 *   left open, and say so.
 * - A step shows at most 10 error and 10 warning annotations; the rest are dropped silently.
 *   Stages emit the most important first (failing services before warnings, worst first), so
 *   we keep the first ones, send the others to the log, and keep one error slot for the
 *   step's own failure message (core.setFailed), the one annotation a user must see.
 */

export const SUMMARY_LIMIT_BYTES = 1024 * 1024
/** Room for the runner's own framing and for our truncation note. */
const SUMMARY_MARGIN_BYTES = 16 * 1024
export const ANNOTATIONS_PER_STEP = 10

export type AnnotationLevel = 'error' | 'warning'

/** Counts annotations per level and says whether the next one may still be an annotation. */
export class AnnotationBudget {
  private readonly used: Record<AnnotationLevel, number> = { error: 0, warning: 0 }
  private readonly dropped: Record<AnnotationLevel, number> = { error: 0, warning: 0 }

  constructor(
    private readonly limit: number = ANNOTATIONS_PER_STEP,
    /** Error slots kept for the step's failure message. */
    private readonly reservedErrors: number = 1
  ) {}

  /** True if this annotation may be shown; false (and counted) if it goes to the log instead. */
  take(level: AnnotationLevel): boolean {
    const cap = level === 'error' ? this.limit - this.reservedErrors : this.limit
    if (this.used[level] < cap) {
      this.used[level]++
      return true
    }
    this.dropped[level]++
    return false
  }

  /** How many annotations of this level went to the log so far. */
  overflow(level: AnnotationLevel): number {
    return this.dropped[level]
  }
}

export interface FittedSummary {
  /** What to write: the markdown, cut if it had to be. */
  text: string
  /** Bytes of the original left out (0 when it fits). */
  omittedBytes: number
}

/**
 * Fits `markdown` into what is left of a step's summary, `usedBytes` being what the step has
 * already written. Cuts at a line boundary, closes an open code fence and open <details>
 * blocks, and appends a note saying how much was left out and where to look.
 */
export function fitSummary(
  markdown: string,
  usedBytes: number,
  limitBytes: number = SUMMARY_LIMIT_BYTES
): FittedSummary {
  const size = Buffer.byteLength(markdown, 'utf8')
  const room = limitBytes - SUMMARY_MARGIN_BYTES - usedBytes
  if (size <= room) return { text: markdown, omittedBytes: 0 }
  if (room <= 0) return { text: '', omittedBytes: size }

  // Cut on a line boundary within the room, in bytes (not characters).
  const bytes = Buffer.from(markdown, 'utf8')
  let cut = bytes.subarray(0, room).toString('utf8')
  // A cut through a multi-byte character leaves a replacement character at the end.
  cut = cut.replace(/\uFFFD+$/, '')
  const lastNewline = cut.lastIndexOf('\n')
  cut = lastNewline > 0 ? cut.slice(0, lastNewline + 1) : ''

  const closing: string[] = []
  const fences = cut.split('\n').filter(line => /^\s*(```|~~~)/.test(line)).length
  if (fences % 2 === 1) closing.push('```')
  const opened = (cut.match(/<details\b/g) ?? []).length
  const closed = (cut.match(/<\/details>/g) ?? []).length
  for (let i = closed; i < opened; i++) closing.push('</details>')
  const omitted = size - Buffer.byteLength(cut, 'utf8')
  const note = `\n> [!NOTE]\n> The summary was cut here to stay under GitHub's 1 MiB per step: ${omitted} bytes left out. The step's log has everything.\n`
  return {
    text: `${cut}${closing.length > 0 ? `${closing.join('\n')}\n` : ''}${note}`,
    omittedBytes: omitted
  }
}
