export type LoginFailure = 'refused' | 'unreachable' | 'other'

/** Tells a wrong password from a registry that cannot be reached, from `docker login` output. */
export function classifyLoginFailure(output: string): LoginFailure {
  if (
    /unauthorized|authentication required|incorrect username or password|denied|401/i.test(output)
  )
    return 'refused'
  if (
    /connection refused|no such host|i\/o timeout|network is unreachable|dial tcp|TLS handshake|server gave HTTP response|certificate/i.test(
      output
    )
  ) {
    return 'unreachable'
  }
  return 'other'
}

/** The registry host of an image reference ("docker.io" when it has none). */
export function registryOf(repository: string): string {
  const first = repository.split('/')[0] as string
  const hasHost =
    repository.includes('/') &&
    (first.includes('.') || first.includes(':') || first === 'localhost')
  return hasHost ? first : 'docker.io'
}
