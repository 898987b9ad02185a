// Home: upload a file as the raw request body (streamed; the server counts the bytes).
"use strict";

(function () {
  const input = document.getElementById("file");
  const button = document.getElementById("upload-button");
  const message = document.getElementById("upload-message");
  const progress = document.getElementById("upload-progress");
  const bar = progress.querySelector(".bar");

  input.addEventListener("change", () => { button.disabled = !input.files.length; });

  button.addEventListener("click", () => {
    const file = input.files[0];
    if (!file) return;
    button.disabled = true;
    progress.classList.remove("hidden");
    DPS.say(message, "Uploading " + file.name + "…", "busy");
    const request = new XMLHttpRequest();
    request.open("POST", "/api/datasets?name=" + encodeURIComponent(file.name));
    request.setRequestHeader("X-CSRF-Token", DPS.token());
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.style.width = (100 * event.loaded / event.total) + "%";
      if (event.loaded === event.total) DPS.say(message, "Reading the table and proposing a schema…", "busy");
    });
    request.addEventListener("load", () => {
      let data = {};
      try { data = JSON.parse(request.responseText); } catch (e) { data = { detail: request.responseText }; }
      if (request.status === 201) {
        window.location.href = "/datasets/" + data.id;
        return;
      }
      progress.classList.add("hidden");
      button.disabled = false;
      DPS.say(message, data.detail || ("Upload failed (" + request.status + ")."), "error");
    });
    request.addEventListener("error", () => {
      progress.classList.add("hidden");
      button.disabled = false;
      DPS.say(message, "The upload was interrupted (the file may be larger than the limit).", "error");
    });
    request.send(file);
  });
})();
