// How large a request body the api reads: the server's limit, and what the Calls routes' error says.

/** Larger request bodies are refused with 413: Twilio's parameters are small (a Twiml is at most 4000). */
export const API_BODY_LIMIT = 64 * 1024;
