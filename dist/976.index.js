export const id = 976;
export const ids = [976];
export const modules = {

/***/ 6976:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  ScanOptionError: () => (/* binding */ ScanOptionError),
  defaultScanDeps: () => (/* binding */ defaultScanDeps),
  scanStage: () => (/* binding */ scanStage),
  targetsFromImages: () => (/* binding */ targetsFromImages),
  targetsFromRefs: () => (/* binding */ targetsFromRefs)
});

// UNUSED EXPORTS: ActionsCacheStore, DEFAULT_DB_REPOSITORIES, DEFAULT_RETRY, DEFAULT_TRIVY_VERSION, GivenTrivy, LocalDirectoryCacheStore, ReleaseInstaller, SEVERITIES, ScanError, ScanGateError, ScanReportError, ServiceScanError, automationId, backoffDelay, checksumsFileName, compareFindings, dbCacheKey, dbDownloadArgs, defaultCacheStore, defaultTrivyCacheDir, describeCounts, evaluateGate, exitCodeFor, failureAnnotation, gateFailureMessage, imageScanArgs, isRateLimited, isUnfixed, loadIgnoreConfig, matchIgnoreRule, orderRows, parseChecksums, parseIgnoreFile, parseSarif, parseSeverities, parseTrivyIgnore, parseTrivyIgnoreYaml, parseTrivyReport, parseTrivyVersion, renderScanSummary, sarifCategory, sarifConvertArgs, scanErrorHint, settleWithLimit, splitExpired, stampSarifCategory, trivyAssetName, trivyVersionArgs, validateTargets, verifyChecksum, worstFindings

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/exec/executor.ts + 1 modules
var executor = __webpack_require__(6168);
// EXTERNAL MODULE: ./src/exec/time.ts
var time = __webpack_require__(5760);
// EXTERNAL MODULE: ./node_modules/@actions/cache/lib/cache.js + 340 modules
var cache = __webpack_require__(1691);
;// CONCATENATED MODULE: ./src/scan/cache-store.ts
/**
 * Where the Trivy vulnerability DB is kept between runs. The scan stage only sees CacheStore;
 * on GitHub Actions it is @actions/cache (GitHub's cache service), elsewhere a directory on
 * this machine, so that the CLI works the same locally.
 */




/** GitHub's cache service through @actions/cache. */
class ActionsCacheStore {
    description = 'the GitHub Actions cache';
    async restore(paths, primaryKey, restoreKeys) {
        return cache/* restoreCache */.P3(paths, primaryKey, restoreKeys);
    }
    async save(paths, key) {
        try {
            const id = await cache/* saveCache */.Io(paths, key);
            // saveCache reports most failures as a warning and -1, not as an error.
            if (id === -1)
                throw new Error(`the cache service did not store key ${key}`);
        }
        catch (error) {
            // Another job of this run (or an earlier run today) saved the same key first: fine.
            if (error.name === cache/* ReserveCacheError */.Zh.name)
                return;
            throw error;
        }
    }
}
function entryName(key) {
    return encodeURIComponent(key);
}
/**
 * A cache in a local directory, with GitHub's rules: restore by exact key, else the newest entry
 * whose key starts with a restore key; a saved key is never overwritten.
 */
class LocalDirectoryCacheStore {
    root;
    description;
    constructor(root) {
        this.root = root;
        this.description = `the local cache in ${root}`;
    }
    entries() {
        if (!external_node_fs_.existsSync(this.root))
            return [];
        const manifests = [];
        for (const name of external_node_fs_.readdirSync(this.root)) {
            const file = external_node_path_.join(this.root, name, 'manifest.json');
            try {
                manifests.push(JSON.parse(external_node_fs_.readFileSync(file, 'utf8')));
            }
            catch {
                // an entry being written, or not ours: skip it
            }
        }
        return manifests;
    }
    async restore(paths, primaryKey, restoreKeys) {
        const entries = this.entries().sort((a, b) => b.savedAt.localeCompare(a.savedAt));
        let hit = entries.find(entry => entry.key === primaryKey);
        for (const prefix of restoreKeys) {
            if (hit)
                break;
            hit = entries.find(entry => entry.key.startsWith(prefix));
        }
        if (!hit)
            return undefined;
        const dir = external_node_path_.join(this.root, entryName(hit.key));
        hit.paths.forEach((saved, index) => {
            // Restored to where the caller asks, in the same order as saved.
            const target = paths[index] ?? saved;
            external_node_fs_.rmSync(target, { recursive: true, force: true });
            external_node_fs_.mkdirSync(external_node_path_.dirname(target), { recursive: true });
            external_node_fs_.cpSync(external_node_path_.join(dir, 'data', String(index)), target, { recursive: true });
        });
        return hit.key;
    }
    async save(paths, key) {
        const dir = external_node_path_.join(this.root, entryName(key));
        if (external_node_fs_.existsSync(external_node_path_.join(dir, 'manifest.json')))
            return;
        for (const p of paths) {
            if (!external_node_fs_.existsSync(p))
                throw new Error(`cannot cache ${p}: it does not exist`);
        }
        const staging = `${dir}.partial-${process.pid}-${Date.now()}`;
        external_node_fs_.rmSync(staging, { recursive: true, force: true });
        paths.forEach((p, index) => {
            external_node_fs_.cpSync(p, external_node_path_.join(staging, 'data', String(index)), { recursive: true });
        });
        const manifest = { key, paths, savedAt: new Date().toISOString() };
        external_node_fs_.writeFileSync(external_node_path_.join(staging, 'manifest.json'), JSON.stringify(manifest));
        try {
            external_node_fs_.renameSync(staging, dir);
        }
        catch (error) {
            external_node_fs_.rmSync(staging, { recursive: true, force: true });
            // Someone saved the same key at the same moment: keys are immutable, keep theirs.
            if (external_node_fs_.existsSync(external_node_path_.join(dir, 'manifest.json')))
                return;
            throw error;
        }
    }
}
/** The local cache's folder: next to the tool cache when there is one, else in the user cache. */
function localCacheRoot(env = process.env) {
    if (env.RUNNER_TOOL_CACHE)
        return external_node_path_.join(env.RUNNER_TOOL_CACHE, 'stack-deploy-cache');
    const base = env.XDG_CACHE_HOME || external_node_path_.join(external_node_os_.homedir() || external_node_os_.tmpdir(), '.cache');
    return external_node_path_.join(base, 'stack-deploy', 'cache');
}
/** @actions/cache on a runner (ACTIONS_RUNTIME_TOKEN is set), a local directory elsewhere. */
function defaultCacheStore(env = process.env) {
    if (env.ACTIONS_RUNTIME_TOKEN)
        return new ActionsCacheStore();
    return new LocalDirectoryCacheStore(localCacheRoot(env));
}

// EXTERNAL MODULE: ./src/input-specs.ts
var input_specs = __webpack_require__(2538);
// EXTERNAL MODULE: ./src/scan/report.ts
var scan_report = __webpack_require__(1595);
;// CONCATENATED MODULE: ./src/scan/trivy-args.ts
/**
 * Trivy command lines, as data. Flag names checked against Trivy v0.74.0 (pkg/flag/*.go and
 * docs/guide/references/configuration/cli/trivy_image.md, trivy_convert.md).
 */

/** The oldest Trivy these argv work with: `--cache-backend memory` arrived in 0.53.0. */
const MIN_TRIVY_VERSION = '0.53.0';
/** `--skip-version-check` and `--disable-telemetry` arrived in 0.63.0. */
const QUIET_NETWORK_FLAGS_SINCE = '0.63.0';
/** Trivy's own default is 5 minutes; the first scan of a large image can take longer. */
const SCAN_TIMEOUT = '15m';
const DB_DOWNLOAD_TIMEOUT = '10m';
const ALL_SEVERITIES = [...scan_report/* SEVERITIES */.oC].reverse().join(','); // UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL
/** Compares dotted numeric versions: negative when a < b. */
function compareVersions(a, b) {
    const pa = a.split(/[.-]/).map(part => Number.parseInt(part, 10) || 0);
    const pb = b.split(/[.-]/).map(part => Number.parseInt(part, 10) || 0);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (diff !== 0)
            return diff;
    }
    return 0;
}
/** Flags that stop Trivy calling home (version notices, telemetry), where it knows them. */
function quietNetworkFlags(version) {
    return compareVersions(version, QUIET_NETWORK_FLAGS_SINCE) >= 0
        ? ['--skip-version-check', '--disable-telemetry']
        : [];
}
function trivy_args_trivyVersionArgs(trivy) {
    return [trivy, '--version'];
}
/**
 * Downloads (or refreshes) the vulnerability DB into `<cacheDir>/db` from one repository.
 * `--no-progress`, not `--quiet`: with `--quiet` Trivy discards its ERROR lines, and the
 * `TOOMANYREQUESTS` detail of a rate limit is in one of them.
 */
function dbDownloadArgs(trivy, options) {
    return [
        trivy,
        'image',
        '--download-db-only',
        '--cache-dir',
        options.cacheDir,
        '--db-repository',
        options.repository,
        '--no-progress',
        ...quietNetworkFlags(options.version),
        '--timeout',
        DB_DOWNLOAD_TIMEOUT
    ];
}
/**
 * Scans one image into a full JSON report: every severity, `--exit-code 0` (our code decides
 * the gate), no ignore file (`ignoreFile` points to an empty one, so that a .trivyignore in the
 * current directory cannot hide findings from the report), the DB from `cacheDir` as it is
 * (`--skip-db-update`, `--skip-java-db-update`), and the in-memory scan cache: the file-system
 * one is a BoltDB that one process at a time can open, so parallel scans would block on it.
 */
function imageScanArgs(trivy, options) {
    return [
        trivy,
        'image',
        '--scanners',
        'vuln',
        '--format',
        'json',
        '--output',
        options.output,
        '--severity',
        ALL_SEVERITIES,
        '--exit-code',
        '0',
        '--ignorefile',
        options.emptyIgnoreFile,
        '--cache-dir',
        options.cacheDir,
        '--cache-backend',
        'memory',
        '--skip-db-update',
        '--skip-java-db-update',
        '--no-progress',
        ...quietNetworkFlags(options.version),
        '--timeout',
        options.timeout ?? SCAN_TIMEOUT,
        options.ref
    ];
}
/**
 * Converts a JSON report to SARIF without scanning again (`trivy convert`, Trivy ≥ 0.37). The
 * ignore file applies, so accepted risks do not become code scanning alerts.
 */
function sarifConvertArgs(trivy, options) {
    return [
        trivy,
        'convert',
        '--format',
        'sarif',
        '--output',
        options.output,
        '--severity',
        ALL_SEVERITIES,
        '--ignorefile',
        options.ignoreFile,
        options.input
    ];
}
/** The version in `trivy --version` output (`Version: 0.74.0`), or undefined. */
function trivy_args_parseTrivyVersion(output) {
    const match = /^Version:\s*v?(\S+)/m.exec(output);
    return match ? match[1] : undefined;
}
/** stderr of a DB download that hit a registry rate limit (HTTP 429 / TOOMANYREQUESTS). */
function isRateLimited(stderr) {
    return /\b429\b|TOOMANYREQUESTS|too many requests/i.test(stderr);
}

;// CONCATENATED MODULE: ./src/scan/db.ts
/**
 * The Trivy vulnerability DB, fetched once per run and kept in a cache keyed by the UTC day.
 *
 * Order of events, so that neither failure of aquasecurity/trivy-action #430 (rate limits on
 * the DB download) nor #500 (the DB is not cached when the scan fails) can happen here:
 * 1. restore `<cacheDir>/db` from the cache (exact key `trivy-db-YYYY-MM-DD`, else the newest
 *    `trivy-db-*`); an exact hit needs no download at all;
 * 2. otherwise `trivy image --download-db-only` from each repository in turn (mirror.gcr.io
 *    first), retrying a rate-limited one (429 / TOOMANYREQUESTS) with exponential backoff;
 * 3. save the cache right away, before any image is scanned, so a failing gate cannot lose it.
 * Scans then run with `--skip-db-update`. A cache that cannot be reached is a warning.
 */





/**
 * The trivy-db-repositories input's default: Trivy's own defaults since v0.57 (pkg/db/db.go),
 * Google's mirror first, then GHCR.
 */
const DEFAULT_DB_REPOSITORIES = (0,input_specs/* inputDefault */.qw)('trivy-db-repositories').split('\n');
const DB_CACHE_KEY_PREFIX = 'trivy-db-';
/** `trivy-db-YYYY-MM-DD` of the UTC day: one download per day, shared by every run that day. */
function dbCacheKey(now) {
    return `${DB_CACHE_KEY_PREFIX}${now.toISOString().slice(0, 10)}`;
}
const DEFAULT_RETRY = {
    attemptsPerRepository: 3,
    initialDelayMs: 5_000,
    factor: 2,
    maxDelayMs: 60_000
};
/** The wait before retry number `retry` (1-based): initial × factor^(retry-1), capped. */
function backoffDelay(policy, retry) {
    return Math.min(policy.initialDelayMs * policy.factor ** (retry - 1), policy.maxDelayMs);
}
class DbDownloadError extends Error {
    attempts;
    constructor(attempts, message) {
        super(message);
        this.attempts = attempts;
        this.name = 'DbDownloadError';
    }
}
function dbDir(cacheDir) {
    return external_node_path_.join(cacheDir, 'db');
}
/** `<cacheDir>/db/metadata.json`, which Trivy writes next to trivy.db. */
function readDbMetadata(cacheDir) {
    try {
        return JSON.parse(external_node_fs_.readFileSync(external_node_path_.join(dbDir(cacheDir), 'metadata.json'), 'utf8'));
    }
    catch {
        return undefined;
    }
}
function oneLine(text) {
    return (0,executor/* lastLines */.w$)(text, 3).replace(/\s*\n\s*/g, ' | ');
}
async function prepareVulnerabilityDb(options) {
    const { cache, reporter, executor } = options;
    const retry = options.retry ?? DEFAULT_RETRY;
    const key = dbCacheKey(options.now);
    const paths = [dbDir(options.cacheDir)];
    external_node_fs_.mkdirSync(options.cacheDir, { recursive: true });
    let restoredKey;
    try {
        restoredKey = await cache.restore(paths, key, [DB_CACHE_KEY_PREFIX]);
    }
    catch (error) {
        reporter.warning(`Could not restore the Trivy DB from ${cache.description} (${error.message}); downloading it instead.`);
    }
    const restored = restoredKey !== undefined && readDbMetadata(options.cacheDir) !== undefined;
    if (restored && restoredKey === key) {
        reporter.info(`Trivy DB restored from ${cache.description} (key ${key}); no download needed.`);
        return {
            cacheDir: options.cacheDir,
            key,
            restoredKey,
            source: 'cache',
            repository: undefined,
            attempts: [],
            saved: false,
            metadata: readDbMetadata(options.cacheDir)
        };
    }
    if (restored)
        reporter.info(`Trivy DB restored from ${cache.description} (key ${restoredKey}).`);
    const attempts = [];
    let repository;
    let lastError = '';
    repositories: for (const repo of options.repositories) {
        for (let attempt = 1; attempt <= retry.attemptsPerRepository; attempt++) {
            const argv = dbDownloadArgs(options.trivy.path, {
                cacheDir: options.cacheDir,
                repository: repo,
                version: options.trivy.version
            });
            const result = await executor.run(argv);
            const record = {
                repository: repo,
                attempt,
                exitCode: result.exitCode,
                rateLimited: result.exitCode !== 0 && isRateLimited(result.stderr + result.stdout)
            };
            attempts.push(record);
            if (result.exitCode === 0) {
                repository = repo;
                break repositories;
            }
            lastError = `${repo}: ${oneLine(result.stderr || result.stdout) || `exit ${result.exitCode}`}`;
            if (record.rateLimited && attempt < retry.attemptsPerRepository) {
                record.retryAfterMs = backoffDelay(retry, attempt);
                reporter.info(`Trivy DB download from ${repo} was rate-limited (attempt ${attempt} of ${retry.attemptsPerRepository}); retrying in ${Math.round(record.retryAfterMs / 1000)}s.`);
                await options.sleep(record.retryAfterMs);
                continue;
            }
            reporter.info(`Trivy DB download from ${repo} failed${record.rateLimited ? ' (rate-limited)' : ''}: ${oneLine(result.stderr || result.stdout)}`);
            continue repositories;
        }
    }
    if (repository === undefined) {
        if (restored) {
            reporter.warning(`Could not refresh the Trivy DB from ${options.repositories.join(' or ')}; scanning with the DB restored from ${cache.description} (key ${restoredKey}). Last error: ${lastError}`);
            return {
                cacheDir: options.cacheDir,
                key,
                restoredKey,
                source: 'stale-cache',
                repository: undefined,
                attempts,
                saved: false,
                metadata: readDbMetadata(options.cacheDir)
            };
        }
        throw new DbDownloadError(attempts, `Could not download the Trivy vulnerability DB from ${options.repositories.join(', ')} (${attempts.length} attempts). Last error: ${lastError}. Re-run the job later, or list a registry mirror you can reach in the DB repositories.`);
    }
    if (repository !== options.repositories[0]) {
        reporter.warning(`Trivy DB downloaded from ${repository} after ${options.repositories[0]} failed.`);
    }
    // Save now, before any scan: a failing gate must not cost the next run its cached DB.
    let saved = false;
    try {
        await cache.save(paths, key);
        saved = true;
        reporter.info(`Trivy DB saved to ${cache.description} (key ${key}).`);
    }
    catch (error) {
        reporter.warning(`Could not save the Trivy DB to ${cache.description} (${error.message}); the next run downloads it again.`);
    }
    return {
        cacheDir: options.cacheDir,
        key,
        restoredKey,
        source: 'download',
        repository,
        attempts,
        saved,
        metadata: readDbMetadata(options.cacheDir)
    };
}

// EXTERNAL MODULE: ./src/scan/gate.ts
var scan_gate = __webpack_require__(6534);
// EXTERNAL MODULE: ./src/scan/ignore.ts
var scan_ignore = __webpack_require__(1795);
// EXTERNAL MODULE: ./node_modules/@actions/tool-cache/lib/tool-cache.js + 2 modules
var tool_cache = __webpack_require__(9805);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/scan/install.ts
/**
 * Installing Trivy: a pinned release from GitHub, verified against the release's checksums
 * file and kept in the runner's tool cache; or the `trivy` on PATH.
 *
 * Release layout (goreleaser.yml and contrib/install.sh of aquasecurity/trivy v0.74.0):
 *   https://github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_Linux-64bit.tar.gz
 *   https://github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt
 * The tarball holds `trivy` (plus README.md, LICENSE, contrib/) at its root; the checksums file
 * has one `<sha256>  <file name>` line per asset.
 */








/**
 * The Trivy release stack-deploy installs by default (released 2026-08-14): the trivy-version
 * input's default.
 */
const DEFAULT_TRIVY_VERSION = (0,input_specs/* inputDefault */.qw)('trivy-version');
const TRIVY_RELEASES_URL = 'https://github.com/aquasecurity/trivy/releases/download';
const TOOL_NAME = 'trivy';
class TrivyInstallError extends Error {
    constructor(message) {
        super(message);
        this.name = 'TrivyInstallError';
    }
}
/** '0.74.0', 'v0.74.0' → '0.74.0'; 'path' → 'path'; anything else is an error. */
function normalizeTrivyVersion(value) {
    const trimmed = value.trim();
    if (trimmed === 'path')
        return 'path';
    const match = /^v?(\d+\.\d+\.\d+)$/.exec(trimmed);
    if (!match) {
        throw new TrivyInstallError(`Trivy version "${value}" is not a release like ${DEFAULT_TRIVY_VERSION}; give one, or "path" to use the trivy on PATH`);
    }
    const version = match[1];
    if (compareVersions(version, MIN_TRIVY_VERSION) < 0) {
        throw new TrivyInstallError(`Trivy ${version} is too old for stack-deploy (it needs ${MIN_TRIVY_VERSION} or later); use ${DEFAULT_TRIVY_VERSION}`);
    }
    return version;
}
/** goreleaser's OS-arch naming for the release archives. */
function trivyAssetName(version, platform = process.platform, arch = process.arch) {
    const osName = { linux: 'Linux', darwin: 'macOS', freebsd: 'FreeBSD' }[platform];
    const archName = {
        x64: '64bit',
        arm64: 'ARM64',
        arm: 'ARM',
        ia32: '32bit',
        ppc64: 'PPC64LE',
        s390x: 's390x'
    }[arch];
    if (!osName || !archName) {
        throw new TrivyInstallError(`There is no Trivy release archive for ${platform}/${arch}; install Trivy yourself and use trivy version "path"`);
    }
    return `trivy_${version}_${osName}-${archName}.tar.gz`;
}
function checksumsFileName(version) {
    return `trivy_${version}_checksums.txt`;
}
function releaseAssetUrl(baseUrl, version, file) {
    return `${baseUrl.replace(/\/+$/, '')}/v${version}/${file}`;
}
/** Parses `<sha256>  <name>` lines (sha256sum / goreleaser format; `*name` for binary mode). */
function parseChecksums(text) {
    const sums = new Map();
    for (const line of text.split(/\r?\n/)) {
        const match = /^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$/.exec(line.trim());
        if (match)
            sums.set(match[2], match[1].toLowerCase());
    }
    return sums;
}
function sha256File(file) {
    return (0,external_node_crypto_.createHash)('sha256').update(external_node_fs_.readFileSync(file)).digest('hex');
}
/** Throws unless `file` has the checksum the checksums file lists for `assetName`. */
function verifyChecksum(file, assetName, checksumsText, sourceUrl) {
    const expected = parseChecksums(checksumsText).get(assetName);
    if (!expected) {
        throw new TrivyInstallError(`The checksums file of the Trivy release has no entry for ${assetName} (${sourceUrl}); the release may be incomplete: pick another version`);
    }
    const actual = sha256File(file);
    if (actual !== expected) {
        throw new TrivyInstallError(`Checksum mismatch for ${assetName} downloaded from ${sourceUrl}: expected sha256 ${expected}, got ${actual}. Nothing was installed or cached; re-run the job, and if it persists, check for a proxy rewriting downloads`);
    }
    return actual;
}
/** Finds an executable `name` on a PATH string, like `which`. */
function findOnPath(name, pathEnv = process.env.PATH ?? '') {
    for (const dir of pathEnv.split(external_node_path_.delimiter)) {
        if (!dir)
            continue;
        const candidate = external_node_path_.join(dir, name);
        try {
            external_node_fs_.accessSync(candidate, external_node_fs_.constants.X_OK);
            if (external_node_fs_.statSync(candidate).isFile())
                return candidate;
        }
        catch {
            // not here
        }
    }
    return undefined;
}
/** @actions/tool-cache needs RUNNER_TOOL_CACHE and RUNNER_TEMP; outside a runner we pick some. */
function ensureToolCacheEnv(env = process.env) {
    if (!env.RUNNER_TOOL_CACHE) {
        const base = env.XDG_CACHE_HOME || external_node_path_.join(external_node_os_.homedir() || external_node_os_.tmpdir(), '.cache');
        env.RUNNER_TOOL_CACHE = external_node_path_.join(base, 'stack-deploy', 'tool-cache');
    }
    if (!env.RUNNER_TEMP)
        env.RUNNER_TEMP = external_node_path_.join(external_node_os_.tmpdir(), 'stack-deploy-temp');
    external_node_fs_.mkdirSync(env.RUNNER_TOOL_CACHE, { recursive: true });
    external_node_fs_.mkdirSync(env.RUNNER_TEMP, { recursive: true });
}
/** Installs Trivy releases into the tool cache (or uses the one on PATH). */
class ReleaseInstaller {
    options;
    baseUrl;
    constructor(options) {
        this.options = options;
        this.baseUrl = options.downloadBaseUrl ?? TRIVY_RELEASES_URL;
    }
    /** The version a trivy binary reports, or undefined when it does not run. */
    async versionOf(binary) {
        try {
            const result = await this.options.executor.run(trivy_args_trivyVersionArgs(binary));
            return result.exitCode === 0 ? trivy_args_parseTrivyVersion(result.stdout) : undefined;
        }
        catch {
            return undefined;
        }
    }
    async install(requested) {
        const version = normalizeTrivyVersion(requested);
        const onPath = findOnPath(TOOL_NAME, this.options.pathEnv);
        if (version === 'path') {
            if (!onPath) {
                throw new TrivyInstallError('Trivy version is "path" but there is no trivy on PATH; install it first, or set a version such as ' +
                    DEFAULT_TRIVY_VERSION);
            }
            const found = await this.versionOf(onPath);
            if (!found) {
                throw new TrivyInstallError(`${onPath} --version did not print "Version: x.y.z"; is it Trivy?`);
            }
            return { path: onPath, version: found, source: 'path' };
        }
        ensureToolCacheEnv();
        const cached = tool_cache/* find */.I6(TOOL_NAME, version);
        if (cached && external_node_fs_.existsSync(external_node_path_.join(cached, TOOL_NAME))) {
            return { path: external_node_path_.join(cached, TOOL_NAME), version, source: 'tool-cache' };
        }
        if (onPath && (await this.versionOf(onPath)) === version) {
            return { path: onPath, version, source: 'path' };
        }
        return this.download(version);
    }
    async download(version) {
        const asset = trivyAssetName(version, this.options.platform, this.options.arch);
        const assetUrl = releaseAssetUrl(this.baseUrl, version, asset);
        const sumsUrl = releaseAssetUrl(this.baseUrl, version, checksumsFileName(version));
        let archive;
        let sums;
        let extracted;
        try {
            try {
                archive = await tool_cache/* downloadTool */.bq(assetUrl);
                sums = await tool_cache/* downloadTool */.bq(sumsUrl);
            }
            catch (error) {
                throw new TrivyInstallError(`Could not download Trivy ${version} (${assetUrl} and its checksums file): ${error.message}. Check the version exists on the Trivy releases page, or use trivy version "path"`);
            }
            verifyChecksum(archive, asset, external_node_fs_.readFileSync(sums, 'utf8'), assetUrl);
            extracted = await tool_cache/* extractTar */.nN(archive);
            const binary = external_node_path_.join(extracted, TOOL_NAME);
            if (!external_node_fs_.existsSync(binary)) {
                throw new TrivyInstallError(`${asset} from ${assetUrl} has no "${TOOL_NAME}" at its root`);
            }
            external_node_fs_.chmodSync(binary, 0o755);
            const found = await this.versionOf(binary);
            if (found !== version) {
                throw new TrivyInstallError(`${asset} from ${assetUrl} holds a trivy that reports version ${found ?? '(none)'}, not ${version}; nothing was cached`);
            }
            const dir = await tool_cache/* cacheDir */.e8(extracted, TOOL_NAME, version);
            return { path: external_node_path_.join(dir, TOOL_NAME), version, source: 'download' };
        }
        finally {
            for (const file of [archive, sums, extracted]) {
                if (file)
                    external_node_fs_.rmSync(file, { recursive: true, force: true });
            }
        }
    }
}
/** An installer that hands out one given binary (a pre-installed Trivy, or a test stand-in). */
class GivenTrivy {
    binary;
    executor;
    constructor(binary, executor) {
        this.binary = binary;
        this.executor = executor;
    }
    async install() {
        const result = await this.executor.run(trivyVersionArgs(this.binary));
        const version = result.exitCode === 0 ? parseTrivyVersion(result.stdout) : undefined;
        if (!version) {
            throw new TrivyInstallError(`${this.binary} --version failed or printed no "Version: x.y.z": ${lastLines(result.stderr || result.stdout, 3)}`);
        }
        return { path: this.binary, version, source: 'given' };
    }
}

;// CONCATENATED MODULE: ./src/scan/sarif.ts
/**
 * One SARIF file per service, each with its own code scanning category.
 *
 * GitHub tells analyses apart by tool name plus `runs[].automationDetails.id`; the category is
 * that id up to its last `/`. github/codeql-action's upload-sarif sets the id to
 * `<category>/` only when a run has none (upload-lib.ts, populateRunAutomationDetails), so a
 * folder of Trivy SARIF files uploads as separate analyses only when we stamp each run first.
 */
const CATEGORY_PREFIX = 'stack-deploy';
/** `stack-deploy/<service>`: the category code scanning shows for this service's alerts. */
function sarifCategory(service) {
    return `${CATEGORY_PREFIX}/${service}`;
}
/** The automation id: the category and a final `/`, as upload-sarif would write it. */
function automationId(service) {
    return `${sarifCategory(service)}/`;
}
class SarifError extends Error {
    constructor(message) {
        super(message);
        this.name = 'SarifError';
    }
}
/** Checks the shape code scanning needs (SARIF 2.1.0, runs with a tool driver). */
function parseSarif(text, what) {
    let value;
    try {
        value = JSON.parse(text);
    }
    catch (error) {
        throw new SarifError(`${what} is not valid JSON (${error.message.split('\n')[0]})`);
    }
    const log = value;
    if (typeof log !== 'object' || log === null || log.version !== '2.1.0') {
        throw new SarifError(`${what} is not SARIF 2.1.0`);
    }
    if (!Array.isArray(log.runs) ||
        log.runs.some(run => typeof run?.tool?.driver?.name !== 'string')) {
        throw new SarifError(`${what} has no runs with a tool driver name`);
    }
    return log;
}
/** Returns a copy of `log` whose every run carries the service's category. */
function stampSarifCategory(log, service) {
    return {
        ...log,
        runs: log.runs.map(run => ({
            ...run,
            automationDetails: { ...(run.automationDetails ?? {}), id: automationId(service) }
        }))
    };
}
/** A file name for the service: compose names are [a-zA-Z0-9._-], but stay safe anyway. */
function serviceFileName(service) {
    return service.replace(/[^A-Za-z0-9._-]/g, '_');
}

// EXTERNAL MODULE: ./src/scan/summary.ts
var scan_summary = __webpack_require__(3009);
;// CONCATENATED MODULE: ./src/scan/scan.ts
/**
 * The scan stage: every image scanned with Trivy (a bounded number at a time), a full JSON
 * report and a SARIF file per service, and a gate that our code computes from the JSON.
 *
 *   install Trivy → DB (cache, download with retries, save) → scan each image → convert to
 *   SARIF and stamp its category → gate → job summary, annotations, outputs → throw if failing
 */
















/** A bad scan setting; the message names the setting (as the action input is named). */
class ScanOptionError extends Error {
    option;
    constructor(option, message) {
        super(`Scan option '${option}': ${message}`);
        this.option = option;
        this.name = 'ScanOptionError';
    }
}
/** Trivy could not scan one or more images (not findings: errors). */
class ScanError extends Error {
    failures;
    constructor(failures, message) {
        super(message);
        this.failures = failures;
        this.name = 'ScanError';
    }
}
/** The gate failed; everything (SARIF, summary, annotations, outputs) is written already. */
class ScanGateError extends Error {
    result;
    constructor(result, message) {
        super(message);
        this.result = result;
        this.name = 'ScanGateError';
    }
}
/** One service's scan failed; the message names the service, the image and what to do. */
class ServiceScanError extends Error {
    service;
    ref;
    constructor(service, ref, message) {
        super(message);
        this.service = service;
        this.ref = ref;
        this.name = 'ServiceScanError';
    }
}
// --- targets ----------------------------------------------------------------------------------
/** Scan targets from the build stage's `images` map, optionally only some services. */
function targetsFromImages(images, services = []) {
    const names = services.length > 0 ? [...services] : Object.keys(images);
    return names.map(service => {
        const image = images[service];
        if (!image) {
            throw new ScanOptionError('images', `no image for service "${service}"; the images map has: ${Object.keys(images).join(', ') || '(none)'}`);
        }
        return { service, ref: image.ref };
    });
}
/** Scan targets from bare image refs; each is named after its repository's last segment. */
function targetsFromRefs(refs) {
    const used = new Map();
    return refs.map(ref => {
        const withoutDigest = ref.split('@')[0];
        const lastSegment = withoutDigest.split('/').pop() ?? withoutDigest;
        const base = lastSegment.replace(/:[^:]*$/, '') || 'image';
        const n = (used.get(base) ?? 0) + 1;
        used.set(base, n);
        return { service: n === 1 ? base : `${base}-${n}`, ref };
    });
}
function validateTargets(targets) {
    if (targets.length === 0) {
        throw new ScanOptionError('images', 'nothing to scan; pass the `images` output of the build step, or image refs');
    }
    const seen = new Set();
    for (const target of targets) {
        if (!target.service)
            throw new ScanOptionError('images', 'a scan target has no service name');
        if (!target.ref || target.ref.trim() === '') {
            throw new ScanOptionError('images', `service "${target.service}" has no image ref to scan; pass the \`images\` output of the build step (service → { ref })`);
        }
        if (seen.has(target.service)) {
            throw new ScanOptionError('images', `service "${target.service}" is listed twice`);
        }
        seen.add(target.service);
    }
}
// --- a bounded pool ---------------------------------------------------------------------------
/** Runs `fn` over `items` with at most `limit` at a time; never rejects, keeps the order. */
async function settleWithLimit(items, limit, fn) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const index = next++;
            try {
                results[index] = { status: 'fulfilled', value: await fn(items[index], index) };
            }
            catch (reason) {
                results[index] = { status: 'rejected', reason };
            }
        }
    };
    const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
    await Promise.all(workers);
    return results;
}
// --- one image --------------------------------------------------------------------------------
/** What to do next, for the errors Trivy is known to print. */
function scanErrorHint(stderr) {
    if (/unable to find the specified image|No such image|image not found/i.test(stderr)) {
        return 'the image is neither in the local Docker engine nor in a registry Trivy can read; build it first (command: build) or pass the `images` output of the build step';
    }
    if (/skip-java-db-update/.test(stderr)) {
        return 'the image contains Java archives, which need the Trivy Java DB; stack-deploy scans with --skip-java-db-update, so Java packages cannot be scanned yet';
    }
    if (/skip-db-update cannot be specified on the first run/.test(stderr)) {
        return 'the vulnerability DB is missing from the cache dir; this is a bug in stack-deploy, please report it';
    }
    if (/context deadline exceeded|timeout/i.test(stderr)) {
        return 'the scan timed out; raise the scan timeout or scan fewer images in parallel';
    }
    return 'see the Trivy output above; re-run the job, and report it if it persists';
}
async function scanOne(target, ctx) {
    const { service, ref } = target;
    const file = serviceFileName(service);
    const reportPath = external_node_path_.join(ctx.reportDir, `${file}.trivy.json`);
    const sarifPath = external_node_path_.join(ctx.sarifDir, `${file}.sarif`);
    const rawSarif = external_node_path_.join(ctx.workDir, `${file}.trivy.sarif`);
    // Never read a stale report from an earlier run if Trivy writes nothing this time.
    for (const stale of [reportPath, sarifPath, rawSarif])
        external_node_fs_.rmSync(stale, { force: true });
    ctx.reporter.info(`Scanning ${service} (${ref})...`);
    const scan = await ctx.executor.run(imageScanArgs(ctx.trivy.path, {
        ref,
        cacheDir: ctx.cacheDir,
        output: reportPath,
        emptyIgnoreFile: ctx.emptyIgnoreFile,
        version: ctx.trivy.version,
        timeout: ctx.options.timeout
    }), { cwd: ctx.workDir });
    if (scan.exitCode !== 0) {
        const tail = (0,executor/* lastLines */.w$)(scan.stderr || scan.stdout, 8);
        throw new ServiceScanError(service, ref, `Trivy could not scan service "${service}" (image ${ref}): exit ${scan.exitCode}; ${scanErrorHint(tail)}${tail ? `\n${tail}` : ''}`);
    }
    if (!external_node_fs_.existsSync(reportPath)) {
        throw new ServiceScanError(service, ref, `Trivy exited 0 for service "${service}" (image ${ref}) but wrote no report at ${reportPath}; check the runner's disk`);
    }
    const report = (0,scan_report/* parseTrivyReport */.Qg)(external_node_fs_.readFileSync(reportPath, 'utf8'), service, reportPath);
    const convert = await ctx.executor.run(sarifConvertArgs(ctx.trivy.path, {
        input: reportPath,
        output: rawSarif,
        ignoreFile: ctx.ignore.file ?? ctx.emptyIgnoreFile
    }), { cwd: ctx.workDir });
    if (convert.exitCode !== 0 || !external_node_fs_.existsSync(rawSarif)) {
        const tail = (0,executor/* lastLines */.w$)(convert.stderr || convert.stdout, 8);
        throw new ServiceScanError(service, ref, `trivy convert could not turn the report of service "${service}" (${reportPath}) into SARIF: exit ${convert.exitCode}${tail ? `\n${tail}` : ''}`);
    }
    let sarif;
    try {
        sarif = parseSarif(external_node_fs_.readFileSync(rawSarif, 'utf8'), `The SARIF of service "${service}"`);
    }
    catch (error) {
        throw new ServiceScanError(service, ref, `${error.message} (${rawSarif})`);
    }
    external_node_fs_.writeFileSync(sarifPath, `${JSON.stringify(stampSarifCategory(sarif, service), null, 2)}\n`);
    const exitCode = (0,scan_gate/* exitCodeFor */.Rr)(service, ctx.options.exitCodes);
    const gate = (0,scan_gate/* evaluateGate */.DR)(report, {
        severities: ctx.severities,
        ignoreUnfixed: ctx.options.ignoreUnfixed,
        rules: ctx.activeRules,
        exitCode
    });
    const row = {
        service,
        ref,
        ...gate,
        exitCode,
        worst: [],
        reportPath,
        sarifPath
    };
    row.worst = (0,scan_summary/* worstFindings */.QK)(row);
    const ignored = gate.ignored.ignoreFile + gate.ignored.unfixed;
    ctx.reporter.info(`${service}: ${(0,scan_summary/* describeCounts */.wv)(gate.counts) || 'no findings'}${ignored ? ` (${ignored} ignored)` : ''}; gate: ${gate.verdict}`);
    return row;
}
// --- the stage --------------------------------------------------------------------------------
function dbNote(db, cacheDescription) {
    const updated = db.metadata?.UpdatedAt
        ? ` (updated ${db.metadata.UpdatedAt.replace('T', ' ').replace(/\..*$/, '').replace(/Z$/, '')} UTC)`
        : '';
    switch (db.source) {
        case 'cache':
            return `restored from ${cacheDescription} (key ${db.key})${updated}`;
        case 'stale-cache':
            return `restored from ${cacheDescription} (key ${db.restoredKey}); the refresh failed${updated}`;
        default:
            return `downloaded from ${db.repository}${updated}, ${db.saved ? `cached as ${db.key}` : 'not cached'}`;
    }
}
/**
 * Trivy's cache dir. On a runner it must be the same path in every run: @actions/cache keys an
 * entry by its paths too (cacheUtils.getCacheVersion), so a random folder would never restore.
 */
function defaultTrivyCacheDir(workDir, env = process.env) {
    return env.RUNNER_TEMP
        ? external_node_path_.join(env.RUNNER_TEMP, 'stack-deploy-trivy-cache')
        : external_node_path_.join(workDir, 'trivy-cache');
}
function validateOptions(options) {
    let severities;
    try {
        severities = (0,scan_report/* parseSeverities */.fE)(options.severities);
    }
    catch (error) {
        throw new ScanOptionError('severity', error.message);
    }
    if (!Number.isInteger(options.parallel) || options.parallel < 1) {
        throw new ScanOptionError('parallel', `expected a whole number of images to scan at once, 1 or more, got ${options.parallel}`);
    }
    for (const [service, code] of Object.entries(options.exitCodes.perService)) {
        if (code !== 0 && code !== 1) {
            throw new ScanOptionError('exit-code', `service "${service}" has ${code}; use 0 or 1`);
        }
    }
    if (options.exitCodes.default !== 0 && options.exitCodes.default !== 1) {
        throw new ScanOptionError('exit-code', `the default is ${options.exitCodes.default}; use 0 or 1`);
    }
    try {
        normalizeTrivyVersion(options.trivyVersion);
    }
    catch (error) {
        throw new ScanOptionError('trivy-version', error.message);
    }
    return severities;
}
function outputValue(result) {
    const services = {};
    for (const s of result.services) {
        services[s.service] = {
            ref: s.ref,
            verdict: s.verdict,
            counts: s.counts,
            ignored: s.ignored,
            worst: s.worst.map(f => ({
                id: f.id,
                pkg: f.pkg,
                installed: f.installed,
                fixed: f.fixed,
                severity: f.severity
            })),
            report: s.reportPath,
            sarif: s.sarifPath
        };
    }
    return JSON.stringify({ passed: result.passed, threshold: result.threshold, services });
}
async function scanStage(targets, options, deps) {
    const { reporter, executor } = deps;
    const now = deps.now?.() ?? new Date();
    validateTargets(targets);
    const severities = validateOptions(options);
    const known = new Set(targets.map(t => t.service));
    const strays = Object.keys(options.exitCodes.perService).filter(s => !known.has(s));
    if (strays.length > 0) {
        reporter.warning(`Scan exit codes are set for ${strays.join(', ')}, which ${strays.length === 1 ? 'is' : 'are'} not scanned; check the service names`);
    }
    const workingDirectory = external_node_path_.resolve(options.workingDirectory);
    let ignore;
    try {
        ignore = (0,scan_ignore/* loadIgnoreConfig */.Fy)(options.ignoreFile, workingDirectory);
    }
    catch (error) {
        throw new ScanOptionError('ignore-file', error.message);
    }
    for (const warning of ignore.warnings)
        reporter.warning(warning);
    const { active, expired } = (0,scan_ignore/* splitExpired */.IP)(ignore.rules, now);
    if (expired.length > 0) {
        reporter.warning(`${expired.map(r => `${r.id} (expired ${r.expiredAt?.toISOString().slice(0, 10)})`).join(', ')} in ${ignore.file} no longer ${expired.length === 1 ? 'applies' : 'apply'}; fix the finding or renew the expiry date`);
    }
    const sarifDir = external_node_path_.resolve(workingDirectory, options.sarifDir);
    const reportDir = external_node_path_.resolve(workingDirectory, options.reportDir ?? sarifDir);
    external_node_fs_.mkdirSync(sarifDir, { recursive: true });
    external_node_fs_.mkdirSync(reportDir, { recursive: true });
    const tempRoot = process.env.RUNNER_TEMP || external_node_os_.tmpdir();
    external_node_fs_.mkdirSync(tempRoot, { recursive: true });
    const workDir = external_node_fs_.mkdtempSync(external_node_path_.join(tempRoot, 'stack-deploy-scan-'));
    try {
        // An empty ignore file for the scans: the JSON report must list every finding.
        const emptyIgnoreFile = external_node_path_.join(workDir, 'no-ignores.trivyignore');
        external_node_fs_.writeFileSync(emptyIgnoreFile, '');
        const cacheDir = options.cacheDir ?? defaultTrivyCacheDir(workDir);
        const trivy = await reporter.group('Install Trivy', async () => {
            const installed = await deps.installer.install(options.trivyVersion);
            reporter.info(`Trivy ${installed.version} (${installed.source}): ${installed.path}`);
            return installed;
        });
        const db = await reporter.group('Trivy vulnerability DB', () => prepareVulnerabilityDb({
            trivy,
            cacheDir,
            repositories: options.dbRepositories.length > 0 ? options.dbRepositories : DEFAULT_DB_REPOSITORIES,
            executor,
            cache: deps.cache,
            reporter,
            sleep: deps.sleep,
            now,
            retry: options.dbRetry
        }));
        const ctx = {
            trivy,
            cacheDir,
            workDir,
            emptyIgnoreFile,
            ignore,
            activeRules: active,
            reportDir,
            sarifDir,
            severities,
            options,
            executor,
            reporter
        };
        const settled = await reporter.group(`Scan ${targets.length} image${targets.length === 1 ? '' : 's'} (${Math.min(options.parallel, targets.length)} at a time)`, () => settleWithLimit(targets, options.parallel, target => scanOne(target, ctx)));
        const services = [];
        const failures = [];
        settled.forEach((outcome, index) => {
            const target = targets[index];
            if (outcome.status === 'fulfilled')
                services.push(outcome.value);
            else
                failures.push({ ...target, message: outcome.reason.message });
        });
        const result = {
            passed: failures.length === 0 && services.every(s => s.verdict !== 'fail'),
            failing: (0,scan_summary/* orderRows */.O1)(services.filter(s => s.verdict === 'fail')).map(s => s.service),
            threshold: severities,
            services,
            trivy,
            db,
            ignoreFile: ignore.file,
            sarifDir,
            reportDir
        };
        const ignoreNote = ignore.file
            ? `${active.length} rule${active.length === 1 ? '' : 's'}${expired.length ? `, ${expired.length} expired` : ''}`
            : undefined;
        let summary = (0,scan_summary/* renderScanSummary */.uw)(services, {
            threshold: severities,
            ignoreUnfixed: options.ignoreUnfixed,
            ignoreFile: ignore.file
                ? external_node_path_.relative(workingDirectory, ignore.file) || ignore.file
                : undefined,
            ignoreNote,
            trivyVersion: trivy.version,
            dbNote: dbNote(db, deps.cache.description),
            sarifDir: external_node_path_.relative(workingDirectory, sarifDir) || '.'
        });
        if (failures.length > 0) {
            summary += `\n**Not scanned:** ${failures.map(f => `${f.service} (\`${f.ref}\`)`).join(', ')}; see the errors in the log.\n`;
        }
        await reporter.addSummary(summary);
        for (const row of (0,scan_summary/* orderRows */.O1)(services)) {
            if (row.verdict === 'pass')
                continue;
            const { title, message } = (0,scan_summary/* failureAnnotation */.Qp)(row, severities);
            if (row.verdict === 'fail')
                reporter.error(message, { title });
            else
                reporter.warning(message, { title });
        }
        reporter.setOutput('scan', outputValue(result));
        reporter.setOutput('sarif-dir', sarifDir);
        if (failures.length > 0) {
            const message = failures.length === 1
                ? failures[0].message
                : `Trivy could not scan ${failures.length} services:\n${failures.map(f => `- ${f.message}`).join('\n')}`;
            throw new ScanError(failures, message);
        }
        if (!result.passed)
            throw new ScanGateError(result, (0,scan_summary/* gateFailureMessage */.hL)(services, severities));
        return result;
    }
    finally {
        external_node_fs_.rmSync(workDir, { recursive: true, force: true });
    }
}
/** The real dependencies: the release installer, @actions/cache or a local cache, real time. */
function defaultScanDeps(executor, reporter, overrides = {}) {
    return {
        executor,
        reporter,
        cache: defaultCacheStore(),
        installer: new ReleaseInstaller({ executor }),
        sleep: time/* sleep */.y,
        ...overrides
    };
}
// Pure functions, re-exported for table tests and for the lead's wiring.










/***/ })

};
