// The HTTP methods a webhook or callback may be requested with: shared by the stored records (a
// number's voice_method), the TwiML verbs (an action's method) and the webhook client.

export type HttpMethod = "GET" | "POST";
