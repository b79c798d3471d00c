import * as http from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { checkWebSocket } from '../src/exec/websocket.js'

/**
 * Real servers on 127.0.0.1 with ephemeral ports: a WebSocket server (the `ws` package), a plain
 * HTTP server that never upgrades, and raw TCP servers for what neither would do.
 */
type Behaviour = (socket: ServerSocket, request: http.IncomingMessage) => void

let wss: WebSocketServer
let wsPort: number
let behaviour: Behaviour
const upgrades: http.IncomingMessage[] = []
const closes: { code: number; reason: string }[] = []

function listen(server: net.Server): Promise<number> {
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  )
}

/** A TCP server for the test's duration; every accepted socket is kept to be checked. */
async function tcpServer(onConnection: (socket: net.Socket) => void = () => undefined) {
  const sockets: net.Socket[] = []
  const server = net.createServer(socket => {
    sockets.push(socket)
    socket.on('error', () => undefined)
    // Reads (and drops) what comes, so the end of the stream is seen when the client hangs up.
    socket.resume()
    onConnection(socket)
  })
  const port = await listen(server)
  const close = async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise(resolve => server.close(resolve))
  }
  return { port, sockets, close }
}

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>(resolve => wss.once('listening', resolve))
  wsPort = (wss.address() as AddressInfo).port
  wss.on('connection', (socket, request) => {
    upgrades.push(request)
    socket.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }))
    behaviour(socket, request)
  })
})

afterAll(async () => {
  for (const client of wss.clients) client.terminate()
  await new Promise(resolve => wss.close(resolve))
})

beforeEach(() => {
  behaviour = () => undefined
  upgrades.length = 0
  closes.length = 0
})

const url = (path = '/socket') => `ws://127.0.0.1:${wsPort}${path}`

/** The server sees the close a moment after the client does; waits for it, 2 s at most. */
async function serverSawClose(): Promise<typeof closes> {
  for (let waited = 0; closes.length === 0 && waited < 2000; waited += 10) {
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  return closes
}

describe('checkWebSocket against a real WebSocket server', () => {
  it('passes on the 101 upgrade and closes the connection cleanly before it resolves', async () => {
    const result = await checkWebSocket(url('/socket?room=1'), { timeoutMs: 2000 })
    expect(result).toEqual({ ok: true, detail: 'status 101' })
    expect(upgrades.map(r => r.url)).toEqual(['/socket?room=1'])
    expect(await serverSawClose()).toEqual([{ code: 1000, reason: '' }])
    expect(wss.clients.size).toBe(0)
  })

  it('sends the extra headers with the upgrade request', async () => {
    const result = await checkWebSocket(url(), {
      headers: { authorization: 'Bearer smoke', 'x-smoke': '1' },
      timeoutMs: 2000
    })
    expect(result.ok).toBe(true)
    expect(upgrades[0]?.headers).toMatchObject({ authorization: 'Bearer smoke', 'x-smoke': '1' })
  })

  it('sends a message and passes when the first reply contains the expected text', async () => {
    const received: string[] = []
    behaviour = socket =>
      socket.on('message', data => {
        received.push(data.toString())
        socket.send(`pong: ${data.toString()}`)
      })
    const result = await checkWebSocket(url(), { send: 'ping', expect: 'pong', timeoutMs: 2000 })
    expect(result).toEqual({ ok: true, detail: 'status 101, reply contained "pong"' })
    expect(received).toEqual(['ping'])
    expect(await serverSawClose()).toEqual([{ code: 1000, reason: '' }])
  })

  it('waits for a server that speaks first, and reads binary messages as text', async () => {
    behaviour = socket => socket.send(Buffer.from('{"type":"welcome"}'))
    const result = await checkWebSocket(url(), { expect: 'welcome', timeoutMs: 2000 })
    expect(result).toEqual({ ok: true, detail: 'status 101, reply contained "welcome"' })
  })

  it('sends without waiting for anything when there is no expect', async () => {
    const received: string[] = []
    behaviour = socket => socket.on('message', data => received.push(data.toString()))
    const result = await checkWebSocket(url(), { send: 'hello', timeoutMs: 2000 })
    expect(result).toEqual({ ok: true, detail: 'status 101' })
    expect(received).toEqual(['hello'])
  })

  it('fails when the first reply lacks the expected text, quoting it', async () => {
    behaviour = socket =>
      socket.on('message', () => {
        socket.send(`error:\n  unknown command ${'x'.repeat(300)}`)
        socket.send('pong')
      })
    const result = await checkWebSocket(url(), { send: 'ping', expect: 'pong', timeoutMs: 2000 })
    expect(result).toEqual({
      ok: false,
      detail: `reply did not contain "pong": got "error: unknown command ${'x'.repeat(177)}…"`
    })
  })

  it('times out when no reply comes, saying what it waited for', async () => {
    const started = Date.now()
    const result = await checkWebSocket(url(), { send: 'ping', expect: 'pong', timeoutMs: 200 })
    expect(result).toEqual({
      ok: false,
      detail: 'timed out after 200ms waiting for a reply containing "pong" (got no message)'
    })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await serverSawClose()).toEqual([{ code: 1000, reason: '' }])
  })

  it('fails when the server closes before replying', async () => {
    behaviour = socket => socket.close(1011, 'database down')
    const result = await checkWebSocket(url(), { expect: 'ready', timeoutMs: 2000 })
    expect(result).toEqual({
      ok: false,
      detail: 'connection closed (code 1011 "database down") before a reply containing "ready"'
    })
  })
})

describe('checkWebSocket against servers that do not upgrade', () => {
  it('reports the status of a plain HTTP server that answers 404', async () => {
    const requests: string[] = []
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url} upgrade=${req.headers.upgrade}`)
      res.writeHead(404).end('no route')
    })
    const port = await listen(server)
    try {
      const result = await checkWebSocket(`ws://127.0.0.1:${port}/socket`, { timeoutMs: 2000 })
      expect(result).toEqual({ ok: false, detail: 'no 101 upgrade: got status 404' })
      expect(requests).toEqual(['GET /socket upgrade=websocket'])
    } finally {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  })

  it('times out on a TCP server that accepts and never answers, and hangs up on it', async () => {
    const tcp = await tcpServer()
    try {
      const started = Date.now()
      const result = await checkWebSocket(`ws://127.0.0.1:${tcp.port}/`, { timeoutMs: 200 })
      expect(result).toEqual({
        ok: false,
        detail: 'timed out after 200ms waiting for the 101 upgrade'
      })
      expect(Date.now() - started).toBeLessThan(2000)
      expect(tcp.sockets).toHaveLength(1)
      // The check hung up: the server's socket closes without the server closing it.
      const socket = tcp.sockets[0] as net.Socket
      if (!socket.closed) await new Promise(resolve => socket.once('close', resolve))
      expect(socket.closed).toBe(true)
    } finally {
      await tcp.close()
    }
  })

  it('explains a 101 that does not complete the handshake', async () => {
    const tcp = await tcpServer(socket =>
      socket.once('data', () =>
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n'
        )
      )
    )
    try {
      const result = await checkWebSocket(`ws://127.0.0.1:${tcp.port}/`, { timeoutMs: 2000 })
      expect(result).toEqual({
        ok: false,
        detail:
          'no valid upgrade: status 101, but Incorrect hash received in Sec-WebSocket-Accept header.'
      })
    } finally {
      await tcp.close()
    }
  })

  it('reports a refused connection', async () => {
    const tcp = await tcpServer()
    await tcp.close()
    const result = await checkWebSocket(`ws://127.0.0.1:${tcp.port}/`, { timeoutMs: 2000 })
    expect(result).toEqual({ ok: false, detail: 'no 101 upgrade: connection refused' })
  })

  it.each([
    ['http://127.0.0.1:1/', 'http://127.0.0.1:1/ is not a ws:// or wss:// URL'],
    ['web:8080/socket', 'web:8080/socket is not a ws:// or wss:// URL'],
    ['not a url', '"not a url" is not a URL']
  ])('refuses %j without connecting', async (target, detail) => {
    expect(await checkWebSocket(target, { timeoutMs: 100 })).toEqual({ ok: false, detail })
  })

  it('reports a header undici refuses to send', async () => {
    const result = await checkWebSocket(url(), { headers: { 'bad header': 'x' }, timeoutMs: 500 })
    expect(result.ok).toBe(false)
    expect(result.detail).toMatch(/^could not open the connection: ./)
    expect(upgrades).toEqual([])
  })
})
