// case_names.test.mjs: the names the case session gives (web/annotation/case_session.js):
// export file names made from a case name, and the shown name of a second,
// different file that has the name of one already in the case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileSafeName, uniqueName } from '../../web/annotation/case_session.js';

test('export file names are made safe from the case name', { timeout: 5000 }, () => {
  assert.equal(fileSafeName('Colonoscopy 12/3: polyp follow-up'), 'Colonoscopy-12-3-polyp-follow-up');
  assert.equal(fileSafeName('../../etc/passwd'), 'etc-passwd');
  assert.equal(fileSafeName('Größe ø 5 mm'), 'Gr-e-5-mm');
  assert.equal(fileSafeName(''), 'case');
  assert.equal(fileSafeName('...'), 'case');
  assert.equal(fileSafeName(null), 'case');
  assert.equal(fileSafeName('x'.repeat(200)).length, 80);
});

test('a different file with a name already in the case gets the next free name', { timeout: 5000 }, () => {
  assert.equal(uniqueName('image.jpg', new Set()), 'image.jpg');
  assert.equal(uniqueName('image.jpg', new Set(['image.jpg'])), 'image (2).jpg');
  assert.equal(uniqueName('image.jpg', new Set(['image.jpg', 'image (2).jpg'])), 'image (3).jpg');
  assert.equal(uniqueName('scan', new Set(['scan'])), 'scan (2)');
  assert.equal(uniqueName('.hidden', new Set(['.hidden'])), '.hidden (2)');
});
