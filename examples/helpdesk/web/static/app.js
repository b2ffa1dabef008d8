/*
 * The helpdesk's browser UI: sign-in, chat, tickets, the agents' queue and reports.
 *
 * Plain JS, no build step. Realtime goes through Laravel Echo on pusher-js, exactly as a
 * Laravel frontend would: Echo.private('conversation.7').listen('MessageSent', ...),
 * whispers for typing, Echo.join('online') for presence. Every helpdesk event carries its
 * channel's `seq`; HelpdeskCatchUp applies each once, in order, and fetches what a
 * reconnection missed.
 */
"use strict";

const state = {
  token: sessionStorage.getItem("helpdesk.token"),
  user: JSON.parse(sessionStorage.getItem("helpdesk.user") || "null"),
  config: null,
  echo: null,
  online: new Map(),
  viewChannels: [],
  refreshers: new Set(),
};

const EVENT_PREFIX = "App\\Events\\";
const $ = (selector, root = document) => root.querySelector(selector);
const view = () => $("#view");

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("show"), 3000);
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

const label = (status) => status.replaceAll("_", " ");

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      "Content-Type": "application/json",
      ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && path !== "/api/login") {
    signOut();
    throw new Error("signed out");
  }
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(data?.error || `request failed: ${response.status}`);
  return data;
}

/* ---------- realtime ---------- */

function connect() {
  if (state.echo) return;
  const config = state.config;
  state.echo = new Echo.default({
    broadcaster: "pusher",
    Pusher: window.Pusher,
    key: config.key,
    cluster: "mt1",
    wsHost: config.wsHost,
    wsPort: config.wsPort,
    wssPort: config.wsPort,
    forceTLS: config.forceTLS,
    enabledTransports: ["ws", "wss"],
    authEndpoint: config.authEndpoint,
    bearerToken: state.token,
  });
  const online = state.echo.join("online");
  online
    .here((members) => {
      state.online = new Map(members.map((m) => [String(m.id), m]));
      onlineChanged();
    })
    .joining((m) => {
      state.online.set(String(m.id), m);
      onlineChanged();
    })
    .leaving((m) => {
      state.online.delete(String(m.id));
      onlineChanged();
    });
  follow(state.echo.private(`App.Models.User.${state.user.id}`), `private-App.Models.User.${state.user.id}`, {
    ConversationStarted: (d) => {
      toast(`New conversation: ${d.conversation.subject}`);
      refresh();
    },
    ConversationUpdated: () => refresh(),
    TicketStatusChanged: (d) => {
      if (state.user.role !== "agent") toast(`Ticket #${d.ticket.id} is now ${label(d.to)}`);
      refresh();
    },
    TicketCommentAdded: () => refresh(),
    TicketAssigned: (d) => {
      toast(`Ticket #${d.ticket.id} was assigned`);
      refresh();
    },
    TicketCreated: () => refresh(),
    TicketRated: () => refresh(),
  });
  if (state.user.role === "agent") {
    const queueHandlers = {};
    for (const name of ["TicketCreated", "TicketAssigned", "TicketStatusChanged", "TicketCommentAdded",
      "TicketRated", "TicketSlaWarning", "TicketSlaBreached", "ConversationStarted"]) {
      queueHandlers[name] = (d) => {
        if (name === "TicketCreated") toast(`New ticket #${d.ticket.id}: ${d.ticket.subject}`);
        if (name === "TicketSlaBreached") toast(`SLA breached on #${d.ticket.id}`);
        refresh();
      };
    }
    follow(state.echo.private("agents"), "private-agents", queueHandlers);
  }
}

/*
 * Route an Echo channel's helpdesk events through a catch-up stream: live events by seq,
 * missed ones fetched on every (re)subscription. Starts from the channel's latest seq.
 */
function follow(channel, fullName, handlers) {
  const stream = new HelpdeskCatchUp.ChannelStream({
    fetchSince: HelpdeskCatchUp.apiFetcher("", fullName, state.token),
    onEvent: (event, data) => {
      const handler = handlers[event.replace(EVENT_PREFIX, "")];
      if (handler) handler(data);
    },
  });
  stream.ready = api("GET", `/api/channels/${encodeURIComponent(fullName)}/events?since=latest`)
    .then((answer) => {
      stream.lastSeq = Math.max(stream.lastSeq, answer.last_seq);
    });
  for (const name of Object.keys(handlers)) {
    channel.listen(name, (data) => stream.ready.then(() => stream.receive(EVENT_PREFIX + name, data)));
  }
  channel.subscribed(() => stream.ready.then(() => stream.catchUp()));
  return stream;
}

function onlineChanged() {
  $("#online-count").textContent = `${state.online.size} online`;
  for (const dot of document.querySelectorAll("[data-user-dot]")) {
    dot.classList.toggle("on", state.online.has(dot.dataset.userDot));
  }
  for (const fn of state.refreshers) if (fn.onOnline) fn.onOnline();
}

function leaveViewChannels() {
  for (const name of state.viewChannels) state.echo?.leave(name);
  state.viewChannels = [];
  state.refreshers.clear();
}

function refresh() {
  for (const fn of state.refreshers) fn();
}

/* ---------- sign-in ---------- */

const DEMO = [
  ["ana@buyer.test", "Ana (buyer)"], ["sam@seller.test", "Sam (seller)"],
  ["alex@support.test", "Alex (agent)"], ["kim@support.test", "Kim (agent)"],
];

function loginView() {
  $("#top").hidden = true;
  const error = h("p", { className: "sla-breached", "data-testid": "login-error" });
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", {
    className: "card login",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const answer = await api("POST", "/api/login", { email: email.value, password: password.value });
        state.token = answer.token;
        state.user = answer.user;
        sessionStorage.setItem("helpdesk.token", answer.token);
        sessionStorage.setItem("helpdesk.user", JSON.stringify(answer.user));
        connect();
        const target = answer.user.role === "agent" ? "#/queue" : "#/chat";
        if (location.hash === target) render();
        else location.hash = target;
      } catch (e) {
        error.textContent = e.message;
      }
    },
  },
  h("h1", {}, "Sign in"),
  h("label", { for: "email" }, "Email"), email,
  h("label", { for: "password" }, "Password"), password,
  h("p", {}, h("button", { type: "submit", id: "sign-in" }, "Sign in")),
  error,
  h("div", { className: "demo-accounts muted" }, "Demo accounts (password ", h("code", {}, "demo"), "): ",
    DEMO.map(([address, name]) => h("button", {
      type: "button", className: "secondary",
      onclick: () => { email.value = address; password.value = "demo"; },
    }, name))));
  view().replaceChildren(form);
}

function signOut() {
  sessionStorage.removeItem("helpdesk.token");
  sessionStorage.removeItem("helpdesk.user");
  state.token = null;
  state.user = null;
  state.echo?.disconnect();
  state.echo = null;
  location.hash = "#/login";
  render();
}

/* ---------- chat ---------- */

async function chatView(conversationId) {
  const list = h("ul", { className: "list", "data-testid": "conversations" });
  const side = h("section", { className: "side card" },
    h("h2", {}, "Conversations"), newConversationForm(), list);
  const pane = h("section", { className: "card" });
  const layout = h("div", { className: `split${conversationId ? " has-detail" : ""}` }, side, pane);
  view().replaceChildren(layout);

  async function loadList() {
    const conversations = await api("GET", "/api/conversations");
    list.replaceChildren(...conversations.map((c) => h("li", {},
      h("a", { href: `#/chat/${c.id}`, className: c.id === conversationId ? "current" : "", "data-conversation": c.id },
        h("span", { className: "grow" },
          h("div", { className: "ellipsis" }, c.subject, c.reference ? h("span", { className: "muted" }, ` · ${c.reference}`) : ""),
          h("div", { className: "muted ellipsis" }, c.kind === "support" ? "Support" : c.with.join(", "),
            c.last_message ? ` — ${c.last_message.body}` : "")),
        c.unread ? h("span", { className: "badge", "data-testid": "unread" }, c.unread) : ""))));
    if (!conversations.length) list.append(h("li", { className: "muted" }, "No conversations yet."));
  }
  state.refreshers.add(loadList);
  await loadList();
  if (conversationId) await chatWindow(pane, conversationId);
  else pane.append(h("p", { className: "muted" }, "Pick a conversation, or start one."));
}

function newConversationForm() {
  if (state.user.role === "agent") return h("p", { className: "muted" }, "Support conversations appear here.");
  const kind = h("select", { id: "new-kind" },
    h("option", { value: "trade" }, state.user.role === "buyer" ? "With a seller" : "With a buyer"),
    h("option", { value: "support" }, "With support"));
  const counterpart = h("select", { id: "new-counterpart" });
  const subject = h("input", { id: "new-subject", placeholder: "About… (product or order)", required: true });
  const wanted = state.user.role === "buyer" ? "seller" : "buyer";
  api("GET", `/api/users?role=${wanted}`).then((people) => {
    counterpart.replaceChildren(...people.map((p) => h("option", { value: p.id }, p.name)));
  });
  kind.addEventListener("change", () => { counterpart.hidden = kind.value !== "trade"; });
  return h("details", {}, h("summary", {}, "Start a conversation"),
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { kind: kind.value, subject: subject.value };
        if (kind.value === "trade") body.counterpart_id = Number(counterpart.value);
        const created = await api("POST", "/api/conversations", body);
        location.hash = `#/chat/${created.id}`;
      },
    }, kind, counterpart, subject, h("p", {}, h("button", { type: "submit" }, "Start"))));
}

async function chatWindow(pane, id) {
  const channelName = `private-conversation.${id}`;
  const start = await api("GET", `/api/channels/${channelName}/events?since=latest`);
  const detail = await api("GET", `/api/conversations/${id}`);
  const others = detail.participants.filter((p) => p.id !== state.user.id);
  const readBy = new Map(others.map((p) => [p.id, p.last_read_message_id]));
  const messages = h("div", { className: "messages", "data-testid": "messages" });
  const typing = h("div", { className: "typing", "data-testid": "typing" });
  const input = h("input", { id: "message-input", placeholder: "Write a message", autocomplete: "off" });
  const olderButton = h("button", { type: "button", className: "link", "data-testid": "older" }, "Load older messages");
  let nextBefore = null;
  const seen = new Set();

  function bubble(m) {
    const mine = m.sender_id === state.user.id;
    return h("div", { className: `bubble${mine ? " mine" : ""}`, "data-message": m.id },
      h("div", {}, m.body),
      h("div", { className: "meta" }, mine ? "" : `${m.sender_name || ""} · `, when(m.created_at),
        mine ? h("span", { "data-testid": "receipt" }, "") : ""));
  }
  function paintReceipts() {
    const read = Math.max(0, ...readBy.values());
    for (const node of messages.querySelectorAll(".bubble.mine")) {
      const receipt = node.querySelector("[data-testid=receipt]");
      receipt.textContent = Number(node.dataset.message) <= read ? " · Read" : " · Sent";
    }
  }
  function add(m, atTop = false) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    if (atTop) messages.prepend(bubble(m));
    else {
      messages.append(bubble(m));
      messages.scrollTop = messages.scrollHeight;
    }
  }
  async function loadPage(before) {
    const page = await api("GET", `/api/conversations/${id}/messages?limit=30${before ? `&before=${before}` : ""}`);
    const list = before ? [...page.messages].reverse() : page.messages;
    for (const m of list) add(m, Boolean(before));
    nextBefore = page.next_before;
    olderButton.hidden = !nextBefore;
    paintReceipts();
  }
  let readTimer = null;
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => api("POST", `/api/conversations/${id}/read`, {}).then(refresh).catch(() => {}), 300);
  }
  olderButton.addEventListener("click", () => loadPage(nextBefore));

  const title = h("div", {},
    h("h2", { style: "margin:0" }, detail.subject),
    h("div", { className: "muted", "data-testid": "participants" },
      others.map((p) => h("span", {}, h("span", { className: "dot", "data-user-dot": String(p.id) }), ` ${p.name} `)),
      detail.kind === "support" && !others.length ? "Waiting for support" : ""));
  const form = h("form", {
    className: "composer",
    onsubmit: async (event) => {
      event.preventDefault();
      const body = input.value.trim();
      if (!body) return;
      input.value = "";
      add(await api("POST", `/api/conversations/${id}/messages`, { body }));
      paintReceipts();
    },
  }, input, h("button", { type: "submit", id: "send" }, "Send"));
  pane.replaceChildren(h("div", { className: "chat" },
    h("p", { className: "muted" }, h("a", { href: "#/chat" }, "← All conversations")),
    title, olderButton, messages, typing, form));
  await loadPage(null);
  onlineChanged();
  markRead();

  const channel = state.echo.private(`conversation.${id}`);
  state.viewChannels.push(`conversation.${id}`);
  const stream = new HelpdeskCatchUp.ChannelStream({
    lastSeq: start.last_seq,
    fetchSince: HelpdeskCatchUp.apiFetcher("", channelName, state.token),
    onEvent: (event, data) => {
      if (event === `${EVENT_PREFIX}MessageSent`) {
        add(data.message);
        if (data.message.sender_id !== state.user.id) {
          typing.textContent = "";
          markRead();
        }
        paintReceipts();
      } else if (event === `${EVENT_PREFIX}MessagesRead` && data.user_id !== state.user.id) {
        readBy.set(data.user_id, data.last_read_message_id);
        paintReceipts();
      }
    },
  });
  for (const name of ["MessageSent", "MessagesRead"]) {
    channel.listen(name, (data) => stream.receive(EVENT_PREFIX + name, data));
  }
  channel.subscribed(() => stream.catchUp());
  let typingTimer = null;
  channel.listenForWhisper("typing", (e) => {
    typing.textContent = `${e.name} is typing…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typing.textContent = ""; }, 3000);
  });
  let lastWhisper = 0;
  input.addEventListener("input", () => {
    const now = Date.now();
    if (now - lastWhisper > 1000) {
      lastWhisper = now;
      channel.whisper("typing", { id: state.user.id, name: state.user.name });
    }
  });
  input.focus();
}

/* ---------- tickets ---------- */

const CATEGORIES = ["order", "payment", "shipping", "account", "listing", "other"];
const PRIORITIES = ["low", "normal", "high", "urgent"];

function ticketRow(t) {
  return h("li", {}, h("a", { href: `#/tickets/${t.id}`, "data-ticket": t.id },
    h("span", { className: "grow" },
      h("div", { className: "ellipsis" }, `#${t.id} ${t.subject}`),
      h("div", { className: "muted" }, `${t.category} · ${t.priority} · ${when(t.created_at)}`,
        t.assignee_id ? "" : " · unassigned")),
    h("span", { className: `status ${t.status}`, "data-testid": "status" }, label(t.status))));
}

async function ticketsView(ticketId) {
  const list = h("ul", { className: "list", "data-testid": "tickets" });
  const side = h("section", { className: "side card" }, h("h2", {}, "Tickets"),
    state.user.role === "agent" ? "" : newTicketForm(), list);
  const pane = h("section", { className: "card" });
  view().replaceChildren(h("div", { className: `split${ticketId ? " has-detail" : ""}` }, side, pane));
  async function loadList() {
    const tickets = await api("GET", "/api/tickets");
    list.replaceChildren(...tickets.map(ticketRow));
    if (!tickets.length) list.append(h("li", { className: "muted" }, "No tickets."));
  }
  state.refreshers.add(loadList);
  await loadList();
  if (ticketId) await ticketDetail(pane, ticketId);
  else pane.append(h("p", { className: "muted" }, "Pick a ticket."));
}

function newTicketForm() {
  const subject = h("input", { id: "ticket-subject", required: true });
  const category = h("select", { id: "ticket-category" }, CATEGORIES.map((c) => h("option", { value: c }, c)));
  const priority = h("select", { id: "ticket-priority" }, PRIORITIES.map((p) => h("option", { value: p, selected: p === "normal" }, p)));
  const description = h("textarea", { id: "ticket-description", rows: 3, required: true });
  return h("details", {}, h("summary", { id: "new-ticket" }, "Open a ticket"),
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        const ticket = await api("POST", "/api/tickets", {
          subject: subject.value, category: category.value, priority: priority.value, description: description.value,
        });
        location.hash = `#/tickets/${ticket.id}`;
      },
    },
    h("label", { for: "ticket-subject" }, "Subject"), subject,
    h("label", { for: "ticket-category" }, "Category"), category,
    h("label", { for: "ticket-priority" }, "Priority"), priority,
    h("label", { for: "ticket-description" }, "What happened?"), description,
    h("p", {}, h("button", { type: "submit", id: "submit-ticket" }, "Open ticket"))));
}

async function ticketDetail(pane, id) {
  const viewers = h("span", { "data-testid": "viewers" });
  const body = h("div");
  pane.replaceChildren(h("p", { className: "muted" }, h("a", { href: state.user.role === "agent" ? "#/queue" : "#/tickets" }, "← Back"),
    " · Viewing now: ", viewers), body);
  let agents = [];
  if (state.user.role === "agent") agents = [state.user, ...(await api("GET", "/api/users?role=agent"))];

  // The forms are made once, not on every redraw, so a live update never wipes a draft
  // or a choice being made.
  const comment = h("textarea", { id: "comment-body", rows: 2, placeholder: "Add a comment" });
  const commentForm = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      if (!comment.value.trim()) return;
      await api("POST", `/api/tickets/${id}/comments`, { body: comment.value });
      comment.value = "";
      await load();
    },
  }, comment, h("p", {}, h("button", { type: "submit", id: "add-comment" }, "Comment")));
  const pick = h("select", { id: "assign-agent" }, agents.map((a) => h("option", { value: a.id, selected: a.id === state.user.id }, a.name)));
  const assignBar = state.user.role !== "agent" ? null : h("div", { className: "actions" }, pick,
    h("button", { type: "button", id: "assign", onclick: () => api("POST", `/api/tickets/${id}/assign`, { agent_id: Number(pick.value) }).then(load).catch((e) => toast(e.message)) }, "Assign"),
    h("button", { type: "button", className: "secondary", onclick: () => api("POST", `/api/tickets/${id}/assign`, { auto: true }).then(load).catch((e) => toast(e.message)) }, "Auto-assign"));
  let ratingForm = null;
  const makeRatingForm = (t) => {
    const rating = h("select", { id: "rating" }, [5, 4, 3, 2, 1].map((n) => h("option", { value: n, selected: n === t.rating }, "★".repeat(n))));
    const note = h("input", { id: "rating-comment", placeholder: "Anything to add?", value: t.rating_comment || "" });
    return h("form", {
      className: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        await api("POST", `/api/tickets/${id}/rating`, { rating: Number(rating.value), comment: note.value });
        toast("Thanks for your rating");
        await load();
      },
    }, h("h3", {}, "How did we do?"), rating, note, h("p", {}, h("button", { type: "submit", id: "rate" }, "Rate")));
  };

  async function load() {
    const t = await api("GET", `/api/tickets/${id}`);
    const sla = (name, clock) => h("span", { className: `sla-${clock.state}`, "data-testid": `sla-${name}` },
      `${name.replace("_", " ")}: ${clock.state} (due ${when(clock.due_at)})`);
    const actions = h("div", { className: "actions" }, t.allowed_statuses.map((s) =>
      h("button", { type: "button", className: "secondary", "data-status": s,
        onclick: () => api("POST", `/api/tickets/${id}/status`, { status: s }).then(load).catch((e) => toast(e.message)),
      }, s === "open" && ["resolved", "closed"].includes(t.status) ? "reopen" : label(s))));
    const parts = [
      h("h2", { style: "margin:.2rem 0", "data-testid": "ticket-title" }, `#${t.id} ${t.subject}`),
      h("p", {}, h("span", { className: `status ${t.status}`, "data-testid": "ticket-status" }, label(t.status)),
        ` ${t.category} · ${t.priority} · by ${t.requester?.name} · `,
        h("span", { "data-testid": "assignee" }, t.assignee ? `assigned to ${t.assignee.name}` : "unassigned")),
      h("p", { className: "muted" }, sla("first_response", t.sla.first_response), " · ", sla("resolution", t.sla.resolution)),
      h("p", {}, t.description),
      actions,
    ];
    if (assignBar) parts.push(assignBar);
    parts.push(h("h3", {}, "Thread"), h("div", { "data-testid": "comments" }, t.comments.map((c) =>
      h("div", { className: `comment ${c.author_role}` }, h("div", { className: "muted" }, `${c.author_name} · ${when(c.created_at)}`), c.body))));
    parts.push(commentForm);
    if (t.requester_id === state.user.id && ["resolved", "closed"].includes(t.status)) {
      parts.push(ratingForm || (ratingForm = makeRatingForm(t)));
    }
    if (t.rating) parts.push(h("p", { "data-testid": "rating-shown" }, `Rated ${"★".repeat(t.rating)}${t.rating_comment ? ` — ${t.rating_comment}` : ""}`));
    // A live update redraws the ticket; the draft being typed keeps its text, focus and caret.
    const focused = document.activeElement;
    const caret = focused && "selectionStart" in focused ? [focused.selectionStart, focused.selectionEnd] : null;
    body.replaceChildren(...parts);
    if (focused && focused !== document.activeElement && body.contains(focused)) {
      focused.focus();
      if (caret && caret[0] !== null) focused.setSelectionRange(...caret);
    }
  }
  state.refreshers.add(load);
  await load();

  const presence = state.echo.join(`ticket.${id}`);
  state.viewChannels.push(`ticket.${id}`);
  const people = new Map();
  const paint = () => { viewers.textContent = [...people.values()].map((m) => m.name).join(", "); };
  presence.here((members) => { for (const m of members) people.set(String(m.id), m); paint(); })
    .joining((m) => { people.set(String(m.id), m); paint(); })
    .leaving((m) => { people.delete(String(m.id)); paint(); });
  const handlers = {};
  for (const name of ["TicketAssigned", "TicketStatusChanged", "TicketCommentAdded", "TicketRated",
    "TicketSlaWarning", "TicketSlaBreached"]) handlers[name] = () => load();
  follow(presence, `presence-ticket.${id}`, handlers);
}

async function queueView() {
  const scope = h("select", { id: "queue-scope" },
    h("option", { value: "queue" }, "Active"), h("option", { value: "unassigned" }, "Unassigned"),
    h("option", { value: "mine" }, "Mine"), h("option", { value: "all" }, "All"));
  const list = h("ul", { className: "list", "data-testid": "queue" });
  view().replaceChildren(h("section", { className: "card" },
    h("div", { className: "actions" }, h("h2", { className: "grow", style: "margin:0" }, "Queue"), scope), list));
  async function load() {
    const tickets = await api("GET", `/api/tickets?scope=${scope.value}`);
    list.replaceChildren(...tickets.map(ticketRow));
    if (!tickets.length) list.append(h("li", { className: "muted" }, "Nothing waiting."));
  }
  scope.addEventListener("change", load);
  state.refreshers.add(load);
  await load();
}

/* ---------- reports ---------- */

const minutes = (s) => (s === null || s === undefined ? null : Math.round((s / 60) * 10) / 10);
const fmt = (s) => {
  if (s === null || s === undefined) return "—";
  if (s < 3600) return `${minutes(s)} min`;
  return `${Math.round((s / 3600) * 10) / 10} h`;
};
const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`);

async function reportsView() {
  const from = h("input", { id: "report-from", type: "date" });
  const to = h("input", { id: "report-to", type: "date" });
  const agent = h("select", { id: "report-agent" }, h("option", { value: "" }, "All agents"));
  const category = h("select", { id: "report-category" }, h("option", { value: "" }, "All categories"),
    CATEGORIES.map((c) => h("option", { value: c }, c)));
  const output = h("div", { "data-testid": "report" });
  const charts = [];
  const query = () => {
    const params = new URLSearchParams();
    if (from.value) params.set("from", from.value);
    if (to.value) params.set("to", to.value);
    if (agent.value) params.set("agent", agent.value);
    if (category.value) params.set("category", category.value);
    return params.toString();
  };
  const download = h("button", {
    type: "button", className: "secondary", id: "export-csv",
    onclick: async () => {
      const response = await fetch(`/api/reports.csv?${query()}`, { headers: { Authorization: `Bearer ${state.token}` } });
      const link = h("a", { href: URL.createObjectURL(await response.blob()), download: "helpdesk-report.csv" });
      link.click();
    },
  }, "Export CSV");
  view().replaceChildren(h("section", { className: "card" }, h("h2", {}, "Reports"),
    h("form", { className: "filters", onsubmit: (e) => { e.preventDefault(); load(); } },
      h("div", {}, h("label", { for: "report-from" }, "From"), from),
      h("div", {}, h("label", { for: "report-to" }, "To"), to),
      h("div", {}, h("label", { for: "report-agent" }, "Agent"), agent),
      h("div", {}, h("label", { for: "report-category" }, "Category"), category),
      h("div", { className: "actions" }, h("button", { type: "submit" }, "Apply"), download))), output);
  api("GET", "/api/users?role=agent").then((agents) => agent.append(...agents.map((a) => h("option", { value: a.id }, a.name))));
  if (state.user.role === "agent") agent.append(h("option", { value: state.user.id }, `${state.user.name} (me)`));

  async function load() {
    const r = await api("GET", `/api/reports?${query()}`);
    const t = r.tickets;
    const c = r.chat;
    const figure = (name, value, id) => h("div", { className: "figure" }, h("span", { className: "muted" }, name), h("b", { "data-figure": id }, value));
    for (const chart of charts.splice(0)) chart.destroy();
    const canvases = [h("canvas", { id: "chart-tickets" }), h("canvas", { id: "chart-ratings" }), h("canvas", { id: "chart-chat" })];
    output.replaceChildren(
      h("section", { className: "card" }, h("h3", {}, "Tickets"), h("div", { className: "figures" },
        figure("Tickets", t.tickets, "tickets"),
        figure("First response (mean)", fmt(t.first_response.mean), "first-response-mean"),
        figure("Resolution (mean)", fmt(t.resolution.mean), "resolution-mean"),
        figure("Resolution (median / p90)", `${fmt(t.resolution.median)} / ${fmt(t.resolution.p90)}`, "resolution-median-p90"),
        figure("SLA first response", pct(t.sla_first_response_attainment), "sla-first"),
        figure("SLA resolution", pct(t.sla_resolution_attainment), "sla-resolution"),
        figure("Rating", t.rating_average ? `${t.rating_average.toFixed(2)} (${t.rated})` : "—", "rating"))),
      h("section", { className: "card" }, h("h3", {}, "Chat"), h("div", { className: "figures" },
        figure("Conversations", c.conversations, "conversations"),
        figure("Messages / conversation", c.messages_per_conversation.mean?.toFixed(1) ?? "—", "messages-per"),
        figure("First response (mean)", fmt(c.first_response.mean), "chat-first-response"),
        figure("Response, pauses apart (mean)", fmt(c.response.mean), "chat-response"),
        figure("Between messages (median)", fmt(c.between_messages.median), "between"),
        figure(`Long pauses (> ${fmt(c.long_pause_threshold)})`, `${c.long_pauses} · ${fmt(c.long_pause_seconds)}`, "pauses"))),
      h("div", { className: "charts" }, ...canvases.map((canvas) => h("section", { className: "card" }, canvas))));
    const bar = (canvas, labels, datasets, title) => charts.push(new Chart(canvas, {
      type: "bar", data: { labels, datasets },
      options: { responsive: true, animation: false, plugins: { title: { display: true, text: title } } },
    }));
    const stats = (s) => [minutes(s.mean), minutes(s.median), minutes(s.p90)];
    bar(canvases[0], ["mean", "median", "p90"], [
      { label: "First response (min)", data: stats(t.first_response), backgroundColor: "#2f6fed" },
      { label: "Resolution (min)", data: stats(t.resolution), backgroundColor: "#1a8f4a" },
    ], "Ticket times");
    bar(canvases[1], ["1", "2", "3", "4", "5"], [
      { label: "Ratings", data: [1, 2, 3, 4, 5].map((n) => t.rating_distribution[String(n)]), backgroundColor: "#c77700" },
    ], "Rating distribution");
    bar(canvases[2], ["mean", "median", "p90"], [
      { label: "First response (min)", data: stats(c.first_response), backgroundColor: "#2f6fed" },
      { label: "Response, long pauses apart (min)", data: stats(c.response), backgroundColor: "#7a4ff0" },
    ], "Chat response times");
  }
  await load();
}

/* ---------- routing ---------- */

async function render() {
  leaveViewChannels();
  if (!state.token || !state.user) {
    loginView();
    return;
  }
  $("#top").hidden = false;
  $("#me-name").textContent = `${state.user.name} (${state.user.role})`;
  for (const node of document.querySelectorAll("[data-agent-only]")) node.hidden = state.user.role !== "agent";
  const [, section = "", id] = location.hash.split("/");
  for (const link of document.querySelectorAll("[data-nav]")) link.classList.toggle("active", link.dataset.nav === section);
  const number = id ? Number(id) : null;
  try {
    if (section === "tickets") await ticketsView(number);
    else if (section === "queue" && state.user.role === "agent") await queueView();
    else if (section === "reports" && state.user.role === "agent") await reportsView();
    else await chatView(number);
  } catch (error) {
    view().replaceChildren(h("p", { className: "sla-breached" }, error.message));
  }
}

async function start() {
  if (!state.config) state.config = await api("GET", "/api/config");
  if (state.token) connect();
  await render();
}

$("#sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", render);
start();
