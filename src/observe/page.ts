// The observer page: one self-contained HTML document (no build step, no CDN). It reads
// /events (server-sent events) and redraws the nodes, the tree, the process table and the exits.

export const OBSERVER_PAGE = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wippy observer</title>
<style>
  :root { --bg:#0f1419; --panel:#171e26; --line:#263241; --text:#d7dee7; --dim:#7d8a99; --accent:#5ab0ff;
          --step:#4cc38a; --susp:#e6b450; --init:#8b9bb0; --closed:#5c6773; --bad:#f07178; --warn:#ffb454; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:18px; padding:14px 22px; border-bottom:1px solid var(--line); background:var(--panel); position:sticky; top:0; }
  h1 { font-size:17px; margin:0; font-weight:600; letter-spacing:.2px; }
  h1 span { color:var(--accent); }
  h2 { font-size:12px; text-transform:uppercase; letter-spacing:.08em; color:var(--dim); margin:0 0 10px; font-weight:600; }
  .live { display:flex; align-items:center; gap:6px; color:var(--dim); font-size:12px; margin-left:auto; }
  .dot { width:9px; height:9px; border-radius:50%; background:var(--bad); }
  .live.on .dot { background:var(--step); box-shadow:0 0 0 3px rgba(76,195,138,.2); }
  .totals { display:flex; gap:10px; flex-wrap:wrap; }
  .total { background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:4px 10px; min-width:86px; }
  .total b { display:block; font-size:17px; font-variant-numeric:tabular-nums; }
  .total small { color:var(--dim); font-size:11px; }
  main { display:grid; grid-template-columns: minmax(340px, 1.2fr) minmax(420px, 1.5fr); gap:18px; padding:18px 22px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:14px 16px; overflow:auto; }
  section.wide { grid-column: 1 / -1; }
  ul.tree, ul.tree ul { list-style:none; margin:0; padding-left:18px; }
  ul.tree { padding-left:0; }
  ul.tree li { margin:3px 0; }
  ul.tree ul { border-left:1px dashed var(--line); margin-left:6px; }
  .node { display:inline-flex; flex-wrap:wrap; align-items:center; gap:4px 8px; padding:3px 8px; border-radius:6px; }
  .node.sup { font-weight:600; }
  .node.flash { animation: flash 1.6s ease-out; }
  @keyframes flash { from { background: rgba(255,180,84,.35); } to { background: transparent; } }
  .pid { font:12px ui-monospace, SFMono-Regular, Menlo, monospace; color:var(--dim); }
  .badge { font-size:11px; padding:1px 7px; border-radius:10px; border:1px solid currentColor; white-space:nowrap; }
  .s-stepping, .s-running { color:var(--step); } .s-suspended { color:var(--susp); } .s-init, .s-starting { color:var(--init); }
  .s-closed, .s-stopped, .s-stopping { color:var(--closed); } .s-restarting { color:var(--warn); }
  .k-normal { color:var(--step); } .k-trap, .k-spawn, .k-link, .k-noproc { color:var(--bad); } .k-limit, .k-killed { color:var(--warn); } .k-cancelled, .k-exit { color:var(--init); }
  .restarts { color:var(--warn); font-size:12px; }
  .nodes { display:flex; gap:10px; flex-wrap:wrap; }
  .nodecard { background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:6px 12px; min-width:120px; }
  .nodecard b { font-size:15px; margin-right:8px; }
  .nodecard small { display:block; color:var(--dim); font-size:11px; }
  .n-up { color:var(--step); } .n-down { color:var(--bad); } .k-noconnection { color:var(--bad); }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  th { text-align:left; font-size:11px; color:var(--dim); font-weight:600; text-transform:uppercase; letter-spacing:.06em; padding:4px 8px; border-bottom:1px solid var(--line); }
  td { padding:5px 8px; border-bottom:1px solid rgba(38,50,65,.6); vertical-align:top; }
  td.num { text-align:right; white-space:nowrap; }
  .empty { color:var(--dim); font-style:italic; }
  .msg { color:var(--text); }
  footer { color:var(--dim); font-size:12px; padding:0 22px 18px; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1><span>wippy</span> observer</h1>
  <div class="totals" id="totals"></div>
  <div class="live" id="live"><span class="dot"></span><span id="live-text">connecting…</span></div>
</header>
<main>
  <section class="wide" id="nodes-section" hidden><h2>Nodes</h2><div id="nodes" data-testid="nodes" class="nodes"></div></section>
  <section><h2>Supervision tree</h2><div id="trees" data-testid="trees"></div></section>
  <section><h2>Processes</h2><div id="processes" data-testid="processes"></div></section>
  <section class="wide"><h2>Last exits</h2><div id="exits" data-testid="exits"></div></section>
</main>
<footer>Updated live from the runtime (server-sent events). States: init → stepping ⇄ suspended → closed.</footer>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const bytes = (n) => n >= 1048576 ? (n / 1048576).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(0) + " KiB" : n + " B";
const ago = (t) => { const s = Math.max(0, (Date.now() - t) / 1000); return s < 60 ? s.toFixed(1) + " s" : s < 3600 ? (s / 60).toFixed(0) + " min" : (s / 3600).toFixed(1) + " h"; };
const lastRestarts = new Map();

function node(n, path) {
  const key = path + "/" + n.id;
  const before = lastRestarts.get(key);
  lastRestarts.set(key, n.restarts);
  const flash = before !== undefined && n.restarts > before ? " flash" : "";
  const state = n.state ? '<span class="badge s-' + esc(n.state) + '" data-state="' + esc(n.state) + '">' + esc(n.state) + "</span>" : "";
  const status = '<span class="badge s-' + esc(n.status) + '">' + esc(n.status) + "</span>";
  const restarts = n.restarts > 0 ? '<span class="restarts" data-testid="restarts">↻ ' + n.restarts + "</span>" : "";
  const mem = n.memory ? '<span class="pid">' + bytes(n.memory) + "</span>" : "";
  const head = '<span class="node ' + (n.kind === "supervisor" ? "sup" : "") + flash + '" data-child="' + esc(n.id) + '">' +
    (n.kind === "supervisor" ? "▾ " : "") + esc(n.id) + " " + status + " " + state + " " + restarts + ' <span class="pid">' + esc(n.pid ?? "—") + "</span> " + mem + "</span>";
  const kids = n.children && n.children.length ? "<ul>" + n.children.map((c) => "<li>" + node(c, key) + "</li>").join("") + "</ul>" : "";
  return head + kids;
}

function render(o) {
  const t = o.totals;
  $("totals").innerHTML = [["processes", t.processes], ["stepping", t.stepping], ["suspended", t.suspended], ["restarts", t.restarts], ["exits", t.exits], ["memory", bytes(t.memory)]]
    .map(([k, v]) => '<div class="total" data-total="' + k + '"><b>' + v + "</b><small>" + k + "</small></div>").join("") +
    o.threads.map((r) => '<div class="total" data-thread="' + r.thread + '"><b>' + r.processes + "</b><small>" + (r.thread === 0 ? "main thread" : "worker " + r.thread + " · " + esc(r.host)) + "</small></div>").join("");
  // a clustered runtime lists its nodes (itself included); outside a cluster the section stays hidden
  const clustered = o.nodes.length > 0;
  $("nodes-section").hidden = !clustered;
  $("nodes").innerHTML = o.nodes.map((n) => '<div class="nodecard" data-node="' + esc(n.name) + '" data-node-state="' + esc(n.state) + '"><b>' + esc(n.name) +
    '</b><span class="badge n-' + esc(n.state) + '">' + esc(n.state) + "</span><small>since " + new Date(n.since).toLocaleTimeString() + " (" + ago(n.since) + ")</small></div>").join("");
  $("trees").innerHTML = o.trees.length ? '<ul class="tree">' + o.trees.map((n) => "<li>" + node(n, "") + "</li>").join("") + "</ul>" : '<p class="empty">No supervision tree is running (mark supervisors auto_start, or start one from code).</p>';
  $("processes").innerHTML = o.processes.length
    ? "<table><thead><tr><th>pid</th><th>entry</th>" + (clustered ? "<th>node</th>" : "") + "<th>host</th><th class=num>thread</th><th>state</th><th class=num>memory</th><th class=num>up</th></tr></thead><tbody>" +
      o.processes.map((p) => '<tr data-pid="' + esc(p.pid) + '"><td class="pid">' + esc(p.pid) + "</td><td>" + esc(p.entry) + "</td>" + (clustered ? '<td data-node="' + esc(p.node ?? "") + '">' + esc(p.node ?? "—") + "</td>" : "") + "<td>" + esc(p.host) + '</td><td class="num" data-thread="' + p.thread + '">' + p.thread +
        '</td><td><span class="badge s-' + esc(p.state) + '">' + esc(p.state) + '</span></td><td class="num">' + bytes(p.memory) + '</td><td class="num">' + ago(p.startedAt) + "</td></tr>").join("") + "</tbody></table>"
    : '<p class="empty">No processes.</p>';
  $("exits").innerHTML = o.exits.length
    ? "<table><thead><tr><th>when</th><th>pid</th><th>entry</th><th>kind</th><th>reason</th></tr></thead><tbody>" +
      o.exits.map((e) => '<tr data-exit-kind="' + esc(e.kind) + '"><td>' + new Date(e.at).toLocaleTimeString() + '</td><td class="pid">' + esc(e.pid) + "</td><td>" + esc(e.entry) +
        '</td><td><span class="badge k-' + esc(e.kind) + '">' + esc(e.kind) + '</span></td><td class="msg">' + esc(e.message) + "</td></tr>").join("") + "</tbody></table>"
    : '<p class="empty">No process has exited yet.</p>';
}

function connect() {
  const es = new EventSource("/events");
  es.onopen = () => { $("live").classList.add("on"); $("live-text").textContent = "live"; };
  es.onmessage = (m) => render(JSON.parse(m.data));
  es.onerror = () => { $("live").classList.remove("on"); $("live-text").textContent = "reconnecting…"; };
}
connect();
</script>
</body>
</html>
`;
