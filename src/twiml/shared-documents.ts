// Calls to one app get the same few documents: a document read once is shared by every call that
// gets the same answer from the same URL, instead of each call keeping its own parsed copy in its
// context for as long as it runs (100,000 parked calls in one worker, issue #9). Parsed verbs are
// never changed once made, so sharing them is safe; the verbs array is frozen to keep it so.
import type { WebhookResponse } from "../webhook/request.js";
import { documentFromResponse } from "./from-response.js";
import type { TwimlDocument } from "./verb-data.js";

/** Documents kept, the most recently read last. */
const MAX_DOCUMENTS = 256;
/** Longer answers are parsed for each call (and not kept): they are rarely the same twice. */
const MAX_BODY = 8192;

const documents = new Map<string, TwimlDocument>();

/**
 * The document a webhook's answer holds, as documentFromResponse reads it (and throws as it does),
 * shared with earlier calls that got the same answer. Its warnings are the document's: the caller
 * reports them for each call, as before.
 */
export function sharedDocument(res: WebhookResponse): TwimlDocument {
  // An empty chunked answer is an error (11770) that an empty plain one sharing its key is not.
  if (res.body.length > MAX_BODY || res.emptyChunked) return documentFromResponse(res);
  // Relative URLs in the document resolve against its URL, and the content type says how it is read.
  const key = `${res.url}\n${res.contentType}\n${res.body}`;
  const known = documents.get(key);
  if (known) {
    documents.delete(key);
    documents.set(key, known);
    return known;
  }
  const doc = documentFromResponse(res);
  const shared: TwimlDocument = { verbs: Object.freeze([...doc.verbs]), warnings: doc.warnings };
  documents.set(key, shared);
  if (documents.size > MAX_DOCUMENTS) documents.delete(documents.keys().next().value as string);
  return shared;
}
