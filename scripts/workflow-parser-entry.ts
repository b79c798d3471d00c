/**
 * Entry of the CommonJS bundle of GitHub's workflow parser (@actions/workflow-parser, from
 * actions/languageservices) that __tests__/workflows.test.ts builds with esbuild and loads with
 * createRequire. The package is ESM and imports its JSON schemas, which jest's ESM mode cannot
 * load; bundled once into one CommonJS file, it loads anywhere.
 *
 * The expression engine (@actions/expressions, the parser's own dependency, from the same
 * repository and release) evaluates the workflows' `${{ }}` expressions against the contexts
 * GitHub would give a job, e.g. which commit of stack-deploy a job checks out.
 */
export {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow
} from '@actions/workflow-parser'
export { parseAction } from '@actions/workflow-parser/actions/action-parser'
export { data, Evaluator, Lexer, Parser } from '@actions/expressions'
