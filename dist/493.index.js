export const id = 493;
export const ids = [493];
export const modules = {

/***/ 4493:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  deployStage: () => (/* binding */ deployStage),
  describeOtherHostOutcome: () => (/* binding */ describeOtherHostOutcome),
  prepareDeployPlan: () => (/* binding */ prepareDeployPlan),
  rollbackStage: () => (/* binding */ rollbackStage)
});

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/exec/remote.ts + 2 modules
var remote = __webpack_require__(9018);
// EXTERNAL MODULE: ./src/exec/ssh.ts
var ssh = __webpack_require__(9451);
// EXTERNAL MODULE: ./src/inputs.ts + 1 modules
var inputs = __webpack_require__(8673);
// EXTERNAL MODULE: ./src/deploy/deploy.ts + 1 modules
var deploy = __webpack_require__(6601);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
// EXTERNAL MODULE: ./src/smoke/override.ts
var override = __webpack_require__(2389);
;// CONCATENATED MODULE: ./src/deploy/override.ts


/**
 * The release's image pins: every built service, and every service that runs a built
 * service's image, at image@digest. Build sections are reset (`!reset`, compose 2.24 and
 * later): the host never builds, and their contexts do not exist there.
 */
function deployOverrideYaml(plan, images) {
    const doc = new dist/* Document */.yo({});
    const services = {};
    for (const [name, pin] of Object.entries((0,override/* imageOverride */.o)(plan, images)))
        services[name] = { image: pin.image };
    for (const service of plan.services) {
        if (!service.build)
            continue;
        const reset = new dist/* Scalar */.X5(null);
        reset.tag = '!reset';
        services[service.name] = { ...(services[service.name] ?? {}), build: reset };
    }
    doc.contents = doc.createNode({ services });
    return String(doc);
}

// EXTERNAL MODULE: ./src/deploy/rolling.ts
var rolling = __webpack_require__(4626);
// EXTERNAL MODULE: ./src/deploy/release.ts
var release = __webpack_require__(466);
;// CONCATENATED MODULE: ./src/deploy/stage.ts
/**
 * `command: deploy` and `command: rollback` across hosts: one SSH connection per host, hosts one
 * at a time; the first host that fails stops the deploy, and the hosts already switched are
 * rolled back to the release they had.
 */









/** Everything a host needs, read and checked before any connection is made. */
function prepareDeployPlan(context, now) {
    const unpinned = (0,release.unpinnedImages)(context.images);
    if (Object.keys(context.images).length === 0) {
        throw new inputs/* InputError */.dz('images', 'deploy needs the images output of a build step that pushed (push: true)');
    }
    if (unpinned.length > 0) {
        throw new inputs/* InputError */.dz('images', `deploys run by digest, but ${unpinned.join(', ')} ${unpinned.length > 1 ? 'have' : 'has'} no image@sha256 ref: build with push: true`);
    }
    let envFile;
    try {
        envFile = (0,release.buildEnvFile)([context.inputs.envFile, context.inputs.secrets]).text;
    }
    catch (error) {
        if (error instanceof release.EnvFileError)
            throw new inputs/* InputError */.dz('env-file', error.message);
        throw error;
    }
    const names = new Set();
    const composeFiles = context.ref.files.map(file => {
        const name = external_node_path_.basename(file);
        if (names.has(name))
            throw new inputs/* InputError */.dz('compose-files', `two compose files are named ${name}; the host keeps them side by side, so give them different names`);
        names.add(name);
        return {
            name,
            content: external_node_fs_.readFileSync(external_node_path_.resolve(context.ref.workingDirectory, file), 'utf8')
        };
    });
    const services = new Set(context.plan.services.map(s => s.name));
    for (const [input, service] of [
        ['backup-service', context.inputs.backupService],
        ['migrate-service', context.inputs.migrateService]
    ]) {
        if (service && !services.has(service)) {
            throw new inputs/* InputError */.dz(input, `unknown service "${service}"; the project has: ${[...services].join(', ')}`);
        }
    }
    return {
        project: context.plan.project,
        releaseId: (0,release.releaseId)(now, context.sha),
        deployPath: context.inputs.deployPath,
        composeFiles,
        images: context.images,
        envFile,
        imagesOverride: deployOverrideYaml(context.plan, context.images),
        registry: context.registry,
        backupService: context.inputs.backupService,
        backupKeep: context.inputs.backupKeep,
        migrateService: context.inputs.migrateService,
        migrateTimeoutSeconds: context.inputs.migrateTimeoutSeconds,
        waitTimeoutSeconds: context.waitTimeoutSeconds,
        lockTimeoutSeconds: context.inputs.lockTimeoutSeconds,
        lockTtlSeconds: context.inputs.lockTtlSeconds,
        keepReleases: context.inputs.keepReleases,
        jobs: context.plan.services
            .filter(service => service.kind === 'job')
            .map(service => service.name),
        rollingServices: context.inputs.zeroDowntime ? (0,rolling/* rollingServices */.Cf)(context.plan) : [],
        settleSeconds: context.inputs.zeroDowntimeSettleSeconds,
        minFreeMiB: context.inputs.minFreeMiB,
        healthUrls: context.inputs.healthUrls,
        healthRetries: context.inputs.healthRetries,
        sha: context.sha,
        actor: context.actor,
        runUrl: context.runUrl
    };
}
async function connect(endpoint, inputs, reporter) {
    return remote/* RemoteExecutor */.Q4.open({
        target: endpoint,
        jump: inputs.jumpHost,
        privateKey: inputs.sshKey,
        knownHosts: inputs.knownHosts,
        trustOnFirstUse: inputs.trustOnFirstUse,
        tuning: { connectTimeoutSeconds: inputs.connectTimeoutSeconds },
        log: { info: message => reporter.info(message), warning: message => reporter.warning(message) },
        inputs: {
            knownHosts: 'known-hosts',
            privateKey: 'ssh-key',
            host: 'hosts',
            jumpHost: 'jump-host'
        }
    });
}
/** Deploys to every host in order; on a failure, rolls back the hosts already switched. */
async function deployStage(context, reporter, now = new Date()) {
    const plan = prepareDeployPlan(context, now);
    const owner = `${context.actor}${context.runUrl ? ` (${context.runUrl})` : ''}`;
    const reports = [];
    const done = [];
    const remotes = [];
    const locks = [];
    try {
        for (const endpoint of context.inputs.hosts) {
            const remote = await connect(endpoint, context.inputs, reporter).catch((error) => {
                reports.push({
                    host: (0,ssh/* endpointLabel */.md)(endpoint),
                    result: 'not started',
                    steps: [
                        { step: 'connect', seconds: 0, ok: false, detail: error.message.split('\n')[0] ?? '' }
                    ],
                    backup: undefined,
                    migrationOutput: '',
                    previous: undefined
                });
                throw error;
            });
            remotes.push(remote);
            reporter.saveState('ssh', JSON.stringify(remotes.map(r => r.state())));
            const host = new deploy.HostDeployment(remote, plan, reporter, undefined, lock => {
                locks.push(lock);
                reporter.saveState('deploy-locks', JSON.stringify(locks));
            });
            try {
                await host.deploy(owner);
                reports.push(host.report);
                done.push({ remote, host });
            }
            catch (error) {
                reports.push(host.report);
                throw error;
            }
        }
    }
    catch (error) {
        // Put the hosts that were already switched back on the release they had.
        const outcomes = [];
        for (const { host } of done.reverse()) {
            const rolled = await host.rollbackAfterOtherHostFailed(error.message);
            host.report.result = rolled ? 'rolled back' : host.report.result;
            outcomes.push(describeOtherHostOutcome(host.report, rolled));
        }
        await reporter.addSummary((0,deploy.deploySummary)(plan.releaseId, reports));
        if (outcomes.length > 0 && error instanceof Error) {
            error.message = `${error.message}. ${outcomes.reverse().join('; ')}`;
        }
        throw error;
    }
    finally {
        for (const remote of remotes)
            await remote.dispose();
        reporter.saveState('ssh', '');
        reporter.saveState('deploy-locks', '');
    }
    await reporter.addSummary((0,deploy.deploySummary)(plan.releaseId, reports));
    const first = context.inputs.hosts[0];
    return {
        releaseId: plan.releaseId,
        reports,
        url: first && plan.healthUrls[0] ? (0,deploy.healthUrlFor)(plan.healthUrls[0], first.host) : undefined
    };
}
/** What became of a host that had already deployed when a later host failed. */
function describeOtherHostOutcome(report, rolledBack) {
    if (rolledBack)
        return `${report.host} was rolled back to ${report.previous}`;
    if (!report.previous)
        return `${report.host} had no release before and keeps the new one`;
    return `${report.host} could not be rolled back to ${report.previous} and runs the new release: roll it back with command: rollback`;
}
/** `command: rollback`: every host back to the release before the live one, or to release-id. */
async function rollbackStage(context, reporter) {
    const reports = [];
    let target = context.inputs.releaseId;
    const remotes = [];
    try {
        for (const endpoint of context.inputs.hosts) {
            const remote = await connect(endpoint, context.inputs, reporter);
            remotes.push(remote);
            reporter.saveState('ssh', JSON.stringify(remotes.map(r => r.state())));
            const plan = {
                ...prepareRollbackPlan(context),
                releaseId: target ?? 'pending'
            };
            const host = new deploy.HostDeployment(remote, plan, reporter);
            const chosen = await host.rollbackTo(target, `${context.actor}${context.runUrl ? ` (${context.runUrl})` : ''}`);
            target ??= chosen;
            reports.push(host.report);
        }
    }
    finally {
        for (const remote of remotes)
            await remote.dispose();
        reporter.saveState('ssh', '');
        await reporter.addSummary((0,deploy.deploySummary)(`rollback to ${target ?? '?'}`, reports));
    }
    return { releaseId: target, reports, url: undefined };
}
function prepareRollbackPlan(context) {
    return {
        project: context.plan.project,
        deployPath: context.inputs.deployPath,
        composeFiles: context.ref.files.map(file => ({ name: external_node_path_.basename(file), content: '' })),
        images: {},
        envFile: '',
        imagesOverride: '',
        registry: undefined,
        backupService: undefined,
        backupKeep: context.inputs.backupKeep,
        migrateService: undefined,
        migrateTimeoutSeconds: context.inputs.migrateTimeoutSeconds,
        waitTimeoutSeconds: context.waitTimeoutSeconds,
        lockTimeoutSeconds: context.inputs.lockTimeoutSeconds,
        lockTtlSeconds: context.inputs.lockTtlSeconds,
        keepReleases: context.inputs.keepReleases,
        jobs: context.plan.services
            .filter(service => service.kind === 'job')
            .map(service => service.name),
        // The previous release's images are still on the host; its api comes back the same way.
        rollingServices: context.inputs.zeroDowntime ? (0,rolling/* rollingServices */.Cf)(context.plan) : [],
        settleSeconds: context.inputs.zeroDowntimeSettleSeconds,
        minFreeMiB: 0,
        healthUrls: context.inputs.healthUrls,
        healthRetries: context.inputs.healthRetries,
        sha: context.sha,
        actor: context.actor,
        runUrl: context.runUrl
    };
}


/***/ })

};
