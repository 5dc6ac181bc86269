// npm run conformance [-- --kyverno budget|all|none] [--source kyverno|gatekeeper|pod-security-admission ...]
// Our PSS rule sets against the peer fixtures (../shared/peer-fixtures): prints per source the
// applicable cases, agreements, each disagreement and the cases not applicable with reasons.
// Exit 0 when every applicable case agrees, 1 on a disagreement, 2 on bad usage or a mapping
// or set-up error.

import { formatReport } from '../test/conformance/report.ts';
import { runConformance, type KyvernoMode } from '../test/conformance/run.ts';
import { SOURCES, type SourceName } from '../test/conformance/sources.ts';

const USAGE = 'usage: npm run conformance -- [--kyverno budget|all|none] [--source <name>]...';

function parseArgs(argv: readonly string[]): { kyverno: KyvernoMode; sources?: SourceName[] } {
  let kyverno: KyvernoMode = 'budget';
  const sources: SourceName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--kyverno') {
      const v = value();
      if (v !== 'budget' && v !== 'all' && v !== 'none') throw new Error(`--kyverno ${v}: budget, all or none`);
      kyverno = v;
    } else if (a === '--source') {
      const v = value();
      if (!(SOURCES as readonly string[]).includes(v)) throw new Error(`--source ${v}: one of ${SOURCES.join(', ')}`);
      sources.push(v as SourceName);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return { kyverno, ...(sources.length ? { sources } : {}) };
}

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

try {
  const report = await runConformance(args);
  process.stdout.write(`${formatReport(report)}\n`);
  process.exit(report.sources.some((s) => s.disagreed.length) ? 1 : 0);
} catch (e) {
  process.stderr.write(`conformance: ${(e as Error).message}\n`);
  process.exit(2);
}
