// case_bundle_agent.test.mjs: the case agent's traces in a case bundle
// ("agent_traces", web/annotation/case_bundle.js): written only when there are
// some, read back unchanged (export -> import -> export is byte-identical),
// malformed entries left out without stopping the rest of the bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBundle, writeBundle } from '../../web/annotation/case_bundle.js';

const doc = JSON.stringify({ format: 'endoscribe-annotations', case: null, coco: { images: [], annotations: [], categories: [] } });
const images = [{ name: 'image-1.png', bytes: new Uint8Array([137, 80, 78, 71, 1, 2, 3]) }];
const jsonl = '{"type":"header","question":"q","image":"Case|image-1.png|640x512","model":"m","mode":"protocol","seed":1,"max_rounds":3,"answer":""}\n';
const traces = [
  { id: 'tabc1', image: 'Case|image-1.png|640x512', question: 'q', when: 1764500000000, jsonl, caseId: 'c1', extra: 'dropped' },
  { id: 'tabc2', image: 'Case|image-1.png|640x512', question: 'second', when: 1764500001000, jsonl: `${jsonl}{"bad line"\n` },
];

test('no traces: no agent_traces key; reading gives an empty list', () => {
  const text = writeBundle(doc, images);
  assert.equal(JSON.parse(text).agent_traces, undefined);
  assert.deepEqual(readBundle(text).agentTraces, []);
});

test('traces round-trip exactly, unreadable lines included', () => {
  const first = writeBundle(doc, images, null, traces);
  const back = readBundle(first);
  assert.deepEqual(back.agentTraces, traces.map(({ id, image, question, when, jsonl: j }) => ({ id, image, question, when, jsonl: j })));
  assert.equal(writeBundle(back.documentText, back.images, back.reportText, back.agentTraces), first);
});

test('malformed entries are left out, the rest opens', () => {
  const bundle = JSON.parse(writeBundle(doc, images, null, traces));
  bundle.agent_traces.push(null, { id: 'x/../y', jsonl: '' }, { id: 'tok', jsonl: 42 }, { id: 'tnoimage', jsonl });
  const back = readBundle(JSON.stringify(bundle));
  assert.deepEqual(back.agentTraces.map((t) => t.id), ['tabc1', 'tabc2', 'tnoimage']);
  assert.equal(back.agentTraces[2].image, '');
  assert.equal(back.images.length, 1);
  bundle.agent_traces = 'not a list';
  assert.deepEqual(readBundle(JSON.stringify(bundle)).agentTraces, []);
});
