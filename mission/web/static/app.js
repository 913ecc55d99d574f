// SwarmOps mission page: form -> POST /api/jobs -> poll progress -> side-by-side replay + figures.
"use strict";

const $ = (id) => document.getElementById(id);
const FIELDS = ["width", "height", "drones", "plants", "obstacles", "seed", "max_steps", "battery", "mode",
                "policy", "watering_policy"];
let options = null;
let current = null;   // {jobId, result, phase}
let timer = null;

function showError(message, field) {
  const box = $("form-error");
  box.textContent = message;
  box.hidden = !message;
  for (const name of FIELDS) {
    const input = $(name);
    const bad = Boolean(message) && name === field;
    input.classList.toggle("invalid", bad);
    input.setAttribute("aria-invalid", bad ? "true" : "false");
  }
}

function fillSelect(select, items) {
  const previous = select.value;
  select.innerHTML = "";
  for (const p of items || []) {
    const opt = document.createElement("option");
    opt.value = p.value;
    opt.textContent = p.label;
    select.appendChild(opt);
  }
  if ([...select.options].some((o) => o.value === previous)) select.value = previous;
}

function fillPolicies() {
  // A mission has two phases: the first select drives recon, the second (optional) watering.
  const mode = $("mode").value;
  const mission = mode === "mission";
  fillSelect($("policy"), options && options.policies[mode]);
  fillSelect($("watering_policy"), mission && options ? options.policies.mission_watering : []);
  $("watering-policy-box").hidden = !mission;
  $("policy-label").textContent = mission ? "Recon policy" : "Policy";
}

function formData() {
  const data = {};
  for (const name of FIELDS) data[name] = $(name).value;
  if (data.mode !== "mission") delete data.watering_policy;
  return data;
}

async function postJSON(url, body) {
  const resp = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                  body: JSON.stringify(body)});
  return {status: resp.status, body: await resp.json()};
}

async function submitForm(event) {
  event.preventDefault();
  showError("");
  const {status, body} = await postJSON("/api/jobs", formData());
  if (status === 422) { showError(body.error, body.field); return; }
  if (status !== 202) { showError(`server error ${status}`, "form"); return; }
  $("run-button").disabled = true;
  $("result").hidden = true;
  $("progress-box").hidden = false;
  poll(body.id);
}

async function poll(jobId) {
  const job = await (await fetch(`/api/jobs/${jobId}`)).json();
  $("progress").value = job.progress;
  $("progress-text").textContent = `${Math.round(job.progress * 100)}% · ${job.message} · ${job.elapsed_s}s`;
  if (job.state === "failed") {
    $("run-button").disabled = false;
    showError(`run failed: ${job.error}`, "form");
    return;
  }
  if (job.state !== "done") { setTimeout(() => poll(jobId), 400); return; }
  $("run-button").disabled = false;
  const result = await (await fetch(`/api/jobs/${jobId}/result`)).json();
  showResult(jobId, result);
}

function pct(x) { return `${(100 * x).toFixed(1)}%`; }

function statusText(s, plantsTotal) {
  return `step ${s.step} · coverage ${pct(s.coverage)} · plants found ${s.plants_found}/${plantsTotal}` +
         ` · watered ${s.plants_watered} · energy ${s.energy} · water ${s.water}`;
}

function showResult(jobId, result) {
  current = {jobId, result, phase: result.phases[0]};
  $("result").hidden = false;
  const warnings = $("warnings");
  warnings.innerHTML = "";
  for (const w of result.warnings) {
    const li = document.createElement("li");
    li.textContent = w;
    warnings.appendChild(li);
  }
  const tabs = $("phase-tabs");
  tabs.innerHTML = "";
  for (const phase of result.phases) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = phase;
    b.dataset.phase = phase;
    b.setAttribute("role", "tab");
    b.addEventListener("click", () => selectPhase(phase));
    tabs.appendChild(b);
  }
  const figures = $("figures");
  figures.innerHTML = "";
  for (const f of result.figures) {
    const img = document.createElement("img");
    img.src = `/api/jobs/${jobId}/figures/${f.name}.png`;
    img.alt = f.title;
    img.className = "figure";
    img.dataset.name = f.name;
    figures.appendChild(img);
  }
  const table = $("comparison");
  table.innerHTML = "<tr><th>phase</th><th>metric</th><th>policy</th><th>heuristic</th></tr>";
  for (const row of result.comparison) {
    const tr = document.createElement("tr");
    for (const v of [row.phase, row.metric, row.policy, row.heuristic]) {
      const td = document.createElement("td");
      td.textContent = v === null ? "-" : v;
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  $("report-md").href = `/api/jobs/${jobId}/report.md`;
  $("report-json").href = `/api/jobs/${jobId}/report.json`;
  selectPhase(current.phase);
}

function phaseTracks() {
  return current.result.tracks.filter((t) => t.phase === current.phase);
}

function selectPhase(phase) {
  stop();
  current.phase = phase;
  for (const b of $("phase-tabs").children) b.setAttribute("aria-selected", b.dataset.phase === phase);
  const panels = $("panels");
  panels.innerHTML = "";
  const tracks = phaseTracks();
  for (const t of tracks) {
    const div = document.createElement("div");
    div.className = "panel";
    div.dataset.track = t.key;
    div.innerHTML = `<h3></h3><img class="frame" alt="replay ${t.key}"><div class="status"></div>`;
    div.querySelector("h3").textContent = `${t.role}: ${t.label}`;
    panels.appendChild(div);
  }
  const longest = Math.max(...tracks.map((t) => t.frames));
  $("step-slider").max = longest - 1;
  showStep(0);
}

function showStep(i) {
  $("step-slider").value = i;
  const plantsTotal = current.result.plants_total;
  let step = 0;
  for (const t of phaseTracks()) {
    const k = Math.min(i, t.frames - 1);
    const panel = document.querySelector(`.panel[data-track="${t.key}"]`);
    panel.querySelector("img").src = `/api/jobs/${current.jobId}/frames/${t.key}/${k}.png`;
    panel.querySelector(".status").textContent = statusText(t.status[k], plantsTotal);
    step = Math.max(step, t.status[k].step);
  }
  $("step-label").textContent = `frame ${i} / ${$("step-slider").max}`;
}

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
  $("play").textContent = "Play";
}

function togglePlay() {
  if (timer) { stop(); return; }
  $("play").textContent = "Pause";
  timer = setInterval(() => {
    const next = Number($("step-slider").value) + 1;
    if (next > Number($("step-slider").max)) { stop(); return; }
    showStep(next);
  }, 120);
}

async function init() {
  options = await (await fetch("/api/options")).json();
  for (const [name, value] of Object.entries(options.defaults)) if ($(name)) $(name).value = value;
  fillPolicies();
  for (const item of options.legend) {
    const li = document.createElement("li");
    li.innerHTML = `<span class="swatch"></span>`;
    li.querySelector(".swatch").style.background = `rgb(${item.rgb.join(",")})`;
    li.append(item.label);
    $("legend").appendChild(li);
  }
  $("mode").addEventListener("change", fillPolicies);
  $("run-form").addEventListener("submit", submitForm);
  $("play").addEventListener("click", togglePlay);
  $("step-slider").addEventListener("input", (e) => { stop(); showStep(Number(e.target.value)); });
  document.body.dataset.ready = "true";
}

init();
