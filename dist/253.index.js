export const id = 253;
export const ids = [253];
export const modules = {

/***/ 4253:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   releaseAfterCancel: () => (/* binding */ releaseAfterCancel)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var _exec_executor_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6168);
/* harmony import */ var _exec_remote_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(9018);
/* harmony import */ var _exec_ssh_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(9451);
/* harmony import */ var _lock_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(4332);
/**
 * The post step's part of a deploy that was cancelled: release the locks the run still holds
 * (only when the owner record carries our token) and close the SSH connections, removing the key.
 */






/** Releases each lock that still has our token, then closes every SSH connection. Never throws. */
async function releaseAfterCancel(locks, connections, reporter, local = new _exec_executor_js__WEBPACK_IMPORTED_MODULE_2__/* .LocalExecutor */ .nB(process.stderr)) {
    for (const lock of locks) {
        try {
            if (!node_fs__WEBPACK_IMPORTED_MODULE_0__.existsSync(lock.ssh.dir))
                continue;
            const paths = (0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_4__/* .sshPaths */ .tn)(lock.ssh.dir);
            const route = { target: lock.ssh.target, jump: lock.ssh.jump };
            const run = (argv) => local.run((0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_4__/* .localTimeoutArgv */ .FS)(40, (0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_4__/* .sshOneShotArgv */ .nx)(route, paths, _exec_ssh_js__WEBPACK_IMPORTED_MODULE_4__/* .DEFAULT_TUNING */ .oE, (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_3__/* .buildRemoteCommand */ .MQ)(argv, { timeoutSeconds: 30 }))));
            const owner = await run(['cat', node_path__WEBPACK_IMPORTED_MODULE_1__.posix.join(lock.lockDir, 'owner.json')]);
            if ((0,_lock_js__WEBPACK_IMPORTED_MODULE_5__/* .parseLockOwner */ .Gl)(owner.stdout)?.token !== lock.token)
                continue;
            const removed = await run(['rm', '-rf', lock.lockDir]);
            if (removed.exitCode === 0)
                reporter.info(`Released the deploy lock ${lock.lockDir} on ${lock.ssh.target.host} left by the cancelled run`);
            else
                reporter.warning(`Could not release the deploy lock ${lock.lockDir} on ${lock.ssh.target.host}: ${removed.stderr.trim()}`);
        }
        catch (error) {
            reporter.warning(`Could not release a deploy lock on ${lock.ssh.target.host}: ${error.message}`);
        }
    }
    for (const state of connections) {
        try {
            await (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_3__/* .disposeSsh */ .AB)(state, local);
        }
        catch (error) {
            reporter.warning(`Could not close the SSH connection to ${state.target.host}: ${error.message}`);
        }
    }
}


/***/ })

};
