// The desk's live page: stories newest first, updated from /v1/events without reload; a story's members; the
// editor's corrections. Every call carries the API key kept in this browser session. Text goes into the page as
// text (textContent), never as markup.
"use strict";

const KEY_STORAGE = "headline-dedup.key";
const $ = (id) => document.getElementById(id);
const stories = new Map(); // cluster id -> its latest JSON
let openId = null;
let lastEventId = null;
let stream = null; // the AbortController of the open event stream

// A desk's page: /?namespace=sport shows that namespace (the API's default without it).
const NAMESPACE = new URLSearchParams(location.search).get("namespace");

function headers(extra = {}) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const auth = key ? { Authorization: `Bearer ${key}` } : {};
  const desk = NAMESPACE ? { "X-Namespace": NAMESPACE } : {};
  return { ...auth, ...desk, ...extra };
}

async function api(path, options = {}) {
  const resp = await fetch(path, { ...options, headers: headers(options.headers) });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = body.error || {};
    throw new Error(`${resp.status} ${err.code || ""}: ${err.message || resp.statusText}`);
  }
  return body;
}

function showError(err) {
  $("error").textContent = err ? String(err.message || err) : "";
  $("error").hidden = !err;
}

// As the server's search does: accents and case ignored ("Etats" finds "États").
function fold(text) {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

// The list.

function renderStory(c, fresh) {
  const rep = (c.representative && c.representative.text) || "(representative expired)";
  const item = el("li", { className: "story" + (c.id === openId ? " open" : "") + (fresh ? " fresh" : "") },
    el("div", { className: "rep" }, el("span", { className: "size", title: "headlines" }, String(c.size)), rep),
    el("div", { className: "meta" },
      `${c.sources.join(", ") || "no source"} · first ${time(c.first_seen)} · last ${time(c.last_seen)} · ${c.id}`));
  item.dataset.id = c.id;
  item.addEventListener("click", () => openStory(c.id));
  return item;
}

function renderList(freshId) {
  // ISO 8601 times of one fixed width sort as text.
  const ordered = [...stories.values()].sort((a, b) =>
    (b.last_seen || "").localeCompare(a.last_seen || "") || b.size - a.size);
  $("stories").replaceChildren(...ordered.map((c) => renderStory(c, c.id === freshId)));
  renderMergeTargets();
}

async function loadStories() {
  const text = $("search").value.trim();
  const query = new URLSearchParams({ limit: "100" });
  if (text) query.set("text", text);
  const page = await api(`/v1/clusters?${query}`);
  stories.clear();
  for (const c of page.clusters) stories.set(c.id, c);
  renderList();
}

async function refresh(id, fresh = true) {
  try {
    const c = await api(`/v1/clusters/${encodeURIComponent(id)}`);
    if (c.id !== id) stories.delete(id); // merged away: the answer is where it went
    const text = fold($("search").value.trim());
    if (!text || fold((c.representative && c.representative.text) || "").includes(text)) stories.set(c.id, c);
    if (openId === id || openId === c.id) showStory(c);
    renderList(fresh ? c.id : null);
  } catch (err) {
    stories.delete(id); // expired
    renderList();
  }
}

// One story and the corrections.

async function openStory(id) {
  openId = id;
  showStory(await api(`/v1/clusters/${encodeURIComponent(id)}`));
  renderList();
}

function showStory(c) {
  openId = c.id;
  $("story").hidden = false;
  $("story-title").textContent = (c.representative && c.representative.text) || c.id;
  $("story-meta").textContent = `${c.id} · ${c.size} headlines · ${c.sources.join(", ") || "no source"}`;
  $("members").replaceChildren(...(c.members || []).map((m) => {
    const box = el("input", { type: "checkbox", value: m.id });
    return el("tr", {}, el("td", {}, box), el("td", {}, m.text || ""), el("td", {}, m.source || ""),
      el("td", {}, m.score == null ? "" : m.score.toFixed(2)), el("td", {}, m.reason || ""));
  }));
  renderMergeTargets();
}

function renderMergeTargets() {
  const options = [...stories.values()].filter((c) => c.id !== openId).map((c) =>
    el("option", { value: c.id }, `${((c.representative && c.representative.text) || c.id).slice(0, 80)} (${c.size})`));
  $("merge-target").replaceChildren(...options);
}

function selected() {
  return [...$("members").querySelectorAll("input:checked")].map((box) => box.value);
}

async function correct(action) {
  showError(null);
  try {
    const out = await action();
    await refresh(out.cluster.id, false);
    if (out.left) await refresh(out.left.id, false);
    await openStory(out.cluster.id);
  } catch (err) {
    showError(err);
  }
}

const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body),
                                          headers: { "Content-Type": "application/json" } });

$("merge").addEventListener("click", () => correct(() =>
  post(`/v1/clusters/${encodeURIComponent(openId)}/merge`, { into: $("merge-target").value })));
$("split").addEventListener("click", () => correct(() =>
  post(`/v1/clusters/${encodeURIComponent(openId)}/split`, { headlines: selected() })));
$("move").addEventListener("click", () => correct(async () => {
  const target = $("move-target").value.trim() || null;
  let out = null;
  for (const id of selected()) out = await post(`/v1/headlines/${encodeURIComponent(id)}/move`, { cluster: target });
  if (!out) throw new Error("select the headlines to move");
  return out;
}));

// Live updates: the SSE stream read with fetch (an EventSource cannot send the key), resumed with Last-Event-ID.

const AFFECTED = {
  "cluster.merged": (d) => [d.merged, d.cluster_id],
  "cluster.split": (d) => [d.cluster_id, d.new_cluster_id],
  "headline.moved": (d) => [d.from, d.cluster_id],
};

function onEvent(type, data) {
  if (type === "reset") return loadStories();
  if (type === "cluster.expired") {
    stories.delete(data.cluster_id);
    return renderList();
  }
  const ids = (AFFECTED[type] || ((d) => [d.cluster_id]))(data).filter(Boolean);
  return Promise.all(ids.map((id) => refresh(id)));
}

async function follow() {
  if (stream) stream.abort();
  const controller = new AbortController();
  stream = controller;
  const extra = lastEventId ? { "Last-Event-ID": lastEventId } : {};
  try {
    const resp = await fetch("/v1/events", { headers: headers(extra), signal: controller.signal });
    if (!resp.ok) throw new Error(`events: ${resp.status}`);
    $("status").textContent = "live";
    $("status").className = "status live";
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = { data: [] };
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (name === "data") fields.data.push(val);
          else fields[name] = val;
        }
        if (fields.id) lastEventId = fields.id;
        if (fields.data.length) await onEvent(fields.event || "message", JSON.parse(fields.data.join("\n")));
      }
    }
  } catch (err) {
    if (controller.signal.aborted) return;
    showError(err);
  }
  if (stream !== controller) return;
  $("status").textContent = "reconnecting…";
  $("status").className = "status";
  setTimeout(follow, 2000);
}

// Start.

async function start() {
  showError(null);
  try {
    await loadStories();
    follow();
  } catch (err) {
    showError(err);
  }
}

if (NAMESPACE) {
  $("title").textContent = `Stories · ${NAMESPACE}`;
  document.title = `headline-dedup · ${NAMESPACE}`;
}
$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("key").value.trim());
  $("key").value = "";
  start();
});
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  loadStories().catch(showError);
});
start();
