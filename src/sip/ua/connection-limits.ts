// How many TCP connections the gateway holds for peers outside --allow. Anyone may connect (a callee
// of an outbound leg may open one for its BYE, a phone may authenticate on one), but each idle
// connection is a file descriptor for two minutes (the sip package's idle timeout): unbounded, one
// host could use up the descriptors the gateway needs for its calls' RTP sockets. A host a caller
// authenticated from lately is not counted (dialogs.ts, recent-addresses.ts).

/** Connections at once from one address outside --allow. */
export const MAX_PER_STRANGER = 8;
/** Connections at once from all addresses outside --allow. */
export const MAX_STRANGERS = 256;

export class ConnectionLimits {
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  constructor(private readonly trusted: (address: string) => boolean) {}

  /**
   * Takes a connection from `address`: a release to call when it closes, or why it is refused. A
   * peer inside --allow is not counted.
   */
  admit(address: string): { release(): void } | { refused: string } {
    if (this.trusted(address)) return { release: () => {} };
    const n = this.#byAddress.get(address) ?? 0;
    if (n >= MAX_PER_STRANGER)
      return {
        refused: `more than ${MAX_PER_STRANGER} connections at once from ${address}, outside --allow`,
      };
    if (this.#total >= MAX_STRANGERS)
      return { refused: `more than ${MAX_STRANGERS} connections at once from outside --allow` };
    this.#byAddress.set(address, n + 1);
    this.#total++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        const left = (this.#byAddress.get(address) ?? 1) - 1;
        if (left > 0) this.#byAddress.set(address, left);
        else this.#byAddress.delete(address);
      },
    };
  }
}
