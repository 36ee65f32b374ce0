/* The consumer's chat. On the page that starts one: whether an agent is online
   for the chosen category. In the chat window: the socket (complaints/live.py),
   messages in and out, the agent's typing and read mark, the chat's state, a
   picture, and reconnecting without losing or doubling a message: each message
   typed keeps a key until the server acknowledges it, and is sent again with the
   same key after a reconnect (the server stores it once); the socket reopens
   with the last message shown, and the server sends what came meanwhile.
   Everything typed by a person is set as text, never as HTML. */
(function () {
  "use strict";
  var note = document.getElementById("chat-staffed"), select = document.getElementById("id_category");
  if (!note || !select) return;
  var staffed = note.dataset.staffed ? note.dataset.staffed.split(",") : [];
  function show() {
    note.textContent = staffed.indexOf(select.value) >= 0 ? note.dataset.online : note.dataset.offline;
  }
  select.addEventListener("change", show);
  show();
})();

(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || !window.WebSocket) return;
  var d = root.dataset, log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form"), box = document.getElementById("chat-body");
  var stateLine = document.getElementById("chat-state"), typingLine = document.getElementById("chat-typing");
  var conn = document.getElementById("chat-conn"), errorLine = document.getElementById("chat-error");
  var picture = document.getElementById("chat-picture");
  var lastId = parseInt(d.last, 10) || 0, agentRead = parseInt(d.agentRead, 10) || 0;
  var pending = [], ws = null, retry = 1000, typingTimer = null, lastTyping = 0, readSent = 0;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k] == null ? "" : values[k]; });
  }
  function clock(iso) {
    var at = new Date(iso);
    return isNaN(at) ? "" : at.toLocaleTimeString(document.documentElement.lang, {hour: "2-digit", minute: "2-digit"});
  }
  function socketUrl() {
    var url = d.socket;
    if (url.charAt(0) === "/") url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + url;
    return url + "?after=" + lastId;
  }
  function bubble(m) {
    var li = document.createElement("li");
    li.className = "bubble from-" + m.side;
    li.dataset.id = m.id;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = m.author;
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = m.body;
    li.append(who, text);
    (m.files || []).forEach(function (f) {
      var a = document.createElement("a"), href = d.fileUrl.replace(/0\/$/, f.id + "/");
      a.className = "file";
      a.href = href;
      if (f.image) {
        var img = document.createElement("img");
        img.src = href;
        img.alt = f.name;
        img.width = img.height = 160;
        a.appendChild(img);
      } else {
        a.textContent = f.name;
      }
      li.appendChild(a);
    });
    var time = document.createElement("time");
    time.dateTime = m.at;
    time.textContent = clock(m.at);
    li.appendChild(time);
    return li;
  }
  function shown(id) { return log.querySelector('.bubble[data-id="' + id + '"]'); }
  function scrollDown() { log.lastElementChild && log.lastElementChild.scrollIntoView({block: "end"}); }
  function add(m) {
    lastId = Math.max(lastId, m.id);
    if (shown(m.id)) return;
    log.appendChild(bubble(m));
    if (m.side !== "consumer") {
      typingLine.hidden = true;
      markRead();
    }
    marks();
    scrollDown();
  }
  function marks() {
    log.querySelectorAll(".bubble.from-consumer[data-id]").forEach(function (li) {
      li.classList.toggle("read", parseInt(li.dataset.id, 10) <= agentRead);
      li.dataset.readLabel = d.tRead;
    });
  }
  function markRead() {
    if (document.hidden || lastId <= readSent || !ws || ws.readyState !== 1) return;
    readSent = lastId;
    ws.send(JSON.stringify({type: "read", upto: lastId}));
  }
  function setState(s) {
    if (!s) return;
    var text;
    if (s.closed) text = d.tClosed;
    else if (s.state === "ended") text = d.tEnded;
    else if (s.state === "connected") text = fmt(d.tConnected, {agent: s.agent});
    else if (!s.live) text = fmt(d.tLeft, {time: s.due ? new Date(s.due).toLocaleString(document.documentElement.lang) : ""});
    else if (s.state === "queued") text = d.tQueued;
    else text = d.tOffered;
    stateLine.textContent = text;
    agentRead = Math.max(agentRead, s.agent_read || 0);
    marks();
    if ((s.closed || s.state === "ended") && form) {
      form.hidden = true;
      if (picture) picture.hidden = true;
    }
  }
  function showError(text) {
    if (!errorLine) return;
    errorLine.textContent = text || "";
    errorLine.hidden = !text;
  }
  function flush() {
    if (!ws || ws.readyState !== 1) return;
    pending.forEach(function (p) { ws.send(JSON.stringify({type: "message", body: p.body, key: p.key})); });
  }
  function connect() {
    ws = new WebSocket(socketUrl());
    ws.onopen = function () { retry = 1000; conn.hidden = true; flush(); };
    ws.onmessage = function (event) {
      var m = JSON.parse(event.data);
      if (m.type === "hello") {
        setState(m.state);
        m.messages.forEach(add);
        markRead();
      } else if (m.type === "message") {
        add(m.message);
      } else if (m.type === "sent" || m.type === "error") {
        var index = pending.findIndex(function (p) { return p.key === m.key; });
        var p = index >= 0 ? pending.splice(index, 1)[0] : null;
        if (p) p.el.remove();  // the server's own copy is, or will be, in the log
        if (m.type === "error") {
          showError(m.message);
          if (p && !box.value) box.value = p.body;  // nothing typed is lost
        } else {
          showError("");
        }
      } else if (m.type === "typing") {
        typingLine.textContent = d.tTyping;
        typingLine.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingLine.hidden = true; }, 4000);
      } else if (m.type === "read") {
        agentRead = Math.max(agentRead, m.upto);
        marks();
      } else if (m.type === "state") {
        setState(m.state);
      }
    };
    ws.onclose = function () {
      conn.hidden = false;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = box.value.trim();
      if (!body) return;
      var key = Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
      var el = bubble({id: "", side: "consumer", author: d.tYou, body: body, at: new Date().toISOString(), files: []});
      el.classList.add("pending");
      el.dataset.pendingLabel = d.tSending;
      log.appendChild(el);
      scrollDown();
      pending.push({key: key, body: body, el: el});
      box.value = "";
      flush();
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    box.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping > 2000 && ws && ws.readyState === 1) {
        lastTyping = now;
        ws.send(JSON.stringify({type: "typing"}));
      }
    });
  }
  if (picture) {
    picture.addEventListener("change", function () {
      var data = new FormData(picture);
      showError("");
      fetch(picture.action, {method: "POST", body: data, credentials: "same-origin"})
        .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); })
        .then(function (res) { if (!res.ok) showError(res.body.error); picture.reset(); })
        .catch(function () { showError(d.tOffline); });
    });
  }
  document.addEventListener("visibilitychange", markRead);
  log.querySelectorAll("time[datetime]").forEach(function (t) { t.textContent = clock(t.getAttribute("datetime")); });
  marks();
  scrollDown();
  connect();
})();
