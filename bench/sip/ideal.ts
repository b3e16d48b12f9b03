// The media bench's baseline: what sending RTP ideally costs on this machine. A plain Node process
// sends the prompt's 20 ms frames to every receiver port with one drift-corrected timer, nothing else.
import { randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { buildRtp } from "../../src/sip/rtp/packet.js";
import { promptFrame } from "./prompt.js";

const [ports = "", to = "127.0.0.3", from = "127.0.0.1"] = process.argv.slice(2);
const targets = ports.split(",").map(Number);
const streams: { socket: Socket; port: number; ssrc: number; seq: number }[] = [];
for (const port of targets) {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  streams.push({ socket, port, ssrc: randomInt(0, 2 ** 32), seq: randomInt(0, 2 ** 16) });
}

const start = Math.ceil(performance.now());
let frame = 0;
const tick = () => {
  // Every frame due by now (a late timer sends what it owes), then sleep until the next one.
  while (start + frame * 20 <= performance.now()) {
    const payload = promptFrame(frame);
    for (const s of streams) {
      const packet = buildRtp({
        payloadType: 0,
        marker: frame === 0,
        sequence: s.seq,
        timestamp: frame * 160,
        ssrc: s.ssrc,
        payload,
      });
      s.seq = (s.seq + 1) & 0xffff;
      s.socket.send(packet, s.port, to);
    }
    frame++;
  }
  setTimeout(tick, Math.max(0, start + frame * 20 - performance.now()));
};
tick();
console.log(JSON.stringify({ msg: "ready" }));
