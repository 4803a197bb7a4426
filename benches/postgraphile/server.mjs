// PostGraphile v5 over the bench database's schema `pgl` (load.sql), as a
// peer of maillage in benches/api-load.sh (issue 18).
//
//   cd benches/postgraphile && npm ci      (once: pinned in package-lock.json;
//                                           brings Node 22 as the npm package `node`)
//   node_modules/node/bin/node server.mjs  (Node 22: PostGraphile 5 needs >= 22)
//
// Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
// maillage_api_bench), PORT (default 18081), POOL_SIZE (PostgreSQL
// connections, default 32: the benchmark's concurrency; the pg default is
// 10; split among the workers), WORKERS (Node processes sharing the port
// through node:cluster, default one per core: Node runs JavaScript on one
// core, and a deployment would run one process per core, as pm2 or a
// cluster does; on the 2-core bench machine 2 workers serve 1.6-1.7x what
// one does, 3 no more, 4 less), SCHEMA_OUT (a file to print the GraphQL
// schema to, then exit).
//
// The setup a production deployment would have: NODE_ENV=production, no
// GraphiQL (Ruru), no watch mode, no EXPLAIN in answers, no query logging;
// the Amber preset and the connection-filter plugin, POST /graphql.
import cluster from "node:cluster";
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";

process.env.NODE_ENV = "production";
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/maillage_api_bench";
const port = Number(process.env.PORT ?? 18081);
const poolSize = Number(process.env.POOL_SIZE ?? 32);
const workers = Number(process.env.WORKERS ?? availableParallelism());

if (cluster.isPrimary && workers > 1 && !process.env.SCHEMA_OUT) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (w, code) => {
    console.error(`worker ${w.process.pid} exited (${code})`);
    process.exit(1);
  });
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers)) w.kill(sig);
      process.exit(0);
    });
  }
} else {
  const [{ default: pg }, { postgraphile }, { grafserv }, { PostGraphileAmberPreset }, { makePgService }, filter] =
    await Promise.all([
      import("pg"),
      import("postgraphile"),
      import("postgraphile/grafserv/node"),
      import("postgraphile/presets/amber"),
      import("postgraphile/adaptors/pg"),
      import("postgraphile-plugin-connection-filter"),
    ]);
  // Split among the workers: the connections to PostgreSQL stay POOL_SIZE in all.
  const pool = new pg.Pool({ connectionString: url, max: Math.max(1, Math.ceil(poolSize / workers)) });
  pool.on("error", (e) => console.error("pg pool:", e.message));
  const preset = {
    extends: [PostGraphileAmberPreset, filter.PostGraphileConnectionFilterPreset],
    pgServices: [makePgService({ pool, schemas: ["pgl"], pubsub: false })],
    grafserv: { port, graphqlPath: "/graphql", graphiql: false, watch: false, websockets: false },
    grafast: { explain: false },
  };
  const pgl = postgraphile(preset);
  if (process.env.SCHEMA_OUT) {
    const { printSchema } = await import("postgraphile/graphql");
    writeFileSync(process.env.SCHEMA_OUT, printSchema(await pgl.getSchema()));
    await pgl.release();
    await pool.end();
    process.exit(0);
  }
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.on("error", (e) => {
    console.error(e.message);
    process.exit(1);
  });
  await serv.addTo(server);
  // Build the schema before listening: the first request is not the one that pays.
  await pgl.getSchema();
  server.listen(port, "127.0.0.1");
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
}
