export const id = 12;
export const ids = [12];
export const modules = {

/***/ 1012:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   readHostReleases: () => (/* binding */ readHostReleases),
/* harmony export */   releaseEntries: () => (/* binding */ releaseEntries),
/* harmony export */   releasesMarkdown: () => (/* binding */ releasesMarkdown),
/* harmony export */   renderReleasesText: () => (/* binding */ renderReleasesText)
/* harmony export */ });
/* harmony import */ var _deploy_commands_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9353);
/* harmony import */ var _deploy_host_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2325);
/* harmony import */ var _report_markdown_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(4285);
/**
 * `command: releases`: each host's releases, newest first, the live one marked, with what each
 * manifest says (commit, actor, time, images) and the backups taken for it (the dump of the
 * database that was live before that release migrated). Read-only: no lock is taken.
 */



/**
 * The releases of one host, newest first, from what the host lists. `backupFiles` are the
 * names in backups/; a backup belongs to the release it was taken for.
 */
function releaseEntries(ids, live, manifests, backupFiles, backupsDir) {
    const backups = new Map();
    for (const name of [...backupFiles].sort()) {
        const parsed = (0,_deploy_commands_js__WEBPACK_IMPORTED_MODULE_0__/* .parseBackupFileName */ .Hs)(name);
        if (!parsed)
            continue;
        const recorded = manifests.get(parsed.releaseId)?.backup;
        const file = `${backupsDir}/${name}`;
        const list = backups.get(parsed.releaseId) ?? [];
        list.push({
            service: parsed.service,
            file,
            bytes: recorded && recorded.file === file ? recorded.bytes : undefined
        });
        backups.set(parsed.releaseId, list);
    }
    return [...ids]
        .sort()
        .reverse()
        .map(id => {
        const manifest = manifests.get(id);
        return {
            id,
            live: id === live,
            sha: manifest?.sha,
            actor: manifest?.actor,
            createdAt: manifest?.createdAt,
            runUrl: manifest?.runUrl,
            images: manifest?.images ?? {},
            backups: backups.get(id) ?? [],
            complete: manifest !== undefined
        };
    });
}
/** Reads one host's releases: the listing, `current`, every manifest and the backups. */
async function readHostReleases(ctx) {
    const [ids, live, backupListing] = await Promise.all([
        (0,_deploy_host_js__WEBPACK_IMPORTED_MODULE_1__/* .listReleases */ .tH)(ctx),
        (0,_deploy_host_js__WEBPACK_IMPORTED_MODULE_1__/* .currentRelease */ .BX)(ctx),
        ctx.session.run(_deploy_commands_js__WEBPACK_IMPORTED_MODULE_0__/* .backupCommands */ .RI.list(ctx.layout), {
            timeoutSeconds: ctx.settings.timeouts.quick
        })
    ]);
    const manifests = await (0,_deploy_host_js__WEBPACK_IMPORTED_MODULE_1__/* .readManifests */ .PX)(ctx, ids);
    // No backups/ folder yet (nothing deployed with a backup) is an empty list.
    const backupFiles = backupListing.exitCode === 0 ? backupListing.stdout.split('\n') : [];
    return {
        host: ctx.session.host,
        live,
        releases: releaseEntries(ids, live, manifests, backupFiles, ctx.layout.backups)
    };
}
const shortSha = (sha) => (sha ? oneLine(sha.slice(0, 7)) : '?');
/**
 * A manifest's text on one line, without control characters: a manifest is a file on the host,
 * and what it says must neither split a line nor drive the terminal (escape sequences).
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it removes
const oneLine = (text) => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
/** One line per release, each prefixed with its host: what the CLI prints. */
function renderReleasesText(hosts) {
    const lines = [];
    for (const host of hosts) {
        if (host.releases.length === 0)
            lines.push(`[${host.host}] no releases`);
        for (const release of host.releases) {
            const backups = release.backups.map(b => `backup ${b.service}: ${b.file}`);
            const parts = [
                `${release.live ? '*' : ' '} ${release.id}`,
                release.complete
                    ? `${shortSha(release.sha)} by ${oneLine(release.actor ?? '?')} at ${oneLine(release.createdAt ?? '?')}`
                    : 'no manifest (incomplete)',
                ...backups
            ];
            lines.push(`[${host.host}] ${parts.join('  ')}`);
        }
    }
    return `${lines.join('\n')}\n`;
}
/** A manifest's text in a table cell: report/markdown's escaping, after oneLine. */
const cell = (text) => (0,_report_markdown_js__WEBPACK_IMPORTED_MODULE_2__/* .tableCell */ .x)(oneLine(text));
/** The job summary: a table per host. */
function releasesMarkdown(hosts) {
    const parts = ['## Releases\n'];
    for (const host of hosts) {
        parts.push(`### ${cell(host.host)}\n`);
        if (host.releases.length === 0) {
            parts.push('No releases.\n');
            continue;
        }
        parts.push('| | Release | Commit | By | At | Backups |', '|---|---|---|---|---|---|');
        for (const release of host.releases)
            parts.push(`| ${release.live ? 'live' : ''} | \`${release.id}\` | ${release.complete ? (0,_report_markdown_js__WEBPACK_IMPORTED_MODULE_2__/* .codeCell */ .M)(shortSha(release.sha)) : 'no manifest'} | ${cell(release.actor ?? '')} | ${cell(release.createdAt ?? '')} | ${release.backups.map(b => (0,_report_markdown_js__WEBPACK_IMPORTED_MODULE_2__/* .codeCell */ .M)(oneLine(b.file))).join('<br>')} |`);
        parts.push('');
    }
    return `${parts.join('\n')}\n`;
}


/***/ })

};
