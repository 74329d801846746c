// The ops console: everything it shows comes from the admin API, with the admin token the
// operator typed (kept for this browser tab only). Values are written as text, never as HTML.
"use strict";

const TOKEN_KEY = "rosetta-admin-token";
const MODES = ["serve", "shadow", "proxy"];
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

class Unauthorised extends Error {}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: "Bearer " + token(), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (response.status === 401) throw new Unauthorised((data && data.error) || "the admin token was refused");
  if (!response.ok) throw new Error((data && data.error) || ("HTTP " + response.status));
  return data;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows, render) {
  const table = $(tableId);
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const row of rows) render(body.insertRow(), row);
  if (rows.length === 0) {
    const td = cell(body.insertRow(), "nothing yet", "empty");
    td.colSpan = table.tHead.rows[0].cells.length;
  }
}

function when(ms) { return new Date(ms).toLocaleString(); }

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

// Dialects and their modes, each switchable.
async function loadModes() {
  const { dialects } = await api("GET", "/admin/dialects");
  fill("modes", dialects, (row, dialect) => {
    row.dataset.dialect = dialect.id;
    cell(row, dialect.id);
    cell(row, dialect.mode, "mode");
    cell(row, dialect.legacy_url || "—");
    const td = row.insertCell();
    for (const mode of MODES.filter((m) => m !== dialect.mode)) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = mode;
      button.className = "switch-" + mode;
      button.addEventListener("click", () => guarded(async () => {
        await api("PUT", "/admin/dialects/" + encodeURIComponent(dialect.id) + "/mode", { mode });
        await loadModes();
      }));
      td.append(button, " ");
    }
  });
}

// Requests per dialect and client over the last hour, as lines.
async function loadTraffic() {
  const { series } = await api("GET", "/admin/traffic");
  const svg = $("traffic");
  svg.replaceChildren();
  const legend = $("traffic-legend");
  legend.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const width = 800, height = 240, pad = 30;
  if (series.length === 0) {
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", width / 2);
    text.setAttribute("y", height / 2);
    text.setAttribute("text-anchor", "middle");
    text.textContent = "no requests yet";
    svg.append(text);
    return;
  }
  const times = series[0].points.map((p) => p[0]);
  const first = times[0], last = times[times.length - 1];
  const top = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const x = (t) => pad + (last === first ? (width - 2 * pad) : (t - first) / (last - first) * (width - 2 * pad));
  const y = (v) => height - pad - v / top * (height - 2 * pad);
  const label = (text, lx, ly, anchor) => {
    const node = document.createElementNS(ns, "text");
    node.setAttribute("x", lx);
    node.setAttribute("y", ly);
    node.setAttribute("font-size", "11");
    node.setAttribute("text-anchor", anchor);
    node.textContent = text;
    svg.append(node);
  };
  label(String(top), pad - 4, pad + 4, "end");
  label("0", pad - 4, height - pad + 4, "end");
  label(new Date(first).toLocaleTimeString(), pad, height - 8, "start");
  label(new Date(last).toLocaleTimeString(), width - pad, height - 8, "end");
  series.forEach((s, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colour);
    line.setAttribute("stroke-width", "2");
    line.setAttribute("points", s.points.map((p) => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" "));
    line.dataset.series = s.dialect + " · " + s.client;
    svg.append(line);
    for (const [t, count] of s.points) {
      if (count === 0) continue;
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x(t).toFixed(1));
      dot.setAttribute("cy", y(count).toFixed(1));
      dot.setAttribute("r", "3");
      dot.setAttribute("fill", colour);
      const title = document.createElementNS(ns, "title");
      title.textContent = s.dialect + " · " + s.client + ": " + count + " at " + new Date(t).toLocaleTimeString();
      dot.append(title);
      svg.append(dot);
    }
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    const total = s.points.reduce((sum, p) => sum + p[1], 0);
    item.append(swatch, s.dialect + " · " + s.client + " (" + total + ")");
    legend.append(item);
  });
}

// Shadow comparisons: counts per endpoint, the kept differences, one of them side by side.
async function loadShadow() {
  const shadow = await api("GET", "/admin/shadow");
  fill("shadow-endpoints", shadow.endpoints, (row, e) => {
    cell(row, e.dialect);
    cell(row, e.endpoint);
    cell(row, e.same);
    cell(row, e.accepted);
    cell(row, e.different, e.different > 0 ? "different" : "");
    cell(row, e.failed);
    cell(row, e.skipped);
  });
  const rules = $("shadow-rules");
  rules.replaceChildren();
  for (const rule of shadow.rules) {
    const item = document.createElement("li");
    item.textContent = rule.name + ": " + (rule.hits === 0 ? "never matched" : "matched " + rule.hits + (rule.hits === 1 ? " difference" : " differences"));
    rules.append(item);
  }
  if (shadow.rules.length === 0) {
    const item = document.createElement("li");
    item.textContent = "none (legacy.accept is not set)";
    rules.append(item);
  }
  fill("shadow-differences", shadow.differences, (row, d) => {
    row.className = "clickable";
    row.dataset.id = d.id;
    cell(row, d.id);
    cell(row, when(d.at_ms));
    cell(row, d.dialect);
    cell(row, d.method + " " + d.path);
    cell(row, d.count);
    row.addEventListener("click", () => guarded(() => showDifference(d.id)));
  });
}

function answerText(answer) {
  const lines = ["HTTP " + answer.status];
  const headers = answer.headers || {};
  // Headers come as an object, or as [name, value] pairs when a name repeats.
  for (const [name, value] of Array.isArray(headers) ? headers : Object.entries(headers)) {
    lines.push(name + ": " + value);
  }
  lines.push("");
  if (answer.json !== undefined) lines.push(JSON.stringify(answer.json, null, 2));
  else if (answer.text !== undefined) lines.push(answer.text);
  return lines.join("\n");
}

async function showDifference(id) {
  const kept = await api("GET", "/admin/shadow/" + id);
  $("difference").hidden = false;
  $("difference-title").textContent = "#" + kept.id + " " + kept.request.method + " " + kept.request.path + " (" + kept.dialect + ")";
  const list = $("difference-list");
  list.replaceChildren();
  for (const d of kept.differences) {
    const item = document.createElement("li");
    item.className = "different";
    item.textContent = d.pointer + ": legacy " + d.expected + ", Rosetta " + d.actual;
    list.append(item);
  }
  for (const a of kept.accepted) {
    const item = document.createElement("li");
    item.textContent = a.difference.pointer + ": accepted (" + a.reason + ")";
    list.append(item);
  }
  $("difference-legacy").textContent = answerText(kept.legacy);
  $("difference-rosetta").textContent = answerText(kept.rosetta);
}

async function loadOutbox() {
  const phone = $("outbox-phone").value.trim();
  const { messages } = await api("GET", "/admin/sms/outbox" + (phone ? "?phone=" + encodeURIComponent(phone) : ""));
  fill("outbox", messages, (row, m) => {
    cell(row, when(m.sent_at));
    cell(row, "+" + m.region + " " + m.phone);
    cell(row, m.code);
    cell(row, m.purpose);
    cell(row, m.dialect);
    cell(row, m.provider);
    cell(row, m.outcome.replace("_", " "));
    cell(row, [m.message_id, m.detail].filter(Boolean).join(" · "));
  });
}

let shownUser = null;

async function lookUp(query) {
  $("lookup-error").textContent = "";
  const text = query.replace(/\s+/g, "");
  let path;
  if (/^\+?\d{11,}$/.test(text)) {
    const digits = text.replace(/^\+/, "");
    path = digits.length > 11 && text.startsWith("+")
      ? "/admin/users?region=" + digits.slice(0, digits.length - 11) + "&phone=" + digits.slice(-11)
      : "/admin/users?phone=" + digits;
  } else if (/^\d+$/.test(text)) {
    path = "/admin/users/" + text;
  } else {
    throw new Error("type a phone number or a user id");
  }
  const user = await api("GET", path);
  shownUser = user;
  $("user").hidden = false;
  const facts = $("user-facts");
  facts.replaceChildren();
  const fact = (name, value) => {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined ? "—" : String(value);
    dd.id = "user-" + name;
    facts.append(dt, dd);
  };
  fact("id", user.id);
  fact("phone", user.phone ? "+" + user.region + " " + user.phone : null);
  fact("username", user.username);
  fact("nickname", user.nickname);
  fact("role", user.role);
  fact("state", user.banned ? "banned" : "active");
  $("ban").textContent = user.banned ? "Unban" : "Ban";
  fill("sessions", user.sessions, (row, s) => {
    cell(row, s.dialect);
    cell(row, s.client_id || "—");
    cell(row, when(s.created_at));
    cell(row, when(s.expires_at));
  });
}

async function toggleBan() {
  if (!shownUser) return;
  const action = shownUser.banned ? "unban" : "ban";
  await api("POST", "/admin/users/" + shownUser.id + "/" + action, {});
  await lookUp(String(shownUser.id));
}

// Runs `work`, showing what went wrong; a refused token signs out.
async function guarded(work, errorTarget) {
  try {
    await work();
    return true;
  } catch (error) {
    if (error instanceof Unauthorised) {
      signOut(error.message);
    } else if (errorTarget) {
      errorTarget.textContent = error.message;
    } else {
      status(error.message, true);
    }
    return false;
  }
}

let timer = null;

async function refresh() {
  const ok = await guarded(async () => {
    await Promise.all([loadModes(), loadTraffic(), loadShadow()]);
  });
  if (ok) status("signed in · refreshed " + new Date().toLocaleTimeString(), false);
}

async function start() {
  $("sign-in-panel").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  await refresh();
  await guarded(loadOutbox);
  clearInterval(timer);
  timer = setInterval(refresh, 5000);
}

function signOut(reason) {
  clearInterval(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in-panel").hidden = false;
  $("sign-in-error").textContent = reason || "";
  status("", false);
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    const ok = await guarded(() => api("GET", "/admin/dialects"), $("sign-in-error"));
    if (ok) await start();
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("outbox-filter").addEventListener("submit", (event) => { event.preventDefault(); guarded(loadOutbox); });
  $("lookup").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => lookUp($("lookup-query").value), $("lookup-error"));
  });
  $("ban").addEventListener("click", () => guarded(toggleBan, $("lookup-error")));
  if (token()) start(); else signOut("");
});
