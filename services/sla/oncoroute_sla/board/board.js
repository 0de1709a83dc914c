/* OncoRoute operator board: renders the snapshots sla streams (server-sent events), counts
   deadlines down every second, reconnects with backoff after the stream drops.
   No framework and nothing fetched from outside the service. Text is set with textContent
   only, never as HTML. */
"use strict";

const STATES = { on_track: "On track", at_risk: "At risk", breached: "Breached", paused: "Paused" };
const COLUMNS = ["Case", "Tier", "Tumour group", "Reviewers", "Status", "Time left", "State",
                 "Last escalation"];
const BACKOFF_MIN = 1000, BACKOFF_MAX = 30000, SILENCE_MS = 45000;

let source = null, backoff = BACKOFF_MIN, watchdog = null, reconnectTimer = null;
let clockOffset = 0;  // server time minus this browser's time, in ms
let seen = null;      // case ids shown before, to mark new rows
let tiers = {};

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v; else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function label(text) { return String(text || "").replace(/_/g, " "); }

/* Case ids are UUIDs: the first 8 characters tell cases apart on a board; the whole id is
   in the title and the row's data-case. */
function caseId(id) { return h("span", { class: "case-id", title: id }, id.length > 12 ? id.slice(0, 8) : id); }

function stepLabel(step) {
  if (!step) return "";
  const [kind, a, , b] = step.split(":");
  if (kind === "warning") return `Warning ${Math.round(parseFloat(a) * 100)}%`;
  if (kind === "escalation") return `Escalation L${a}` + (b ? ` (repeat ${b})` : "");
  if (kind === "breach") return "Breach";
  if (kind === "expedite") return "Expedited";
  return label(step);
}

function stepBadge(step) {
  const kind = (step || "").split(":")[0];
  return h("span", { class: `badge step ${kind}` }, stepLabel(step));
}

function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (d) return `${d}d ${pad(hh)}h`;
  if (hh) return `${hh}h ${pad(mm)}m`;
  return `${mm}m ${pad(ss)}s`;
}

function clockTime(iso) {
  const t = new Date(iso);
  return t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function deadlineText(iso) {
  const t = new Date(iso);
  return "due " + t.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit",
                                           minute: "2-digit" });
}

/* --- the live countdown -------------------------------------------------------------- */

function tick() {
  const now = Date.now() + clockOffset;
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const left = (Date.parse(el.dataset.deadline) - now) / 1000;
    el.textContent = left >= 0 ? duration(left) : `${duration(left)} over`;
    el.classList.toggle("over", left < 0);
  }
}

/* --- rendering ----------------------------------------------------------------------- */

function cell(name, ...content) {
  return h("td", { "data-label": name }, h("div", {}, ...content));
}

function timeLeft(c) {
  if (c.clock === "running" && c.deadline) {
    return [h("span", { class: "countdown", "data-deadline": c.deadline }, ""),
            h("span", { class: "deadline" }, deadlineText(c.deadline))];
  }
  const what = c.clock === "paused" ? "paused" : "not started";
  const left = c.remaining_seconds === null ? "" : duration(c.remaining_seconds);
  return [h("span", { class: "countdown" }, left), h("span", { class: "deadline" }, what)];
}

function seats(c) {
  const items = c.seats.map((s) => h("li", {},
    `${label(s.seat)}: `, h("span", { class: "seat-name" }, s.name || s.reviewer_id), " ",
    h("span", { class: `status ${s.status}` }, s.status)));
  for (const seat of c.unmatched_seats) {
    if (!c.seats.some((s) => s.seat === seat)) {
      items.push(h("li", {}, `${label(seat)}: `, h("span", { class: "status unmatched" }, "unmatched")));
    }
  }
  return items.length ? h("ul", { class: "seats" }, items) : h("span", { class: "small" }, "none yet");
}

function tierBadge(name) {
  const fast = tiers[name] && tiers[name].fast;
  return h("span", { class: `badge tier${fast ? " fast" : ""}`, title: fast ? "fast-progressing: expedited" : null },
           fast ? `⚡ ${label(name)}` : label(name));
}

function renderCases(cases) {
  const body = document.getElementById("case-rows");
  const before = seen;
  seen = new Set(cases.items.map((c) => c.case_id));
  const rows = cases.items.map((c) => {
    const last = c.last_escalation;
    return h("tr", { class: `state-${c.state}${before && !before.has(c.case_id) ? " fresh" : ""}`,
                     "data-case": c.case_id, "data-state": c.state },
      cell(COLUMNS[0], caseId(c.case_id), h("span", { class: "source" }, c.source || "")),
      cell(COLUMNS[1], tierBadge(c.tier)),
      cell(COLUMNS[2], label(c.tumor_group) || "unclassified"),
      cell(COLUMNS[3], seats(c)),
      cell(COLUMNS[4], label(c.status)),
      cell(COLUMNS[5], ...timeLeft(c)),
      cell(COLUMNS[6], h("span", { class: `badge ${c.state}` }, STATES[c.state] || c.state)),
      cell(COLUMNS[7], last ? [stepBadge(last.step), h("span", { class: "deadline" }, clockTime(last.at))] : "–"));
  });
  if (!rows.length) rows.push(h("tr", { class: "empty" }, h("td", { colspan: 8 }, "No open cases match.")));
  body.replaceChildren(...rows);
  document.getElementById("cases-count").textContent =
    cases.total > cases.shown ? `(${cases.shown} of ${cases.total})` : `(${cases.total})`;
}

function percent(rate) { return rate === null || rate === undefined ? "–" : `${Math.round(rate * 1000) / 10}%`; }

function renderTiles(t) {
  document.getElementById("tile-open").textContent = t.open;
  document.getElementById("tile-at-risk").textContent = t.at_risk;
  document.getElementById("tile-breached").textContent = t.breached_24h;
  document.getElementById("tile-breached-open").textContent = `${t.breached_open} open and overdue`;
  const rows = (fmt) => Object.entries(t.by_tier).flatMap(([tier, v]) =>
    [h("dt", {}, label(tier)), h("dd", {}, fmt(v))]);
  document.getElementById("tile-on-time").replaceChildren(...rows((v) =>
    v.met ? `${percent(v.on_time_rate)} of ${v.met}` : "no opinions yet"));
  document.getElementById("tile-median").replaceChildren(...rows((v) =>
    v.median_turnaround_seconds === null ? "–" : duration(v.median_turnaround_seconds)));
}

function renderFeed(feed) {
  const items = feed.map((e) => h("li", { "data-step": e.step, "data-case": e.case_id },
    h("time", { datetime: e.at }, clockTime(e.at)), stepBadge(e.step), " ",
    caseId(e.case_id), " ",
    h("span", { class: "small" }, `${label(e.tier)}${e.tumor_group ? " · " + label(e.tumor_group) : ""}`)));
  document.getElementById("feed").replaceChildren(
    ...(items.length ? items : [h("li", { class: "nothing" }, "Nothing has escalated.")]));
}

function renderUnmatched(list) {
  const items = list.map((u) => h("li", { "data-case": u.case_id },
    caseId(u.case_id), " ", h("strong", {}, label(u.seat)), " ",
    u.tier ? tierBadge(u.tier) : "",
    h("span", { class: "why" }, `${u.summary || Object.entries(u.reasons).map(([k, n]) => `${n} ${label(k)}`).join(", ")}` +
      ` · ${label(u.tumor_group) || "unclassified"} · waiting since ${clockTime(u.since)}`)));
  document.getElementById("unmatched-count").textContent = `(${list.length})`;
  document.getElementById("unmatched").replaceChildren(
    ...(items.length ? items : [h("li", { class: "nothing" }, "Every seat has a reviewer.")]));
}

function renderWorkload(groups) {
  const out = groups.map((g) => h("div", { class: "workload-group" },
    h("h3", {}, label(g.tumor_group)),
    g.reviewers.map((r) => {
      const cap = r.max_active;
      const width = cap ? Math.min(100, Math.round((r.active / cap) * 100)) : 0;
      return h("div", { class: "load" },
        h("span", { class: "name", title: r.reviewer_id }, r.name || r.reviewer_id),
        h("span", { class: "bar", role: "img", "aria-label": cap ? `${r.active} of ${cap}` : `${r.active}, capacity not reported` },
          h("span", { class: cap && r.active >= cap ? "full" : "", style: `width:${width}%` })),
        h("span", { class: "small" }, cap ? `${r.active}/${cap}` : `${r.active}/?`));
    })));
  document.getElementById("workload").replaceChildren(
    ...(out.length ? out : [h("p", { class: "nothing" }, "No live offers or reviews.")]));
}

function fillChoices(select, values, current) {
  const keep = select.value || current || "";
  const opts = [h("option", { value: "" }, "All"), ...values.map((v) => h("option", { value: v }, label(v)))];
  if (keep && !values.includes(keep)) opts.push(h("option", { value: keep }, label(keep)));
  select.replaceChildren(...opts);
  select.value = keep;
}

function render(snap) {
  clockOffset = Date.parse(snap.server_time) - Date.now();
  tiers = Object.fromEntries(snap.tiers.map((t) => [t.name, t]));
  const form = document.getElementById("filters");
  if (document.activeElement === null || !form.contains(document.activeElement)) {
    fillChoices(form.elements.tier, snap.tiers.map((t) => t.name), snap.filters.tier);
    fillChoices(form.elements.tumor_group, snap.choices.tumor_groups, snap.filters.tumor_group);
    fillChoices(form.elements.source, snap.choices.sources, snap.filters.source);
  }
  renderTiles(snap.tiles);
  renderCases(snap.cases);
  renderFeed(snap.feed);
  renderUnmatched(snap.unmatched);
  renderWorkload(snap.workload);
  tick();
}

/* --- the stream and its recovery ------------------------------------------------------ */

function setConnection(state, text) {
  const el = document.getElementById("connection");
  el.dataset.state = state;
  el.textContent = text;
}

function query() {
  const params = new URLSearchParams();
  for (const el of document.getElementById("filters").elements) {
    if (el.name && el.value) params.set(el.name, el.value);
  }
  return params.toString();
}

function heard() {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => dropped("no word from the server"), SILENCE_MS);
}

function connect() {
  clearTimeout(reconnectTimer);
  if (source) source.close();
  const q = query();
  source = new EventSource("/board/stream" + (q ? "?" + q : ""));
  source.addEventListener("snapshot", (e) => {
    heard();
    backoff = BACKOFF_MIN;
    setConnection("live", "Live");
    render(JSON.parse(e.data));
  });
  source.addEventListener("heartbeat", heard);
  source.onerror = () => dropped("connection lost");
  heard();
}

async function dropped(why) {
  clearTimeout(watchdog);
  if (source) { source.close(); source = null; }
  const wait = backoff;
  backoff = Math.min(backoff * 2, BACKOFF_MAX);
  setConnection("reconnecting", `Reconnecting in ${Math.round(wait / 1000)} s (${why})`);
  try {
    const r = await fetch("/board/snapshot?limit=1", { cache: "no-store" });
    if (r.status === 401) { window.location.assign("/"); return; }  // signed out: sign in again
  } catch (_) { /* the service is away: try again after the backoff */ }
  reconnectTimer = setTimeout(connect, wait);
}

function start() {
  const form = document.getElementById("filters");
  const initial = new URLSearchParams(window.location.search);
  for (const el of form.elements) {
    if (el.name && initial.get(el.name)) {
      if (![...el.options].some((o) => o.value === initial.get(el.name))) {
        el.append(h("option", { value: initial.get(el.name) }, label(initial.get(el.name))));
      }
      el.value = initial.get(el.name);
    }
  }
  form.addEventListener("change", () => {
    const q = query();
    history.replaceState(null, "", q ? "?" + q : window.location.pathname);
    seen = null;
    connect();
  });
  form.addEventListener("submit", (e) => e.preventDefault());
  setInterval(tick, 1000);
  connect();
}

document.addEventListener("DOMContentLoaded", start);
