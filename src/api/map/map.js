// The network map page. Plain JavaScript, no library: it asks /graphql for
// the filter choices and the map (the server computes the layout, sizes and
// communities), draws it in SVG and shows a partner's card on a click.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const KEY_STORE = "maillage.apiKey";
  // The box the server's coordinates are fitted into (whatever their range).
  const BOX = 1000;

  // ---- Vocabulary: GraphQL names come from the server (the enums the
  // schema is built from); French words for them live here.
  const VOCAB = JSON.parse(document.getElementById("vocab").textContent);
  const WORDS = {
    kind: {
      CCAS: "CCAS", ML: "Mission Locale", FT: "France Travail", CAF: "CAF",
      CD: "Conseil départemental", CR: "Conseil régional", ETAT: "État",
      MAIRIE: "Mairie", EPCI: "Intercommunalité", POLICE: "Police, gendarmerie",
      JUSTICE: "Justice", EDUCATION: "Éducation nationale", BAILLEUR: "Bailleur social",
      PREVENTION: "Prévention spécialisée", MEDIATION: "Médiation sociale",
      ASSO: "Association", CENTRE_SOCIAL: "Centre social", PLIE: "PLIE",
      E_2C: "École de la 2e chance", SIAE: "SIAE", SANTE: "Santé", OTHER: "Autre",
    },
    theme: {
      YOUTH: "Jeunesse", DELINQUENCY_PREVENTION: "Prévention de la délinquance",
      MEDIATION: "Médiation", PARENTING: "Parentalité", EMPLOYMENT: "Emploi",
      TRAINING: "Formation", SOCIAL_INCLUSION: "Insertion sociale", HOUSING: "Logement",
      HEALTH: "Santé", EDUCATION: "Éducation", CULTURE_SPORT: "Culture et sport",
      URBAN_RENEWAL: "Renouvellement urbain", ACCESS_TO_RIGHTS: "Accès aux droits",
      OTHER: "Autre",
    },
    via: { RELATION: "relations", NETWORK: "réseaux communs", ACTION: "actions communes" },
    centrality: {
      DEGREE: "nombre de liens", WEIGHTED_DEGREE: "liens pondérés",
      BETWEENNESS: "intermédiarité", PAGERANK: "PageRank",
    },
    layout: { FORCE: "par forces", CIRCLE: "en cercle, par communauté" },
    territory: {
      REGION: "Régions", DEPARTMENT: "Départements", EPCI: "Intercommunalités",
      COMMUNE: "Communes", QPV: "Quartiers prioritaires (QPV)", DISTRICT: "Quartiers",
    },
    role: {
      ADMIN: "administrateur", COORDINATOR: "coordination", ANALYST: "analyste",
      PARTNER: "portail partenaire", ANONYMOUS: "lecteur anonyme (données publiques)",
    },
    status: { PLANNED: "prévue", ACTIVE: "en cours", DONE: "terminée", CANCELLED: "annulée" },
    membership: { PILOT: "pilote", MEMBER: "membre", FUNDER: "financeur", OPERATOR: "opérateur", OBSERVER: "observateur" },
    participation: { LEAD: "porteur", CO_LEAD: "co-porteur", OPERATOR: "opérateur", FUNDER: "financeur", CONTRIBUTOR: "contributeur" },
  };
  const word = (list, v) => (WORDS[list] && WORDS[list][v]) || String(v).toLowerCase().replace(/_/g, " ");

  // Colours readable on white, distinct enough side by side (Tableau 10
  // then darker and lighter companions); the same value keeps its colour.
  const PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#bab0ac", "#1f5f8b", "#c46210", "#8f2d56", "#2a9d8f",
    "#3d7a33", "#b8860b", "#6a4c93", "#d1495b", "#5c4033", "#6c757d", "#0096c7", "#9d4edd",
  ];

  // ---- State.
  const state = {
    map: null,          // the last networkMap answer
    byId: new Map(),    // node id → node
    adj: new Map(),     // node id → [{ other, edge }]
    selected: null,     // node id
    view: { x: 0, y: 0, w: BOX, h: BOX },
    cardRequest: 0,
  };

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };
  // Accent- and case-free, like the server's search.
  const fold = (s) => String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();

  function status(text, isError) {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("error", !!isError);
  }

  // ---- GraphQL.
  async function gql(query, variables) {
    const headers = { "Content-Type": "application/json" };
    const key = localStorage.getItem(KEY_STORE);
    if (key) headers["X-Api-Key"] = key;
    let resp;
    try {
      resp = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    } catch (e) {
      throw new Error("le serveur ne répond pas (" + e.message + ")");
    }
    let body;
    try {
      body = await resp.json();
    } catch (e) {
      throw new Error("réponse illisible du serveur (HTTP " + resp.status + ")");
    }
    if (body.errors && body.errors.length) {
      const e = body.errors[0];
      const code = e.extensions && e.extensions.code;
      if (code === "UNAUTHENTICATED") throw new Error("clé d'API refusée : " + e.message);
      throw new Error(e.message + (code ? " [" + code + "]" : ""));
    }
    return body.data;
  }

  // Every page of a root connection (the server caps page sizes).
  async function all(field, selection, extra) {
    const out = [];
    let after = null;
    for (let i = 0; i < 50; i++) {
      const q = `query($after: String) { ${field}(first: 100, after: $after${extra || ""}) {
        nodes { ${selection} } pageInfo { hasNextPage endCursor } } }`;
      const d = (await gql(q, { after }))[field];
      out.push(...d.nodes);
      if (!d.pageInfo.hasNextPage) break;
      after = d.pageInfo.endCursor;
    }
    return out;
  }

  // ---- Filters.
  function fillSelect(select, values, list, selected) {
    select.replaceChildren(...values.map((v) => el("option", { value: v, text: word(list, v), selected: selected === v })));
  }

  function fillChecks(box, name, values, list) {
    box.replaceChildren(...values.map((v) =>
      el("label", {}, el("input", { type: "checkbox", name, value: v, checked: true }), " " + word(list, v))));
  }

  async function loadChoices() {
    fillSelect($("f-kinds"), VOCAB.partnerKinds, "kind");
    fillSelect($("f-themes"), VOCAB.themes, "theme");
    fillChecks($("f-via"), "via", VOCAB.via, "via");
    fillSelect($("f-size"), VOCAB.centralities, "centrality", "PAGERANK");
    fillSelect($("f-layout"), VOCAB.layouts, "layout", "FORCE");

    const [territories, networks] = await Promise.all([
      all("territories", "id name kind code parent { id }", ", orderBy: [{ field: NAME }]"),
      all("networks", "id name kind", ", orderBy: [{ field: NAME }]"),
    ]);
    const order = ["REGION", "DEPARTMENT", "EPCI", "COMMUNE", "QPV", "DISTRICT"];
    const t = $("f-territory");
    for (const kind of order) {
      const here = territories.filter((x) => x.kind === kind);
      if (!here.length) continue;
      t.append(el("optgroup", { label: word("territory", kind) },
        ...here.map((x) => el("option", { value: x.id, text: x.name + (x.code && kind !== "QPV" ? " (" + x.code + ")" : "") }))));
    }
    $("f-networks").replaceChildren(...networks.map((n) => el("option", { value: n.id, text: n.name })));
  }

  const chosen = (select) => [...select.selectedOptions].map((o) => o.value);

  function filterValue() {
    const f = {};
    const territory = $("f-territory").value;
    if (territory) f.territory = { id: territory, includeDescendants: $("f-descendants").checked };
    const themes = chosen($("f-themes"));
    if (themes.length) f.themes = themes;
    const kinds = chosen($("f-kinds"));
    if (kinds.length) f.partnerKinds = kinds;
    const networks = chosen($("f-networks"));
    if (networks.length) f.networks = networks;
    const via = [...document.querySelectorAll('#f-via input:checked')].map((i) => i.value);
    if (via.length && via.length < VOCAB.via.length) f.via = via;
    if ($("f-asof").value) f.asOf = $("f-asof").value;
    return f;
  }

  // ---- The map.
  const MAP_QUERY = `query Map($filter: GraphFilter, $layout: MapLayout!, $sizeBy: Centrality!, $limit: Int!, $seed: Int!) {
    networkMap(filter: $filter, layout: $layout, sizeBy: $sizeBy, limit: $limit, seed: $seed) {
      nodes { id label kind size centrality x y community degree }
      edges { source target kind weight why }
      total communities
    }
  }`;

  async function loadMap() {
    const mapBox = $("map");
    mapBox.dataset.state = "loading";
    status("Calcul de la carte…");
    const via = document.querySelectorAll('#f-via input:checked');
    if (!via.length) {
      status("Choisissez au moins une sorte de lien.", true);
      mapBox.dataset.state = "error";
      return;
    }
    const limit = Math.max(10, Math.min(2000, parseInt($("f-limit").value, 10) || 300));
    try {
      const d = await gql(MAP_QUERY, {
        filter: filterValue(),
        layout: $("f-layout").value,
        sizeBy: $("f-size").value,
        limit,
        seed: 1,
      });
      state.map = d.networkMap;
    } catch (e) {
      status("La carte n'a pas pu être calculée : " + e.message, true);
      mapBox.dataset.state = "error";
      return;
    }
    draw();
    const m = state.map;
    const shown = m.nodes.length;
    let text = shown + " partenaire" + (shown > 1 ? "s" : "") + ", " + m.edges.length + " lien" + (m.edges.length > 1 ? "s" : "");
    if (m.total > shown) text += " — les " + shown + " plus centraux sur " + m.total;
    if (m.communities) text += " · " + m.communities + " communauté" + (m.communities > 1 ? "s" : "");
    status(shown ? text : "Aucun partenaire ne correspond à ces filtres.");
    mapBox.dataset.state = "ready";
    mapBox.dataset.count = String(shown);
    // Each answer drawn bumps the generation (what a test, or a screen
    // reader script, waits on).
    mapBox.dataset.generation = String((parseInt(mapBox.dataset.generation, 10) || 0) + 1);
  }

  function colourOf(n) {
    if ($("f-colour").value === "community") return PALETTE[n.community % PALETTE.length];
    const i = VOCAB.partnerKinds.indexOf(n.kind);
    return PALETTE[(i < 0 ? PALETTE.length - 1 : i) % PALETTE.length];
  }

  function draw() {
    const m = state.map;
    state.byId = new Map(m.nodes.map((n) => [n.id, n]));
    state.adj = new Map(m.nodes.map((n) => [n.id, []]));
    for (const e of m.edges) {
      if (!state.byId.has(e.source) || !state.byId.has(e.target)) continue;
      state.adj.get(e.source).push({ other: e.target, edge: e });
      state.adj.get(e.target).push({ other: e.source, edge: e });
    }
    // Fit the server's coordinates into the box, keeping their proportions.
    // The bounds leave out the farthest 2 % on each side (a few loosely
    // linked partners would otherwise squeeze the rest into the middle);
    // those few are pulled in to the edge.
    const quantile = (values, q) => {
      const v = [...values].sort((a, b) => a - b);
      return v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))];
    };
    const trim = m.nodes.length >= 50 ? 0.02 : 0;
    const xs = m.nodes.map((n) => n.x), ys = m.nodes.map((n) => n.y);
    const [x0, x1] = [quantile(xs, trim), quantile(xs, 1 - trim)];
    const [y0, y1] = [quantile(ys, trim), quantile(ys, 1 - trim)];
    const span = Math.max(x1 - x0, y1 - y0) || 1;
    const margin = 50;
    const scale = (BOX - 2 * margin) / span;
    const ox = (BOX - (x1 - x0) * scale) / 2, oy = (BOX - (y1 - y0) * scale) / 2;
    const clamp = (v) => Math.min(BOX - margin / 2, Math.max(margin / 2, v));
    for (const n of m.nodes) {
      n.px = m.nodes.length === 1 ? BOX / 2 : clamp(ox + (n.x - x0) * scale);
      n.py = m.nodes.length === 1 ? BOX / 2 : clamp(oy + (n.y - y0) * scale);
    }
    // Radii: the server's sizes, shrunk a little when the map is crowded.
    const crowd = Math.min(1, Math.sqrt(150 / Math.max(m.nodes.length, 1)) * 1.1);
    for (const n of m.nodes) n.r = Math.max(3, (n.size || 6) * Math.max(0.5, crowd));
    // Dense maps (co-membership links many pairs) get fainter, thinner edges.
    const density = Math.min(1, 25 / Math.sqrt(Math.max(m.edges.length, 1)));

    const svg = svgEl("svg", { role: "group", "aria-label": "Réseau : " + m.nodes.length + " partenaires" });
    const edges = svgEl("g", { class: "edges" });
    const maxW = Math.max(1, ...m.edges.map((e) => e.weight || 1));
    for (const e of m.edges) {
      const a = state.byId.get(e.source), b = state.byId.get(e.target);
      if (!a || !b) continue;
      const line = svgEl("line", {
        class: "edge " + (e.kind || ""), x1: a.px, y1: a.py, x2: b.px, y2: b.py,
        "stroke-width": ((0.5 + 2.5 * Math.sqrt((e.weight || 1) / maxW)) * (0.5 + density / 2)).toFixed(2),
        "stroke-opacity": (0.12 + 0.45 * density).toFixed(2),
        "data-source": e.source, "data-target": e.target,
      });
      e.line = line;
      edges.append(line);
    }
    svg.append(edges);

    // Big nodes last, so they are drawn on top. The biggest keep their
    // label shown, as long as it does not overlap one already placed.
    const sorted = [...m.nodes].sort((a, b) => a.r - b.r);
    const labelled = new Set();
    const placed = [];
    const fontSize = 11;
    for (const n of [...sorted].reverse()) {
      if (labelled.size >= 40) break;
      const box = { x0: n.px + n.r + 2, y0: n.py - fontSize * 0.7, x1: n.px + n.r + 4 + n.label.length * fontSize * 0.55, y1: n.py + fontSize * 0.5 };
      if (placed.some((b) => box.x0 < b.x1 && b.x0 < box.x1 && box.y0 < b.y1 && b.y0 < box.y1)) continue;
      placed.push(box);
      labelled.add(n.id);
    }
    const nodes = svgEl("g", { class: "nodes" });
    for (const n of sorted) {
      const g = svgEl("g", {
        class: "node" + (labelled.has(n.id) ? " big" : ""), tabindex: "0", role: "button",
        "data-id": n.id, "data-label": n.label, "data-kind": n.kind,
        "aria-label": n.label + " — " + word("kind", n.kind),
        transform: `translate(${n.px.toFixed(1)},${n.py.toFixed(1)})`,
      });
      const c = svgEl("circle", { r: n.r.toFixed(1), fill: colourOf(n) });
      const title = svgEl("title", {});
      title.textContent = n.label + " (" + word("kind", n.kind) + ", " + (n.degree ?? state.adj.get(n.id).length) + " liens)";
      const t = svgEl("text", { class: "label", x: (n.r + 3).toFixed(1), y: "4" });
      t.textContent = n.label;
      g.append(c, title, t);
      g.addEventListener("click", (ev) => { ev.stopPropagation(); select(n.id); });
      g.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(n.id); }
      });
      n.g = g;
      nodes.append(g);
    }
    svg.append(nodes);
    svg.addEventListener("click", () => { if (!dragMoved) select(null); });
    $("map").replaceChildren(svg);
    state.svg = svg;
    panZoom(svg);
    fit();
    legend();
    searchList();
    if (state.selected && state.byId.has(state.selected)) select(state.selected, { keepView: true });
    else { state.selected = null; showEmptyCard(); }
  }

  function recolour() {
    if (!state.map) return;
    for (const n of state.map.nodes) n.g.querySelector("circle").setAttribute("fill", colourOf(n));
    legend();
  }

  function legend() {
    const box = $("legend");
    const m = state.map;
    if (!m || !m.nodes.length) { box.replaceChildren(); return; }
    const byCommunity = $("f-colour").value === "community";
    const counts = new Map();
    for (const n of m.nodes) {
      const k = byCommunity ? n.community : n.kind;
      counts.set(k, (counts.get(k) || 0) + 1);
    }
    let keys = [...counts.keys()];
    if (byCommunity) keys.sort((a, b) => counts.get(b) - counts.get(a) || a - b);
    else keys.sort((a, b) => VOCAB.partnerKinds.indexOf(a) - VOCAB.partnerKinds.indexOf(b));
    const shown = keys.slice(0, 24);
    const items = shown.map((k) => {
      return el("li", {},
        el("span", { class: "swatch" }),
        byCommunity ? "Communauté " + (k + 1) : word("kind", k),
        el("span", { class: "count", text: " " + counts.get(k) }));
    });
    // Colours are set as properties (the page's policy forbids inline style attributes).
    shown.forEach((k, i) => {
      const sample = m.nodes.find((n) => (byCommunity ? n.community : n.kind) === k);
      items[i].firstChild.style.background = colourOf(sample);
    });
    const notes = [el("p", { class: "note", text: "Taille : " + word("centrality", $("f-size").value) })];
    if (keys.length > shown.length) notes.unshift(el("p", { class: "note", text: "… et " + (keys.length - shown.length) + " autres" }));
    box.replaceChildren(
      el("h3", { text: byCommunity ? "Communautés" : "Types de partenaires" }),
      el("ul", {}, ...items), ...notes);
  }

  // ---- Pan and zoom, by changing the viewBox.
  let dragMoved = false;
  function setView(v) {
    state.view = v;
    state.svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  }
  function fit() {
    const r = $("map").getBoundingClientRect();
    const aspect = r.width && r.height ? r.width / r.height : 1;
    const w = aspect >= 1 ? BOX * aspect : BOX, h = aspect >= 1 ? BOX : BOX / aspect;
    setView({ x: (BOX - w) / 2, y: (BOX - h) / 2, w, h });
  }
  function zoom(factor, cx, cy) {
    const v = state.view;
    if (cx === undefined) { cx = v.x + v.w / 2; cy = v.y + v.h / 2; }
    const w = Math.min(BOX * 8, Math.max(BOX / 20, v.w * factor));
    const k = w / v.w;
    setView({ x: cx - (cx - v.x) * k, y: cy - (cy - v.y) * k, w, h: v.h * k });
  }
  function centreOn(n) {
    const v = state.view;
    setView({ x: n.px - v.w / 2, y: n.py - v.h / 2, w: v.w, h: v.h });
  }
  function toView(svg, ev) {
    const r = svg.getBoundingClientRect(), v = state.view;
    return [v.x + ((ev.clientX - r.left) / r.width) * v.w, v.y + ((ev.clientY - r.top) / r.height) * v.h];
  }
  function panZoom(svg) {
    svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const [cx, cy] = toView(svg, ev);
      zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
    }, { passive: false });
    let start = null;
    svg.addEventListener("pointerdown", (ev) => {
      if (ev.target.closest(".node")) return;
      start = { x: ev.clientX, y: ev.clientY, v: { ...state.view } };
      dragMoved = false;
      svg.setPointerCapture(ev.pointerId);
      svg.classList.add("dragging");
    });
    svg.addEventListener("pointermove", (ev) => {
      if (!start) return;
      const r = svg.getBoundingClientRect();
      const dx = ((ev.clientX - start.x) / r.width) * start.v.w, dy = ((ev.clientY - start.y) / r.height) * start.v.h;
      if (Math.abs(ev.clientX - start.x) + Math.abs(ev.clientY - start.y) > 3) dragMoved = true;
      setView({ ...start.v, x: start.v.x - dx, y: start.v.y - dy });
    });
    const end = () => { start = null; svg.classList.remove("dragging"); setTimeout(() => { dragMoved = false; }, 0); };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
  }

  // ---- Selection: the neighbourhood highlighted, the card filled.
  function select(id, opts) {
    const svg = state.svg;
    if (!svg) return;
    for (const e of svg.querySelectorAll(".hl, .selected")) e.classList.remove("hl", "selected");
    state.selected = id;
    if (id === null || !state.byId.has(id)) {
      svg.classList.remove("focused");
      state.selected = null;
      showEmptyCard();
      return;
    }
    const n = state.byId.get(id);
    svg.classList.add("focused");
    n.g.classList.add("selected");
    for (const { other, edge } of state.adj.get(id)) {
      state.byId.get(other).g.classList.add("hl");
      if (edge.line) edge.line.classList.add("hl");
    }
    // Highlighted edges above the others.
    const edgesG = svg.querySelector(".edges");
    for (const { edge } of state.adj.get(id)) if (edge.line) edgesG.append(edge.line);
    if (!(opts && opts.keepView)) {
      const v = state.view, m = n.r * 2;
      if (n.px < v.x + m || n.px > v.x + v.w - m || n.py < v.y + m || n.py > v.y + v.h - m) centreOn(n);
    }
    showCard(n);
  }

  function showEmptyCard() {
    const card = $("card");
    delete card.dataset.partner;
    card.dataset.state = "empty";
    card.replaceChildren(el("p", { class: "empty", text:
      "Cliquez sur un partenaire (ou sélectionnez-le au clavier : Tab puis Entrée) pour voir sa fiche et ses liens." }));
  }

  const CARD_QUERY = `query Card($id: ID!) { node(id: $id) { ... on Partner {
    id ref name kind description website email phone
    seat { name kind }
    territoriesServed(first: 8) { totalCount nodes { name } }
    networks(first: 25) { totalCount edges { role since until node { id name kind } } }
    actions(first: 25) { totalCount edges { role node { id title theme status startedOn endedOn } } }
  } } }`;

  async function showCard(n) {
    const card = $("card");
    const ticket = ++state.cardRequest;
    card.dataset.state = "loading";
    card.dataset.partner = n.id;
    card.replaceChildren(el("h2", { text: n.label }), el("p", { class: "empty", text: "Chargement de la fiche…" }));
    let p;
    try {
      p = (await gql(CARD_QUERY, { id: n.id })).node;
    } catch (e) {
      if (ticket !== state.cardRequest) return;
      card.dataset.state = "error";
      card.append(el("p", { class: "status error", text: "Fiche indisponible : " + e.message }));
      return;
    }
    if (ticket !== state.cardRequest) return;
    if (!p) {
      card.dataset.state = "error";
      card.replaceChildren(el("h2", { text: n.label }), el("p", { class: "empty", text: "Ce partenaire n'est pas visible avec vos droits." }));
      return;
    }
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = colourOf(n);
    const facts = el("dl", {});
    const fact = (k, v) => { if (v) facts.append(el("dt", { text: k }), el("dd", {}, v)); };
    fact("Siège", p.seat && p.seat.name);
    if (p.territoriesServed.totalCount) {
      const names = p.territoriesServed.nodes.map((t) => t.name).join(", ");
      fact("Intervient sur", names + (p.territoriesServed.totalCount > p.territoriesServed.nodes.length ? "…" : ""));
    }
    fact("Liens sur la carte", String(state.adj.get(n.id).length));
    fact("Communauté", state.map && state.map.communities ? String(n.community + 1) : null);
    if (n.centrality !== undefined && n.centrality !== null)
      fact(word("centrality", $("f-size").value).replace(/^./, (c) => c.toUpperCase()), formatNumber(n.centrality));
    if (p.website) fact("Site", el("a", { href: p.website, rel: "noopener noreferrer", target: "_blank", text: p.website }));
    fact("Courriel", p.email);
    fact("Téléphone", p.phone);

    const networks = el("ul", { class: "networks" }, ...p.networks.edges.map((e) =>
      el("li", {}, e.node.name, el("span", { class: "tag", text: " · " + word("membership", e.role) + (e.since ? " depuis " + e.since.slice(0, 4) : "") + (e.until ? " jusqu'en " + e.until.slice(0, 4) : "") }))));
    const actions = el("ul", { class: "actions-list" }, ...p.actions.edges.map((e) =>
      el("li", {}, e.node.title, el("span", { class: "tag", text: " · " + word("participation", e.role) + " · " + word("theme", e.node.theme) + ", " + word("status", e.node.status) }))));
    const more = (conn) => conn.totalCount > conn.edges.length ? el("p", { class: "tag", text: "… " + (conn.totalCount - conn.edges.length) + " de plus" }) : null;

    const neighbours = [...state.adj.get(n.id)].sort((a, b) => (b.edge.weight || 0) - (a.edge.weight || 0));
    const nlist = el("ul", { class: "neighbours" }, ...neighbours.slice(0, 30).map(({ other, edge }) => {
      const o = state.byId.get(other);
      const why = (Array.isArray(edge.why) ? edge.why : [edge.why]).filter((x) => x).join(" · ");
      return el("li", {}, el("button", { type: "button", text: o.label, onclick: () => select(other) }),
        why ? el("span", { class: "why", text: why }) : null);
    }));

    card.replaceChildren(...[
      el("h2", { text: p.name }),
      el("p", { class: "kind" }, swatch, word("kind", p.kind)),
      p.description ? el("p", { class: "description", text: p.description }) : null,
      facts,
      el("h3", { text: "Réseaux (" + p.networks.totalCount + ")" }),
      p.networks.edges.length ? networks : el("p", { class: "empty", text: "Aucun réseau." }), more(p.networks),
      el("h3", { text: "Actions (" + p.actions.totalCount + ")" }),
      p.actions.edges.length ? actions : el("p", { class: "empty", text: "Aucune action." }), more(p.actions),
      el("h3", { text: "Liens sur cette carte (" + neighbours.length + ")" }),
      neighbours.length ? nlist : el("p", { class: "empty", text: "Aucun lien avec les filtres choisis." }),
    ].filter((x) => x));
    card.dataset.state = "ready";
  }

  function formatNumber(x) {
    if (Number.isInteger(x)) return String(x);
    return Math.abs(x) < 0.01 ? x.toExponential(2) : x.toFixed(3);
  }

  // ---- Search.
  function searchList() {
    const names = [...new Set(state.map.nodes.map((n) => n.label))].sort((a, b) => a.localeCompare(b, "fr"));
    $("search-list").replaceChildren(...names.map((x) => el("option", { value: x })));
  }

  function search(text) {
    if (!state.map) return;
    for (const e of state.svg.querySelectorAll(".match")) e.classList.remove("match");
    const q = fold(text);
    if (!q) return;
    const hits = state.map.nodes.filter((n) => fold(n.label).includes(q));
    if (!hits.length) { status("Aucun partenaire « " + text + " » sur cette carte (élargissez les filtres).", true); return; }
    hits.sort((a, b) => (fold(a.label) === q ? -1 : 0) - (fold(b.label) === q ? -1 : 0) || b.r - a.r);
    for (const h of hits) h.g.classList.add("match");
    select(hits[0].id);
    centreOn(hits[0]);
    hits[0].g.focus();
    status(hits.length === 1 ? "1 partenaire trouvé." : hits.length + " partenaires trouvés ; le premier est sélectionné.");
  }

  // ---- Credentials.
  async function whoAmI() {
    try {
      const v = (await gql("{ viewer { role name partner { name } } }")).viewer;
      $("who").textContent = "Vous : " + word("role", v.role) + (v.role === "ANONYMOUS" ? "" : " — " + v.name);
      return true;
    } catch (e) {
      $("who").textContent = e.message;
      return false;
    }
  }

  async function start() {
    $("api-key").value = localStorage.getItem(KEY_STORE) || "";
    $("key-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const k = $("api-key").value.trim();
      if (k) localStorage.setItem(KEY_STORE, k); else localStorage.removeItem(KEY_STORE);
      $("key-form").closest("details").open = false;
      await restart();
    });
    $("key-clear").addEventListener("click", async () => {
      localStorage.removeItem(KEY_STORE);
      $("api-key").value = "";
      await restart();
    });
    $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadMap(); });
    $("reset").addEventListener("click", () => {
      $("filters").reset();
      for (const s of document.querySelectorAll("#filters select[multiple]")) for (const o of s.options) o.selected = false;
      loadMap();
    });
    $("f-colour").addEventListener("change", recolour);
    // Sizes and positions come from the server: changing them asks again.
    $("f-size").addEventListener("change", loadMap);
    $("f-layout").addEventListener("change", loadMap);
    $("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); search($("search").value); });
    $("zoom-in").addEventListener("click", () => state.svg && zoom(1 / 1.3));
    $("zoom-out").addEventListener("click", () => state.svg && zoom(1.3));
    $("zoom-fit").addEventListener("click", () => state.svg && fit());
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && state.selected !== null) select(null);
    });
    window.addEventListener("resize", () => state.svg && fit());
    await restart();
  }

  // (Re)loads everything the credential decides: who we are, the choices, the map.
  async function restart() {
    await whoAmI();
    try {
      $("f-territory").replaceChildren(el("option", { value: "", text: "Tous les territoires" }));
      await loadChoices();
    } catch (e) {
      status("Les filtres n'ont pas pu être chargés : " + e.message, true);
      $("map").dataset.state = "error";
      return;
    }
    await loadMap();
  }

  start();
})();
