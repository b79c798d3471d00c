#!/usr/bin/env node
'use strict'
// Tiny static build: copies src/ into dist/, giving every asset a content
// hash (dist/assets/app.3f2a9c1b7d.js) and rewriting the /assets/... references
// in index.html. Hashed names let nginx serve /assets/ as `immutable` for a
// year while index.html stays `no-cache`: a deploy changes the names, so
// browsers never run stale JS/CSS. No dependencies: `node build.js [outDir]`.
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

function build(srcDir, outDir) {
  fs.rmSync(outDir, { recursive: true, force: true })
  fs.mkdirSync(path.join(outDir, 'assets'), { recursive: true })

  const manifest = {}
  for (const file of fs.readdirSync(srcDir).sort()) {
    if (file === 'index.html' || !fs.statSync(path.join(srcDir, file)).isFile()) continue
    const content = fs.readFileSync(path.join(srcDir, file))
    const hash = crypto.createHash('sha256').update(content).digest('hex').slice(0, 10)
    const { name, ext } = path.parse(file)
    const hashed = `${name}.${hash}${ext}`
    fs.writeFileSync(path.join(outDir, 'assets', hashed), content)
    manifest[`/assets/${file}`] = `/assets/${hashed}`
  }

  const html = fs
    .readFileSync(path.join(srcDir, 'index.html'), 'utf8')
    .replace(/(["'])(\/assets\/[^"']+)\1/g, (match, quote, ref) => {
      if (!manifest[ref]) throw new Error(`index.html references ${ref}, which is not in ${srcDir}`)
      return `${quote}${manifest[ref]}${quote}`
    })
  fs.writeFileSync(path.join(outDir, 'index.html'), html)
  fs.writeFileSync(
    path.join(outDir, 'asset-manifest.json'),
    `${JSON.stringify(manifest, null, 2)}\n`
  )
  return manifest
}

if (require.main === module) {
  const outDir = path.resolve(process.argv[2] || path.join(__dirname, 'dist'))
  const manifest = build(path.join(__dirname, 'src'), outDir)
  for (const [from, to] of Object.entries(manifest)) console.log(`${from} -> ${to}`)
  console.log(`built ${outDir}`)
}

module.exports = { build }
