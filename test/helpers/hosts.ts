// Hosts for a multi-host test on one machine: Linux network namespaces, each with its own address
// on a virtual bridge and its own host name, sharing the file system as hosts share an NFS mount.
// The test talks only to the addresses it gave them. Needs root and iproute2.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Why hosts cannot be made here, or null when they can. */
export function hostsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'the ip command (iproute2) is missing';
  const probe = `pxprobe${randomBytes(3).toString('hex')}`;
  if (spawnSync('ip', ['netns', 'add', probe], { stdio: 'ignore' }).status !== 0) return 'ip netns add is not permitted here';
  spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  return null;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export interface Host {
  name: string;
  address: string;
  netns: string;
  /** The command prefix that runs a program on this host, under its host name. */
  wrap: string[];
  /** Starts `command` on this host; its output is appended to `log`. */
  start(command: string[], env: NodeJS.ProcessEnv, log: string): ChildProcess;
  /** The processes running on this host now. */
  pids(): number[];
  /** SIGKILL to every process of the host, as when it loses power; resolves once they are gone. */
  kill(): Promise<void>;
}

export class TestNetwork {
  readonly id = randomBytes(2).toString('hex');
  /** A /24 of 10.213.x.0 chosen at random, so that a run never meets another's leftovers. */
  readonly prefix = `10.213.${randomInt(16, 250)}`;
  readonly bridge = `pxb${this.id}`;
  /** This (the test's) side of the bridge: the client host. */
  readonly clientAddress = `${this.prefix}.254`;
  private readonly hosts: Host[] = [];

  constructor() {
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.clientAddress}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
  }

  addHost(name: string, octet: number): Host {
    const netns = `px${this.id}-${name}`;
    const outside = `pxv${this.id}${octet}`;
    const inside = `pxp${this.id}${octet}`;
    const address = `${this.prefix}.${octet}`;
    ip('netns', 'add', netns);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', netns);
    ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', inside);
    ip('-n', netns, 'link', 'set', inside, 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    ip('link', 'set', outside, 'master', this.bridge);
    ip('link', 'set', outside, 'up');
    // Its own UTS namespace: os.hostname() (and so a Temporal worker's identity) names the host.
    const wrap = ['ip', 'netns', 'exec', netns, 'unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', name];
    const pids = () =>
      spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
    const host: Host = {
      name,
      address,
      netns,
      wrap,
      pids,
      start(command, env, log) {
        fs.mkdirSync(path.dirname(log), { recursive: true });
        const out = fs.openSync(log, 'a');
        const [cmd, ...args] = [...wrap, ...command];
        const child = spawn(cmd!, args, { env, stdio: ['ignore', out, out], detached: true });
        fs.closeSync(out);
        return child;
      },
      async kill() {
        for (let i = 0; i < 50; i++) {
          const left = pids();
          if (left.length === 0) return;
          for (const pid of left) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`host ${name}: processes ${pids().join(', ')} survived SIGKILL`);
      },
    };
    this.hosts.push(host);
    return host;
  }

  async destroy(): Promise<void> {
    for (const host of this.hosts) await host.kill().catch(() => {});
    for (const host of this.hosts) spawnSync('ip', ['netns', 'del', host.netns], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
  }
}

/** Waits until `file` has, past its first `from` characters, a line matching `re` (a process's log); throws after `timeoutMs`. */
export async function logged(file: string, re: RegExp, timeoutMs = 60_000, from = 0): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(from) : '';
    const line = text.split('\n').find((l) => re.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`${file}: no line matching ${re} within ${timeoutMs} ms:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
