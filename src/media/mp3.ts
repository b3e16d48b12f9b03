// A recording's MP3, as Twilio serves `RecordingUrl + ".mp3"`: the stored WAV encoded by sox (its
// libsox-fmt-mp3 format, through LAME) when asked for.
import { run } from "./run.js";

/** Encodes a WAV as MP3; rejects with 90011 when sox (or its MP3 format) is missing or fails. */
export function wavToMp3(wav: Uint8Array): Promise<Buffer> {
  return run("sox", ["-V1", "-t", "wav", "-", "-t", "mp3", "-"], wav);
}
