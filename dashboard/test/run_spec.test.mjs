import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLine, createRequest, emptyForm, formFromImage, isSecretKey, validate } from '../src/run_spec.js';

const base = () => ({ ...emptyForm('reg:5000/app:1'), name: 'web' });

test('prefill from ExposedPorts and Volumes', () => {
  const f = formFromImage('img', { Config: { ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data': {} } } });
  assert.deepEqual(f.ports, [{ host: '80', container: '80' }, { host: '53', container: '53/udp' }]);
  assert.deepEqual(f.mounts, [{ source: '', target: '/data' }]);
});

test('valid form has no errors and builds docker create body', () => {
  const f = base();
  f.ports = [{ host: '8080', container: '80' }, { host: '5353', container: '53/udp' }];
  f.mounts = [{ source: '/srv/x', target: '/x' }, { source: 'vol1', target: '/v' }, { source: '', target: '/anon' }];
  f.env = [{ key: 'A', value: 'b=c' }, { key: '', value: '' }];
  f.restart = 'on-failure';
  f.maxRetries = '3';
  assert.deepEqual(validate(f), {});
  const { name, body } = createRequest(f);
  assert.equal(name, 'web');
  assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '5353' }] });
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(body.HostConfig.Binds, ['/srv/x:/x', 'vol1:/v']);
  assert.deepEqual(body.Volumes, { '/anon': {} });
  assert.deepEqual(body.Env, ['A=b=c']);
  assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
});

test('validation errors', () => {
  const f = base();
  f.name = '-bad';
  f.ports = [{ host: '0', container: '80' }, { host: '8080', container: '80/sctp' }, { host: '9000', container: '1' }, { host: '9000', container: '2' }, { host: '70000', container: '3' }];
  f.mounts = [{ source: 'rel/path', target: '/a' }, { source: '/abs', target: 'rel' }, { source: '/b', target: '/a' }];
  f.env = [{ key: 'A=B', value: '1' }, { key: '', value: 'x' }];
  const e = validate(f);
  assert.ok(e.name);
  assert.ok(e['ports.0.host']);
  assert.ok(e['ports.1.container']);
  assert.ok(!e['ports.2.host']);
  assert.match(e['ports.3.host'], /used twice/);
  assert.ok(e['ports.4.host']);
  assert.match(e['mounts.0.source'], /absolute/);
  assert.match(e['mounts.1.target'], /absolute/);
  assert.match(e['mounts.2.target'], /twice/);
  assert.ok(e['env.0.key']);
  assert.ok(e['env.1.key']);
});

test('same host port on tcp and udp is allowed', () => {
  const f = base();
  f.ports = [{ host: '53', container: '53/tcp' }, { host: '53', container: '53/udp' }];
  assert.deepEqual(validate(f), {});
});

test('command line masks secrets and quotes', () => {
  const f = base();
  f.ports = [{ host: '8080', container: '80' }];
  f.mounts = [{ source: '/my dir', target: '/d' }];
  f.env = [{ key: 'DB_PASSWORD', value: 'hunter2' }, { key: 'MODE', value: "it's" }];
  f.restart = 'unless-stopped';
  const line = commandLine(f);
  assert.equal(line, "berth run -d --name web -p 8080:80 -v '/my dir:/d' -e 'DB_PASSWORD=******' -e 'MODE=it'\\''s' --restart unless-stopped reg:5000/app:1");
  assert.ok(!line.includes('hunter2'));
  assert.ok(commandLine(f, true).includes('DB_PASSWORD=hunter2'));
  for (const k of ['PASSWORD', 'api_secret', 'GITHUB_TOKEN', 'SSH_KEY', 'MYSQL_PWD']) assert.ok(isSecretKey(k), k);
  assert.ok(!isSecretKey('HOME'));
});
