/**
 * The action's entry point (action.yml runs dist/index.js for both `main` and `post`). The
 * main step saves the `isPost` state, so its presence tells the two apart, as in actions/checkout.
 */
import * as core from '@actions/core'
import { post, run } from './main.js'

if (core.getState('isPost') === 'true') {
  await post()
} else {
  await run()
}
