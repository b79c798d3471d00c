export const id = 253;
export const ids = [253];
export const modules = {

/***/ 4253:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   readPostState: () => (/* binding */ readPostState),
/* harmony export */   releaseAfterCancel: () => (/* binding */ releaseAfterCancel),
/* harmony export */   u: () => (/* binding */ PostStateRecorder)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _exec_executor_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6168);
/* harmony import */ var _exec_remote_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9018);
/* harmony import */ var _exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(9451);
/* harmony import */ var _host_lock_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(7941);
/* harmony import */ var _lock_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(4332);
/**
 * The post step's part of a deploy that was cancelled: release the locks the run still holds
 * (only when the lock carries our token, and not while a command of ours still runs on the
 * host: see host-lock.ts) and close the SSH connections, removing the key.
 */






const STATE = { connections: 'ssh', locks: 'deploy-locks' };
/**
 * Records the post step's state as it changes (a connection opened, a lock taken), so that a
 * run cancelled at any moment leaves exactly what must be cleaned up; `clear` once it is.
 */
class PostStateRecorder {
    save;
    state = { connections: [], locks: [] };
    constructor(save) {
        this.save = save;
    }
    connected(connection) {
        this.state.connections.push(connection);
        this.save(STATE.connections, JSON.stringify(this.state.connections));
    }
    locked(lock) {
        this.state.locks.push(lock);
        this.save(STATE.locks, JSON.stringify(this.state.locks));
    }
    clear() {
        this.save(STATE.connections, '');
        this.save(STATE.locks, '');
    }
}
/** The state the main step left; empty lists when it left none (or an unreadable one). */
function readPostState(get) {
    const parse = (name) => {
        try {
            const value = JSON.parse(get(name) || '[]');
            return Array.isArray(value) ? value : [];
        }
        catch {
            return [];
        }
    };
    return { connections: parse(STATE.connections), locks: parse(STATE.locks) };
}
/**
 * Releases each lock that still has our token (or, while a command of ours still runs on the
 * host, leaves it to be released when that ends, with a warning), then closes every SSH
 * connection. Never throws.
 */
async function releaseAfterCancel(locks, connections, reporter, local = new _exec_executor_js__WEBPACK_IMPORTED_MODULE_1__/* .LocalExecutor */ .nB(process.stderr)) {
    for (const lock of locks) {
        try {
            if (!node_fs__WEBPACK_IMPORTED_MODULE_0__.existsSync(lock.ssh.dir))
                continue;
            const paths = (0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .sshPaths */ .tn)(lock.ssh.dir);
            const route = { target: lock.ssh.target, jump: lock.ssh.jump };
            const run = (argv) => local.run((0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .localTimeoutArgv */ .FS)(40, (0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .sshOneShotArgv */ .nx)(route, paths, _exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .DEFAULT_TUNING */ .oE, (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_2__/* .buildRemoteCommand */ .MQ)(argv, { timeoutSeconds: 30 }))));
            // Under the host's flock, and only if the token is ours. A command of ours that still
            // runs there (a migration the cancellation cut off from us) keeps the lock until it ends.
            const outcome = (0,_host_lock_js__WEBPACK_IMPORTED_MODULE_4__/* .parseReleaseResult */ .oB)(await run((0,_host_lock_js__WEBPACK_IMPORTED_MODULE_4__/* .releaseLockArgv */ .vq)(lock.lockDir, lock.token)));
            const host = lock.ssh.target.host;
            if (outcome.kind === 'released')
                reporter.info(`Released the deploy lock ${lock.lockDir} on ${host} left by the cancelled run`);
            else if (outcome.kind === 'kept')
                reporter.warning(`kept: ${(0,_lock_js__WEBPACK_IMPORTED_MODULE_5__/* .describeBusy */ .FC)(outcome.busy)} still running on ${host}; the deploy lock ${lock.lockDir} is released when it ends`);
        }
        catch (error) {
            reporter.warning(`Could not release a deploy lock on ${lock.ssh.target.host}: ${error.message}`);
        }
    }
    for (const state of connections) {
        try {
            await (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_2__/* .disposeSsh */ .AB)(state, local);
        }
        catch (error) {
            reporter.warning(`Could not close the SSH connection to ${state.target.host}: ${error.message}`);
        }
    }
}


/***/ })

};
