/**
 * Reads BuildKit's `--progress rawjson` stream: a sequence of JSON objects (one SolveStatus
 * each, pretty-printed over several lines) with vertexes, statuses and logs. From it we tell,
 * per service, how many steps ran and how many came from cache, how long it took, and, when a
 * step failed, which one and its last log lines.
 */

interface Vertex {
  digest: string
  name?: string
  started?: string
  completed?: string
  cached?: boolean
  error?: string
}

interface LogEntry {
  vertex: string
  data?: string
}

interface SolveStatus {
  vertexes?: Vertex[]
  logs?: LogEntry[]
}

/** Splits concatenated JSON values; keeps state between calls so it can be fed line by line. */
export class JsonStreamSplitter {
  private buffer = ''
  private depth = 0
  private inString = false
  private escaped = false

  push(text: string): unknown[] {
    const values: unknown[] = []
    for (const char of text) {
      if (this.depth === 0 && char !== '{') continue
      this.buffer += char
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (char === '\\') this.escaped = true
        else if (char === '"') this.inString = false
        continue
      }
      if (char === '"') this.inString = true
      else if (char === '{') this.depth++
      else if (char === '}') {
        this.depth--
        if (this.depth === 0) {
          try {
            values.push(JSON.parse(this.buffer))
          } catch {
            // Not JSON after all (a stray line from buildx); skip it.
          }
          this.buffer = ''
        }
      }
    }
    return values
  }
}

export interface StepRecord {
  name: string
  service: string | undefined
  started: number | undefined
  completed: number | undefined
  cached: boolean
  error: string | undefined
  logs: string[]
}

/** Service of a vertex from its name: "[api deps 2/4] RUN …" or "[api internal] load …". */
export function serviceOfVertex(name: string): string | undefined {
  return /^\[([^\]\s]+)[\s\]]/.exec(name)?.[1]
}

/** A Dockerfile instruction step ("[api deps 2/4] RUN …"), as opposed to internal work. */
export function isInstructionStep(name: string): boolean {
  return /^\[(?:[^\]\s]+ )*\d+\/\d+\]/.test(name)
}

export class ProgressTracker {
  readonly steps = new Map<string, StepRecord>()
  private readonly splitter = new JsonStreamSplitter()

  /**
   * @param targets the bake targets; with a single target, bake leaves the target name out
   * of vertex names ("[deps 1/4] …"), so every vertex belongs to it.
   */
  constructor(private readonly targets: string[] = []) {}

  private serviceOf(name: string): string | undefined {
    return this.targets.length === 1 ? this.targets[0] : serviceOfVertex(name)
  }

  /** Feeds raw output; returns a log line for each step that finished in this chunk. */
  push(text: string): string[] {
    const finished: string[] = []
    for (const value of this.splitter.push(text)) {
      const status = value as SolveStatus
      for (const vertex of status.vertexes ?? []) {
        const known = this.steps.get(vertex.digest)
        const record: StepRecord = known ?? {
          name: vertex.name ?? '',
          service: this.serviceOf(vertex.name ?? ''),
          started: undefined,
          completed: undefined,
          cached: false,
          error: undefined,
          logs: []
        }
        const wasDone = record.completed !== undefined
        if (vertex.started) record.started = Date.parse(vertex.started)
        if (vertex.completed) record.completed = Date.parse(vertex.completed)
        if (vertex.cached) record.cached = true
        if (vertex.error) record.error = vertex.error
        this.steps.set(vertex.digest, record)
        if (!wasDone && record.completed !== undefined && isInstructionStep(record.name)) {
          const took =
            record.started !== undefined
              ? ((record.completed - record.started) / 1000).toFixed(1)
              : '?'
          finished.push(
            `${record.name}  ${record.error ? 'ERROR' : record.cached ? 'CACHED' : `${took}s`}`
          )
        }
      }
      for (const log of status.logs ?? []) {
        const record = this.steps.get(log.vertex)
        if (record && log.data) {
          record.logs.push(
            ...Buffer.from(log.data, 'base64')
              .toString('utf8')
              .split(/\r?\n/)
              .filter(l => l !== '')
          )
          if (record.logs.length > 200) record.logs.splice(0, record.logs.length - 200)
        }
      }
    }
    return finished
  }

  /** Per service: instruction steps, how many were cached, and wall time from first start to last finish. */
  summary(service: string): { steps: number; cached: number; seconds: number } {
    const own = [...this.steps.values()].filter(step => step.service === service)
    const instructions = own.filter(step => isInstructionStep(step.name))
    const starts = own.map(s => s.started).filter((t): t is number => t !== undefined)
    const ends = own.map(s => s.completed).filter((t): t is number => t !== undefined)
    return {
      steps: instructions.length,
      cached: instructions.filter(step => step.cached).length,
      seconds: starts.length && ends.length ? (Math.max(...ends) - Math.min(...starts)) / 1000 : 0
    }
  }

  /**
   * The step that made the build fail. When one target fails, BuildKit cancels the steps that
   * were running in the others ("context canceled"); those are consequences, not the cause.
   */
  failure(services: string[]): StepRecord | undefined {
    const failed = [...this.steps.values()].filter(step => step.error !== undefined)
    const cause = failed.filter(step => !/context canceled/.test(step.error ?? ''))
    const candidates = cause.length > 0 ? cause : failed
    return (
      candidates.find(
        step => step.service && services.includes(step.service) && isInstructionStep(step.name)
      ) ??
      candidates.find(step => step.service && services.includes(step.service)) ??
      candidates[0]
    )
  }
}
