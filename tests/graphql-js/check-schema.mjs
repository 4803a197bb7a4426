// The checked-in SDL, read by graphql-js as a code generator reads it,
// against the live schema's introspection, read as a client reads it:
// `buildSchema(schema/schema.graphql)` and `buildClientSchema(introspection)`
// must be the same schema. Rust's `cargo test` checks the same with
// async-graphql's parser (tests/cli.rs); this is the graphql-js view, run by
// hand or in CI where node is installed:
//
//   cd tests/graphql-js && npm ci && npm run check
//
// The introspection is the answer to graphql-js's own getIntrospectionQuery
// (every option on but the schema description), asked of the binary
// (`maillage schema --introspection` prints its answer to the same query):
// set MAILLAGE_BIN to a built binary, else `cargo run` builds it.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildClientSchema,
  buildSchema,
  findBreakingChanges,
  findDangerousChanges,
  getIntrospectionQuery,
  introspectionFromSchema,
  parse,
  print,
  version,
} from "graphql";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const options = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: false,
  inputValueDeprecation: true,
  oneOf: true,
};

const run = (args) =>
  process.env.MAILLAGE_BIN
    ? execFileSync(process.env.MAILLAGE_BIN, args, { encoding: "utf8", maxBuffer: 1 << 28 })
    : execFileSync("cargo", ["run", "--locked", "--quiet", "--", ...args], {
        cwd: root,
        encoding: "utf8",
        maxBuffer: 1 << 28,
      });

const failures = [];

// The binary asks what graphql-js would.
const ours = readFileSync(join(root, "src/api/graphql/introspection.graphql"), "utf8");
if (print(parse(ours)) !== print(parse(getIntrospectionQuery(options)))) {
  failures.push("src/api/graphql/introspection.graphql is not graphql-js's getIntrospectionQuery");
}

const introspection = JSON.parse(run(["schema", "--introspection"]));
const sdl = readFileSync(join(root, "schema/schema.graphql"), "utf8");
const fromFile = buildSchema(sdl);
const fromIntrospection = buildClientSchema(introspection);

for (const [label, a, b] of [
  ["file → introspection", fromFile, fromIntrospection],
  ["introspection → file", fromIntrospection, fromFile],
]) {
  for (const c of [...findBreakingChanges(a, b), ...findDangerousChanges(a, b)]) {
    failures.push(`${label}: ${c.type}: ${c.description}`);
  }
}

// Everything else (descriptions, defaults, order): both schemas as
// introspection, built-in directives and scalars included, types and
// directives sorted by name (the two builders order their maps apart).
const canonical = (schema) => {
  const s = introspectionFromSchema(schema, options).__schema;
  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { ...s, types: [...s.types].sort(byName), directives: [...s.directives].sort(byName) };
};
const named = (v) => Array.isArray(v) && v.every((x) => x && typeof x === "object" && typeof x.name === "string");
const diff = (a, b, path) => {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (named(a) && named(b)) {
    // Lists of named things (types, fields, arguments, values): by name,
    // then their order.
    const byName = (l) => new Map(l.map((x) => [x.name, x]));
    const [ma, mb] = [byName(a), byName(b)];
    for (const k of new Set([...ma.keys(), ...mb.keys()])) diff(ma.get(k), mb.get(k), `${path}.${k}`);
    const order = (l, m) => l.map((x) => x.name).filter((n) => m.has(n)).join(", ");
    if (order(a, mb) !== order(b, ma)) failures.push(`${path}: in the order ${order(a, mb)} in the file, ${order(b, ma)} in the introspection`);
    return;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], `${path}.${k}`);
    return;
  }
  failures.push(`${path}: file ${JSON.stringify(a)}, introspection ${JSON.stringify(b)}`);
};
diff(canonical(fromFile), canonical(fromIntrospection), "__schema");

if (failures.length) {
  console.error(`graphql-js ${version}: schema/schema.graphql is not the introspected schema:`);
  for (const f of failures.slice(0, 50)) console.error(`  ${f}`);
  if (failures.length > 50) console.error(`  … and ${failures.length - 50} more`);
  process.exit(1);
}
console.log(`graphql-js ${version}: schema/schema.graphql is the introspected schema`);
