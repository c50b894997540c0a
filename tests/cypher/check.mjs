// Validates Cypher statements with Neo4j's own parser and semantic analysis
// (@neo4j-cypher/language-support, the library behind Neo4j's editors).
// Input on stdin: JSON {"labels": [...], "relationshipTypes": [...], "queries": [{"name", "query"}]}.
// Output on stdout: JSON [{"name", "diagnostics": [{"severity", "message", "offset"}]}].
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The package's ESM build has extension-less imports that Node cannot resolve; its CJS build works.
const { lintCypherQuery } = require('@neo4j-cypher/language-support');

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const out = input.queries.map(({ name, query }) => {
  // Every parameter a statement names is declared: the Python tests check what is sent.
  const parameters = {};
  for (const m of query.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) parameters[m[1]] = null;
  const schema = {
    labels: input.labels,
    relationshipTypes: input.relationshipTypes,
    parameters,
    defaultLanguage: input.language,
  };
  const diagnostics = lintCypherQuery(query, schema).map((d) => ({
    severity: d.severity,
    message: d.message,
    offset: d.offsets ? d.offsets.start : null,
  }));
  return { name, diagnostics };
});
process.stdout.write(JSON.stringify(out));
