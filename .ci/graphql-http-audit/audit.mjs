// The GraphQL-over-HTTP audit of the `graphql-http` package: exits non-zero on any MUST failure.
// Every SHOULD warning is printed; none is expected (see SECURITY.md for any kept on purpose).
import { auditServer } from 'graphql-http';
const url = process.argv[2];
const results = await auditServer({ url });
let errors = 0, warns = 0;
for (const r of results) {
  if (r.status === 'error') { errors++; console.log(`MUST  ${r.name}: ${r.reason}`); }
  else if (r.status === 'warn') { warns++; console.log(`SHOULD ${r.name}: ${r.reason}`); }
}
console.log(`${results.length} audits: ${errors} MUST failures, ${warns} SHOULD warnings`);
process.exit(errors ? 1 : 0);
