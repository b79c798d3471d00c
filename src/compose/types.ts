/**
 * The parts of `docker compose config --format json` output that stack-deploy reads. Compose
 * has already applied interpolation, `extends`, profiles, overrides and defaults, so these
 * shapes are the normalised model, not what users write.
 */
export interface ComposeBuild {
  context: string
  dockerfile?: string
  target?: string
  args?: Record<string, string | null>
}

export interface ComposeDependency {
  condition: string
  required?: boolean
  restart?: boolean
}

export interface ComposeHealthcheck {
  test?: string[] | string
  interval?: string
  timeout?: string
  retries?: number
  start_period?: string
  disable?: boolean
}

export interface ComposePort {
  target: number
  published?: string
  host_ip?: string
  protocol?: string
  mode?: string
}

export interface ComposeVolumeMount {
  type: string
  source?: string
  target: string
  read_only?: boolean
  /** Bind options (propagation, selinux, create_host_path). */
  bind?: Record<string, unknown>
}

export interface ComposeService {
  image?: string
  build?: ComposeBuild
  depends_on?: Record<string, ComposeDependency>
  healthcheck?: ComposeHealthcheck
  ports?: ComposePort[]
  volumes?: ComposeVolumeMount[]
  networks?: Record<string, unknown>
  profiles?: string[]
  restart?: string
  container_name?: string
  network_mode?: string
  /** Only in the models without interpolation: the resolved one inlines env files. */
  env_file?: ({ path: string; required?: boolean } | string)[]
  secrets?: { source: string; target?: string }[]
  configs?: { source: string; target?: string }[]
}

/** A top-level `secrets:` or `configs:` entry. */
export interface ComposeFileObject {
  name?: string
  file?: string
  environment?: string
  content?: string
  external?: boolean
}

export interface ComposeConfig {
  name: string
  services: Record<string, ComposeService>
  volumes?: Record<string, { name?: string; external?: boolean } | null>
  networks?: Record<string, { name?: string; internal?: boolean; external?: boolean } | null>
  secrets?: Record<string, ComposeFileObject | null>
  configs?: Record<string, ComposeFileObject | null>
}

/** Where a compose project lives and how to address it; everything compose argv is built from. */
export interface ComposeProjectRef {
  /** Absolute folder the compose files are relative to (commands run there). */
  workingDirectory: string
  /** Compose files as the user gave them, relative to workingDirectory or absolute. */
  files: string[]
  projectName?: string
  profiles: string[]
}
