// Notes page: talks to the API through nginx at /api (same origin, so the
// Content-Security-Policy can stay at connect-src 'self').
'use strict'

const $ = sel => document.querySelector(sel)
const list = $('#notes')
const form = $('#new-note')
const input = $('#text')
const errorBox = $('#error')

async function api(path, options = {}) {
  const res = await fetch(`/api${path}`, {
    ...options,
    headers: {
      Accept: 'application/json',
      ...(options.body ? { 'Content-Type': 'application/json' } : {})
    }
  })
  const version = res.headers.get('X-App-Version')
  if (version) $('#version').textContent = version
  const body = res.status === 204 ? null : await res.json().catch(() => null)
  if (!res.ok) throw new Error(body?.error || `HTTP ${res.status}`)
  return body
}

function showError(err) {
  errorBox.hidden = !err
  errorBox.textContent = err ? `Something went wrong: ${err.message}` : ''
}

function render(notes) {
  const template = $('#note-template')
  list.replaceChildren(
    ...notes.map(note => {
      const li = template.content.firstElementChild.cloneNode(true)
      li.querySelector('.text').textContent = note.text // textContent: no HTML injection
      const time = li.querySelector('time')
      time.dateTime = note.createdAt
      time.textContent = new Date(note.createdAt).toLocaleString()
      li.querySelector('.delete').addEventListener('click', () => remove(note.id))
      return li
    })
  )
  if (!notes.length) list.innerHTML = '<li class="empty">No notes yet.</li>'
}

async function refresh() {
  try {
    const [{ notes }, stats] = await Promise.all([api('/notes'), api('/stats')])
    render(notes)
    $('#stats').textContent = `${stats.notesStored} stored, ${stats.notesCreated ?? '?'} created`
    showError(null)
  } catch (err) {
    showError(err)
  }
}

async function remove(id) {
  try {
    await api(`/notes/${id}`, { method: 'DELETE' })
    await refresh()
  } catch (err) {
    showError(err)
  }
}

form.addEventListener('submit', async event => {
  event.preventDefault()
  const text = input.value.trim()
  if (!text) return
  try {
    await api('/notes', { method: 'POST', body: JSON.stringify({ text }) })
    input.value = ''
    await refresh()
  } catch (err) {
    showError(err)
  }
})

refresh()
