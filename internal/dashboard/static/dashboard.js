// ferry dashboard: confirmation dialogs, live build logs and a live list of deployments.
// Every page works without it; it only saves reloads and asks before actions in place.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  confirmForms();
  followLogs();
  refreshLists();
});

// Forms with data-confirm ask in a dialog first; without this script the server asks on a page.
function confirmForms() {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  let pending = null;
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset.confirm || form.elements.confirmed.value === "yes") return;
    event.preventDefault();
    pending = form;
    document.getElementById("confirm-question").textContent = form.dataset.confirm;
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
  });
  dialog.addEventListener("close", () => {
    if (pending && dialog.returnValue === "ok") {
      pending.elements.confirmed.value = "yes";
      pending.submit();
    }
    pending = null;
  });
}

// Logs still being written stream in from where the page left them; a build log's page then
// reloads (data-reload) to show how the build ended.
function followLogs() {
  document.querySelectorAll("pre[data-follow]").forEach(follow);
}

async function follow(pre) {
  const url = pre.dataset.follow + "?offset=" + encodeURIComponent(pre.dataset.offset || "0");
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok || !response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const atBottom = () => pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const keepAtBottom = atBottom();
      pre.append(value);
      if (keepAtBottom) pre.scrollTop = pre.scrollHeight;
    }
    if ("reload" in pre.dataset) setTimeout(() => location.reload(), 300);
  } catch (e) {
    // the stream broke off (the engine restarted, the network went): a reload resumes it
  }
}

// Tables with data-refresh reload their rows every few seconds while the page is shown.
function refreshLists() {
  for (const body of document.querySelectorAll("tbody[data-refresh]")) {
    setInterval(async () => {
      if (document.hidden) return;
      try {
        const response = await fetch(body.dataset.refresh, { credentials: "same-origin" });
        if (!response.ok) return;
        const html = await response.text();
        if (html !== body.dataset.last) {
          body.dataset.last = html;
          body.innerHTML = html;
        }
      } catch (e) {
        // try again at the next tick
      }
    }, 2000);
  }
}
