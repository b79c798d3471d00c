/**
 * Argv of the docker commands that more than one stage runs, on the runner (build) or on a host
 * (deploy).
 */

/** Registry login: the password goes on stdin, never into argv. */
export function loginArgs(registry: string, username: string): string[] {
  return ['docker', 'login', registry, '--username', username, '--password-stdin']
}

export function logoutArgs(registry: string): string[] {
  return ['docker', 'logout', registry]
}
