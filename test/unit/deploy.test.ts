// deploy/: the Helm chart linted and rendered by Helm's own code (from PyPI, no helm binary
// here), its manifests validated against the Kubernetes, KEDA and Prometheus Operator schemas
// (kubernetes-models); the compose file against the Compose Specification's schema (check-jsonschema); the Dockerfile read for what an
// operator relies on. (Whether the image's files are enough to run is the multi-host test's.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/shared/config';
import { checkCompose, ensureDeployTools, helm } from '../../tools/deploy-tools.cjs';

const CHART = path.join(REPO_ROOT, 'deploy', 'helm', 'pixyz-scheduler');
const GPU_VALUES = path.join(REPO_ROOT, 'deploy', 'helm', 'examples', 'gpu-values.yaml');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: any;
}

/** The model class of each kind the chart renders, from kubernetes-models and its CRD packages. */
async function modelOf(apiVersion: string, kind: string): Promise<new (data: unknown) => { validate(): void }> {
  const modules: Record<string, () => Promise<Record<string, unknown>>> = {
    v1: () => import('kubernetes-models/v1'),
    'apps/v1': () => import('kubernetes-models/apps/v1'),
    'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
    'keda.sh/v1alpha1': () => import('@kubernetes-models/keda/keda.sh/v1alpha1'),
    'monitoring.coreos.com/v1': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
  };
  const load = modules[apiVersion];
  if (!load) throw new Error(`no schema known for ${apiVersion}`);
  const model = (await load())[kind];
  if (typeof model !== 'function') throw new Error(`no schema known for ${apiVersion} ${kind}`);
  return model as new (data: unknown) => { validate(): void };
}

function render(values: string[] = []): Manifest[] {
  const out = helm('template', CHART, values);
  if (out.status !== 0) throw new Error(`helm template failed: ${out.stderr}`);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const find = (ms: Manifest[], kind: string, nameEnd: string) => ms.find((m) => m.kind === kind && m.metadata.name.endsWith(nameEnd));
const envOf = (m: Manifest) => Object.fromEntries((m.spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));

describe('the Helm chart', () => {
  let defaults: Manifest[];
  let gpu: Manifest[];
  beforeAll(() => {
    ensureDeployTools(); // first run: installs Helm's library and check-jsonschema into .deploy-tools/venv
    defaults = render();
    gpu = render([GPU_VALUES]);
  }, 300_000);

  it('lints clean (strict) with the default and the GPU values', () => {
    for (const values of [[], [GPU_VALUES]]) {
      const out = helm('lint', CHART, values);
      expect(out.status, out.stdout + out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ total_charts_linted: 1, errors: [] });
    }
  });

  it('renders manifests valid against the Kubernetes, KEDA and Prometheus Operator schemas', async () => {
    const kinds = new Set<string>();
    for (const m of [...defaults, ...gpu]) {
      const Model = await modelOf(m.apiVersion, m.kind);
      expect(() => new Model(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
      kinds.add(`${m.apiVersion} ${m.kind}`);
    }
    expect([...kinds].sort()).toEqual([
      'apps/v1 Deployment',
      'keda.sh/v1alpha1 ScaledObject',
      'monitoring.coreos.com/v1 PodMonitor',
      'monitoring.coreos.com/v1 ServiceMonitor',
      'networking.k8s.io/v1 Ingress',
      'v1 PersistentVolumeClaim',
      'v1 Service',
    ]);
  });

  it('scales each cpu/gpu group on its task queue’s backlog with KEDA, from zero, and leaves control fixed', () => {
    const cpu = find(defaults, 'ScaledObject', 'worker-cpu')!;
    expect(cpu.spec).toMatchObject({ scaleTargetRef: { name: 'pixyz-pixyz-scheduler-worker-cpu' }, minReplicaCount: 0 });
    expect(cpu.spec.triggers).toEqual([
      {
        type: 'temporal',
        metadata: {
          endpoint: 'temporal-frontend.temporal.svc.cluster.local:7233',
          namespace: 'default',
          taskQueue: 'cpu',
          queueTypes: 'activity',
          targetQueueSize: '2',
          activationTargetQueueSize: '0',
        },
      },
    ]);
    expect(find(defaults, 'Deployment', 'worker-cpu')!.spec.replicas).toBeUndefined(); // KEDA's to set
    expect(find(defaults, 'ScaledObject', 'worker-control')).toBeUndefined();
    expect(find(defaults, 'Deployment', 'worker-control')!.spec.replicas).toBe(1);
    expect(find(defaults, 'Deployment', 'worker-gpu')).toBeUndefined(); // off by default
  });

  it('gives a stopping worker its group’s longest time limit, then hands the rest back', () => {
    const cpu = find(defaults, 'Deployment', 'worker-cpu')!;
    expect(cpu.spec.template.spec.terminationGracePeriodSeconds).toBe(3630);
    expect(envOf(cpu)).toMatchObject({ WORKER_SHUTDOWN_GRACE: '3600s', WORKER_HEALTH_PORT: '8081', TEMPORAL_ADDRESS: 'temporal-frontend.temporal.svc.cluster.local:7233' });
    expect(cpu.spec.template.spec.containers[0].args).toEqual(['worker', '--queues', 'cpu']);
    expect(cpu.spec.template.spec.containers[0].readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'probes' });
    expect(cpu.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(cpu.spec.template.spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(envOf(cpu).CONCURRENT_TASKS).toBe('2'); // its CPU request, not the node's cores
    expect(cpu.spec.template.spec.volumes).toEqual([{ name: 'share', persistentVolumeClaim: { claimName: 'pixyz-pixyz-scheduler-share' } }]);
    expect(find(defaults, 'PersistentVolumeClaim', 'share')!.spec.accessModes).toEqual(['ReadWriteMany']);
  });

  it('with the GPU values: GPUs requested on GPU nodes, an ingress for large uploads, a ServiceMonitor, Temporal credentials from a Secret', () => {
    const worker = find(gpu, 'Deployment', 'worker-gpu')!;
    const pod = worker.spec.template.spec;
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.tolerations[0]).toMatchObject({ key: 'nvidia.com/gpu', effect: 'NoSchedule' });
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'temporal-cloud' } }]);
    expect(find(gpu, 'ScaledObject', 'worker-gpu')!.spec.triggers[0]).toMatchObject({ metadata: { taskQueue: 'gpu' }, authenticationRef: { name: 'temporal-cloud' } });
    const ingress = find(gpu, 'Ingress', 'api')!;
    expect(ingress.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('20g');
    expect(find(gpu, 'ServiceMonitor', 'api')!.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    expect(find(gpu, 'PodMonitor', 'workers')!.spec.podMetricsEndpoints).toEqual([{ port: 'probes', path: '/metrics', interval: '30s' }]);
    expect(worker.spec.strategy).toEqual({ type: 'Recreate' }); // the old pod frees the GPU first
    expect(envOf(find(gpu, 'Deployment', 'worker-cpu')!)).toMatchObject({ CONCURRENT_TASKS: '4', MAX_UPLOAD_BYTES: '20G' });
    const api = find(gpu, 'Deployment', 'api')!;
    expect(api.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'GOD_PASSWORD_SHA256').valueFrom.secretKeyRef).toMatchObject({ name: 'pixyz-api-key' });
  });
});

describe('the compose file', () => {
  const file = path.join(REPO_ROOT, 'deploy', 'compose.yaml');
  const compose = parse(fs.readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, any> };

  it('is valid against the Compose Specification (and a mistake in it is caught)', () => {
    ensureDeployTools();
    const out = checkCompose(file);
    expect(out.status, out.stdout).toBe(0);
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-compose-')), 'compose.yaml');
    fs.writeFileSync(broken, fs.readFileSync(file, 'utf8').replace('    image: postgres:16', '    imagez: postgres:16'));
    const refused = checkCompose(broken);
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).toMatch(/'imagez' was unexpected/);
  }, 300_000);

  it('runs a Temporal server on PostgreSQL, the API and workers per queue on one shared volume, secrets from an env file', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['api', 'postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui', 'worker-control', 'worker-cpu', 'worker-gpu']);
    expect(s.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(s.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(s.temporal.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect([s.api.command, s['worker-control'].command, s['worker-cpu'].command, s['worker-gpu'].command]).toEqual([
      ['api'],
      ['worker', '--queues', 'control,share'],
      ['worker', '--queues', 'cpu'],
      ['worker', '--queues', 'gpu'],
    ]);
    for (const name of ['api', 'worker-control', 'worker-cpu', 'worker-gpu']) {
      expect(s[name].volumes, name).toEqual(['share:/share']);
      expect(s[name].env_file, name).toBe('pixyz.env');
      expect(s[name].depends_on, name).toEqual({ temporal: { condition: 'service_healthy' } });
      expect(JSON.stringify(s[name]), name).not.toMatch(/GOD_PASSWORD_SHA256/);
    }
    // The GPU reservation is written, commented, for hosts that have one.
    expect(fs.readFileSync(file, 'utf8')).toMatch(/#\s+- driver: nvidia/);
  });
});

describe('the Dockerfile', () => {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
  it('builds in stages, installs production packages only, runs Node directly as a non-root user, with a HEALTHCHECK', () => {
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/^USER pixyz$/m);
    expect(text).toMatch(/^HEALTHCHECK .*CMD \["node", "deploy\/healthcheck\.cjs"\]$/m);
    expect(text).toMatch(/^ENTRYPOINT \["tini", "--", "node", "--import", "tsx", "src\/cli\.ts"\]$/m);
    expect(text).not.toMatch(/GOD_PASSWORD_SHA256=|TEMPORAL_API_KEY=/);
  });
});
