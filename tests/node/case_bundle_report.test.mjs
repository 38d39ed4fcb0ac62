// case_bundle_report.test.mjs: the report inside a case bundle
// (web/annotation/case_bundle.js): written under "report" only when there is
// one, read back as the same text (export -> import -> export gives the same
// bytes), and never checked here: a bad report comes back as text for the
// app's reader (report_from_json) to refuse with its own message, so the
// images and annotations still open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBundle, writeBundle } from '../../web/annotation/case_bundle.js';

const doc = JSON.stringify({ format: 'endoscribe-annotations', version: 1, case: null, coco: { images: [], annotations: [], categories: [] } });
const images = [{ name: 'a.png', bytes: new Uint8Array([137, 80, 78, 71, 1, 2, 3]) }];
const report = JSON.stringify({ format: 'endoscribe-report', format_version: 1, status: 'draft', version: 1,
  findings: [{ id: 'F1', size_mm: { value: 6, source: 'user', accepted: true, set_by: 'Dr A', set_at: '2026-11-30T04:00:00Z' } }] });

test('a bundle without a report has no report key and reads back none', { timeout: 5000 }, () => {
  const text = writeBundle(doc, images);
  assert.equal('report' in JSON.parse(text), false);
  assert.equal(readBundle(text).reportText, null);
});

test('the report travels unchanged: export -> import -> export is byte-identical', { timeout: 5000 }, () => {
  const first = writeBundle(doc, images, report);
  const back = readBundle(first);
  assert.equal(back.reportText, report);
  assert.equal(back.documentText, doc);
  const again = writeBundle(back.documentText, back.images, back.reportText);
  assert.equal(again, first);
});

test('a malformed report is handed on as text, not refused with the rest of the case', { timeout: 5000 }, () => {
  const bundle = JSON.parse(writeBundle(doc, images));
  bundle.report = { findings: [{ id: 'F1', size_mm: -3 }], junk: 'x'.repeat(1000) };
  const back = readBundle(JSON.stringify(bundle));
  assert.equal(back.images.length, 1);
  assert.deepEqual(JSON.parse(back.reportText), bundle.report);
  bundle.report = 'not an object';
  assert.equal(readBundle(JSON.stringify(bundle)).reportText, '"not an object"');
});
