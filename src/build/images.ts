/** What the build stage hands to scan, smoke and deploy, per service (the `images` output). */
export interface BuiltImage {
  /** Repository without tag, e.g. registry.example.com/team/api. */
  image: string
  tags: string[]
  /** Registry digest (sha256:…) after a push; empty for images only loaded locally. */
  digest: string
  /** What to run: image@digest after a push, else image:first-tag. */
  ref: string
  /** Local image ID, when the image is in the local engine. */
  id?: string
}

export type ImageMap = Record<string, BuiltImage>

/** Splits `registry:5000/ns/name:tag` into repository and tag; a tag never contains `/`. */
export function splitImageRef(ref: string): { repository: string; tag: string | undefined } {
  const withoutDigest = ref.split('@')[0] as string
  const slash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  if (colon > slash) {
    return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) }
  }
  return { repository: withoutDigest, tag: undefined }
}

/** Parses an `images` input or output, naming the input when it is not the expected JSON. */
export function parseImageMap(text: string): ImageMap {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error('is not valid JSON; pass the `images` output of the build step')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('must be a JSON object mapping each service to { image, tags, digest, ref }')
  }
  for (const [service, entry] of Object.entries(value)) {
    const ref = (entry as { ref?: unknown })?.ref
    if (typeof ref !== 'string' || ref === '') {
      throw new Error(`entry "${service}" has no "ref" (image:tag or image@sha256:…)`)
    }
  }
  return value as ImageMap
}
