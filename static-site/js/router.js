// Hash routes: #/new, #/tickets?filters, #/tickets/<id>, #/dashboard, and the customer's
// private page #/my-ticket/<id>?key=<secret> (the key stays in the fragment: it never
// reaches a server log or a Referer).

const TICKET_PATH = /^\/tickets\/([a-z2-7]{24})\/?$/;
const MY_TICKET_PATH = /^\/my-ticket\/([a-z2-7]{24})\/?$/;
// Any other address under /my-ticket (a mistyped or cut-off link) is still the customer's
// page, with no id: it shows "This link is not valid", never the agents' "Page not found".
const MY_TICKET_PREFIX = /^\/my-ticket(\/|$)/;

/** `{name, params, query}` for a location hash; unknown hashes are "not-found". */
export function parseRoute(hash) {
  const raw = hash.startsWith("#") ? hash.slice(1) : hash;
  const [path, search = ""] = raw.split("?", 2);
  const query = Object.fromEntries(new URLSearchParams(search));
  if (path === "" || path === "/" || path === "/new") return { name: "new", params: {}, query };
  if (path === "/tickets" || path === "/tickets/") return { name: "tickets", params: {}, query };
  if (path === "/dashboard") return { name: "dashboard", params: {}, query };
  const ticket = path.match(TICKET_PATH);
  if (ticket) return { name: "ticket", params: { id: ticket[1] }, query };
  const mine = path.match(MY_TICKET_PATH);
  if (mine) return { name: "my-ticket", params: { id: mine[1] }, query };
  if (MY_TICKET_PREFIX.test(path)) return { name: "my-ticket", params: { id: null }, query };
  return { name: "not-found", params: {}, query };
}

/** `#/tickets?status=open` for a path and the set values of `query`. */
export function hashFor(path, query) {
  const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value)).toString();
  return `#${path}${search ? `?${search}` : ""}`;
}

/** Put `query` in the address bar for the current route without adding history. */
export function replaceQuery(path, query) {
  const hash = hashFor(path, query);
  if (window.location.hash !== hash) window.history.replaceState(null, "", hash);
}
