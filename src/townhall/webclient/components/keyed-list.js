/**
 * Keeps a list's children in step with an array, reusing the node of each
 * item that stays. Live updates then change a row in place, so a button that
 * has focus (a menu, Approve) keeps it while other rows come and go.
 */

/** key(item) -> string; create(item) -> Node; update(node, item) refreshes it. */
export function syncKeyed(list, items, { key, create, update }) {
  const existing = new Map();
  for (const child of list.children) existing.set(child.dataset.key, child);
  const wanted = new Set();
  let cursor = list.firstElementChild;
  for (const item of items) {
    const id = String(key(item));
    wanted.add(id);
    let node = existing.get(id);
    if (!node) {
      node = create(item);
      node.dataset.key = id;
    }
    update(node, item);
    if (node === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(node, cursor);
  }
  for (const [id, node] of existing) {
    if (!wanted.has(id)) node.remove();
  }
}
