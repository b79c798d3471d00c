/**
 * One WebSocket check: open a connection, optionally send a text message and wait for the first
 * reply, and say in one line what was expected and what came back. Used by the `ws` smoke probes
 * and meant for the deploy stage's ws:// and wss:// health URLs, so it never throws.
 *
 * It uses the `undici` package's WebSocket rather than Node's global one (the same
 * implementation) for two undici extensions the global constructor does not offer: custom
 * handshake headers, and a dispatcher of our own. The dispatcher is how a failed handshake gets
 * explained: the WebSocket API reports every failure as the same generic error event, while
 * the dispatcher sees the response status ("got status 404") or the network error ("connection
 * refused"). Each check has its own Agent, destroyed at the end, so no connection outlives it.
 */
import type { Duplex } from 'node:stream'
import { Agent, DecoratorHandler, WebSocket, type Dispatcher } from 'undici'
import { formatDuration } from '../report/duration.js'

export interface WebSocketCheckOptions {
  /** A text message sent once the connection is open. */
  send?: string
  /** The first message received must contain this (after `send`, or the server speaks first). */
  expect?: string
  /** Extra headers of the upgrade request (Authorization, Origin, ...). */
  headers?: Record<string, string>
  /** Bound on the whole check: upgrade, send and the reply. */
  timeoutMs: number
}

export interface WebSocketCheckResult {
  ok: boolean
  /** On success a short note ("status 101"); on failure what was expected and what came back. */
  detail: string
}

/** What the dispatcher saw of the upgrade request, which the WebSocket events do not tell. */
interface Handshake {
  status?: number
  error?: Error
  socket?: Duplex
}

/** How long a clean close (close frame and the server's answer) may take before the socket is cut. */
const CLOSE_GRACE_MS = 1000
const EXCERPT_CHARS = 200

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  UND_ERR_SOCKET: 'connection closed by the server',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found'
}

// undici's typings declare DecoratorHandler with its constructor only, though it forwards every
// handler method to the wrapped handler; this gives the subclass below `super.onHeaders` etc.
interface ForwardedMethods extends Dispatcher.DispatchHandlers {
  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean
  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void
  onError(error: Error): void
}
const ForwardingHandler = DecoratorHandler as unknown as new (
  handler: Dispatcher.DispatchHandlers
) => ForwardedMethods

/** Passes everything through to undici's WebSocket handshake, noting status, error and socket. */
class HandshakeRecorder extends ForwardingHandler {
  constructor(
    handler: Dispatcher.DispatchHandlers,
    private readonly seen: Handshake
  ) {
    super(handler)
  }

  override onHeaders(
    statusCode: number,
    headers: Buffer[],
    resume: () => void,
    statusText: string
  ): boolean {
    this.seen.status = statusCode
    return super.onHeaders(statusCode, headers, resume, statusText)
  }

  override onUpgrade(
    statusCode: number,
    headers: Buffer[] | string[] | null,
    socket: Duplex
  ): void {
    this.seen.status = statusCode
    this.seen.socket = socket
    super.onUpgrade(statusCode, headers, socket)
  }

  override onError(error: Error): void {
    this.seen.error ??= error
    super.onError(error)
  }
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat === '') return 'an empty message'
  return JSON.stringify(flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat)
}

function networkError(error: Error): string {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && NETWORK_ERRORS[code]) return NETWORK_ERRORS[code] as string
    e = (e as { cause?: unknown }).cause
  }
  return error.message
}

/** Why the upgrade failed, from what the dispatcher saw, else from undici's own reason. */
function handshakeFailure(seen: Handshake, reason: string): string {
  if (seen.status !== undefined && seen.status !== 101) {
    return `no 101 upgrade: got status ${seen.status}`
  }
  // A 101 whose headers do not complete the handshake (wrong Sec-WebSocket-Accept, ...).
  if (seen.status === 101) return `no valid upgrade: status 101, but ${reason}`
  if (seen.error) return `no 101 upgrade: ${networkError(seen.error)}`
  return `no 101 upgrade: ${reason}`
}

function messageText(data: unknown): string {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data)
  return String(data)
}

/**
 * Ends the connection: a close handshake when it is open, bounded by CLOSE_GRACE_MS after
 * which the socket is destroyed; an abort while it is still connecting.
 */
async function release(socket: WebSocket, seen: Handshake): Promise<void> {
  if (socket.readyState === WebSocket.CONNECTING) {
    socket.close()
    return
  }
  if (socket.readyState === WebSocket.CLOSED) return
  await new Promise<void>(resolve => {
    const grace = setTimeout(() => {
      seen.socket?.destroy()
      resolve()
    }, CLOSE_GRACE_MS)
    socket.addEventListener(
      'close',
      () => {
        clearTimeout(grace)
        resolve()
      },
      { once: true }
    )
    if (socket.readyState === WebSocket.OPEN) socket.close(1000)
  })
}

/**
 * Opens a WebSocket to `url` (ws:// or wss://) and checks it: the upgrade must answer 101, and
 * with `expect`, the first message must contain that text, all within `timeoutMs`. Sends `send`
 * once the connection is open. Always closes the connection and clears its timers before it
 * resolves; never rejects.
 */
export async function checkWebSocket(
  url: string,
  options: WebSocketCheckOptions
): Promise<WebSocketCheckResult> {
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    return { ok: false, detail: `${JSON.stringify(url)} is not a URL` }
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') {
    return { ok: false, detail: `${url} is not a ws:// or wss:// URL` }
  }
  const seen: Handshake = {}
  const agent = new Agent()
  const dispatcher = agent.compose(
    dispatch => (opts, handler) => dispatch(opts, new HandshakeRecorder(handler, seen))
  )
  try {
    return await new Promise<WebSocketCheckResult>(resolve => {
      let socket: WebSocket
      try {
        socket = new WebSocket(url, { headers: options.headers, dispatcher })
      } catch (error) {
        // Bad header names or values, mostly: undici checks them before connecting. The URL is
        // left out of the detail: the caller knows it, and a health URL may carry a token.
        resolve({ ok: false, detail: `could not open the connection: ${(error as Error).message}` })
        return
      }
      socket.binaryType = 'arraybuffer'
      const expected =
        options.expect === undefined ? '' : ` a reply containing ${JSON.stringify(options.expect)}`
      let upgraded = false
      let settled = false
      let timer: NodeJS.Timeout | undefined = undefined
      const finish = (ok: boolean, detail: string): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        void release(socket, seen).then(() => resolve({ ok, detail }))
      }
      timer = setTimeout(() => {
        const after = `timed out after ${formatDuration(options.timeoutMs)}`
        finish(
          false,
          upgraded
            ? `${after} waiting for${expected} (got no message)`
            : `${after} waiting for the 101 upgrade`
        )
      }, options.timeoutMs)

      socket.addEventListener('open', () => {
        upgraded = true
        if (options.send !== undefined) socket.send(options.send)
        if (options.expect === undefined) finish(true, 'status 101')
      })
      socket.addEventListener('message', event => {
        if (options.expect === undefined) return
        const text = messageText(event.data)
        if (text.includes(options.expect)) {
          finish(true, `status 101, reply contained ${JSON.stringify(options.expect)}`)
        } else {
          finish(
            false,
            `reply did not contain ${JSON.stringify(options.expect)}: got ${quote(text)}`
          )
        }
      })
      socket.addEventListener('error', event => {
        const reason = event.message || 'the connection failed'
        finish(
          false,
          upgraded
            ? `connection failed after the upgrade: ${reason}`
            : handshakeFailure(seen, reason)
        )
      })
      socket.addEventListener('close', event => {
        const why = `code ${event.code}${event.reason ? ` ${JSON.stringify(event.reason)}` : ''}`
        finish(
          false,
          upgraded
            ? `connection closed (${why}) before${expected}`
            : handshakeFailure(seen, `connection closed (${why})`)
        )
      })
    })
  } finally {
    // After an upgrade the socket no longer belongs to the agent, so this cuts only what is
    // left of a failed handshake (a kept-alive connection after a 404, say).
    await agent.destroy().catch(() => undefined)
  }
}
