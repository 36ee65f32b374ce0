/* The agent desk: live countdowns, a queue that refreshes itself without losing
   filters or scroll, and the keyboard (j / k move, o opens, a claims, r replies). */
(function () {
  "use strict";
  var body = document.body;
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)(02)?d|%\((\w+)\)s/g, function (_, k1, pad, k2) {
      var v = values[k1 || k2];
      return pad && v < 10 ? "0" + v : String(v);
    });
  }
  function hm(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60), days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    if (days) return fmt(body.dataset.fmtDh, {d: days, h: hours});
    return fmt(body.dataset.fmtHm, {h: hours, m: minutes % 60});
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      if (!el.dataset.due) return;
      var due = Date.parse(el.dataset.due), warn = el.dataset.warn ? Date.parse(el.dataset.warn) : NaN;
      var left = (due - now) / 1000, over = left < 0 || el.dataset.overdue === "1";
      el.textContent = left < 0 ? fmt(body.dataset.fmtOver, {time: hm(left)}) : hm(left);
      el.classList.toggle("over", over);
      el.classList.toggle("warn", !over && !isNaN(warn) && now >= warn);
    });
  }
  tick();
  setInterval(tick, 1000);

  // The queue refreshes its rows every 30 s (same filters and page); scroll and selection stay.
  var table = document.getElementById("queue");
  var selected = 0;
  function rows() { return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]")) : []; }
  function select(index) {
    var all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (r, i) { r.classList.toggle("selected", i === selected); });
    all[selected].scrollIntoView({block: "nearest"});
  }
  if (table && table.dataset.refresh && window.fetch) {
    setInterval(function () {
      if (document.hidden) return;
      var current = rows()[selected];
      var href = current && current.dataset.href;
      fetch(table.dataset.refresh, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var holder = document.createElement("table");
          holder.innerHTML = html;
          var fresh = holder.querySelector("tbody");
          if (!fresh) return;
          table.replaceChild(fresh, table.querySelector("tbody"));
          var again = rows().findIndex(function (r) { return r.dataset.href === href; });
          select(again >= 0 ? again : selected);
          tick();
        })
        .catch(function () { /* the next refresh tries again */ });
    }, 30000);
    select(0);
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.ctrlKey || event.metaKey || event.altKey || tag === "input" || tag === "textarea" || tag === "select") return;
    var all = rows(), current = all[selected];
    if (event.key === "j") select(selected + 1);
    else if (event.key === "k") select(selected - 1);
    else if (event.key === "o" && current) window.location = current.dataset.href;
    else if (event.key === "a") {
      var claimUrl = current ? current.dataset.claim : null;
      var claimButton = document.getElementById("claim");
      if (claimButton) claimButton.click();
      else if (claimUrl) {
        var form = document.createElement("form");
        form.method = "post"; form.action = claimUrl;
        form.innerHTML = '<input type="hidden" name="csrfmiddlewaretoken">';
        form.firstChild.value = csrf();
        document.body.appendChild(form); form.submit();
      } else return;
    } else if (event.key === "r") {
      var box = document.getElementById("id_body");
      if (box) box.focus(); else if (current) window.location = current.dataset.href + "#reply";
      else return;
    } else return;
    event.preventDefault();
  });
})();
