/**
 * The lab itself: `npm run lab:up` is idempotent, and it repairs a lab whose daemons were
 * killed with SIGKILL and no cleanup (what happens when a session ends before CI runs).
 * Deploy host 2 is a separate host: its own network namespace, engine, sshd and host key, and
 * its own /srv/stack-deploy (a mount namespace over a directory of the lab machine).
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ROOT, docker, labEnv } from './lab.js'

const STATE = '/var/lib/stack-deploy-lab'

function labUp(): { status: number; seconds: number; output: string } {
  const started = Date.now()
  const run = spawnSync('bash', [path.join(ROOT, 'test', 'lab', 'up.sh')], { encoding: 'utf8' })
  return {
    status: run.status ?? -1,
    seconds: (Date.now() - started) / 1000,
    output: run.stdout + run.stderr
  }
}

function sshDeployHost(
  command: string[],
  host: string = labEnv().LAB_HOST as string,
  input?: string
): { status: number; stdout: string; stderr: string } {
  const lab = labEnv()
  const run = spawnSync(
    'ssh',
    [
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${lab.LAB_KNOWN_HOSTS}`,
      '-o',
      'ConnectTimeout=10',
      '-i',
      lab.LAB_SSH_KEY as string,
      '-p',
      lab.LAB_SSH_PORT as string,
      `${lab.LAB_SSH_USER}@${host}`,
      ...command
    ],
    input === undefined
      ? { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }
      : { encoding: 'utf8', input }
  )
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr }
}

function checkLabWorks(): void {
  const lab = labEnv()
  for (const key of [
    'LAB_REGISTRY',
    'LAB_REGISTRY_USER',
    'LAB_REGISTRY_PASSWORD',
    'LAB_HOST',
    'LAB_SSH_PORT',
    'LAB_SSH_USER',
    'LAB_SSH_KEY',
    'LAB_KNOWN_HOSTS',
    'LAB_DEPLOY_DOCKER_HOST',
    'LAB_HOST2',
    'LAB_DEPLOY2_DOCKER_HOST',
    'LAB_DEPLOY2_PATH_ON_LAB',
    'NODE_IMAGE',
    'NGINX_IMAGE',
    'POSTGRES_IMAGE',
    'REDIS_IMAGE'
  ]) {
    expect([key, Boolean(lab[key])]).toEqual([key, true])
  }
  expect(docker(['info', '--format', '{{.ServerVersion}}']).status).toBe(0)
  // The registry answers and checks passwords.
  const config = fs.mkdtempSync('/tmp/lab-docker-config-')
  const login = spawnSync(
    'docker',
    [
      '--config',
      config,
      'login',
      '--username',
      lab.LAB_REGISTRY_USER as string,
      '--password-stdin',
      lab.LAB_REGISTRY as string
    ],
    {
      input: lab.LAB_REGISTRY_PASSWORD,
      encoding: 'utf8'
    }
  )
  const badLogin = spawnSync(
    'docker',
    [
      '--config',
      config,
      'login',
      '--username',
      'lab',
      '--password-stdin',
      lab.LAB_REGISTRY as string
    ],
    {
      input: 'wrong-password',
      encoding: 'utf8'
    }
  )
  fs.rmSync(config, { recursive: true, force: true })
  expect(login.status).toBe(0)
  expect(badLogin.status).not.toBe(0)
  // Each deploy host: pinned host key, non-root user, its own engine and compose v2.
  const mainRoot = docker(['info', '--format', '{{.DockerRootDir}}']).stdout.trim()
  const roots: string[] = []
  for (const host of [lab.LAB_HOST as string, lab.LAB_HOST2 as string]) {
    const remote = sshDeployHost(
      [
        'id',
        '-un',
        '&&',
        'docker',
        'info',
        '--format',
        '{{.DockerRootDir}}',
        '&&',
        'docker',
        'compose',
        'version',
        '--short'
      ],
      host
    )
    expect(remote.stderr).toBe('')
    const [user, root, compose] = remote.stdout.trim().split('\n')
    expect(user).toBe(labEnv().LAB_SSH_USER)
    expect(root).not.toBe(mainRoot)
    expect(compose).toMatch(/^2\./)
    roots.push(root as string)
  }
  expect(roots[0]).not.toBe(roots[1])
}

/** ssh to a host with a known_hosts file holding just `line`; returns the ssh run. */
function sshWithKnownHosts(host: string, line: string): { status: number; stderr: string } {
  const lab = labEnv()
  const wrong = fs.mkdtempSync('/tmp/lab-known-hosts-')
  const file = path.join(wrong, 'known_hosts')
  fs.writeFileSync(file, `${line}\n`)
  const run = spawnSync(
    'ssh',
    [
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${file}`,
      '-i',
      lab.LAB_SSH_KEY as string,
      `${lab.LAB_SSH_USER}@${host}`,
      'true'
    ],
    { encoding: 'utf8' }
  )
  fs.rmSync(wrong, { recursive: true, force: true })
  return { status: run.status ?? -1, stderr: run.stderr }
}

describe('the lab', () => {
  it('comes up again at once when it is already up', () => {
    const run = labUp()
    expect(run.status).toBe(0)
    expect(run.seconds).toBeLessThan(30)
    checkLabWorks()
  })

  it('repairs itself after its daemons were killed without cleanup', () => {
    const pidFiles = fs.readdirSync(path.join(STATE, 'pids')).filter(file => file.endsWith('.pid'))
    const killed: string[] = []
    for (const file of pidFiles) {
      const pid = Number(fs.readFileSync(path.join(STATE, 'pids', file), 'utf8').trim())
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL')
          killed.push(file)
        } catch {
          // already gone
        }
      }
    }
    // At least the registry, and both deploy hosts' sshd and dockerd are the lab's own.
    expect(killed).toEqual(
      expect.arrayContaining([
        'registry.pid',
        'sshd.pid',
        'dockerd-deploy.pid',
        'sshd2.pid',
        'dockerd-deploy2.pid'
      ])
    )
    expect(sshDeployHost(['true']).status).not.toBe(0)
    expect(sshDeployHost(['true'], labEnv().LAB_HOST2).status).not.toBe(0)

    const run = labUp()
    if (run.status !== 0) throw new Error(run.output)
    checkLabWorks()
  })

  it('refuses a deploy host whose key is not the pinned one', () => {
    const lab = labEnv()
    const wrong = fs.mkdtempSync('/tmp/lab-known-hosts-')
    const file = path.join(wrong, 'known_hosts')
    // A well-formed ed25519 key that is not the host's.
    fs.writeFileSync(
      file,
      `${lab.LAB_HOST} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq7R4nW0b7Pn6cQ2m9Qy9X0x1v0M8yZtq8Xy2vJ5Y6Q\n`
    )
    const run = spawnSync(
      'ssh',
      [
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${file}`,
        '-i',
        lab.LAB_SSH_KEY as string,
        `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`,
        'true'
      ],
      { encoding: 'utf8' }
    )
    fs.rmSync(wrong, { recursive: true, force: true })
    expect(run.status).toBe(255)
    expect(run.stderr).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/
    )
  })

  it("refuses deploy host 2 when its key is not the pinned one, or is host 1's key", () => {
    const lab = labEnv()
    const fake = sshWithKnownHosts(
      lab.LAB_HOST2 as string,
      `${lab.LAB_HOST2} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq7R4nW0b7Pn6cQ2m9Qy9X0x1v0M8yZtq8Xy2vJ5Y6Q`
    )
    expect(fake.status).toBe(255)
    expect(fake.stderr).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/
    )
    // Host 2 has a host key of its own: host 1's pinned key does not let it in.
    const known = fs
      .readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
      .trim()
      .split('\n')
    const host1Line = known.find(line => line.startsWith(`${lab.LAB_HOST} `)) as string
    const borrowed = sshWithKnownHosts(
      lab.LAB_HOST2 as string,
      host1Line.replace(`${lab.LAB_HOST} `, `${lab.LAB_HOST2} `)
    )
    expect(borrowed.status).toBe(255)
    expect(borrowed.stderr).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/
    )
  })
})

describe('deploy host 2', () => {
  it('is pinned in the same known_hosts file as host 1, one line per host', () => {
    const lab = labEnv()
    const lines = fs
      .readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
      .trim()
      .split('\n')
    expect(lines.map(line => line.split(' ')[0])).toEqual([lab.LAB_HOST, lab.LAB_HOST2])
    const keys = lines.map(line => line.split(' ').slice(1).join(' '))
    expect(keys[0]).toMatch(/^ssh-ed25519 /)
    expect(keys[1]).toMatch(/^ssh-ed25519 /)
    expect(keys[0]).not.toBe(keys[1])
    // ssh with that file and strict checking works for both hosts.
    expect(sshDeployHost(['true']).status).toBe(0)
    const run = sshDeployHost(['id', '-un'], lab.LAB_HOST2)
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout.trim()).toBe(lab.LAB_SSH_USER)
  })

  it('runs docker over ssh against its own engine', () => {
    const lab = labEnv()
    const format = ['info', '--format', '{{.DockerRootDir}}']
    const host2 = sshDeployHost(['docker', ...format], lab.LAB_HOST2)
    expect(host2.stderr).toBe('')
    const host1 = sshDeployHost(['docker', ...format])
    const root2 = host2.stdout.trim()
    expect(root2).not.toBe('')
    expect(root2).not.toBe(host1.stdout.trim())
    expect(root2).not.toBe(docker(format).stdout.trim())
    // The same engine as LAB_DEPLOY2_DOCKER_HOST from the lab machine.
    expect(docker(['-H', lab.LAB_DEPLOY2_DOCKER_HOST as string, ...format]).stdout.trim()).toBe(
      root2
    )
    expect(lab.LAB_DEPLOY2_DOCKER_HOST).not.toBe(lab.LAB_DEPLOY_DOCKER_HOST)
  })

  it('has its own /srv/stack-deploy, seen from the lab at LAB_DEPLOY2_PATH_ON_LAB', () => {
    const lab = labEnv()
    const deployPath = lab.LAB_DEPLOY_PATH as string
    const onLab = lab.LAB_DEPLOY2_PATH_ON_LAB as string
    const name = `lab-e2e-host2-${process.pid}`
    const other = `lab-e2e-host1-${process.pid}`
    try {
      const write = sshDeployHost(
        [
          'mkdir',
          `${deployPath}/${name}`,
          '&&',
          'echo',
          'host2',
          '>',
          `${deployPath}/${name}/marker`
        ],
        lab.LAB_HOST2
      )
      expect(write.stderr).toBe('')
      expect(write.status).toBe(0)
      // Host 2's file is in its own directory, not in host 1's (= this machine's) deploy path.
      expect(fs.readFileSync(path.join(onLab, name, 'marker'), 'utf8')).toBe('host2\n')
      expect(fs.existsSync(path.join(deployPath, name))).toBe(false)
      expect(sshDeployHost(['test', '!', '-e', `${deployPath}/${name}`]).status).toBe(0)
      // And the other way round.
      expect(sshDeployHost(['mkdir', `${deployPath}/${other}`]).status).toBe(0)
      expect(fs.existsSync(path.join(deployPath, other))).toBe(true)
      expect(
        sshDeployHost(['test', '!', '-e', `${deployPath}/${other}`], lab.LAB_HOST2).status
      ).toBe(0)
      // Host 2's engine resolves bind mounts in the same view (what compose deploys rely on).
      const run = sshDeployHost(
        [
          `set -e; export DOCKER_CONFIG=$(mktemp -d); trap 'rm -rf "$DOCKER_CONFIG"' EXIT;` +
            ` docker login --username ${lab.LAB_REGISTRY_USER} --password-stdin ${lab.LAB_REGISTRY} >/dev/null;` +
            ` docker run --rm -v ${deployPath}/${name}:/data:ro ${lab.LAB_DEBIAN_IMAGE} cat /data/marker`
        ],
        lab.LAB_HOST2,
        lab.LAB_REGISTRY_PASSWORD
      )
      expect(run.stdout).toBe('host2\n')
      expect(run.status).toBe(0)
    } finally {
      sshDeployHost(['rm', '-rf', `${deployPath}/${name}`], lab.LAB_HOST2)
      sshDeployHost(['rm', '-rf', `${deployPath}/${other}`])
    }
    expect(fs.existsSync(path.join(onLab, name))).toBe(false)
    expect(fs.existsSync(path.join(deployPath, other))).toBe(false)
  })
})
