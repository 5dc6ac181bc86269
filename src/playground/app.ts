// The playground page (generated/<rule-set>/playground/): paste or drop a manifest, see every
// violation at its line. Runs offline in the browser: the rule set's compiled policy.wasm through
// opa-wasm, the manifests read and placed by the same code as `eci-policy audit`
// (src/manifests/read.ts, src/eval/judge.ts). Bundled by src/emit/playground.ts with esbuild.
//
// The page's globals come from two classic scripts beside index.html (classic, not modules:
// Chromium refuses module scripts and fetch() from file: URLs): data.js sets ECI_PLAYGROUND (the
// rule set's data, src/targets/playground/lower.ts) and policy.js ECI_POLICY_WASM (policy.wasm
// in base64). Served over http(s), the page fetches policy.wasm itself.

import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic as EditorDiagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { parse as parseYaml } from 'yaml';
import { judgeEntries, type AuditedResource, type LocatedViolation } from '../eval/judge.ts';
import { exactJson, loadWasmPolicy, type WasmPolicy } from '../eval/wasm.ts';
import type { Diagnostic } from '../ir/diagnostics.ts';
import type { ParamValues } from '../ir/types.ts';
import { DEFAULT_LIMITS, readManifestText } from '../manifests/read.ts';
import type { PlaygroundData, PlaygroundExample } from '../targets/playground/lower.ts';

declare global {
  interface Window {
    ECI_PLAYGROUND?: PlaygroundData;
    ECI_POLICY_WASM?: string;
  }
}

/** Evaluation waits this long after the last keystroke. */
const DEBOUNCE_MS = 150;
const FILE = 'manifest';

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
};
const byId = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
};

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function policyBytes(): Promise<Uint8Array> {
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    const r = await fetch('policy.wasm');
    if (r.ok) return new Uint8Array(await r.arrayBuffer());
  }
  if (window.ECI_POLICY_WASM) return base64ToBytes(window.ECI_POLICY_WASM);
  throw new Error('policy.wasm could not be loaded: open the page beside its policy.js, or serve the folder (eci-policy playground)');
}

// The shared state of a link: the manifest and the parameters, in the URL fragment (never sent).
interface Shared {
  readonly manifest: string;
  readonly params: ParamValues;
}

function encodeShared(s: Shared): string {
  const bytes = new TextEncoder().encode(JSON.stringify(s));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeShared(fragment: string): Shared | undefined {
  const m = /^#share=([A-Za-z0-9_-]+)$/.exec(fragment);
  if (!m) return undefined;
  const b64 = m[1]!.replace(/-/g, '+').replace(/_/g, '/');
  const s = JSON.parse(new TextDecoder().decode(base64ToBytes(b64 + '='.repeat((4 - (b64.length % 4)) % 4)))) as Shared;
  if (typeof s?.manifest !== 'string' || typeof s.params !== 'object' || s.params === null) throw new Error('the shared link is not one this page made');
  return s;
}

/** A line's offset in the editor's document (1-based line and column, as the reader reports them). */
function offsetOf(view: EditorView, line: number, column: number): number {
  const doc = view.state.doc;
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  return Math.min(l.from + Math.max(column - 1, 0), l.to);
}

function start(data: PlaygroundData, policy: WasmPolicy): void {
  let params: ParamValues = data.defaults;
  const results = byId<HTMLElement>('results');
  const status = byId<HTMLElement>('status');
  const reference = byId<HTMLDialogElement>('reference');
  const rules = new Map(data.rules.map((r) => [r.id, r]));
  let timer: ReturnType<typeof setTimeout> | undefined;

  const view = new EditorView({
    parent: byId('editor'),
    state: EditorState.create({
      doc: '',
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        yaml(),
        lintGutter(),
        EditorView.contentAttributes.of({ 'aria-label': 'Manifest (YAML or JSON)' }),
        // A file dropped on the editor replaces the manifest (CodeMirror would insert it at the drop point).
        EditorView.domEventHandlers({
          drop: (e) => {
            const file = e.dataTransfer?.files[0];
            if (!file) return false;
            e.preventDefault();
            void file.text().then(setText);
            return true;
          },
        }),
        EditorView.updateListener.of((u) => {
          if (!u.docChanged) return;
          clearTimeout(timer);
          status.textContent = 'editing…';
          timer = setTimeout(evaluate, DEBOUNCE_MS);
        }),
      ],
    }),
  });

  const jump = (line: number, column: number) => {
    const at = offsetOf(view, line, column);
    view.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: 'center' }) });
    view.focus();
  };

  const showRule = (id: string) => {
    const rule = rules.get(id);
    byId('reference-title').textContent = rule ? `${rule.id}: ${rule.title}` : id;
    byId('reference-text').textContent = rule ? rule.explain : `${id} is not a rule of ${data.ruleSet.name}.`;
    reference.showModal();
  };

  const violationItem = (v: LocatedViolation): HTMLElement => {
    const value = v.value === undefined ? '' : exactJson(v.value);
    const where = el('button', {
      type: 'button',
      class: `violation ${v.action}`,
      'data-rule': v.rule,
      'data-action': v.action,
      'data-path': v.path,
      'data-list': v.list ?? '',
      'data-container': v.container ?? '',
      'data-value': value,
      'data-line': String(v.line),
      title: `Line ${v.line}: jump to it`,
    });
    where.append(
      el('span', { class: 'action' }, v.action),
      el('span', { class: 'rule' }, v.rule),
      el('span', { class: 'line' }, `line ${v.line}`),
      ...(v.container !== undefined ? [el('span', { class: 'container' }, `${v.list ?? 'container'} ${JSON.stringify(v.container)}`)] : []),
      el('code', { class: 'path' }, v.path),
      ...(value ? [el('code', { class: 'value' }, `= ${value}`)] : []),
      el('span', { class: 'message' }, v.message),
    );
    where.addEventListener('click', () => jump(v.line, v.column));
    const explain = el('button', { type: 'button', class: 'explain', 'aria-label': `About ${v.rule}` }, 'rule');
    explain.addEventListener('click', () => showRule(v.rule));
    return el('li', {}, where, explain);
  };

  const errorItem = (d: Diagnostic): HTMLElement => {
    const b = el('button', { type: 'button', class: 'error', 'data-code': d.code, 'data-line': String(d.line ?? 0) }, el('span', { class: 'code' }, d.code), el('span', { class: 'line' }, d.line ? `line ${d.line}${d.column ? `:${d.column}` : ''}` : ''), el('span', { class: 'message' }, d.message));
    b.addEventListener('click', () => jump(d.line ?? 1, d.column ?? 1));
    return el('li', {}, b);
  };

  const render = (resources: readonly AuditedResource[], errors: readonly Diagnostic[], ms: number) => {
    const count = resources.reduce((n, r) => n + r.violations.length, 0);
    const denied = resources.some((r) => r.violations.some((v) => v.action === 'deny'));
    results.replaceChildren();
    if (errors.length) {
      results.append(el('h2', {}, `${errors.length} ${errors.length === 1 ? 'error' : 'errors'}: not checked`), el('ul', { class: 'errors' }, ...errors.map(errorItem)));
    }
    for (const r of resources) {
      const head = `${r.kind || '(no kind)'} ${r.namespace ? `${r.namespace}/` : ''}${r.name || '(no name)'}`;
      const section = el('section', { class: 'resource', 'data-document': String(r.document), ...(r.item !== undefined ? { 'data-item': String(r.item) } : {}) });
      section.append(el('h2', {}, head, el('span', { class: 'where' }, ` line ${r.position.line}`)));
      section.append(r.violations.length ? el('ul', { class: 'violations' }, ...r.violations.map(violationItem)) : el('p', { class: 'pass' }, 'No violation.'));
      results.append(section);
    }
    if (!resources.length && !errors.length) results.append(el('p', { class: 'empty' }, 'Paste or drop a manifest, or pick an example.'));
    status.textContent = errors.length ? 'errors' : denied ? `denied: ${count} violations` : count ? `warnings: ${count}` : 'allowed';
    status.dataset['ms'] = ms.toFixed(1);
    status.dataset['state'] = 'done';
    const marks: EditorDiagnostic[] = [
      ...errors.map((d) => ({ d, at: offsetOf(view, d.line ?? 1, d.column ?? 1) })).map(({ d, at }) => ({ from: at, to: at, severity: 'error' as const, message: `${d.code}: ${d.message}` })),
      ...resources.flatMap((r) =>
        r.violations.map((v) => {
          const at = offsetOf(view, v.line, v.column);
          return { from: at, to: view.state.doc.lineAt(at).to, severity: v.action === 'deny' ? ('error' as const) : ('warning' as const), message: `${v.rule} ${v.action}: ${v.message}` };
        }),
      ),
    ];
    view.dispatch(setDiagnostics(view.state, marks));
  };

  const evaluate = () => {
    const t0 = performance.now();
    const resources: AuditedResource[] = [];
    const errors: Diagnostic[] = [];
    try {
      judgeEntries(policy, readManifestText(view.state.doc.toString(), FILE, DEFAULT_LIMITS), resources, errors);
    } catch (e) {
      // Never a blank page: whatever failed is shown as an error of the page.
      errors.push({ code: 'playground-error', message: (e as Error).message, file: FILE });
    }
    render(resources, errors, performance.now() - t0);
  };

  const setText = (text: string) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });

  // Parameters: a form from the rule set's parameter list; every change applies at once.
  const form = byId<HTMLFormElement>('params');
  const paramsError = byId<HTMLElement>('params-error');
  const lines = (v: string) => v.split('\n').map((s) => s.trim()).filter(Boolean);
  const fieldOf = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null;
  const showParams = (p: ParamValues) => {
    for (const def of data.params) {
      const f = fieldOf(`param-${def.name}`);
      if (!f) continue;
      const v = p[def.name];
      f.value = def.kind === 'labelSelector' ? JSON.stringify(v ?? {}) : Array.isArray(v) ? v.join('\n') : '';
    }
    for (const id of data.overridableRules) {
      const f = fieldOf(`action-${id}`);
      if (f) f.value = p.actions[id] ?? '';
    }
  };
  const readParams = (): ParamValues => {
    const out: Record<string, unknown> = {};
    for (const def of data.params) {
      const value = fieldOf(`param-${def.name}`)?.value ?? '';
      if (def.kind === 'stringList') out[def.name] = lines(value);
      else if (def.kind === 'namespaceApproval') out[def.name] = lines(value).length ? lines(value) : false;
      else {
        const selector = parseYaml(value || '{}') as unknown;
        const labels = (selector as { matchLabels?: unknown } | null)?.matchLabels;
        const valid = typeof selector === 'object' && selector !== null && !Array.isArray(selector) && Object.keys(selector).every((k) => k === 'matchLabels') && (labels === undefined || (typeof labels === 'object' && labels !== null && !Array.isArray(labels) && Object.values(labels).every((x) => typeof x === 'string')));
        if (!valid) throw new Error(`${def.name}: a label selector, {matchLabels: {key: value}}`);
        out[def.name] = selector;
      }
    }
    const actions: Record<string, 'deny' | 'warn' | 'off'> = {};
    for (const id of data.overridableRules) {
      const v = fieldOf(`action-${id}`)?.value;
      if (v === 'deny' || v === 'warn' || v === 'off') actions[id] = v;
    }
    return { ...out, actions };
  };
  const applyParams = (p: ParamValues) => {
    params = p;
    policy.setParams(p);
    paramsError.textContent = '';
    evaluate();
  };
  for (const def of data.params) {
    const id = `param-${def.name}`;
    const input =
      def.kind === 'labelSelector'
        ? el('input', { id, name: id, type: 'text', spellcheck: 'false' })
        : el('textarea', { id, name: id, rows: '2', spellcheck: 'false', placeholder: def.kind === 'namespaceApproval' ? 'approved nowhere (false); one namespace a line' : 'none; one a line' });
    form.append(el('label', { for: id }, el('span', { class: 'name' }, def.name), el('span', { class: 'help' }, def.description)), input);
  }
  if (data.overridableRules.length) {
    const table = el('fieldset', { class: 'actions' }, el('legend', {}, 'actions (per rule)'));
    for (const id of data.overridableRules) {
      const fid = `action-${id}`;
      const rule = rules.get(id);
      table.append(
        el('label', { for: fid }, id),
        el('select', { id: fid, name: fid }, el('option', { value: '' }, `default (${rule?.action ?? '?'})`), el('option', { value: 'deny' }, 'deny'), el('option', { value: 'warn' }, 'warn'), el('option', { value: 'off' }, 'off')),
      );
    }
    form.append(table);
  }
  form.addEventListener('input', () => {
    try {
      applyParams(readParams());
    } catch (e) {
      paramsError.textContent = (e as Error).message;
    }
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  byId('params-reset').addEventListener('click', () => {
    showParams(data.defaults);
    applyParams(data.defaults);
  });

  // Examples: the rule set's fixtures, grouped by folder.
  const examples = byId<HTMLSelectElement>('examples');
  const groups = new Map<string, PlaygroundExample[]>();
  for (const ex of data.examples) {
    const group = ex.name.split('/').slice(1, -1).join('/') || '(top)';
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(ex);
  }
  for (const [group, list] of groups) {
    examples.append(el('optgroup', { label: group }, ...list.map((ex) => el('option', { value: ex.name, title: ex.description }, `${ex.expected ? '✗' : '✓'} ${ex.name.split('/').pop()!.replace(/\.yaml$/, '')}`))));
  }
  const byName = new Map(data.examples.map((ex) => [ex.name, ex]));
  examples.addEventListener('change', () => {
    const ex = byName.get(examples.value);
    if (!ex) return;
    byId('example-description').textContent = ex.description;
    const p = ex.params ?? data.defaults;
    showParams(p);
    params = p;
    policy.setParams(p);
    setText(ex.text);
    clearTimeout(timer);
    evaluate();
  });

  // Sharing: the manifest and parameters in the fragment; nothing leaves the machine.
  const shareOut = byId<HTMLInputElement>('share-link');
  byId('share').addEventListener('click', () => {
    const link = `${location.href.split('#')[0]}#share=${encodeShared({ manifest: view.state.doc.toString(), params })}`;
    shareOut.value = link;
    shareOut.hidden = false;
    shareOut.select();
    window.history.replaceState(null, '', link);
    void navigator.clipboard?.writeText(link).catch(() => undefined);
  });

  byId('reference-close').addEventListener('click', () => reference.close());
  byId('rules-list').append(
    ...data.rules.map((r) => {
      const b = el('button', { type: 'button', 'data-rule': r.id }, `${r.id}`);
      b.addEventListener('click', () => showRule(r.id));
      return el('li', {}, b, ` ${r.title}`);
    }),
  );

  // A shared link opens with its manifest and parameters, also when pasted into this tab.
  const openShared = () => {
    let shared: Shared | undefined;
    try {
      shared = decodeShared(location.hash);
    } catch (e) {
      paramsError.textContent = `The shared link could not be read: ${(e as Error).message}`;
    }
    const p = shared?.params ?? params;
    showParams(p);
    params = p;
    policy.setParams(p);
    if (shared) setText(shared.manifest);
    clearTimeout(timer);
    evaluate();
  };
  window.addEventListener('hashchange', openShared);
  openShared();
  document.body.dataset['ready'] = 'true';
}

async function main(): Promise<void> {
  const data = window.ECI_PLAYGROUND;
  try {
    if (!data) throw new Error('data.js did not load: open index.html beside it');
    document.title = `${data.ruleSet.name} playground · eci-policy`;
    byId('title').textContent = `${data.ruleSet.title} (${data.ruleSet.name} ${data.ruleSet.version})`;
    const policy = await loadWasmPolicy(await policyBytes(), data.ruleSet.name, data.defaults);
    start(data, policy);
  } catch (e) {
    const status = byId<HTMLElement>('status');
    status.textContent = `The playground could not start: ${(e as Error).message}`;
    status.dataset['state'] = 'failed';
    document.body.dataset['ready'] = 'failed';
  }
}

void main();
