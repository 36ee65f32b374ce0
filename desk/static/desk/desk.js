/* The agent desk: live countdowns, a queue that refreshes itself without losing
   filters, scroll or ticked rows, the keyboard (j / k move, o opens, a claims,
   r replies), canned answers in the reply box, and the warning when another
   agent is writing on the same ticket. Everything user-typed is set as text. */
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

  // The queue fetches its rows again (same filters and page) when the live desk says a ticket
  // changed, and every 30 s while the socket is down; scroll and selection stay.
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
  var liveOpen = false;
  function refresh() {
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
        restorePicked();
        var again = rows().findIndex(function (r) { return r.dataset.href === href; });
        select(again >= 0 ? again : selected);
        tick();
      })
      .catch(function () { /* the next refresh tries again */ });
  }
  if (table && table.dataset.refresh && window.fetch) {
    setInterval(function () { if (!document.hidden && !liveOpen) refresh(); }, 30000);
    select(0);
  }

  // The live desk (desk/live.py): the server names the tickets that changed.
  var soon = null, changedHere = document.querySelector("[data-live-ticket]");
  function changed(ids) {
    if (table && table.dataset.refresh && window.fetch) {
      clearTimeout(soon);
      soon = setTimeout(refresh, 300);  // a burst of changes, one fetch
    }
    // A chat's workspace shows its messages as they come (desk/chat.js): no notice for them.
    if (changedHere && !changedHere.dataset.chat && ids.indexOf(Number(changedHere.dataset.liveTicket)) >= 0) {
      var notice = document.getElementById("live-changed");
      if (notice) notice.hidden = false;
    }
  }
  // A breach or escalation of a ticket one must act on: the header's count goes up and a
  // notice names the ticket, with a link to it (the subject is the consumer's: text only).
  var kinds = {};
  try { kinds = JSON.parse(document.getElementById("alert-kinds").textContent); } catch (e) { /* no labels */ }
  function unseen(n) {
    var count = document.getElementById("alerts-count");
    if (count) { count.textContent = String(n); count.hidden = !n; }
  }
  function alerted(alert) {
    var count = document.getElementById("alerts-count");
    unseen(Number((count && count.textContent) || 0) + (alert.count || 1));
    var box = document.getElementById("live-alert");
    if (!box) return;
    var more = alert.count > 1 ? " (+" + (alert.count - 1) + ")" : "";
    box.querySelector("span").textContent = (kinds[alert.kind] || alert.kind) + " · " + alert.reference + " " + alert.subject + more;
    box.querySelector("a").href = box.dataset.ticketUrl.replace("/0/", "/" + alert.ticket + "/");
    box.hidden = false;
  }
  var alertBox = document.getElementById("live-alert");
  if (alertBox) alertBox.querySelector("button").addEventListener("click", function () { alertBox.hidden = true; });
  // The collision warning, at once: who else is writing on the ticket open here.
  function writing(data) {
    var banner = document.getElementById("collision");
    if (!banner || !changedHere || data.ticket !== Number(changedHere.dataset.liveTicket)) return;
    var others = data.writers.filter(function (w) { return String(w.id) !== body.dataset.user; })
      .map(function (w) { return w.name; });
    banner.hidden = !others.length;
    banner.textContent = others.length ? banner.dataset.template.replace("%(names)s", others.join(", ")) : "";
  }
  function connect(wait) {
    if (!window.WebSocket || !body.dataset.live) return;
    var url = body.dataset.live;  // ws(s)://the ASGI server/ws/desk/, or a path on this origin
    if (url.charAt(0) === "/") url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + url;
    var socket = new WebSocket(url);
    socket.onopen = function () {
      liveOpen = true; wait = 1000; body.dataset.liveState = "open";
      if (changedHere) {
        var after = Number(changedHere.dataset.after || 0);
        socket.send(JSON.stringify({type: "watch", ticket: Number(changedHere.dataset.liveTicket), after: after}));
      }
      document.dispatchEvent(new CustomEvent("live:open", {detail: socket}));
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "tickets") changed(data.ids);
      if (data.type === "alert") alerted(data);
      if (data.type === "alerts") unseen(data.unseen);
      if (data.type === "writers") writing(data);
      document.dispatchEvent(new CustomEvent("live:message", {detail: data}));  // desk/chat.js
    };
    socket.onclose = function (event) {
      var missed = liveOpen;
      liveOpen = false;
      body.dataset.liveState = "closed";
      document.dispatchEvent(new CustomEvent("live:close"));
      if (missed && table) refresh();  // what changed while it was down
      var delay = event.code === 4429 ? 60000 : wait;  // 4429: too many connections, wait a minute
      setTimeout(function () { connect(Math.min(wait * 2, 30000)); }, delay);
    };
  }
  connect(1000);

  // Ticked rows for the bulk actions survive the refresh.
  var picked = {};
  function pickedCount() {
    var count = document.getElementById("picked-count");
    if (count) count.textContent = String(Object.keys(picked).length);
  }
  function restorePicked() {
    if (!table) return;
    table.querySelectorAll("tbody input[name=ticket]").forEach(function (box) { box.checked = !!picked[box.value]; });
  }
  if (table) {
    table.addEventListener("change", function (event) {
      var box = event.target;
      if (box.id === "pick-all") {
        table.querySelectorAll("tbody input[name=ticket]").forEach(function (b) {
          b.checked = box.checked;
          if (b.checked) picked[b.value] = true; else delete picked[b.value];
        });
      } else if (box.name === "ticket") {
        if (box.checked) picked[box.value] = true; else delete picked[box.value];
      }
      pickedCount();
    });
    var bulkForm = document.getElementById("bulk");
    if (bulkForm) bulkForm.addEventListener("submit", function () {
      // Rows ticked before a refresh but no longer on the page still count.
      Object.keys(picked).forEach(function (id) {
        if (!table.querySelector('tbody input[name=ticket][value="' + id + '"]')) {
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = "ticket"; hidden.value = id;
          bulkForm.appendChild(hidden);
        }
      });
    });
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

  // Canned answers: search as you type, Enter or a click inserts the filled-in text.
  var canned = document.getElementById("canned");
  var box = document.getElementById("id_body");
  if (canned && box && window.fetch) {
    var search = document.getElementById("canned-q"), list = document.getElementById("canned-results");
    var results = [], active = -1, timer = null, asked = 0;
    function show() {
      list.textContent = "";
      results.forEach(function (answer, i) {
        var item = document.createElement("li");
        item.setAttribute("role", "option");
        item.dataset.index = String(i);
        if (i === active) item.className = "active";
        var title = document.createElement("span"); title.className = "title"; title.textContent = answer.title;
        var lang = document.createElement("span"); lang.className = "lang"; lang.textContent = answer.language_name + (answer.faq ? " · FAQ" : "");
        var text = document.createElement("span"); text.className = "text"; text.textContent = answer.text;
        item.appendChild(title); item.appendChild(lang); item.appendChild(text);
        list.appendChild(item);
      });
    }
    function lookup() {
      var mine = ++asked;
      fetch(canned.dataset.url + "?q=" + encodeURIComponent(search.value), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) { if (mine === asked) { results = data.results; active = results.length ? 0 : -1; show(); } })
        .catch(function () {});
    }
    function insert(answer) {
      var start = box.selectionStart || 0, end = box.selectionEnd || 0, value = box.value;
      box.value = value.slice(0, start) + answer.text + value.slice(end);
      box.focus();
      box.selectionStart = box.selectionEnd = start + answer.text.length;
      box.dispatchEvent(new Event("input", {bubbles: true}));
      results = []; active = -1; show(); search.value = "";
    }
    search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 150); });
    search.addEventListener("focus", function () { if (!results.length) lookup(); });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!results.length) return;
        active = (active + (event.key === "ArrowDown" ? 1 : results.length - 1)) % results.length;
        show(); event.preventDefault();
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (active >= 0 && results[active]) insert(results[active]);
      } else if (event.key === "Escape") {
        results = []; show();
      }
    });
    list.addEventListener("click", function (event) {
      var item = event.target.closest("li");
      if (item) insert(results[Number(item.dataset.index)]);
    });
  }

  // Collision warning: while this agent writes, tell the server every 10 s and
  // show who else is writing a reply on the same ticket.
  var reply = document.getElementById("reply");
  if (reply && box && reply.dataset.presence && window.fetch) {
    var banner = document.getElementById("collision"), lastBeat = 0;
    function beat(leaving) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrf());
      if (leaving) {
        data.append("leaving", "1");
        if (navigator.sendBeacon) navigator.sendBeacon(reply.dataset.presence, data);
        return;
      }
      lastBeat = Date.now();
      fetch(reply.dataset.presence, {method: "POST", body: data, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (state) {
          banner.hidden = !state.others.length;
          banner.textContent = state.others.length ? banner.dataset.template.replace("%(names)s", state.others.join(", ")) : "";
        })
        .catch(function () {});
    }
    box.addEventListener("input", function () { if (Date.now() - lastBeat > 10000) beat(false); });
    setInterval(function () { if (box.value.trim() && !document.hidden) beat(false); }, 10000);
    window.addEventListener("pagehide", function () { if (lastBeat) beat(true); });
    if (box.value.trim()) beat(false);
  }
})();
