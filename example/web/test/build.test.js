'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const test = require('node:test')
const { build } = require('../build')

test('hashes assets and rewrites index.html references', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'web-build-'))
  const manifest = build(path.join(__dirname, '..', 'src'), out)
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8')
  for (const hashed of Object.values(manifest)) {
    assert.match(hashed, /^\/assets\/[\w-]+\.[0-9a-f]{10}\.\w+$/)
    assert.ok(fs.existsSync(path.join(out, hashed)), `${hashed} written`)
  }
  assert.ok(html.includes(manifest['/assets/app.js']))
  assert.ok(html.includes(manifest['/assets/styles.css']))
  assert.doesNotMatch(html, /"\/assets\/(app\.js|styles\.css)"/)
  // Same input, same names: the build is reproducible (cache-friendly).
  assert.deepEqual(build(path.join(__dirname, '..', 'src'), out), manifest)
})

test('fails on a reference to a missing asset', () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'web-src-'))
  fs.writeFileSync(path.join(src, 'index.html'), '<script src="/assets/missing.js"></script>')
  assert.throws(() => build(src, fs.mkdtempSync(path.join(os.tmpdir(), 'web-out-'))), /missing\.js/)
})
