// Twilio's list semantics: PageSize (default 50, at most 1000), Page (the client's page index),
// PageToken (`PA<id>`: the page after that item; `PB<id>`: the page before it, as Twilio issues
// them), and the envelope with start/end and first/next/previous page URIs relative to the api.
import { fail } from "../../errors/switchboard-error.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export interface PageQuery {
  PageSize?: number;
  Page?: number;
  PageToken?: string;
}

/** The query-string schema of the paging parameters, merged into each list route's schema. */
export const pagingQuery = {
  PageSize: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, description: "Items per page (50)." },
  Page: { type: "integer", minimum: 0, description: "The page index; for the client's own state." },
  PageToken: { type: "string", maxLength: 128, description: "Issued by the api in next/previous URIs." },
} as const;

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  start: number;
  nextToken: string | null;
  previousToken: string | null;
}

/**
 * Cuts one page out of `all` (already in list order); `idOf` names an item in page tokens. With
 * `ordered` (the shape of an id), the ids sort as the list does, so a token of that shape whose item
 * has left the list since (a live call that ended) still says where its page starts.
 */
export function pageOf<T>(
  all: readonly T[],
  idOf: (item: T) => string,
  q: PageQuery,
  ordered?: RegExp,
): Page<T> {
  const pageSize = q.PageSize ?? DEFAULT_PAGE_SIZE;
  let start = (q.Page ?? 0) * pageSize;
  if (q.PageToken) {
    const kind = q.PageToken.slice(0, 2);
    const id = q.PageToken.slice(2);
    const at = all.findIndex((item) => idOf(item) === id);
    const placeable = ordered?.test(id) === true;
    // Not listed any more: the first item after it (PA), or its place (PB).
    const after = placeable && at < 0 ? all.findIndex((item) => idOf(item) > id) : -1;
    const place = after < 0 ? all.length : after;
    if ((kind !== "PA" && kind !== "PB") || (at < 0 && !placeable)) {
      throw fail("invalidParameter", `PageToken ${q.PageToken} is not a page of this list`);
    }
    if (at >= 0) start = kind === "PA" ? at + 1 : Math.max(0, at - pageSize);
    else start = kind === "PA" ? place : Math.max(0, place - pageSize);
  }
  const items = all.slice(start, start + pageSize);
  const first = items[0];
  const last = items.at(-1);
  return {
    items,
    page: q.Page ?? Math.floor(start / pageSize),
    pageSize,
    start,
    nextToken: last !== undefined && start + items.length < all.length ? `PA${idOf(last)}` : null,
    previousToken: first !== undefined && start > 0 ? `PB${idOf(first)}` : null,
  };
}

/**
 * Twilio's list envelope: `key` holds the items; URIs repeat the filters in `filters` order.
 * `path` is the list's path without its query string.
 */
export function listEnvelope<T, R>(
  path: string,
  filters: ReadonlyArray<readonly [string, string | undefined]>,
  key: string,
  page: Page<T>,
  items: R[],
  query: PageQuery,
): Record<string, unknown> {
  const uri = (pageNumber: number, token?: string | null) => {
    const params = new URLSearchParams();
    for (const [name, value] of filters) if (value !== undefined) params.append(name, value);
    params.append("PageSize", String(page.pageSize));
    params.append("Page", String(pageNumber));
    if (token) params.append("PageToken", token);
    return `${path}?${params}`;
  };
  return {
    [key]: items,
    end: items.length > 0 ? page.start + items.length - 1 : page.start,
    first_page_uri: uri(0),
    next_page_uri: page.nextToken ? uri(page.page + 1, page.nextToken) : null,
    page: page.page,
    page_size: page.pageSize,
    previous_page_uri: page.previousToken ? uri(Math.max(0, page.page - 1), page.previousToken) : null,
    start: page.start,
    uri: uri(page.page, query.PageToken),
  };
}

/** One call does both: page the items, then map the page's items (e.g. read their records). */
export async function listPage<T, R>(
  opts: {
    path: string;
    filters?: ReadonlyArray<readonly [string, string | undefined]>;
    key: string;
    query: PageQuery;
    idOf: (item: T) => string;
    /** The shape of an id, when the ids sort as the list does (pageOf). */
    ordered?: RegExp;
  },
  all: readonly T[],
  render: (items: T[]) => Promise<R[]> | R[],
): Promise<Record<string, unknown>> {
  const page = pageOf(all, opts.idOf, opts.query, opts.ordered);
  const items = await render(page.items);
  return listEnvelope(opts.path, opts.filters ?? [], opts.key, page, items, opts.query);
}
