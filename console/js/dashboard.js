// The team's figures (`GET /stats?days=N`): totals, and a chart per day drawn with the vendored Chart.js.

import { api, tokenStore } from "./api.js";

const $ = (id) => document.getElementById(id);
let chart = null;

/** Seconds as the shortest readable duration ("45 s", "12 min", "3.5 h"); a dash when unknown. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)} %`;
}

function dayLabel(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(year, month - 1, day).toLocaleDateString(undefined, { day: "numeric", month: "short" });
}

function show(stats) {
  $("figure-conversations").textContent = stats.conversations;
  $("figure-handoffs").textContent = stats.handoffs;
  $("figure-resolved").textContent = stats.resolved;
  $("figure-bot-only").textContent = percent(stats.bot_only_rate);
  $("figure-first-response").textContent = duration(stats.first_response_seconds_p50);
  $("figure-resolution").textContent = duration(stats.resolution_seconds_p50);
  $("figure-csat").textContent = stats.csat_average === null ? "–" : stats.csat_average.toFixed(1);
  const data = {
    labels: stats.by_day.map((day) => dayLabel(day.date)),
    datasets: [
      { label: "Conversations", data: stats.by_day.map((day) => day.conversations), backgroundColor: "#3b6fd8" },
      { label: "Handoffs", data: stats.by_day.map((day) => day.handoffs), backgroundColor: "#e08a2c" },
      { label: "Resolved", data: stats.by_day.map((day) => day.resolved), backgroundColor: "#2e9d5b" },
    ],
  };
  if (chart) {
    chart.data = data;
    chart.update();
    return;
  }
  chart = new window.Chart($("per-day-chart"), {
    type: "bar",
    data,
    options: { responsive: true, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

let latest = 0; // the number of the newest request: an older one answered late is not shown over it

async function load() {
  const asked = ++latest;
  $("dashboard-error").textContent = "";
  try {
    const stats = await api("GET", `/stats?days=${encodeURIComponent($("days").value)}`);
    if (asked === latest) show(stats);
  } catch (error) {
    if (asked !== latest) return;
    $("dashboard-error").textContent = error.status === 401
      ? "Sign in on the inbox page first (your token was refused or has expired)."
      : error.message;
  }
}

function start() {
  if (!tokenStore.get()) {
    $("dashboard-error").textContent = "Sign in on the inbox page first.";
    return;
  }
  $("days").addEventListener("change", load);
  load();
}

start();
