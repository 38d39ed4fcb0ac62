// loader.js: starts the app. It checks for WebGPU and says plainly what to do
// when it is missing, obtains the GPU device asynchronously (emscripten 3.1.6
// cannot wait for it inside wasm without ASYNCIFY) and hands it to the wasm as
// Module.preinitializedWebGPUDevice, then wires the browser to the app: file
// picker, drag and drop, the demo case, the service worker, and the read-only
// automation hook window.endoscribe.
//
// window.endoscribe (for tests and automation; it changes nothing by itself):
//   ready          Promise, resolves when the app draws frames
//   caseLoaded     Promise, resolves when the start-up case (the one open last,
//                  else the demo case) has been opened
//   cases          the case session (web/annotation/case_session.js): current,
//                  images, action(name, arg)
//   state()        the viewer's state, from the wasm (ui/app_exports.cpp):
//                  { frame, case, canvas: {css_width, css_height, dpr, width, height},
//                    viewer_rect: [x, y, w, h], view: {scale, offset_x, offset_y, auto_fit},
//                    levels: {brightness, contrast, gamma}, max_texture_dimension, current,
//                    images: [{name, format, width, height, texture_width, texture_height, downscaled}],
//                    errors: [text], notices: [text] (plain words),
//                    messages: [{kind, text, details, count, dismissed, details_shown,
//                                banner (place among the banners shown, 0 = top; -1: not shown)}]
//                    (banner i's controls: widgets message_<i>, message_close_<i>, message_details_<i>,
//                    i = the index in messages), assistant: {test_model, model} (the loaded model;
//                    test_model: its package says its output is meaningless),
//                    cursor: {x, y, r, g, b, a} | null,
//                    widgets: {name: [x, y, w, h]}, windows: [{name, rect: [x, y, w, h]}] }
//                  (CSS pixels; screen = offset + scale * image)
//   gpuErrors      WebGPU errors seen so far (each is also logged with console.error)
// Performance marks (tools/bench/first_frame.mjs): 'endoscribe-first-frame'
// when the first frame is drawn, 'endoscribe-case-shown' when the default case is.
//   openFiles(fileList)  what the file picker and a drop do
// URL parameters: ?case=none opens no demo case; ?max_texture=N pretends the
// GPU's texture limit is N (to see the downscale notice without a huge image).
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const statusEl = document.getElementById('status');
  const canvas = document.getElementById('canvas');
  const fileInput = document.getElementById('file-input');
  const dropOverlay = document.getElementById('drop-overlay');
  let Module = null;

  // ccall copies 'string' arguments onto the wasm stack (5 MiB), which a case
  // bundle, an annotation document with masks or an undo history overflows,
  // corrupting memory. Every string argument goes through the heap instead.
  function passStringArgumentsOnTheHeap(M) {
    const ccall = M.ccall;
    M.ccall = (name, returnType, argTypes, args, opts) => {
      const types = argTypes ? argTypes.slice() : [];
      const values = args ? args.slice() : [];
      const owned = [];
      try {
        for (let i = 0; i < types.length; i++) {
          if (types[i] !== 'string' || values[i] == null) continue;
          const text = String(values[i]);
          const n = M.lengthBytesUTF8(text) + 1;
          const p = M._malloc(n);
          if (!p) throw new Error(`out of memory for a ${n}-byte argument of ${name}`);
          M.stringToUTF8(text, p, n);
          owned.push(p);
          types[i] = 'number';
          values[i] = p;
        }
        return ccall(name, returnType, types, values, opts);
      } finally {
        for (const p of owned) M._free(p);
      }
    };
  }

  const hook = { gpuErrors: [], state: () => null, openFiles: (files) => openFiles(files) };
  let resolveReady, rejectReady, resolveCase;
  hook.ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
  hook.caseLoaded = new Promise((res) => { resolveCase = res; });
  hook.ready.catch(() => {});
  // The case session (web/annotation/app_annotation.js, an ES module that runs
  // after this script) registers here; start-up waits for it, so what opens
  // first is decided by the saved cases, never by which script ran first.
  let caseSession = null;
  const caseSessionRegistered = new Promise((res) => {
    hook.registerCaseSession = (s) => { caseSession = s; res(s); };
  });
  window.endoscribe = hook;

  function showFatal(title, text, help) {
    document.getElementById('fatal-title').textContent = title;
    document.getElementById('fatal-text').textContent = text;
    document.getElementById('fatal-help').textContent = help || '';
    document.getElementById('fatal').hidden = false;
    statusEl.hidden = true;
    canvas.hidden = true;
  }

  const BROWSER_HELP = 'Please open EndoScribe in a current desktop version of Google Chrome or Microsoft Edge ' +
    '(version 113 or newer), which have WebGPU turned on. On Linux, Chrome may need WebGPU enabled at ' +
    'chrome://flags/#enable-unsafe-webgpu. Firefox and Safari support WebGPU only in their newest versions.';

  function registerServiceWorker() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.register('sw.js').catch((e) => console.warn('service worker not registered:', e.message));
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(s);
    });
  }

  // Plain words for the user; technical details behind the banner's Details
  // toggle (web/messages.js does the same for the ES modules).
  function reportError(text, details = '') {
    if (Module) Module.ccall('es_app_report_message', null, ['string', 'string', 'string'], ['error', text, details]);
    else console.warn(text, details);
  }

  // Copies bytes into the wasm heap and lets the core decode them.
  function openBytes(name, bytes, select, hash) {
    const ptr = Module._malloc(Math.max(1, bytes.length));
    try {
      Module.HEAPU8.set(bytes, ptr);
      const index = Module.ccall('es_app_open_image', 'number', ['string', 'number', 'number', 'number'],
        [name, ptr, bytes.length, select ? 1 : 0]);
      // The annotation side (web/annotation/app_annotation.js) stores opened images.
      if (index >= 0 && caseSession) caseSession.imageOpened(name, bytes, hash);
      return index;
    } finally {
      Module._free(ptr);
    }
  }

  async function readBytes(file) {
    try {
      return new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      reportError(`"${file.name}" could not be read: it may have been moved or changed since it was chosen. Other files are unaffected.`,
        `${e.name || 'Error'}: ${e.message}`);
      return null;
    }
  }

  // Files from the picker or a drop. A case.json among them opens as a case:
  // its images are taken from the same selection, in the case's order.
  async function openFiles(fileList) {
    let files = Array.from(fileList || []);
    const ordered = [];
    for (const caseFile of files.filter((f) => /\.json$/i.test(f.name))) {
      files = files.filter((f) => f !== caseFile);
      const bytes = await readBytes(caseFile);
      if (!bytes) continue;
      const text = new TextDecoder().decode(bytes);
      const openCase = () => JSON.parse(Module.UTF8ToString(Module.ccall('es_app_open_case', 'number', ['string', 'string'],
        [text, caseFile.name])));
      let opened = openCase();
      if (!opened.ok) continue;  // the app shows the error
      // A case file starts a case of its own, named after it.
      if (caseSession) {
        try {
          await caseSession.newCase(opened.title || caseFile.name.replace(/\.json$/i, ''));
          opened = openCase();
        } catch (e) {
          reportError(`Could not start a new case: ${e.message}`);
        }
      }
      for (const path of opened.files) {
        const base = path.split('/').pop();
        const match = files.find((f) => f.name === base);
        if (!match) {
          reportError(`The case "${caseFile.name}" needs the image "${base}", which was not among the files opened with it. ` +
            'Open the case again together with all of its images.', `case file lists "${path}"`);
          continue;
        }
        ordered.push(match);
        files = files.filter((f) => f !== match);
      }
    }
    let selectNext = true;
    for (const file of ordered.concat(files)) {
      const bytes = await readBytes(file);
      if (!bytes) continue;
      // The case decides the name and whether these bytes are already open
      // (a new case starts when the demo case is shown).
      let plan = { name: file.name, index: -1, hash: null };
      if (caseSession) {
        try {
          plan = await caseSession.beforeOpen(file.name, bytes);
        } catch (e) {
          reportError(`"${file.name}" was opened but is not saved: ${e.message}`);
        }
      }
      if (plan.index >= 0) {
        if (selectNext) Module._es_app_select_image(plan.index);
        selectNext = false;
        continue;
      }
      if (openBytes(plan.name, bytes, selectNext, plan.hash) >= 0) selectNext = false;
    }
  }

  // The demo case: demo/case.json, checked by the core (src/case/case.h), lists its
  // images (made by tools/make_demo_case).
  async function openDemoCase() {
    try {
      const response = await fetch('demo/case.json');
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      const opened = JSON.parse(Module.UTF8ToString(
        Module.ccall('es_app_open_case', 'number', ['string', 'string'], [text, 'demo/case.json'])));
      if (!opened.ok) return;  // the app shows the error
      let first = true;
      for (const file of opened.files) {
        try {
          const r = await fetch('demo/' + file);
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          openBytes(file.split('/').pop(), new Uint8Array(await r.arrayBuffer()), first);
          first = false;
        } catch (e) {
          reportError(`The demo image "${file}" could not be loaded. Other images are unaffected.`, e.message);
        }
      }
    } catch (e) {
      reportError('The demo case could not be loaded. You can still open your own images with "Open images...".', e.message);
    }
  }

  function wireFileInput() {
    // Paste: the text goes to the ImGui field being edited (the wasm replays
    // Ctrl+V once it has the text, so the two cannot race).
    window.addEventListener('paste', (e) => {
      const text = e.clipboardData ? e.clipboardData.getData('text/plain') : '';
      Module.ccall('es_app_paste', null, ['string'], [text]);
      e.preventDefault();
    });
    // No browser context menu over the app's canvas.
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    fileInput.addEventListener('change', () => {
      const files = Array.from(fileInput.files || []);
      fileInput.value = '';
      openFiles(files);
    });
    let depth = 0;
    const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
    window.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      dropOverlay.hidden = false;
    });
    window.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    window.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) dropOverlay.hidden = true;
    });
    window.addEventListener('drop', (e) => {
      e.preventDefault();
      depth = 0;
      dropOverlay.hidden = true;
      if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) openFiles(e.dataTransfer.files);
    });
  }

  async function start() {
    registerServiceWorker();
    if (!navigator.gpu) {
      showFatal('This browser does not support WebGPU',
        'EndoScribe draws and analyses images on your own graphics card through WebGPU, and this browser does not provide it.',
        BROWSER_HELP);
      rejectReady(new Error('no WebGPU'));
      return;
    }
    let adapter = null;
    try {
      adapter = await navigator.gpu.requestAdapter();
    } catch (e) { /* reported below */ }
    if (!adapter) {
      showFatal('No usable graphics card found',
        'This browser supports WebGPU, but it could not find a graphics card it may use (it may be blocked, or ' +
        'hardware acceleration may be switched off in the browser settings).', BROWSER_HELP);
      rejectReady(new Error('no WebGPU adapter'));
      return;
    }
    let device;
    try {
      // Ask for the adapter's full texture size so large images need no downscaling.
      device = await adapter.requestDevice({
        requiredLimits: { maxTextureDimension2D: adapter.limits.maxTextureDimension2D },
      });
    } catch (e) {
      showFatal('The graphics card could not be opened', e.message, BROWSER_HELP);
      rejectReady(e);
      return;
    }
    device.addEventListener('uncapturederror', (ev) => {
      const msg = `WebGPU ${ev.error.constructor.name}: ${ev.error.message}`;
      hook.gpuErrors.push(msg);
      console.error(msg);
    });
    device.lost.then((info) => {
      if (info.reason === 'destroyed') return;
      console.error('WebGPU device lost: ' + info.message);
      showFatal('The graphics card stopped responding', info.message, 'Reload the page to start again.');
    });

    statusEl.textContent = 'Starting EndoScribe\u2026';
    await loadScript('endoscribe.js');
    const appReady = new Promise((resolve, reject) => {
      /* global createEndoScribe */
      const moduleConfig = {
        canvas,
        preinitializedWebGPUDevice: device,
        print: (text) => console.log(text),
        printErr: (text) => console.error(text),
        // MODULARIZE makes this object the module itself: ccall exists by now.
        onAppReady: () => { passStringArgumentsOnTheHeap(moduleConfig); resolve(); },
        onAppFailed: (why) => reject(new Error(why)),
        openFilePicker: () => fileInput.click(),
        setCursor: (c) => { canvas.style.cursor = c; },
        onFirstFrame: () => performance.mark('endoscribe-first-frame'),
      };
      createEndoScribe(moduleConfig).then((m) => { Module = m; }, reject);
    });
    // onAppReady fires from main(), before the factory's promise settles.
    await appReady;
    await new Promise((r) => setTimeout(r, 0));
    if (!Module) throw new Error('module did not initialise');
    statusEl.hidden = true;
    hook.state = () => JSON.parse(Module.UTF8ToString(Module._es_app_state_json()));
    hook.module = () => Module;  // for the app's own ES modules (web/assistant/app_assistant.js)
    const maxTexture = parseInt(params.get('max_texture') || '0', 10);
    if (maxTexture > 0) Module._es_app_set_texture_limit_override(maxTexture);
    wireFileInput();
    canvas.focus();
    resolveReady();
    // The case open last comes back first; the demo case only when nothing is
    // saved (or the user asked for it). Without the case module (it failed to
    // load) nothing could be saved anyway: the demo opens after a while.
    const session = await Promise.race([caseSessionRegistered, new Promise((r) => setTimeout(() => r(null), 20000))]);
    let restored = false;
    if (session) {
      try {
        restored = await session.start();
      } catch (e) {
        reportError('The case saved in this browser could not be opened. It is still stored in this browser and nothing was written over: reload the page to try again.', e.message);
        restored = true;  // never open the demo over a case that failed to open
      }
    } else {
      reportError('The part of EndoScribe that saves cases did not load: work will not be saved. Reload the page.');
    }
    if (!restored && params.get('case') !== 'none') {
      await openDemoCase();
      if (session) session.demoOpened();
    }
    // The case is on screen once the next frame has been drawn.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    performance.mark('endoscribe-case-shown');
    resolveCase();
  }

  start().catch((e) => {
    console.error('EndoScribe failed to start: ' + (e && e.message));
    showFatal('EndoScribe failed to start', String(e && e.message), 'Reload the page; if it happens again, ' + BROWSER_HELP);
    rejectReady(e);
  });
})();
