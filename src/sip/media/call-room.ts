// A SIP call's place in rooms (conferences, queue bridges; docs/rooms.md): the `room` command's
// membership and its updates, `room-record`'s recorder, and the caller's audio for the member.
import { fail } from "../../errors/switchboard-error.js";
import type { SipCommand } from "../../protocol/sip-commands.js";
import type { Recording } from "./recorder.js";
import { RoomMember } from "./room-member.js";
import type { GatewayRooms } from "./room-mix.js";
import { RoomRecorder } from "./room-recorder.js";
import type { RtpSession } from "./rtp-session.js";

export class CallRoom {
  /** The room the call is in, by the `room` command's id. */
  #room: { id: string; member: RoomMember } | undefined;
  /** The latest `room-record` in progress, by its command's id. */
  #recording: { id: string; roomSid: string; recorder: RoomRecorder } | undefined;

  constructor(
    private readonly rooms: GatewayRooms,
    private readonly callSid: string,
    private readonly rtp: RtpSession,
    /** Ends another command of the call by id (a call is in one room at a time). */
    private readonly stopOp: (id: string) => void,
  ) {}

  /**
   * In the room until `signal` aborts (`stop`, or the call's end). Joining the room the call is in
   * already (a region worker that resumed the call runs its <Conference> again, while the dead
   * worker's `room` lives on here) takes that membership's place without a sound: the others hear no
   * exit and enter beeps for a caller who never left, and no gap (its frames are numbered on).
   */
  async join(cmd: Extract<SipCommand, { op: "room" }>, signal: AbortSignal): Promise<Record<string, never>> {
    const { op: _op, id, ...membership } = cmd;
    const previous = this.#room;
    const stays = previous?.member.roomSid === membership.roomSid;
    if (previous) {
      if (stays) previous.member.leaveQuietly();
      this.stopOp(previous.id);
    }
    const beep = stays ? { ...membership.beep, enter: false } : membership.beep;
    const firstSeq = stays ? previous.member.nextSeq : 0;
    const member = new RoomMember(this.rooms, this.callSid, this.rtp, { ...membership, beep }, firstSeq);
    const room = { id, member };
    this.#room = room;
    try {
      await room.member.run(signal);
      return {};
    } finally {
      if (this.#room === room) this.#room = undefined;
    }
  }

  update(cmd: Extract<SipCommand, { op: "room-update" }>): Record<string, never> {
    if (this.#room?.id !== cmd.id) throw fail("invalidPayload", `room ${cmd.id} is not joined`);
    this.#room.member.update({ muted: cmd.muted, hold: cmd.hold, coachOf: cmd.coachOf });
    return {};
  }

  /**
   * The room's mix until `signal` aborts; resolves with it then (stopped, or the call ended).
   * Recording the room this call records already (a region worker that resumed the call runs its
   * <Conference> again, while the old worker's `room-record` lives on here): the new recorder starts
   * with what the old one heard, and the old command ends with an empty recording nobody fetches.
   */
  async record(id: string, roomSid: string, signal: AbortSignal): Promise<Recording> {
    const previous = this.#recording?.roomSid === roomSid ? this.#recording : undefined;
    const recorder = new RoomRecorder(previous?.recorder);
    const recording = { id, roomSid, recorder };
    this.#recording = recording;
    if (previous) this.stopOp(previous.id);
    try {
      return await recorder.run(this.rooms, roomSid, signal);
    } finally {
      if (this.#recording === recording) this.#recording = undefined;
    }
  }

  /** Whether the call is in a room (its audio is wanted). */
  get joined(): boolean {
    return this.#room !== undefined;
  }

  /** The caller's audio: published to the room, unless muted or held. */
  inbound(pcm: Int16Array): void {
    this.#room?.member.inbound(pcm);
  }
}
