// Handlebars, used strictly: `strict` (a missing field is an error, not an empty string),
// `noEscape` (no HTML escaping: values reach templates only through the target escapers
// below), `knownHelpersOnly` (templates can call nothing else). One typed map of templates.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { regoString } from './rego/escape.ts';
import { yamlString, yamlText } from './kyverno/escape.ts';
import type { RegoTemplateInput } from './rego/lower.ts';
import type { KyvernoTemplateInput } from './kyverno/lower.ts';
import type { KyvernoTestsInput } from './kyverno/tests.ts';
import type { ValidatingPolicy } from './kyverno-vpol/lower.ts';
import type { PolicyTestsInput } from './kyverno/policy-tests.ts';
import type { VapParamsInput, VapPolicy } from './vap/lower.ts';
import type { KustomizationInput } from './kyverno/kustomization.ts';
import type { RegoTestsInput } from './rego/tests.ts';
import type { ConstraintInput, GatekeeperTemplateInput } from './gatekeeper/lower.ts';
import type { GatorSuiteInput } from './gatekeeper/suite.ts';
import type { DocsTemplateInput } from './reference/docs.ts';
import type { PlaygroundData } from './playground/lower.ts';
import { htmlText, jsValue } from './playground/escape.ts';
import { mdCode, mdFence, mdText } from './reference/escape.ts';

// The header partial (templates/partials/header.hbs) takes the comment prefix of the target
// language as `comment`, and an optional `end` closing each line (Markdown: `<!--` and `-->`).

export const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

export interface HeaderInput {
  readonly compilerVersion: string;
  readonly source: string;
  readonly ruleSet: string;
  readonly ruleSetVersion: string;
}

/** Every template, with the input type it renders. */
export interface TemplateInputs {
  'rego/policy.rego': RegoTemplateInput;
  'rego/policy_test.rego': RegoTestsInput;
  'kyverno/kyverno-test.yaml': KyvernoTestsInput;
  'kyverno/clusterpolicy.yaml': KyvernoTemplateInput;
  'reference/POLICIES.md': DocsTemplateInput;
  'kyverno/kustomization.yaml': KustomizationInput;
  'kyverno-vpol/validatingpolicy.yaml': ValidatingPolicy;
  'kyverno/policy-test.yaml': PolicyTestsInput;
  'vap/policy.yaml': VapPolicy;
  'vap/binding.yaml': VapPolicy;
  'vap/params.yaml': VapParamsInput;
  'gatekeeper/template.yaml': GatekeeperTemplateInput;
  'gatekeeper/constraint.yaml': ConstraintInput;
  'gatekeeper/suite.yaml': GatorSuiteInput;
  'playground/index.html': PlaygroundData;
  'playground/data.js': { readonly data: PlaygroundData };
  'playground/policy.js': { readonly base64: string };
}
export type TemplateName = keyof TemplateInputs;

const helpers: Record<string, Handlebars.HelperDelegate> = {
  'rego-string': (v: unknown) => regoString(String(v)),
  'rego-set': (values: unknown) => `{${(values as string[]).map(regoString).join(', ')}}`,
  // JSON is a subset of Rego's term syntax, with the same string escapes.
  'rego-term': (v: unknown) => JSON.stringify(v),
  // Comments end at a line break; anything after one would become code.
  'one-line': (v: unknown) => String(v).replace(/[\r\n\u2028\u2029]+/g, ' '),
  'yaml-string': (v: unknown) => yamlString(String(v)),
  // A multi-line value: a literal block (lines indented by `n` spaces) or a quoted scalar.
  'yaml-text': (v: unknown, n: unknown) => yamlText(String(v), Number(n)),
  // Markdown: text and code spans on one line, code-block fences, and anchors (rule IDs and
  // rule-set names, lower-cased; anything else becomes `-`).
  'md-text': (v: unknown) => mdText(String(v)),
  'md-code': (v: unknown) => mdCode(String(v)),
  'md-fence': (v: unknown) => mdFence(String(v)),
  'md-anchor': (v: unknown) => String(v).toLowerCase().replace(/[^a-z0-9-]/g, '-'),
  // The playground: text in HTML, and any value as a JavaScript expression.
  'html-text': (v: unknown) => htmlText(String(v)),
  'js-value': (v: unknown) => jsValue(v),
};

function engine(): typeof Handlebars {
  const hb = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) hb.registerHelper(name, fn);
  hb.registerPartial('header', readFileSync(join(TEMPLATES_DIR, 'partials', 'header.hbs'), 'utf8'));
  return hb;
}

const compiled = new Map<TemplateName, Handlebars.TemplateDelegate>();
let hb: typeof Handlebars | undefined;

export function render<T extends TemplateName>(name: T, input: TemplateInputs[T], header: HeaderInput): string {
  hb ??= engine();
  let template = compiled.get(name);
  if (!template) {
    template = hb.compile(readFileSync(join(TEMPLATES_DIR, `${name}.hbs`), 'utf8'), {
      strict: true,
      noEscape: true,
      knownHelpers: Object.fromEntries(Object.keys(helpers).map((h) => [h, true])),
      knownHelpersOnly: true,
    });
    compiled.set(name, template);
  }
  return template({ ...input, header });
}
