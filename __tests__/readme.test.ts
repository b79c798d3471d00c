import * as fs from 'node:fs'
import { parse } from 'yaml'

// The README's inputs and outputs tables are what users read: they must match action.yml.
const action = parse(fs.readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
}
const readme = fs.readFileSync('README.md', 'utf8')

function tableAfter(heading: string): string[][] {
  const start = readme.indexOf(`\n## ${heading}\n`)
  expect(start).toBeGreaterThan(-1)
  const rows: string[][] = []
  for (const line of readme.slice(start).split('\n').slice(2)) {
    if (line.startsWith('## ')) break
    if (!line.startsWith('|') || line.startsWith('|---')) continue
    rows.push(
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map(cell => cell.trim())
    )
  }
  return rows.slice(1)
}

describe('README', () => {
  it('lists every input of action.yml with its default and description', () => {
    const rows = tableAfter('Inputs')
    expect(rows.map(row => row[0])).toEqual(Object.keys(action.inputs).map(name => `\`${name}\``))
    for (const [name, input] of Object.entries(action.inputs)) {
      const row = rows.find(r => r[0] === `\`${name}\``) as string[]
      const expectedDefault = input.required
        ? '(required)'
        : input.default
          ? input.default
              .split('\n')
              .map(line => `\`${line}\``)
              .join('<br>')
          : ''
      expect([name, row[1]]).toEqual([name, expectedDefault])
      expect([name, row[2]]).toEqual([name, input.description.replace(/\n/g, '<br>')])
    }
  })

  it('lists every output of action.yml', () => {
    const rows = tableAfter('Outputs')
    expect(rows.map(row => row[0])).toEqual(Object.keys(action.outputs).map(name => `\`${name}\``))
    for (const [name, output] of Object.entries(action.outputs)) {
      expect(rows.find(r => r[0] === `\`${name}\``)?.[1]).toBe(output.description)
    }
  })
})
