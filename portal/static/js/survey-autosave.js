// Saves survey answers as they are given, so a reload or a later visit keeps them.
// Without JavaScript the "Save and finish later" button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-survey-autosave]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var timer = null;
  function save() {
    var data = new FormData(form);
    data.set("save", "1");
    data.set("autosave", "1");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" }).catch(
      function () {}
    );
  }
  function later(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }
  form.addEventListener("change", function () { later(300); });
  form.addEventListener("input", function () { later(1500); });
  form.addEventListener("submit", function () { window.clearTimeout(timer); });
})();
