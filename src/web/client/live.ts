/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Live updates from GET /api/events (server-sent events; the browser resumes with Last-Event-ID by
 * itself). The queue re-reads its list in place, keeping the focused row; a conversation shows the
 * draft as the model writes it, who else is there, and reloads when the draft is ready.
 */

const csrf = (): string => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";

function post(path: string, body: Record<string, string>): void {
  void fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(body), credentials: "same-origin" }).catch(() => undefined);
}

async function refreshQueue(): Promise<void> {
  const list = document.querySelector("[data-queue]");
  if (!list) return;
  const focusedId = (document.activeElement?.closest("[data-id]") as HTMLElement | null)?.dataset.id;
  const html = await (await fetch(location.href, { credentials: "same-origin" })).text();
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const next = fresh.querySelector("[data-queue]");
  const counts = fresh.querySelector(".filters");
  if (next) list.replaceWith(next);
  if (counts) document.querySelector(".filters")?.replaceWith(counts);
  if (focusedId) document.querySelector<HTMLElement>(`[data-id="${focusedId}"] .row-link`)?.focus();
}

function conversationLive(root: HTMLElement, events: EventSource): void {
  const id = Number(root.dataset.conversation);
  const me = document.querySelector<HTMLElement>("[data-me]")?.dataset.me ?? "";
  const draft = document.querySelector<HTMLElement>("[data-draft]");
  const body = document.querySelector<HTMLTextAreaElement>("#body");
  const banner = document.querySelector<HTMLElement>("[data-presence]");
  const others = new Map<string, { state: string; until: number }>();
  let typed = false;
  const showPresence = () => {
    const now = Date.now();
    const live = [...others.entries()].filter(([, p]) => p.until > now && p.state !== "left");
    if (banner) banner.textContent = live.map(([u, p]) => `${u} is ${p.state === "editing" ? "editing the draft" : "viewing"}.`).join(" ");
  };
  let state = "viewing";
  const announce = () => post(`/api/conversations/${id}/presence`, { state });
  announce();
  setInterval(announce, 15_000);
  setInterval(showPresence, 5_000);
  body?.addEventListener("input", () => {
    typed = true;
    if (state !== "editing") {
      state = "editing";
      announce();
    }
  });
  addEventListener("pagehide", () => navigator.sendBeacon?.(`/api/conversations/${id}/presence`, new Blob([JSON.stringify({ state: "left", _csrf: csrf() })], { type: "application/json" })));
  const mine = (e: MessageEvent) => JSON.parse(String(e.data)) as { conversationId: number; draftId?: number; text?: string; user?: string; state?: string; until?: string };
  events.addEventListener("draft.delta", (e) => {
    const d = mine(e);
    if (d.conversationId !== id || !body || typed || String(d.draftId) !== draft?.dataset.draft) return;
    body.value += d.text ?? "";
  });
  for (const type of ["draft.ready", "draft.failed", "message.stored", "triage.done"]) {
    events.addEventListener(type, (e) => {
      const d = mine(e);
      if (d.conversationId === id && !typed) location.reload();
    });
  }
  events.addEventListener("presence", (e) => {
    const d = mine(e);
    if (d.conversationId !== id || !d.user || d.user === me) return;
    others.set(d.user, { state: d.state ?? "viewing", until: Date.parse(d.until ?? "") || 0 });
    showPresence();
  });
}

export function startLive(): void {
  if (!("EventSource" in window) || !document.querySelector("[data-me]")) return;
  const events = new EventSource("/api/events");
  const conversation = document.querySelector<HTMLElement>("[data-conversation]");
  if (conversation) return conversationLive(conversation, events);
  if (!document.querySelector("[data-queue]") && !document.querySelector(".queue")) return;
  let pending: ReturnType<typeof setTimeout> | null = null;
  const later = () => {
    pending ??= setTimeout(() => {
      pending = null;
      void refreshQueue();
    }, 300);
  };
  for (const type of ["message.stored", "triage.done", "draft.ready", "draft.approved", "draft.rejected", "conversation.assigned", "conversation.status", "conversation.waiting"]) {
    events.addEventListener(type, later);
  }
}
