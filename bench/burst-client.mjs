// The HTTP client of a burst, in a process of its own, so that its CPU is not counted as the
// scheduler's: posts `count` jobs at once and answers with their ids and the CPU it used.
process.once('message', async ({ url, key, count, script, name }) => {
  const t0 = process.cpuUsage();
  const post = async () => {
    const form = new FormData();
    form.set('script', new Blob([script]), name);
    const res = await fetch(`${url}/jobs`, { method: 'POST', body: form, headers: { 'x-api-key': key } });
    if (res.status !== 200) throw new Error(`POST /jobs: ${res.status} ${await res.text()}`);
    return (await res.json()).uuid;
  };
  const uuids = await Promise.all(Array.from({ length: count }, post));
  const cpu = process.cpuUsage(t0);
  process.send({ uuids, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
});
