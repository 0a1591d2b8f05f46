/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { startLive } from "./live.js";
/**
 * The review page's only script (bundled by esbuild into dist/public/app.js; the pages work without
 * it). Keyboard: j/k move through the queue, Enter opens, / searches; on a conversation a approves,
 * e edits, r rejects, g regenerates, Esc leaves a field. Keys are ignored while typing in a field.
 */

const typing = (el: Element | null): boolean =>
  !!el &&
  (el instanceof HTMLInputElement ||
    el instanceof HTMLTextAreaElement ||
    el instanceof HTMLSelectElement ||
    (el as HTMLElement).isContentEditable);

function queueKeys(e: KeyboardEvent): boolean {
  const rows = [...document.querySelectorAll<HTMLAnchorElement>("[data-queue] .row-link")];
  if (rows.length === 0) return false;
  const at = rows.indexOf(document.activeElement as HTMLAnchorElement);
  if (e.key === "j" || e.key === "k") {
    const next = e.key === "j" ? Math.min(rows.length - 1, at + 1) : Math.max(0, at - 1);
    rows[next]?.focus();
    return true;
  }
  return false;
}

function focusKey(key: string): boolean {
  const el = document.querySelector<HTMLElement>(`[data-key="${key}"]`);
  if (!el) return false;
  if (el instanceof HTMLButtonElement) {
    if (!el.disabled) el.form?.requestSubmit(el);
  } else el.focus();
  return true;
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Escape" && typing(document.activeElement)) {
    (document.activeElement as HTMLElement).blur();
    return;
  }
  if (typing(document.activeElement)) return;
  const handled = queueKeys(e) || (["a", "e", "r", "g", "/"].includes(e.key) && focusKey(e.key));
  if (handled) e.preventDefault();
});

startLive();
