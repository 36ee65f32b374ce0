/* Live chat in the desk, on the socket desk.js opens (events live:open,
   live:message, live:close). Anywhere: a chat offered to this agent, with the
   seconds left to accept it. In a chat's workspace: the consumer's messages as
   they come, their typing and read mark, the chat's state; a public reply goes
   over the socket (a note, or a reply while the socket is down, posts the form
   as usual). Everything typed by a person is set as text, never as HTML. */
(function () {
  "use strict";
  var socket = null;
  document.addEventListener("live:open", function (event) { socket = event.detail; markRead(); });
  document.addEventListener("live:close", function () { socket = null; });
  function send(data) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(data)); return true; }
    return false;
  }

  // The offer: accept or pass, before its time runs out.
  var offer = document.getElementById("chat-offer"), offered = null, countdown = null;
  function showOffer(data) {
    if (!offer) return;
    offered = data;
    offer.querySelector(".what").textContent = data.reference + " " + data.subject;
    offer.querySelector("form.accept").action = offer.dataset.acceptUrl.replace("/0/", "/" + data.ticket + "/");
    offer.querySelector("form.decline").action = offer.dataset.declineUrl.replace("/0/", "/" + data.ticket + "/");
    offer.hidden = false;
    clearInterval(countdown);
    function tick() {
      var left = Math.round((Date.parse(data.expires_at) - Date.now()) / 1000);
      if (left <= 0) { hideOffer(data.ticket); return; }
      offer.querySelector(".left").textContent = offer.dataset.left.replace("%(seconds)s", left);
    }
    tick();
    countdown = setInterval(tick, 1000);
  }
  function hideOffer(ticket) {
    if (!offer || !offered || offered.ticket !== ticket) return;
    clearInterval(countdown);
    offer.hidden = true;
    offered = null;
  }

  // The chat open in this workspace.
  var here = document.querySelector("[data-chat]"), thread = document.getElementById("thread");
  var bar = document.getElementById("chat-bar"), reply = document.getElementById("reply");
  var ticketId = here ? Number(here.dataset.liveTicket) : null, readSent = 0, typingTimer = null, lastTyping = 0;
  function lastId() { return Number(here.dataset.after || 0); }
  function article(m) {
    var el = document.createElement("article");
    el.className = "msg msg-" + m.side;
    el.id = "m" + m.id;
    var head = document.createElement("header"), who = document.createElement("strong"), when = document.createElement("time");
    who.textContent = m.side === "consumer" ? thread.dataset.requester : m.author;  // the payload is the consumer's view
    when.dateTime = m.at;
    when.textContent = new Date(m.at).toLocaleTimeString(document.documentElement.lang);
    head.append(who, " ", when);
    var text = document.createElement("div");
    text.className = "body chat-text";
    text.textContent = m.body;
    el.append(head, text);
    if (m.files && m.files.length) {
      var list = document.createElement("ul");
      list.className = "evidence";
      m.files.forEach(function (f) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = thread.dataset.fileUrl.replace(/0\/$/, f.id + "/");
        a.target = "_blank";
        a.rel = "noopener";
        if (f.image) {
          var img = document.createElement("img");
          img.src = a.href;
          img.alt = f.name;
          img.width = img.height = 80;
          a.appendChild(img);
        }
        var name = document.createElement("span");
        name.textContent = f.name;
        a.appendChild(name);
        li.appendChild(a);
        list.appendChild(li);
      });
      el.appendChild(list);
    }
    return el;
  }
  function add(m) {
    if (document.getElementById("m" + m.id)) return;
    thread.appendChild(article(m));
    here.dataset.after = String(Math.max(lastId(), m.id));
    var seen = reply && reply.querySelector("input[name=seen]");
    if (seen) seen.value = here.dataset.after;  // the reply box has read it: no collision hold-back
    if (m.side === "consumer") { document.getElementById("chat-typing").hidden = true; markRead(); }
    thread.lastElementChild.scrollIntoView({block: "nearest"});
  }
  function markRead() {
    if (!here || document.hidden || lastId() <= readSent) return;
    if (send({type: "chat.read", upto: lastId()})) readSent = lastId();
  }
  function state(s) {
    if (!bar || !s) return;
    var label = bar.dataset["s" + s.state.charAt(0).toUpperCase() + s.state.slice(1)] || s.state;
    document.getElementById("chat-state").textContent = label;  // the agent's name never travels on the chat's group
    var notice = document.getElementById("live-changed");
    if (notice && here.dataset.chat !== s.state) notice.hidden = false;  // taken, ended: the buttons change
  }
  function typing() {
    var line = document.getElementById("chat-typing");
    line.textContent = bar.dataset.consumerTyping;
    line.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { line.hidden = true; }, 4000);
  }
  function readBy(upto) {
    thread.querySelectorAll(".msg-agent").forEach(function (el) {
      var id = Number(el.id.slice(1));
      if (id && id <= upto) el.dataset.read = bar.dataset.read;
    });
  }

  document.addEventListener("live:message", function (event) {
    var data = event.detail;
    if (data.type === "offer") showOffer(data);
    else if (data.type === "offer.gone") hideOffer(data.ticket);
    if (!here || data.ticket !== ticketId) return;
    if (data.type === "chat") { state(data.state); data.messages.forEach(add); readBy(data.state.consumer_read); markRead(); }
    else if (data.type === "chat.message") add(data.message);
    else if (data.type === "chat.typing") typing();
    else if (data.type === "chat.read") readBy(data.upto);
    else if (data.type === "chat.state") { state(data.state); readBy(data.state.consumer_read); }
  });
  document.addEventListener("live:message", function (event) {
    var data = event.detail, box = reply && reply.querySelector("textarea");
    if (!here || !box) return;
    var error = document.getElementById("chat-error");
    if (data.type === "chat.sent") { box.value = ""; box.disabled = false; error.hidden = true; }
    if (data.type === "chat.error") {
      box.disabled = false;  // the draft stays, to send again
      error.textContent = data.message || data.code;
      error.hidden = false;
    }
  });
  document.addEventListener("visibilitychange", markRead);

  if (here && reply) {
    var box = reply.querySelector("textarea");
    reply.addEventListener("submit", function (event) {
      var kind = reply.querySelector("input[name=kind]:checked");
      var body = box.value.trim();
      if (!body || (kind && kind.value !== "public")) return;  // a note: the form posts as usual
      if (send({type: "chat.send", body: body, key: String(Date.now())})) {
        event.preventDefault();
        box.disabled = true;
      }
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        reply.requestSubmit();
      }
    });
    box.addEventListener("input", function () {
      if (Date.now() - lastTyping > 2000 && send({type: "chat.typing"})) lastTyping = Date.now();
    });
  }

  // The supervisors' board: fetched again when a ticket changes (a chat offered,
  // taken, ended) and every 10 s (an agent going online or away is not a ticket's change).
  var board = document.getElementById("chat-board"), soon = null;
  function refreshBoard() {
    fetch(board.dataset.refresh, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { board.innerHTML = html; })  // rendered by the server, escaped there
      .catch(function () { /* the next refresh tries again */ });
  }
  if (board) {
    document.addEventListener("live:message", function (event) {
      if (event.detail.type !== "tickets") return;
      clearTimeout(soon);
      soon = setTimeout(refreshBoard, 300);
    });
    setInterval(function () { if (!document.hidden) refreshBoard(); }, 10000);
  }
})();
