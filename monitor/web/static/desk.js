// The review desk's progressive JavaScript: keyboard review, the live queue, copy buttons.
// Served from the package (no CDN); the Content-Security-Policy allows no inline script.
"use strict";

(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // ── Review actions by script (the forms also work without it) ──────────────────────────────
  async function review(form, action) {
    const data = new FormData(form);
    data.set("action", action);
    const response = await fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      headers: { "X-CSRF-Token": csrf(), "X-Requested-With": "desk" },
      credentials: "same-origin",
    });
    const card = form.closest("[id^=flag-]");
    if (!response.ok) {
      card.dataset.error = String(response.status);
      return;
    }
    const flag = await response.json();
    card.className = card.className.replace(/status-\w+/, "status-" + flag.status);
    const badge = card.querySelector(".badge.status");
    if (badge) badge.textContent = flag.status;
    form.querySelector(".note-input").value = "";
    card.dataset.reviewed = flag.status;
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.classList.contains("actions") || !document.querySelector(".queue")) return;
    event.preventDefault();
    const action = event.submitter ? event.submitter.value : "note";
    review(form, action);
  });

  // ── Keyboard: j/k move, o open, c/d/e review, n note ──────────────────────────────────────
  const rows = () => Array.from(document.querySelectorAll(".flags .flag"));
  let selected = -1;
  function select(index) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === selected));
    all[selected].focus({ preventScroll: true });
    all[selected].scrollIntoView({ block: "nearest" });
  }
  const keys = { c: "confirm", d: "dismiss", e: "escalate" };
  document.addEventListener("keydown", (event) => {
    if (!document.querySelector(".queue")) return;
    const typing = event.target.matches("input, textarea, select");
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      if (event.key === "Enter" && event.target.classList.contains("note-input")) {
        event.preventDefault();
        review(event.target.form, "note");
        event.target.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const row = rows()[selected];
    if (event.key === "j") select(selected + 1);
    else if (event.key === "k") select(selected - 1);
    else if (event.key === "o" && row) window.location.href = row.dataset.post;
    else if (keys[event.key] && row && row.querySelector("form.actions")) {
      review(row.querySelector("form.actions"), keys[event.key]);
    } else if (event.key === "n" && row && row.querySelector(".note-input")) {
      event.preventDefault();
      row.querySelector(".note-input").focus();
    } else return;
    event.preventDefault();
  });

  // ── The live queue: new flags arrive as server-sent events ─────────────────────────────────
  const queue = document.querySelector(".queue");
  if (queue && window.EventSource) {
    const params = new URLSearchParams(queue.dataset.filters || "");
    params.set("status", queue.dataset.status);
    params.set("after", queue.dataset.after);
    const source = new EventSource("/events?" + params.toString());
    const live = document.getElementById("live");
    source.addEventListener("open", () => { live.textContent = "Live: new flags appear here."; });
    source.addEventListener("flag", (event) => {
      const data = JSON.parse(event.data);
      if (document.getElementById("flag-" + data.id)) return;
      const fragment = document.createRange().createContextualFragment(data.html);
      const card = fragment.firstElementChild;
      card.classList.add("fresh");
      document.getElementById("flags").prepend(fragment);
      const empty = document.getElementById("empty");
      if (empty) empty.remove();
      if (selected >= 0) selected += 1;
      if (data.counts) {
        let total = 0;
        for (const [status, n] of Object.entries(data.counts)) {
          const cell = document.getElementById("count-" + status);
          if (cell) cell.textContent = String(n);
          total += n;
        }
        const all = document.getElementById("count-all");
        if (all) all.textContent = String(total);
      }
      live.textContent = "New flag " + data.id + " arrived.";
    });
  }

  // ── Copy buttons (citations) ───────────────────────────────────────────────────────────────
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const source = document.getElementById(button.dataset.copyFrom);
    await navigator.clipboard.writeText(source.textContent);
    button.textContent = "Copied";
  });
})();
