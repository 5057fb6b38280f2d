// The OpenAPI document describes what the API really answers: real responses are validated
// against it. And the interactive docs are served without any CDN.
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

let stack: Stack;
let spec: any;
let ajv: Ajv2020;
beforeAll(async () => {
  stack = await startStack();
  spec = await (await fetch(`${stack.url}/openapi.json`)).json();
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'https://spec.local/', components: spec.components });
});
afterAll(async () => {
  await stack?.stop();
});

/** Checks a real response against the spec's schema for that route, method and status. */
async function conforms(template: string, method: string, res: Response): Promise<any> {
  const operation = spec.paths[template]?.[method];
  expect(operation, `${method} ${template} in the spec`).toBeDefined();
  const response = operation.responses[String(res.status)];
  expect(response, `${method} ${template} ${res.status} in the spec`).toBeDefined();
  const schema = response.content?.['application/json']?.schema;
  const body = await res.json();
  if (schema) {
    const rooted = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"https://spec.local/#/components/'));
    const validate = ajv.compile(rooted);
    expect(validate(body), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`).toBe(true);
  }
  return body;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with upstream’s title and version', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info).toMatchObject({ title: 'PiXYZ API', version: '1.0.7' });
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/jobs', '/jobs/{id}', '/jobs/{id}/details', '/jobs/{id}/outputs/archive', '/processes']));
  });

  it('matches what the job routes answer, for successes and errors alike', async () => {
    const sent = await stack.api('/jobs', {
      method: 'POST',
      body: (() => {
        const f = new FormData();
        f.set('script', new Blob([readScript('scripts/tutorial/00_progress.ts')]), '00_progress.ts');
        f.set('params', JSON.stringify({ steps: 1, stepSeconds: 0.5 }));
        f.set('name', 'spec');
        return f;
      })(),
    });
    const { uuid } = await conforms('/jobs', 'post', sent);
    await conforms('/jobs/{id}', 'get', await stack.api(`/jobs/${uuid}`));
    await conforms('/jobs/{id}/details', 'get', await stack.api(`/jobs/${uuid}/details`)); // running
    await waitForEnd(stack, uuid);
    await conforms('/jobs/{id}/details', 'get', await stack.api(`/jobs/${uuid}/details`)); // done
    await conforms('/jobs/{id}/outputs', 'get', await stack.api(`/jobs/${uuid}/outputs`));
    await conforms('/jobs/{id}/input', 'get', await stack.api(`/jobs/${uuid}/input`));
    await conforms('/jobs/{id}/input', 'get', await stack.api('/jobs/00000000-0000-4000-8000-000000000000/input')); // 404
    await conforms('/jobs', 'get', await stack.api('/jobs?limit=5'));
    await conforms('/backend/get_task_meta/{id}', 'get', await stack.api(`/backend/get_task_meta/${uuid}`));
    await conforms('/jobs/{id}/cancel', 'post', await stack.api(`/jobs/${uuid}/cancel`, { method: 'POST' }));

    const failed = (await submit(stack, { script: { name: 'bad.ts', content: 'export function main() { throw new Error("nope"); }' } })).body.uuid;
    await waitForEnd(stack, failed);
    await conforms('/jobs/{id}/details', 'get', await stack.api(`/jobs/${failed}/details`));
    await conforms('/jobs/{id}', 'delete', await stack.api(`/jobs/${failed}`, { method: 'DELETE' }));

    await conforms('/jobs', 'post', await stack.api('/jobs', { method: 'POST', body: new FormData() })); // 400
    await conforms('/jobs', 'get', await stack.api('/jobs?status=LOST')); // 400
    await conforms('/jobs/{id}', 'get', await stack.api('/jobs/00000000-0000-4000-8000-000000000000')); // 404
    await conforms('/jobs/{id}', 'get', await stack.api('/jobs/not-a-uuid')); // 400
    await conforms('/jobs/{id}', 'get', await fetch(`${stack.url}/jobs/${uuid}`)); // 401
    await conforms('/jobs/{id}/outputs/archive', 'get', await stack.api('/jobs/00000000-0000-4000-8000-000000000000/outputs/archive')); // 404
  });

  it('matches the process routes', async () => {
    await conforms('/processes', 'get', await fetch(`${stack.url}/processes`));
    await conforms('/processes/{name}', 'get', await fetch(`${stack.url}/processes/sleep`));
    await conforms('/processes/{name}', 'get', await fetch(`${stack.url}/processes/nope`));
  });
});

describe('/docs', () => {
  it('serves the interactive docs from the package, not a CDN', async () => {
    const page = await (await fetch(`${stack.url}/docs`)).text();
    expect(page).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${stack.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${stack.url}/docs/assets/docs-init.js`)).status).toBe(200);
  });
});
