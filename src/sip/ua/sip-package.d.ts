// The part of the npm `sip` package (0.0.6, plain JavaScript, no types of its own) that
// stack.ts uses. Only stack.ts imports the package: swapping the stack touches that file alone.
declare module "sip" {
  export interface SipUri {
    schema?: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: Record<string, string | null | undefined>;
    headers?: Record<string, string>;
  }
  export interface NameAddr {
    name?: string;
    uri: string;
    params: Record<string, string | null | undefined>;
  }
  export interface Via {
    host?: string;
    port?: number;
    protocol?: string;
    params: Record<string, string | null | undefined>;
  }
  export interface SipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    headers: {
      to: NameAddr;
      from: NameAddr;
      "call-id": string;
      cseq: { method: string; seq: number };
      via: Via[];
      contact?: NameAddr[];
      "record-route"?: NameAddr[];
      route?: NameAddr[];
      "content-type"?: string;
      [name: string]: unknown;
    };
    content?: string;
  }
  export interface Remote {
    protocol: string;
    address: string;
    port: number;
    local?: { address: string; port: number };
  }
  export interface StackOptions {
    address?: string;
    port?: number;
    publicAddress?: string;
    udp?: boolean;
    tcp?: boolean;
    /** TCP: how much it holds unread before it drops the connection (default 60,480). */
    maxBytesHeaders?: number;
    /** TCP: the largest Content-Length it takes (default 604,800). */
    maxContentLength?: number;
    logger?: { error?: (err: unknown) => void };
  }
  /** One connection (UDP: a destination) a message can be sent on. */
  export interface Connection {
    send(message: SipMessage): void;
    release(): void;
    protocol: string;
  }
  export interface Hop {
    protocol: string;
    address: string;
    port: number;
  }
  export interface Transport {
    open(target: Hop, onError?: (err: unknown) => void): Connection;
    get(target: Remote, onError?: (err: unknown) => void): Connection | undefined;
    destroy(): void;
  }
  export interface Transaction {
    send?(message: SipMessage): void;
    message?(message: SipMessage, remote?: Remote): void;
    shutdown(): void;
  }
  export interface TransactionLayer {
    createServerTransaction(rq: SipMessage, connection: Connection): Transaction;
    createClientTransaction(
      connection: Connection,
      rq: SipMessage,
      onResponse: (rs: SipMessage) => void,
    ): Transaction;
    getServer(m: SipMessage): Transaction | undefined;
    getClient(m: SipMessage): Transaction | undefined;
    destroy(): void;
  }
  export function makeTransport(
    options: StackOptions,
    onMessage: (m: SipMessage, remote: Remote) => void,
  ): Transport;
  export function makeTransactionLayer(
    options: StackOptions,
    open: (target: Hop, onError?: (err: unknown) => void) => Connection,
  ): TransactionLayer;
  export function resolve(uri: SipUri, done: (hops: Hop[]) => void): void;
  export function generateBranch(): string;
  export function makeResponse(rq: SipMessage, status: number, reason?: string): SipMessage;
  /** undefined when the text is not a SIP URI. */
  export function parseUri(uri: string): SipUri | undefined;
  /** Parses one message (a request or a response) from its text. */
  export function parse(text: string): SipMessage | undefined;
  export function stringifyUri(uri: SipUri): string;
}
