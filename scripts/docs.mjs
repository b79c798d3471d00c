// `npm run docs`: writes the inputs and outputs of action.yml, and the README's tables, from
// src/input-specs.ts; and the tables of docs/workflows.md from the reusable workflows'
// `on.workflow_call`. With --check, fails when any of them is out of date.
import * as fs from 'node:fs'
import * as path from 'node:path'
import ts from 'typescript'
import { parse } from 'yaml'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const source = fs.readFileSync(path.join(root, 'src', 'input-specs.ts'), 'utf8')
const js = ts.transpileModule(source, {
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
}).outputText
const { INPUT_SPECS, OUTPUT_SPECS } = await import(`data:text/javascript,${encodeURIComponent(js)}`)

// Single-quoted YAML folds line breaks into spaces; a value with line breaks is written as a
// JSON string, which YAML reads as a double-quoted scalar with the \n kept.
const quote = text => (text.includes('\n') ? JSON.stringify(text) : `'${text.replace(/'/g, "''")}'`)

function actionYaml(text) {
  const lines = ['inputs:']
  for (const input of INPUT_SPECS) {
    lines.push(`  ${input.name}:`, `    description: ${quote(input.description)}`)
    if (input.required) lines.push('    required: true')
    if (input.default !== undefined) lines.push(`    default: ${quote(input.default)}`)
  }
  lines.push('', 'outputs:')
  for (const output of OUTPUT_SPECS)
    lines.push(`  ${output.name}:`, `    description: ${quote(output.description)}`)
  const start = text.indexOf('\ninputs:\n')
  const end = text.indexOf('\nruns:\n')
  if (start < 0 || end < 0) throw new Error('action.yml: expected top-level inputs: and runs: keys')
  return `${text.slice(0, start + 1)}${lines.join('\n')}\n${text.slice(end)}`
}

const cell = text => text.replace(/\|/g, '\\|').replace(/\n/g, '<br>')
function readmeTables(text) {
  const inputs = [
    '| Input | Default | Description |',
    '|---|---|---|',
    ...INPUT_SPECS.map(
      i =>
        `| \`${i.name}\` | ${
          i.required
            ? '(required)'
            : i.default
              ? i.default
                  .split('\n')
                  .map(d => `\`${d}\``)
                  .join('<br>')
              : ''
        } | ${cell(i.description)} |`
    )
  ]
  const outputs = [
    '| Output | Description |',
    '|---|---|',
    ...OUTPUT_SPECS.map(o => `| \`${o.name}\` | ${cell(o.description)} |`)
  ]
  const replace = (body, name, table) => {
    const pattern = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`)
    if (!pattern.test(body))
      throw new Error(`README.md: missing <!-- ${name}:start --> / <!-- ${name}:end --> markers`)
    return body.replace(pattern, `$1${table.join('\n')}\n$2`)
  }
  return replace(replace(text, 'inputs', inputs), 'outputs', outputs)
}

// One table each of inputs, secrets and outputs per reusable workflow, between
// <!-- workflow:<file>:start --> and <!-- workflow:<file>:end --> in docs/workflows.md.
function workflowTables(text) {
  const dir = path.join(root, '.github', 'workflows')
  let body = text
  for (const file of fs.readdirSync(dir).sort()) {
    const call = parse(fs.readFileSync(path.join(dir, file), 'utf8'))?.on?.workflow_call
    if (!call) continue
    const lines = []
    const inputs = Object.entries(call.inputs ?? {})
    if (inputs.length > 0) {
      lines.push('| Input | Type | Default | Description |', '|---|---|---|---|')
      for (const [name, input] of inputs) {
        const fallback = input.required
          ? '(required)'
          : input.default === undefined || input.default === ''
            ? ''
            : `\`${String(input.default)}\``
        lines.push(
          `| \`${name}\` | ${input.type} | ${fallback} | ${cell((input.description ?? '').trim())} |`
        )
      }
      lines.push('')
    }
    const secrets = Object.entries(call.secrets ?? {})
    if (secrets.length > 0) {
      lines.push('| Secret | Required | Description |', '|---|---|---|')
      for (const [name, secret] of secrets)
        lines.push(
          `| \`${name}\` | ${secret.required ? 'yes' : 'no'} | ${cell((secret.description ?? '').trim())} |`
        )
      lines.push('')
    }
    const outputs = Object.entries(call.outputs ?? {})
    if (outputs.length > 0) {
      lines.push('| Output | Description |', '|---|---|')
      for (const [name, output] of outputs)
        lines.push(`| \`${name}\` | ${cell((output.description ?? '').trim())} |`)
    }
    const marker = `workflow:${file}`
    const pattern = new RegExp(`(<!-- ${marker}:start -->\\n)[\\s\\S]*?(<!-- ${marker}:end -->)`)
    if (!pattern.test(body))
      throw new Error(
        `docs/workflows.md: missing <!-- ${marker}:start --> / <!-- ${marker}:end --> markers`
      )
    body = body.replace(pattern, `$1${lines.join('\n').trimEnd()}\n$2`)
  }
  return body
}

const check = process.argv.includes('--check')
let stale = false
for (const [file, render] of [
  ['action.yml', actionYaml],
  ['README.md', readmeTables],
  ['docs/workflows.md', workflowTables]
]) {
  const full = path.join(root, file)
  const before = fs.readFileSync(full, 'utf8')
  const after = render(before)
  if (before === after) continue
  if (check) {
    console.error(`${file} is out of date with its sources: run \`npm run docs\`.`)
    stale = true
  } else {
    fs.writeFileSync(full, after)
    console.log(`wrote ${file}`)
  }
}
if (stale) process.exit(1)
