/* Evidence files (complaint form and reply form): says at once which chosen
   file is too large, or whether too many are chosen, before anything is sent
   (the server checks again, by content). The translated messages come from
   this script's data-too-big and data-too-many attributes. */
(function () {
  "use strict";
  var texts = document.currentScript.dataset;
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var max = parseInt(input.dataset.maxBytes, 10), count = parseInt(input.dataset.maxFiles, 10);
    var note = document.createElement("p");
    note.className = "error";
    note.setAttribute("role", "alert");
    input.insertAdjacentElement("afterend", note);
    input.addEventListener("change", function () {
      var problems = [];
      if (input.files.length > count) problems.push(texts.tooMany.replace("%(count)s", count));
      Array.prototype.forEach.call(input.files, function (file) {
        if (file.size > max) problems.push(texts.tooBig.replace("%(name)s", file.name).replace("%(mb)s", Math.round(max / 1048576)));
      });
      note.textContent = problems.join(" ");
      input.setCustomValidity(problems.join(" "));
    });
    input.form.addEventListener("submit", function (event) {
      if (!input.checkValidity()) { event.preventDefault(); note.scrollIntoView({block: "center"}); }
    });
  });
})();
