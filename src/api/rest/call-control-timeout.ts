/** How long the hosting worker has to answer a control request before the api decides nobody hosts the call. */
export const CONTROL_TIMEOUT_MS = 2_000;
