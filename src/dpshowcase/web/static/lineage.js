// The privacy ledger page: send a withdrawal list (read in the browser, hashed by the app).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("withdraw-form");
  if (!form) return;
  const message = document.getElementById("withdraw-message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.ids.files[0];
    if (!file) { DPS.say(message, "Choose a file of ids first.", "error"); return; }
    if (file.size > 900 * 1024) { DPS.say(message, "The id list is larger than 900 KiB; split it.", "error"); return; }
    const column = form.elements.column.value.trim() || null;
    DPS.say(message, "Recording…", "busy");
    try {
      const text = await file.text();
      const name = encodeURIComponent(form.dataset.lineage);
      const result = await DPS.api("POST", `/api/lineages/${name}/withdrawals`, { ids: text, column });
      form.reset();
      DPS.say(message, `Recorded ${DPS.fmt(result.new)} new withdrawal(s) at ${result.recorded.slice(0, 19).replace("T", " ")} UTC; every later release of this lineage leaves them out.`, "ok");
    } catch (error) {
      DPS.say(message, error.message, "error");
    }
  });
});
