import type { ProjectFiles } from '../../src/compose/project-files.js'

/** A project that references nothing but its compose file, at /w/shop; tests add what they need. */
export function projectFilesWith(overrides: Partial<ProjectFiles> = {}): ProjectFiles {
  return {
    root: '/w/shop',
    projectDirectory: '.',
    composeFiles: ['compose.yaml'],
    extraComposeFiles: [],
    envFiles: [],
    entries: [],
    objects: [],
    binds: [],
    persistent: [],
    hostPaths: [],
    secrets: [],
    configs: [],
    shipped: [],
    ...overrides
  }
}
