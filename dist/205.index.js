export const id = 205;
export const ids = [205];
export const modules = {

/***/ 4332:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Gl: () => (/* binding */ parseLockOwner),
/* harmony export */   ys: () => (/* binding */ decideOnHeldLock)
/* harmony export */ });
/* unused harmony export describeHolder */
function parseLockOwner(text) {
    try {
        const value = JSON.parse(text);
        if (typeof value.token !== 'string' || typeof value.acquiredAt !== 'string')
            return undefined;
        return {
            token: value.token,
            owner: String(value.owner ?? 'unknown'),
            runUrl: typeof value.runUrl === 'string' ? value.runUrl : undefined,
            acquiredAt: value.acquiredAt,
            ttlSeconds: Number(value.ttlSeconds ?? 0)
        };
    }
    catch {
        return undefined;
    }
}
/**
 * What to do about a lock someone else holds. An owner record that cannot be read (a holder
 * that died between mkdir and writing it) is stale once the directory itself is older than
 * the TTL we would give.
 */
function decideOnHeldLock(owner, now, lockDirAgeSeconds, defaultTtlSeconds) {
    if (!owner) {
        return lockDirAgeSeconds > defaultTtlSeconds
            ? {
                action: 'take-over',
                holder: 'an unknown deploy',
                reason: `its lock has no owner record and is ${Math.round(lockDirAgeSeconds)}s old`
            }
            : { action: 'wait', holder: 'an unknown deploy (no owner record yet)' };
    }
    const holder = describeHolder(owner);
    const age = (now.getTime() - Date.parse(owner.acquiredAt)) / 1000;
    if (Number.isFinite(age) && owner.ttlSeconds > 0 && age > owner.ttlSeconds) {
        return {
            action: 'take-over',
            holder,
            reason: `held for ${Math.round(age)}s, past its TTL of ${owner.ttlSeconds}s`
        };
    }
    return { action: 'wait', holder };
}
function describeHolder(owner) {
    return `${owner.owner} since ${owner.acquiredAt}${owner.runUrl ? ` (${owner.runUrl})` : ''}`;
}


/***/ }),

/***/ 9018:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  Q4: () => (/* binding */ RemoteExecutor),
  MQ: () => (/* binding */ buildRemoteCommand),
  AB: () => (/* binding */ disposeSsh),
  MO: () => (/* binding */ remoteScriptArgv)
});

// UNUSED EXPORTS: LOCAL_TIMEOUT_GRACE_SECONDS, MAX_REMOTE_COMMAND_LENGTH, RemoteCommandError, RemoteTimeoutError, Semaphore, WRITE_FILE_SCRIPT, writeFileArgv, writeRemoteFile

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/exec/executor.ts + 1 modules
var executor = __webpack_require__(6168);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/exec/ssh.ts
var ssh = __webpack_require__(9451);
;// CONCATENATED MODULE: ./src/exec/known-hosts.ts
/**
 * Host key pinning. OpenSSH does the checking: we only ever write a known_hosts file of our
 * own and run ssh with StrictHostKeyChecking=yes against it. This module decides what goes in
 * that file, from the `known-hosts` input, which may hold, line by line:
 *
 * - known_hosts lines, passed through untouched (every key type, hashed `|1|` names,
 *   `[host]:port`, patterns, `@cert-authority`, `@revoked`: OpenSSH handles them all);
 * - SHA256 fingerprints, as `ssh-keygen -lf` prints them: `SHA256:...`, `host SHA256:...`,
 *   or a whole `256 SHA256:... comment (ED25519)` line. For those we fetch the host's keys with
 *   ssh-keyscan, keep only the keys whose fingerprint matches, and write those.
 *
 * Without either for a host, we refuse to connect; trust on first use is an explicit opt-in.
 */



const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const KEY_TYPE = /^(?:ssh-|ecdsa-|sk-|rsa-|x509v3-)[A-Za-z0-9@.+-]*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** `SHA256:abc=` -> `SHA256:abc`; undefined when it is not a SHA256 fingerprint. */
function normalizeFingerprint(text) {
    const trimmed = text.trim();
    return FINGERPRINT.test(trimmed) ? trimmed.replace(/=+$/, '') : undefined;
}
/** The name ssh looks a host up by in known_hosts: `host`, or `[host]:port` off port 22. */
function knownHostsName(endpoint) {
    return endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
}
function isKnownHostsLine(fields) {
    const rest = fields[0]?.startsWith('@') ? fields.slice(1) : fields;
    if (fields[0]?.startsWith('@') && !['@cert-authority', '@revoked'].includes(fields[0])) {
        return false;
    }
    const [hosts, type, key] = rest;
    return (hosts !== undefined &&
        type !== undefined &&
        key !== undefined &&
        KEY_TYPE.test(type) &&
        BASE64.test(key));
}
/** Splits the `known-hosts` input into known_hosts lines and fingerprints, refusing anything else. */
function parseKnownHosts(text, input = 'known-hosts') {
    const parsed = { lines: [], fingerprints: [] };
    const lines = text.replace(/\r\n?/g, '\n').split('\n');
    lines.forEach((raw, index) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#'))
            return;
        const fields = line.split(/\s+/);
        const where = `line ${index + 1}`;
        // SHA256:...  |  host SHA256:...  |  256 SHA256:... comment (TYPE)
        const fpIndex = fields.findIndex(field => field.startsWith('SHA256:'));
        if (fpIndex >= 0) {
            const fingerprint = normalizeFingerprint(fields[fpIndex]);
            if (!fingerprint) {
                throw new errors/* InputError */.dz(input, `${where}: "${fields[fpIndex]}" is not a SHA256 fingerprint`);
            }
            const keygenLine = fpIndex === 1 && /^\d+$/.test(fields[0]);
            if (fields.length === 1 || keygenLine) {
                parsed.fingerprints.push({ fingerprint });
            }
            else if (fields.length === 2 && fpIndex === 1) {
                parsed.fingerprints.push({ host: fields[0], fingerprint });
            }
            else {
                throw new errors/* InputError */.dz(input, `${where}: expected "SHA256:..." or "host SHA256:..." (as ssh-keygen -lf prints it)`);
            }
            return;
        }
        if (fields[0]?.startsWith('MD5:') || /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(fields[0] ?? '')) {
            throw new errors/* InputError */.dz(input, `${where}: MD5 fingerprints are not accepted; give the SHA256 one (ssh-keygen -lf prints it)`);
        }
        if (KEY_TYPE.test(fields[0] ?? '')) {
            throw new errors/* InputError */.dz(input, `${where}: a public key without a host name; known_hosts lines start with the host ` +
                `("HOST ${fields[0]} AAAA..."), as ssh-keyscan prints them`);
        }
        if (!isKnownHostsLine(fields)) {
            throw new errors/* InputError */.dz(input, `${where} is neither a known_hosts entry ("host key-type base64-key", as ssh-keyscan ` +
                `prints them) nor a fingerprint ("SHA256:...", as ssh-keygen -lf prints them)`);
        }
        parsed.lines.push(line);
    });
    return parsed;
}
/** The names a fingerprint line may give a host by: `host`, `[host]:port`. */
function namesOf(endpoint) {
    return [endpoint.host, knownHostsName(endpoint), `[${endpoint.host}]:${endpoint.port}`];
}
/** The pinned fingerprints that apply to an endpoint: its own, and those given without a host. */
function fingerprintsFor(pins, endpoint) {
    const names = namesOf(endpoint);
    return pins.fingerprints
        .filter(pin => pin.host === undefined || names.includes(pin.host))
        .map(pin => pin.fingerprint);
}
/** Fingerprints pinned for a host that is none of this deploy's (probably a typo). */
function unusedFingerprintHosts(pins, endpoints) {
    const names = new Set(endpoints.flatMap(namesOf));
    return pins.fingerprints
        .map(pin => pin.host)
        .filter((host) => host !== undefined && !names.has(host));
}
/** `ssh-keyscan -p PORT -T SECONDS -- HOST`: prints the host's keys in known_hosts format. */
function keyscanArgv(endpoint, timeoutSeconds) {
    return [
        'ssh-keyscan',
        '-p',
        String(endpoint.port),
        '-T',
        String(timeoutSeconds),
        '--',
        endpoint.host
    ];
}
/**
 * The keys of ssh-keyscan's output, renamed to the endpoint's known_hosts name. Only plain
 * `host type key` lines are kept: the output may come through a jump host, so nothing in it
 * (markers, patterns, other names) gets to our known_hosts as is.
 */
function scannedKeyLines(output, endpoint) {
    const name = knownHostsName(endpoint);
    const lines = [];
    for (const raw of output.split(/\r?\n/)) {
        const fields = raw.trim().split(/\s+/);
        if (fields.length !== 3 || fields[0]?.startsWith('#'))
            continue;
        const [, type, key] = fields;
        if (KEY_TYPE.test(type) && BASE64.test(key))
            lines.push(`${name} ${type} ${key}`);
    }
    return [...new Set(lines)];
}
/** One key's fingerprint, by `ssh-keygen -lf -` (the key on stdin), exactly as OpenSSH computes it. */
async function fingerprintKeyLine(executor, line) {
    // Only `type key`: the name field of a known_hosts line can confuse ssh-keygen (an
    // all-digit name reads as the bit count of an old RSA1 key).
    const publicKey = line.split(/\s+/).slice(1, 3).join(' ');
    const result = await executor.run(['ssh-keygen', '-l', '-E', 'sha256', '-f', '-'], {
        input: `${publicKey}\n`
    });
    const match = /^\d+ (SHA256:[A-Za-z0-9+/]+) .*\(([^)]+)\)\s*$/m.exec(result.stdout);
    if (result.exitCode !== 0 || !match) {
        throw new Error(`ssh-keygen -lf could not read a host key (${result.stderr.trim() || `exit ${result.exitCode}`}): ${line}`);
    }
    return { line, fingerprint: match[1], type: match[2] };
}
/** Fingerprints of every key in ssh-keyscan's output (one ssh-keygen per key: its output skips lines). */
async function fingerprintScan(executor, output, endpoint) {
    const keys = [];
    for (const line of scannedKeyLines(output, endpoint))
        keys.push(await fingerprintKeyLine(executor, line));
    return keys;
}
/** Whether our known_hosts file has a key (or a CA) for the endpoint: `ssh-keygen -F`, hashed names and patterns included. */
async function isPinned(executor, knownHostsFile, endpoint) {
    const result = await executor.run([
        'ssh-keygen',
        '-F',
        knownHostsName(endpoint),
        '-f',
        knownHostsFile
    ]);
    if (result.exitCode !== 0)
        return false;
    // "# Host h found: line 3", "... line 1 CA"; a @revoked line pins nothing.
    return /^# Host .* found: line \d+( CA)?\s*$/m.test(result.stdout);
}
function listKeys(keys) {
    return keys.map(key => `${key.type} ${key.fingerprint}`).join(', ');
}
/**
 * Makes sure our known_hosts pins the endpoint's host key, before anything connects to it:
 * host-specific fingerprints first (they are the most precise ask), then the given known_hosts
 * lines, then fingerprints given for any host, then trust on first use if asked for. Otherwise
 * refuses, naming the input and how to get its value.
 */
async function pinHostKey(endpoint, options) {
    const input = options.input ?? 'known-hosts';
    const name = knownHostsName(endpoint);
    const ownPins = options.pins.fingerprints.some(pin => pin.host !== undefined && namesOf(endpoint).includes(pin.host));
    const fingerprints = fingerprintsFor(options.pins, endpoint);
    if (!ownPins && (await isPinned(options.executor, options.knownHostsFile, endpoint))) {
        return 'known-hosts';
    }
    const keyscanHelp = `ssh-keyscan -p ${endpoint.port} ${endpoint.host} | ssh-keygen -lf -`;
    if (fingerprints.length === 0 && !options.trustOnFirstUse) {
        throw new errors/* InputError */.dz(input, `no host key is pinned for ${(0,ssh/* endpointLabel */.md)(endpoint)}, so stack-deploy will not connect to it. ` +
            `Set ${input} to the host's known_hosts line(s) (ssh-keyscan -p ${endpoint.port} ${endpoint.host}), ` +
            `or to its key fingerprint (SHA256:...), after checking the fingerprint against the host ` +
            `itself: compare \`${keyscanHelp}\` with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` ` +
            `run on ${endpoint.host}. (Trusting the key on first use is an explicit opt-in.)`);
    }
    const scan = await options.scan(endpoint);
    const offered = await fingerprintScan(options.executor, scan.stdout, endpoint);
    if (offered.length === 0) {
        const why = scan.stderr
            .split(/\r?\n/)
            .filter(line => line.trim() !== '' && !line.startsWith('#'))
            .slice(-3)
            .join('; ');
        throw new Error(`ssh-keyscan got no host key from ${endpoint.host} port ${endpoint.port}` +
            `${why ? ` (${why})` : ''}: is the host reachable and running sshd?`);
    }
    let accepted;
    let source;
    if (fingerprints.length > 0) {
        accepted = offered.filter(key => fingerprints.includes(key.fingerprint));
        source = 'fingerprint';
        if (accepted.length === 0) {
            throw new errors/* InputError */.dz(input, `no host key of ${name} matches the pinned fingerprint${fingerprints.length > 1 ? 's' : ''} ` +
                `${fingerprints.join(', ')}: refusing to connect (possible man-in-the-middle, or the ` +
                `host was rebuilt: update ${input}). The host offered: ${listKeys(offered)}. Check on ` +
                `the host with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`);
        }
        options.log.info(`Host key of ${name} matches the pinned fingerprint: ${listKeys(accepted)}`);
    }
    else {
        accepted = offered;
        source = 'trust-on-first-use';
        options.log.warning(`Trust on first use: accepted the host key(s) of ${name} without checking them: ` +
            `${listKeys(accepted)}. Pin them by setting ${input} to:\n${accepted.map(k => k.line).join('\n')}`);
    }
    external_node_fs_.appendFileSync(options.knownHostsFile, accepted.map(key => `${key.line}\n`).join(''));
    return source;
}

;// CONCATENATED MODULE: ./src/exec/quote.ts
/**
 * Quoting for commands that a remote shell will parse (ssh sends one string, which the
 * remote user's shell splits again). This is the only place where argv becomes shell text.
 *
 * Every argument is wrapped in single quotes, inside which POSIX shells interpret nothing;
 * a single quote itself is written as '\'' (close, escaped quote, reopen). Arguments made only
 * of characters that no shell treats specially are left bare, for readable logs.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
function quoteArg(arg) {
    if (arg.includes('\0'))
        throw new Error('an argument contains a NUL byte, which no shell can pass');
    if (arg !== '' && SAFE.test(arg))
        return arg;
    return `'${arg.replace(/'/g, `'\\''`)}'`;
}
function quoteArgv(argv) {
    if (argv.length === 0)
        throw new Error('internal error: empty argv');
    return argv.map(quoteArg).join(' ');
}

;// CONCATENATED MODULE: ./src/exec/remote.ts
/**
 * Running commands on a deploy host: a RemoteExecutor is an Executor (the same argv builders
 * run locally or remotely) backed by one multiplexed ssh connection per host.
 *
 * Every remote command
 * - is built into shell text in exactly one place, buildRemoteCommand, from an argv, with
 *   quote.ts; input never becomes shell text any other way;
 * - runs under `bash -c 'set -euo pipefail; ...'`, with stdin closed unless we send data
 *   (then our data, then EOF), and its exit status comes back as ours;
 * - has a timeout, enforced on the host (coreutils `timeout`, so nothing keeps running there
 *   when we give up) and here (`timeout` around ssh, in case ssh itself hangs).
 *
 * Secrets never go in a remote argv: the host's `ps` shows every argument (the whole remote
 * command string is an argument of the login shell). They go on stdin (writeFile, or
 * `input` for e.g. `docker login --password-stdin`).
 */






// ---------------------------------------------------------------------------------------------
// The remote command string
/** Linux limits one argument to 128 KiB, and the command string is one argument of the login shell. */
const MAX_REMOTE_COMMAND_LENGTH = 100_000;
/** How much longer than the remote timeout the local one waits, for ssh's own round trips. */
const LOCAL_TIMEOUT_GRACE_SECONDS = 10;
/**
 * THE function that turns an argv into the string ssh sends. ssh joins its arguments with
 * spaces into one string and the remote login shell parses it (`$SHELL -c STRING`), so the
 * string is one quoted `bash -c SCRIPT` in which the argv is quoted once more:
 *
 *   bash -c 'set -euo pipefail; cd -- DIR; export K=V; exec timeout --kill-after=5 N ARGV </dev/null'
 *
 * The login shell must be a POSIX shell (sh, bash, dash, zsh, ksh); bash and coreutils must be
 * installed on the host (RemoteExecutor.open checks both).
 */
function buildRemoteCommand(argv, options) {
    if (argv.length === 0)
        throw new Error('internal error: empty remote argv');
    const seconds = options.timeoutSeconds;
    if (!Number.isInteger(seconds) || seconds < 1) {
        throw new Error(`internal error: remote timeout must be a whole number of seconds, not ${seconds}`);
    }
    const script = ['set -euo pipefail'];
    if (options.cwd !== undefined)
        script.push(`cd -- ${quoteArg(options.cwd)}`);
    for (const [name, value] of Object.entries(options.env ?? {})) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
            throw new Error(`internal error: "${name}" is not an environment variable name`);
        }
        script.push(`export ${name}=${quoteArg(value)}`);
    }
    const timed = ['timeout', `--kill-after=${ssh/* KILL_AFTER_SECONDS */.eh}`, String(seconds), ...argv];
    script.push(`exec ${quoteArgv(timed)}${options.stdin ? '' : ' </dev/null'}`);
    const command = quoteArgv(['bash', '-c', script.join('; ')]);
    if (command.length > MAX_REMOTE_COMMAND_LENGTH) {
        throw new Error(`internal error: remote command of ${command.length} bytes (${argv.slice(0, 3).join(' ')} ...); ` +
            'send large data on stdin');
    }
    return command;
}
/**
 * The argv of a bash script that runs with `set -euo pipefail`. The script is ours (a
 * constant): values go in as positional parameters ("$1", "$2", ...), never into its text.
 */
function remoteScriptArgv(script, args = []) {
    return ['bash', '-c', `set -euo pipefail\n${script}`, 'stack-deploy', ...args];
}
/**
 * Writes stdin to a file atomically: a temp file in the same directory (so the rename is
 * atomic), created 0600 by mktemp under umask 077, filled, chmod-ed, renamed over the target.
 * A failure anywhere removes the temp file. $1 = path, $2 = octal mode.
 */
const WRITE_FILE_SCRIPT = [
    'umask 077',
    'target=$1 mode=$2',
    'if [ -d "$target" ]; then echo "$target is a directory" >&2; exit 1; fi',
    'tmp=$(mktemp "$(dirname -- "$target")/.stack-deploy-write.XXXXXXXX")',
    `trap 'rm -f -- "$tmp"' EXIT`,
    'cat > "$tmp"',
    'chmod "$mode" "$tmp"',
    'mv -f -- "$tmp" "$target"',
    'trap - EXIT'
].join('\n');
/** The argv that writes stdin to `file` with `mode` (see WRITE_FILE_SCRIPT). */
function writeFileArgv(file, mode) {
    const octal = typeof mode === 'number' ? mode.toString(8) : mode;
    if (!/^[0-7]{3,4}$/.test(octal) || (typeof mode === 'number' && (mode < 0 || mode > 0o7777))) {
        throw new Error(`internal error: file mode ${String(mode)} is not an octal mode such as 0600`);
    }
    if (file === '' || file.startsWith('-') || file.endsWith('/')) {
        throw new Error(`internal error: "${file}" is not a file path`);
    }
    return remoteScriptArgv(WRITE_FILE_SCRIPT, [file, octal.padStart(4, '0')]);
}
// ---------------------------------------------------------------------------------------------
// Errors
/** A remote command that ran and failed: names the host, the step, the exit code and stderr's tail. */
class RemoteCommandError extends executor/* CommandFailedError */.ju {
    host;
    step;
    constructor(host, step, result) {
        const tail = (0,executor/* lastLines */.w$)(result.stderr || result.stdout, 15);
        super(`${step} failed on ${host} (exit ${result.exitCode})${tail ? `:\n${tail}` : ''}`, result);
        this.host = host;
        this.step = step;
        this.name = 'RemoteCommandError';
    }
}
/** A remote command that ran out of time (on the host), or an ssh that hung (here). */
class RemoteTimeoutError extends Error {
    host;
    step;
    timeoutSeconds;
    side;
    result;
    constructor(host, step, timeoutSeconds, 
    /** remote: the host's `timeout` stopped the command; local: ssh did not return. */
    side, result) {
        super(side === 'remote'
            ? `${step} timed out on ${host} after ${timeoutSeconds}s and was stopped`
            : `${step} on ${host}: ssh did not return within ${timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS}s (${timeoutSeconds}s for the command, plus ${LOCAL_TIMEOUT_GRACE_SECONDS}s); the connection seems to hang, so it was stopped`);
        this.host = host;
        this.step = step;
        this.timeoutSeconds = timeoutSeconds;
        this.side = side;
        this.result = result;
        this.name = 'RemoteTimeoutError';
    }
}
/** A small counting semaphore: at most `max` holders at once, the others wait in order. */
class Semaphore {
    max;
    active = 0;
    waiting = [];
    constructor(max) {
        this.max = max;
        if (!Number.isInteger(max) || max < 1)
            throw new Error(`semaphore size ${max}`);
    }
    async use(body) {
        if (this.active < this.max)
            this.active++;
        else
            await new Promise(resolve => this.waiting.push(resolve));
        try {
            return await body();
        }
        finally {
            const next = this.waiting.shift();
            if (next)
                next();
            else
                this.active--;
        }
    }
}
const DEFAULT_LOG = {
    info: () => undefined,
    warning: message => process.stderr.write(`${message}\n`)
};
class RemoteExecutor {
    route;
    paths;
    tuning;
    local;
    log;
    /** `user@host` (`:port` when not 22), for messages. */
    host;
    /** How each host key was pinned, by `user@host[:port]` (the jump host too). */
    pinnedBy = {};
    sessions;
    defaultTimeoutSeconds;
    disposed = false;
    /** Whether a master may exist (to close on dispose). */
    masterStarted = false;
    constructor(route, paths, tuning, local, log, options) {
        this.route = route;
        this.paths = paths;
        this.tuning = tuning;
        this.local = local;
        this.log = log;
        this.host = (0,ssh/* endpointLabel */.md)(route.target);
        this.sessions = new Semaphore(options.maxSessions);
        this.defaultTimeoutSeconds = options.defaultTimeoutSeconds;
    }
    /**
     * Writes the key, pins the host keys, opens the master connection, and checks the host has
     * bash and timeout. Nothing runs on the host until its key is pinned; on any failure the
     * private directory is removed again.
     */
    static async open(options) {
        const local = options.local ?? new executor/* LocalExecutor */.nB(process.stderr);
        const log = options.log ?? DEFAULT_LOG;
        const tuning = { ...ssh/* DEFAULT_TUNING */.oE, ...options.tuning };
        for (const [name, value] of Object.entries(tuning)) {
            if (!Number.isInteger(value) || value < 1) {
                throw new Error(`internal error: ssh ${name} must be a whole number >= 1, not ${value}`);
            }
        }
        const route = {
            target: (0,ssh/* checkEndpoint */.q9)(options.target, options.inputs?.host ?? 'host'),
            jump: options.jump
                ? (0,ssh/* checkEndpoint */.q9)(options.jump, options.inputs?.jumpHost ?? 'jump-host')
                : undefined
        };
        const knownHostsInput = options.inputs?.knownHosts ?? 'known-hosts';
        const keyInput = options.inputs?.privateKey ?? 'ssh-key';
        const key = (0,ssh/* normalizePrivateKey */.W3)(options.privateKey, keyInput);
        const pins = parseKnownHosts(options.knownHosts ?? '', knownHostsInput);
        const endpoints = route.jump ? [route.jump, route.target] : [route.target];
        for (const host of unusedFingerprintHosts(pins, endpoints)) {
            log.warning(`${knownHostsInput}: a fingerprint is pinned for ${host}, which this deploy does not connect to`);
        }
        const paths = (0,ssh/* sshPaths */.tn)((0,ssh/* createPrivateDir */.b4)(options.tempDir));
        const remote = new RemoteExecutor(route, paths, tuning, local, log, {
            maxSessions: options.maxSessions ?? 4,
            defaultTimeoutSeconds: options.defaultTimeoutSeconds ?? 600
        });
        try {
            (0,ssh/* writePrivateFile */.Pl)(paths.key, key);
            (0,ssh/* writePrivateFile */.Pl)(paths.config, (0,ssh/* sshConfigText */.WA)(paths, tuning));
            (0,ssh/* writePrivateFile */.Pl)(paths.knownHosts, pins.lines.map(line => `${line}\n`).join(''));
            await (0,ssh/* checkPrivateKey */.fH)(local, paths.key, keyInput);
            // The jump host first: the target's keys may have to be fetched through it.
            for (const endpoint of endpoints) {
                remote.pinnedBy[(0,ssh/* endpointLabel */.md)(endpoint)] = await pinHostKey(endpoint, {
                    executor: local,
                    knownHostsFile: paths.knownHosts,
                    pins,
                    trustOnFirstUse: options.trustOnFirstUse === true,
                    scan: target => remote.keyscan(target),
                    log,
                    input: knownHostsInput
                });
            }
            await remote.connect();
        }
        catch (error) {
            await remote.dispose();
            throw error;
        }
        return remote;
    }
    /** The host's keys, from ssh-keyscan here, or on the jump host when there is one. */
    async keyscan(endpoint) {
        const seconds = this.tuning.connectTimeoutSeconds;
        const scan = keyscanArgv(endpoint, seconds);
        const jump = this.route.jump;
        if (!jump || endpoint === jump) {
            return this.local.run((0,ssh/* localTimeoutArgv */.FS)(seconds + LOCAL_TIMEOUT_GRACE_SECONDS, scan));
        }
        // The target may be reachable only from the jump host. What the jump host prints is
        // checked here like any scan (fingerprints), and only plain key lines are kept.
        const step = `fetching the host keys of ${endpoint.host} through ${(0,ssh/* endpointLabel */.md)(jump)}`;
        const command = buildRemoteCommand(scan, { timeoutSeconds: seconds + ssh/* KILL_AFTER_SECONDS */.eh });
        const argv = (0,ssh/* sshOneShotArgv */.nx)({ target: jump }, this.paths, this.tuning, command);
        const result = await this.local.run((0,ssh/* localTimeoutArgv */.FS)(seconds * 3 + LOCAL_TIMEOUT_GRACE_SECONDS, argv));
        if (result.exitCode === 255)
            throw this.connectionError(result, step, { target: jump });
        return result;
    }
    /** Opens the master connection (`ssh -fN -o ControlMaster=yes`), then checks it and the host. */
    async connect() {
        const step = 'connecting';
        const seconds = this.tuning.connectTimeoutSeconds * (this.route.jump ? 2 : 1);
        this.masterStarted = true;
        const started = await this.local.run((0,ssh/* localTimeoutArgv */.FS)(seconds + LOCAL_TIMEOUT_GRACE_SECONDS, (0,ssh/* sshMasterArgv */.Lz)(this.route, this.paths, this.tuning)));
        if (started.exitCode !== 0)
            throw this.connectionError(started, step, this.route);
        if (!(await this.isConnected())) {
            throw new ssh/* SshConnectionError */.tK(this.host, 'other', `the shared ssh connection to ${this.host} did not come up (ssh -O check failed)`, started.stderr);
        }
        const check = await this.run(['true'], { timeoutSeconds: 30, step: 'checking the host' });
        if (check.exitCode !== 0) {
            throw new RemoteCommandError(this.host, 'checking the host (it needs bash and coreutils timeout)', check);
        }
        const via = this.route.jump ? ` through ${(0,ssh/* endpointLabel */.md)(this.route.jump)}` : '';
        this.log.info(`Connected to ${this.host}${via} (one shared ssh connection)`);
    }
    connectionError(result, step, route) {
        const label = (0,ssh/* endpointLabel */.md)(route.target);
        if (result.exitCode === 124 || result.exitCode === 137) {
            return new ssh/* SshConnectionError */.tK(label, 'timeout', `ssh to ${label} did not finish ${step} in time (is the host reachable?)`, result.stderr);
        }
        const failure = (0,ssh/* classifySshFailure */.HI)(result.stderr);
        if (failure) {
            return new ssh/* SshConnectionError */.tK(label, failure.kind, (0,ssh/* describeSshFailure */.MZ)(failure, route, step), result.stderr);
        }
        const tail = (0,executor/* lastLines */.w$)(result.stderr, 5);
        return new ssh/* SshConnectionError */.tK(label, 'other', `ssh to ${label} failed while ${step} (exit ${result.exitCode})${tail ? `: ${tail}` : ''}`, result.stderr);
    }
    /**
     * Runs argv on the host and returns its result, like LocalExecutor: a non-zero exit is a
     * result, not an error. Throws SshConnectionError when ssh could not connect (exit 255 with
     * ssh's own message) and RemoteTimeoutError when the command ran out of time: in both cases
     * there is no meaningful exit status of the command.
     */
    async run(argv, options = {}) {
        if (this.disposed)
            throw new Error(`internal error: the ssh connection to ${this.host} is closed`);
        const timeoutSeconds = options.timeoutSeconds ?? this.defaultTimeoutSeconds;
        const step = options.step ?? argv.slice(0, 3).join(' ');
        const stdin = options.input !== undefined;
        const command = buildRemoteCommand(argv, {
            timeoutSeconds,
            cwd: options.cwd,
            env: options.env,
            stdin
        });
        const sshArgv = (0,ssh/* sshCommandArgv */.Up)(this.route, this.paths, this.tuning, command, { stdin });
        const localArgv = (0,ssh/* localTimeoutArgv */.FS)(timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS, sshArgv);
        const result = await this.sessions.use(() => this.local.run(localArgv, {
            input: options.input,
            stream: options.stream,
            onLine: options.onLine
        }));
        const remoteResult = { ...result, argv: [...argv] };
        const timedOut = (result.exitCode === 124 || result.exitCode === 137) &&
            result.durationMs >= timeoutSeconds * 1000 - 250;
        if (timedOut) {
            const local = result.durationMs >= (timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS) * 1000 - 250;
            throw new RemoteTimeoutError(this.host, step, timeoutSeconds, local ? 'local' : 'remote', remoteResult);
        }
        if (result.exitCode === 255 && (0,ssh/* classifySshFailure */.HI)(result.stderr)) {
            throw this.connectionError(result, step, this.route);
        }
        return remoteResult;
    }
    /** Runs argv and throws RemoteCommandError (host, step, exit code, stderr's tail) unless it exits 0. */
    async runChecked(argv, step, options = {}) {
        const result = await this.run(argv, { ...options, step });
        if (result.exitCode !== 0)
            throw new RemoteCommandError(this.host, step, result);
        return result;
    }
    /** Runs one of our bash scripts (set -euo pipefail) with positional args; see remoteScriptArgv. */
    async runScript(script, args, step, options = {}) {
        return this.runChecked(remoteScriptArgv(script, args), step, options);
    }
    /**
     * Writes `content` to `file` on the host with `mode` (e.g. 0o600), atomically (temp file in
     * the same directory, then rename). The content travels on stdin: it never appears in any
     * argv, here or on the host.
     */
    async writeFile(file, content, mode, options = {}) {
        await this.runChecked(writeFileArgv(file, mode), options.step ?? `writing ${file}`, {
            ...options,
            input: content
        });
    }
    /** The host's address (for `{host}` in health URLs). */
    get address() {
        return this.route.target.host;
    }
    /** `ssh -O check`: whether the master connection is up. */
    async isConnected() {
        const result = await this.local.run((0,ssh/* localTimeoutArgv */.FS)(15, (0,ssh/* sshControlArgv */.Sq)(this.route, this.paths, this.tuning, 'check')));
        return result.exitCode === 0;
    }
    /** For the post step: serialise with JSON.stringify, then disposeSsh(state). */
    state() {
        return { dir: this.paths.dir, target: this.route.target, jump: this.route.jump };
    }
    /** Closes the master connection (`ssh -O exit`) and removes the key, known_hosts and socket. Idempotent. */
    async dispose() {
        if (this.disposed)
            return;
        this.disposed = true;
        if (this.masterStarted)
            await disposeSsh(this.state(), this.local);
        else
            external_node_fs_.rmSync(this.paths.dir, { recursive: true, force: true });
    }
}
/** Writes a file on the host; see RemoteExecutor.writeFile. */
async function writeRemoteFile(remote, file, content, mode, options = {}) {
    await remote.writeFile(file, content, mode, options);
}
/**
 * Closes a connection from its state, e.g. in the post step after the main step was killed:
 * `ssh -O exit`, then removes the private directory. Refuses a directory that is not one of
 * ours (the state comes from outside this process).
 */
async function disposeSsh(state, local = new executor/* LocalExecutor */.nB(process.stderr)) {
    const parsed = typeof state === 'string' ? JSON.parse(state) : state;
    const dir = parsed.dir;
    if (typeof dir !== 'string' ||
        !external_node_path_.isAbsolute(dir) ||
        external_node_path_.normalize(dir) !== dir ||
        !external_node_path_.basename(dir).startsWith(ssh/* PRIVATE_DIR_PREFIX */.vP)) {
        throw new Error(`internal error: ${JSON.stringify(dir)} is not an ssh directory of ours`);
    }
    if (!external_node_fs_.existsSync(dir))
        return;
    const paths = (0,ssh/* sshPaths */.tn)(dir);
    try {
        if (external_node_fs_.existsSync(paths.config)) {
            const route = { target: parsed.target, jump: parsed.jump };
            // Exit status 255 when no master is running: nothing to close.
            await local.run((0,ssh/* localTimeoutArgv */.FS)(15, (0,ssh/* sshControlArgv */.Sq)(route, paths, ssh/* DEFAULT_TUNING */.oE, 'exit')));
        }
    }
    finally {
        external_node_fs_.rmSync(dir, { recursive: true, force: true });
    }
}


/***/ })

};
