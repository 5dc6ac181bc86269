#!/usr/bin/env node
// eci-policy command line. Exit codes: 0 ok, 1 policy violations or stale output, 2 usage or input error.

import { auditCommand, AUDIT_USAGE } from './audit.ts';
import { build, BUILD_USAGE } from './build.ts';
import { docsCommand, DOCS_USAGE } from './docs.ts';
import { explainCommand, EXPLAIN_USAGE } from './explain.ts';
import { playgroundCommand, PLAYGROUND_USAGE } from './playground.ts';
import { publish, PUBLISH_USAGE } from './publish.ts';
import { usageError } from './usage.ts';

const USAGE = `Usage: eci-policy <command> [options]   (eci-policy <command> --help for each)

Commands:
  build   compile the rule sets in spec/ to generated/<rule-set>/ (Rego, WASM bundle, Kyverno, VAP, Gatekeeper)
  audit   evaluate Kubernetes manifests with a compiled bundle
  docs    write the rule reference (generated/POLICIES.md)
  explain print one rule of the reference: eci-policy explain ECI-CTR-001
  publish pack a compiled bundle for OPA: a (signed) bundle tarball, an OCI image layout
  playground serve the rule sets' playgrounds (generated/<rule-set>/playground/) on 127.0.0.1

Exit codes: 0 ok, 1 policy violations (audit) or stale output (build --check, docs --check),
2 usage or input error.

${BUILD_USAGE}

${AUDIT_USAGE}

${DOCS_USAGE}

${EXPLAIN_USAGE}

${PUBLISH_USAGE}

${PLAYGROUND_USAGE}`;

const commands: Record<string, (argv: string[]) => Promise<number>> = { build, audit: auditCommand, docs: docsCommand, explain: explainCommand, publish, playground: playgroundCommand };

// `eci-policy audit … | head`: the reader leaving early is not an error; the exit code stands.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.stdout.destroy();
});

const [command, ...rest] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(command ? 0 : 2);
}
const run = commands[command];
if (!run) usageError(USAGE, `unknown command ${command}`);
process.exitCode = await run(rest);
