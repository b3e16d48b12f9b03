// The part of the npm `sip` package (0.0.6, plain JavaScript, no types of its own) that
// dialogs.ts uses. Only dialogs.ts imports the package: swapping the stack touches that file alone.
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
  }
  export interface SipStack {
    send(message: SipMessage, callback?: (response: SipMessage) => void): void;
    destroy(): void;
  }
  export interface StackOptions {
    address?: string;
    port?: number;
    publicAddress?: string;
    udp?: boolean;
    tcp?: boolean;
    logger?: { error?: (err: unknown) => void };
  }
  export function create(
    options: StackOptions,
    onRequest: (rq: SipMessage, remote: Remote) => void,
  ): SipStack;
  export function makeResponse(rq: SipMessage, status: number, reason?: string): SipMessage;
  export function parseUri(uri: string): SipUri;
  export function stringifyUri(uri: SipUri): string;
}
