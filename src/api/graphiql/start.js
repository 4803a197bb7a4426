// maillage's GraphiQL: starts the vendored GraphiQL (vendor/graphiql/, the
// UMD globals React, ReactDOM and GraphiQL) on this server's /graphql, with
// the example operations as tabs. A file of its own rather than an inline
// script, so the page's policy allows scripts from this server only.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("graphiql-config").textContent);
  // GraphiQL's dialogs add one <style> element (react-remove-scroll-bar
  // locking the page's scroll). The page's policy admits it by the nonce
  // this script tag carries, fresh for each response, which the library
  // reads from this global.
  window.__webpack_nonce__ = document.currentScript.nonce;
  const h = React.createElement;
  const fetcher = GraphiQL.createFetcher({ url: config.endpoint });
  const app = h(
    GraphiQL,
    {
      fetcher: fetcher,
      defaultTabs: config.tabs,
      defaultEditorToolsVisibility: true,
      // A key typed in the Headers tab is kept for this page's life only,
      // not written to localStorage.
      shouldPersistHeaders: false,
    },
    h(GraphiQL.Logo, null, h("span", { className: "maillage-brand" }, "maillage"), " GraphiQL"),
    h(
      GraphiQL.Footer,
      null,
      h(
        "p",
        { className: "maillage-key-hint" },
        "No credential: public data only. With an API key, open Headers below the query and write ",
        h("code", null, '{"X-Api-Key": "mlg_…"}'),
        " (a token: ",
        h("code", null, '{"Authorization": "Bearer …"}'),
        ")."
      )
    )
  );
  ReactDOM.createRoot(document.getElementById("graphiql")).render(app);
})();
