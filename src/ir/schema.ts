// JSON Schemas: the IR (checked with ajv before any code is generated) and a rule set's
// parameter file (derived from its parameter declarations).

import type { Param, RuleSet } from './types.ts';
import { CONTAINER_LISTS, POD_CONTROLLERS } from './types.ts';
import { REGO_KEYWORDS } from './semantics.ts';

const str = { type: 'string', minLength: 1 } as const;
const path = { type: 'array', items: str } as const;
const kind = (k: string) => ({ const: k });
const node = (k: string, props: Record<string, unknown> = {}, optional: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  required: ['kind', ...Object.keys(props).filter((p) => !optional.includes(p))],
  properties: { kind: kind(k), ...props },
});
const transform = { enum: ['upper', 'sysctlName'] };
const ref = { $ref: '#/$defs/ref' };
const cond = { $ref: '#/$defs/condition' };
const num = { $ref: '#/$defs/number' };

export const ruleSetSchema = {
  $id: 'eci-policy/ir/rule-set',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'title', 'version', 'inputRule', 'selectorParam', 'podControllers', 'params', 'rules'],
  properties: {
    // The name is the Rego package (`package <name>`, `data.<name>`): no Rego keyword.
    name: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_]*$',
      maxLength: 40,
      not: { enum: [...REGO_KEYWORDS, 'input', 'data'] },
    },
    title: str,
    version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+' },
    inputRule: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'title'],
      properties: { id: { $ref: '#/$defs/ruleId' }, title: str, rationale: str },
    },
    selectorParam: str,
    podControllers: { type: 'array', uniqueItems: true, items: { enum: POD_CONTROLLERS } },
    params: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'description', 'type'],
        properties: {
          name: { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9]*$', not: { const: 'actions' } },
          description: str,
          type: { oneOf: [node('stringList'), node('namespaceApproval'), node('labelSelector')] },
        },
      },
    },
    rules: { type: 'array', minItems: 1, items: { $ref: '#/$defs/rule' } },
  },
  $defs: {
    ruleId: { type: 'string', pattern: '^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$', maxLength: 48 },
    rule: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'title', 'description', 'action', 'level', 'fix', 'checks'],
      properties: {
        id: { $ref: '#/$defs/ruleId' },
        title: str,
        description: str,
        action: { enum: ['deny', 'warn'] },
        level: { enum: ['pod', 'container'] },
        fix: str,
        rationale: str,
        checks: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'action', 'subject', 'violation', 'message'],
            properties: {
              id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 40 },
              action: { enum: ['rule', 'deny', 'warn'] },
              subject: { $ref: '#/$defs/subject' },
              violation: cond,
              at: path,
              message: str,
            },
          },
        },
      },
    },
    subject: {
      oneOf: [
        node('pod'),
        node('podField', { path }),
        node('podListItems', { path }),
        node('podKeys', { path, except: { type: 'array', items: str } }),
        node('podListItemKeys', { path: { ...path, minItems: 1 }, except: { type: 'array', items: str } }),
        node('annotation', { name: str }),
        node('annotationPrefix', { prefix: str }),
        node('annotationJsonItems', { name: str, field: str }),
        node('containerField', { path, lists: { type: 'array', minItems: 1, items: { enum: CONTAINER_LISTS } } }, ['lists']),
        node('containerListItems', { path }),
        node('containerKeys', { path, except: { type: 'array', items: str } }),
        node('effectiveField', { path: { ...path, minItems: 1 } }),
      ],
    },
    ref: {
      oneOf: [
        node('item'),
        node('itemField', { path: { ...path, minItems: 1 } }),
        node('podField', { path: { ...path, minItems: 1 } }),
        node('containerField', { path: { ...path, minItems: 1 } }),
        node('effective', { path: { ...path, minItems: 1 } }),
        node('annotation', { name: str }),
      ],
    },
    number: {
      oneOf: [
        node('intString', { ref }),
        node('annotationQuantity', {
          annotation: str,
          pattern: str,
          separator: str,
          part: { type: 'integer', minimum: 0 },
        }),
        node('containerQuantitySum', { list: { enum: CONTAINER_LISTS }, fields: { type: 'array', minItems: 1, items: path } }),
        node('firstDefined', { options: { type: 'array', minItems: 1, items: num } }),
      ],
    },
    condition: {
      oneOf: [
        node('present', { ref }),
        node('absent', { ref }),
        node('hasType', { ref, type: { enum: ['string', 'boolean', 'integer', 'number', 'array', 'object'] } }),
        node('equals', { ref, value: { type: ['string', 'number', 'boolean'] } }),
        node('oneOf', { ref, values: { type: 'array', minItems: 1, items: { type: 'string' } }, transform }, ['transform']),
        node(
          'matchesAny',
          {
            ref,
            patterns: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['kind', 'value'],
                properties: { kind: { enum: ['exact', 'prefix'] }, value: { type: 'string' } },
              },
            },
            transform,
          },
          ['transform'],
        ),
        node('intRange', { ref, min: { type: 'integer' }, max: { type: 'integer' } }),
        node('regex', { ref, pattern: str }),
        node('inParamList', { ref, param: str, transform }, ['transform']),
        node('namespaceApproved', { param: str }),
        node('numberDefined', { expr: num }),
        node('atMost', {
          left: num,
          leftScale: { type: 'integer', minimum: 1 },
          right: num,
          rightScale: { type: 'integer', minimum: 1 },
        }),
        node('quantity', { ref }),
        node('someItem', { list: ref, condition: cond }),
        node('jsonObjectArray', {
          ref,
          stringFields: { type: 'array', minItems: 1, maxItems: 3, uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z0-9_]+$' } },
        }),
        node('not', { condition: cond }),
        node('all', { conditions: { type: 'array', minItems: 1, items: cond } }),
        node('any', { conditions: { type: 'array', minItems: 1, items: cond } }),
      ],
    },
  },
} as const;

function paramValueSchema(p: Param): Record<string, unknown> {
  switch (p.type.kind) {
    case 'stringList':
      return { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true };
    case 'namespaceApproval':
      return {
        oneOf: [
          { const: false },
          { type: 'array', items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }, uniqueItems: true },
        ],
      };
    case 'labelSelector':
      return {
        type: 'object',
        additionalProperties: false,
        required: ['matchLabels'],
        properties: {
          matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
        },
      };
  }
}

/** The schema of `spec/<rule-set>.params.yaml`: every declared parameter plus `actions`. */
export function paramsSchema(rs: RuleSet): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const p of rs.params) properties[p.name] = { description: p.description, ...paramValueSchema(p) };
  properties['actions'] = {
    description: 'Per-rule action override.',
    type: 'object',
    propertyNames: { enum: rs.rules.map((r) => r.id) },
    additionalProperties: { enum: ['deny', 'warn', 'off'] },
  };
  return {
    type: 'object',
    additionalProperties: false,
    required: [...rs.params.map((p) => p.name), 'actions'],
    properties,
  };
}
